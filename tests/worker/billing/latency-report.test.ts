// GET /v1/usage's latency percentiles (billing/latency-report.ts), against D1's real SQLite: rows
// written through the ledger's own reserve and settle with known timings (hand-computed nearest
// ranks, ties and odd counts against a plain sort), and rows of real edge requests compared with
// the percentiles of what the ledger recorded for them.
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { reserve, settle } from '../../../billing/ledger';
import type { Timing } from '../../../protocol/usage';
import { seedStories260k, sharedModelsPresent, skipReason } from '../seed';
import { chat, frames, rowsOf } from './requests';
import { call, provisionKey, type TestKey } from './setup';

const reason = skipReason(await sharedModelsPresent());

interface Percentiles {
  p50: number;
  p95: number;
  requests: number;
}
interface Report {
  data: {
    date: string;
    model: string;
    requests: number;
    latency: { ttft_ms: Percentiles | null; decode_tokens_per_second: Percentiles | null };
  }[];
}

/** The reference: the ceil(p/100 * n)-th smallest value (nearest rank), by a plain sort. */
function nearestRank(values: number[]): Percentiles | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.ceil((p / 100) * sorted.length) - 1];
  return { p50: at(50), p95: at(95), requests: sorted.length };
}

const ZERO_PRICE = { currency: 'USD', offPeak: false, perToken: { hit: 0, miss: 0, output: 0 } };
const NO_COST = { hit: 0, miss: 0, output: 0, total: 0 };

/** One ledger row through the real reserve and settle, started at `day` noon UTC, with `timing` (or none). */
async function record(k: TestKey, model: string, day: string, timing?: Partial<Timing>) {
  const ledgerId = crypto.randomUUID();
  const reserved = await reserve(env.DB, {
    ledgerId,
    requestId: ledgerId,
    accountId: k.accountId,
    keyId: k.keyId,
    idempotencyKey: null,
    requestHash: null,
    endpoint: 'chat.completions',
    model,
    servedBy: `edge:${model}`,
    price: ZERO_PRICE,
    reservedNanos: 0,
    startedAt: Date.parse(`${day}T12:00:00Z`),
  });
  expect(reserved).toBe('reserved');
  const full: Timing | undefined = timing && {
    ttft_ms: null,
    decode_ms: 0,
    decode_tokens_per_second: null,
    ...timing,
  };
  const counts = { promptTokens: 3, cachedTokens: 0, completionTokens: 5 };
  await settle(env.DB, ledgerId, k.accountId, {
    status: 'completed',
    counts,
    cost: NO_COST,
    finishedAt: Date.now(),
    timing: full,
  });
}

const usageOf = async (k: TestKey, query = '') =>
  (await call(`/v1/usage${query}`, { key: k.key })).json<Report>();

