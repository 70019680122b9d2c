// The price file is validated at load; off-peak pricing follows DeepSeek's window; costs are
// integers that add up.
import { describe, expect, it } from 'vitest';
import { costOf, maxCost } from '../../billing/cost';
import { PriceBook, prices } from '../../billing/prices';

const at = (iso: string) => new Date(iso);
const price = (hit: number | string, miss: number | string, output: number | string) => ({
  input_cache_hit: hit,
  input_cache_miss: miss,
  output,
});
const file = (models: Record<string, unknown> = {}, offPeak: unknown = null) => ({
  currency: 'USD',
  off_peak: offPeak,
  defaults: { edge: price(0.002, 0.02, 0.04), origin: price(0.014, 0.14, 0.28) },
  models,
});

describe('price file', () => {
  it('the shipped file is valid and has the DeepSeek V3 figures', () => {
    const p = prices.priceAt('deepseek-chat', 'origin', at('2026-01-01T12:00:00Z'));
    // pico-units per token = micro-units per 1M tokens: $0.014 → 14,000
    expect(p.perToken).toEqual({ hit: 14_000, miss: 140_000, output: 280_000 });
    expect(p.offPeak).toBe(false);
    const edge = prices.priceAt('some-edge-model', 'edge', at('2026-01-01T12:00:00Z'));
    expect(edge.perToken.output).toBeLessThan(p.perToken.output);
    expect(
      prices.priceAt('stories260k', 'edge', at('2026-01-01T12:00:00Z')).perToken.output,
    ).toBeLessThan(p.perToken.output);
  });

  it('rejects bad prices with a readable message', () => {
    expect(() => new PriceBook(file({ m: price(-1, 0.1, 0.2) }))).toThrow(
      /models\.m\.input_cache_hit/,
    );
    expect(() => new PriceBook(file({ m: price(0.1, 0.1, '0.0000001') }))).toThrow(
      /more than 6 decimals/,
    );
    expect(() => new PriceBook(file({ m: { ...price(0.1, 0.1, 0.1), currency: 'EUR' } }))).toThrow(
      /balance currency/,
    );
    expect(() => new PriceBook(file({ m: { ...price(0.1, 0.1, 0.1), extra: 1 } }))).toThrow();
    expect(
      () => new PriceBook(file({}, { start_utc: '25:00', end_utc: '01:00', discount_percent: 50 })),
    ).toThrow(/HH:MM/);
    expect(() => new PriceBook({ ...file(), defaults: { edge: price(1, 1, 1) } })).toThrow(
      /defaults\.origin/,
    );
  });

  it('applies the off-peak window across midnight UTC, with per-model discounts', () => {
    const book = new PriceBook(
      file(
        { r1: { ...price(0.14, 0.55, 2.19), off_peak_discount_percent: 75 } },
        { start_utc: '16:30', end_utc: '00:30', discount_percent: 50 },
      ),
    );
    expect(book.isOffPeak(at('2026-03-01T16:29:59Z'))).toBe(false);
    expect(book.isOffPeak(at('2026-03-01T16:30:00Z'))).toBe(true);
    expect(book.isOffPeak(at('2026-03-01T23:59:00Z'))).toBe(true);
    expect(book.isOffPeak(at('2026-03-02T00:29:00Z'))).toBe(true);
    expect(book.isOffPeak(at('2026-03-02T00:30:00Z'))).toBe(false);
    const night = at('2026-03-01T20:00:00Z');
    expect(book.priceAt('v3', 'origin', night)).toMatchObject({
      offPeak: true,
      perToken: { hit: 7_000, miss: 70_000, output: 140_000 },
    });
    // R1's 75% off: $0.55 → $0.1375 per 1M, still an integer of pico-units per token
    expect(book.priceAt('r1', 'origin', night).perToken).toEqual({
      hit: 35_000,
      miss: 137_500,
      output: 547_500,
    });
  });
});

describe('cost', () => {
  const p = prices.priceAt('deepseek-chat', 'origin', at('2026-01-01T12:00:00Z'));

  it('is exact integer nano-units, the total the sum of its parts', () => {
    // 1M miss tokens at $0.14 = 0.14 USD = 140,000,000 nano
    expect(costOf({ promptTokens: 1_000_000, cachedTokens: 0, completionTokens: 0 }, p)).toEqual({
      hit: 0,
      miss: 140_000_000,
      output: 0,
      total: 140_000_000,
    });
    const c = costOf({ promptTokens: 1000, cachedTokens: 640, completionTokens: 250 }, p);
    expect(c).toEqual({ hit: 8_960, miss: 50_400, output: 70_000, total: 129_360 });
    expect(Object.values(c).every(Number.isInteger)).toBe(true);
  });

  it('rounds each part half up to a nano-unit once', () => {
    const edge = new PriceBook(file({ tiny: price(0.001, 0.001, 0.0005) })).priceAt(
      'tiny',
      'edge',
      at('2026-01-01T12:00:00Z'),
    );
    // 1 token at $0.0005 per 1M = 0.5 nano → 1; 3 tokens = 1.5 → 2
    expect(costOf({ promptTokens: 0, cachedTokens: 0, completionTokens: 1 }, edge).output).toBe(1);
    expect(costOf({ promptTokens: 0, cachedTokens: 0, completionTokens: 3 }, edge).output).toBe(2);
  });

  it('the reservation bounds every possible cost', () => {
    const book = new PriceBook(file({ odd: price(0.0015, 0.0025, 0.0035) }));
    const q = book.priceAt('odd', 'edge', at('2026-01-01T12:00:00Z'));
    for (let prompt = 1; prompt < 40; prompt += 3) {
      for (let cached = 0; cached <= prompt; cached++) {
        for (const out of [0, 1, 7, 20]) {
          expect(
            costOf({ promptTokens: prompt, cachedTokens: cached, completionTokens: out }, q).total,
          ).toBeLessThanOrEqual(maxCost(prompt, 20, q));
        }
      }
    }
  });
});