describe('latency percentiles of known rows', () => {
  it('p50 and p95 per day and model are the nearest ranks; untimed rows count as requests only', async () => {
    const k = await provisionKey();
    const other = await provisionKey();
    // Day 1, m-a: ttft 10.5, 21, …, 210 in a shuffled order; decode speed on 19 of them (one lone token).
    const order = [7, 3, 15, 0, 19, 11, 5, 13, 1, 17, 9, 2, 18, 6, 14, 4, 12, 8, 16, 10];
    for (const i of order)
      await record(k, 'm-a', '2026-03-01', {
        ttft_ms: (i + 1) * 10.5,
        decode_tokens_per_second: i === 0 ? null : 1000 - i * 25,
      });
    await record(k, 'm-b', '2026-03-01', { ttft_ms: 7.5 });
    // Day 2, m-a: three timed rows and one recorded before latency was (NULL columns).
    for (const ttft of [300, 100, 200]) await record(k, 'm-a', '2026-03-02', { ttft_ms: ttft });
    await record(k, 'm-a', '2026-03-02');
    // Another key's extreme latencies on the same day and model are not this key's.
    await record(other, 'm-a', '2026-03-01', { ttft_ms: 99_999, decode_tokens_per_second: 1 });

    const report = await usageOf(k, '?start_date=2026-03-01&end_date=2026-03-03');
    const group = (date: string, model: string) =>
      report.data.find((r) => r.date === date && r.model === model)!;
    // n = 20: ranks 10 and 19. Decode, n = 19 (1000 - 25i for i = 1..19, ascending from i = 19): ranks 10 and 19.
    expect(group('2026-03-01', 'm-a')).toMatchObject({
      requests: 20,
      latency: {
        ttft_ms: { p50: 105, p95: 199.5, requests: 20 },
        decode_tokens_per_second: { p50: 750, p95: 975, requests: 19 },
      },
    });
    expect(group('2026-03-01', 'm-b').latency).toEqual({
      ttft_ms: { p50: 7.5, p95: 7.5, requests: 1 },
      decode_tokens_per_second: null,
    });
    // n = 3: ranks 2 and 3; the untimed fourth row is a request, not a latency.
    expect(group('2026-03-02', 'm-a')).toMatchObject({
      requests: 4,
      latency: {
        ttft_ms: { p50: 200, p95: 300, requests: 3 },
        decode_tokens_per_second: null,
      },
    });
    expect(report.data).toHaveLength(3);
  });

  it('ties and odd counts match a plain sort', async () => {
    const k = await provisionKey();
    // A fixed pseudo-random sequence with many ties (values 0..12, 37 rows; 57 on day two).
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 13;
    const byDay: Record<string, number[]> = { '2026-04-10': [], '2026-04-11': [] };
    for (const [day, n] of [
      ['2026-04-10', 37],
      ['2026-04-11', 57],
    ] as const)
      for (let i = 0; i < n; i++) {
        const ttft = next() * 1.5;
        byDay[day].push(ttft);
        await record(k, 'm-t', day, { ttft_ms: ttft, decode_tokens_per_second: 100 - ttft });
      }
    const report = await usageOf(k, '?start_date=2026-04-10&end_date=2026-04-11');
    for (const row of report.data) {
      expect(row.latency.ttft_ms).toEqual(nearestRank(byDay[row.date]));
      expect(row.latency.decode_tokens_per_second).toEqual(
        nearestRank(byDay[row.date].map((t) => 100 - t)),
      );
    }
    expect(report.data.map((r) => r.date)).toEqual(['2026-04-10', '2026-04-11']);
  });
});

describe.skipIf(reason !== null)('latency percentiles of real requests', () => {
  beforeAll(seedStories260k);

  it("today's p50 and p95 are those of the ledger's recorded timings", async () => {
    const k = await provisionKey();
    for (const max_tokens of [4, 9, 16, 25, 36]) {
      const res = await chat(k.key, { max_tokens, stream: max_tokens % 2 === 0 });
      expect(res.status).toBe(200);
      if (max_tokens % 2 === 0) await frames(res);
      else await res.json();
    }
    const rows = (await rowsOf(k.keyId)) as unknown as {
      ttft_ms: number | null;
      decode_tps: number | null;
    }[];
    expect(rows).toHaveLength(5);
    const values = (f: (r: (typeof rows)[number]) => number | null) =>
      rows.map(f).filter((v): v is number => v !== null);
    expect(values((r) => r.ttft_ms)).toHaveLength(5);
    const report = await usageOf(k);
    expect(report.data).toHaveLength(1);
    expect(report.data[0].latency).toEqual({
      ttft_ms: nearestRank(values((r) => r.ttft_ms)),
      decode_tokens_per_second: nearestRank(values((r) => r.decode_tps)),
    });
  });
});

describe('the dashboard page', () => {
  it('charts p50 and p95 time to first token and decode speed inline, with no outside script', async () => {
    const page = await call('/dashboard');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'unsafe-inline';");
    const html = await page.text();
    expect(html).toContain('data-chart="ttft"');
    expect(html).toContain('data-chart="decode-tps"');
    expect(html).toMatch(/latencyChart\(\$\('ttft-chart'\), usage, 'ttft_ms'/);
    expect(html).toMatch(/latencyChart\(\$\('tps-chart'\), usage, 'decode_tokens_per_second'/);
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });
});
