// Prices are data (`prices.json`), validated when the module loads: a bad price file stops the
// Worker from starting instead of mispricing requests. Amounts become integers here, once.
import { z } from 'zod';
import raw from './prices.json';
import { parseDecimal } from './money';

/** Micro-units per 1M tokens, i.e. pico-units per token: exact for any price with ≤ 6 decimals. */
const perMillion = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    return parseDecimal(v, 6);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `price per 1M tokens: ${(err as Error).message}` });
    return z.NEVER;
  }
});
const percent = z.number().int().min(0).max(100);
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 24-hour UTC');

const modelPrice = z.strictObject({
  input_cache_hit: perMillion,
  input_cache_miss: perMillion,
  output: perMillion,
  currency: z.string().length(3).optional(),
  /** Overrides the window's discount for this model (DeepSeek-R1 had 75%); 0 turns it off. */
  off_peak_discount_percent: percent.optional(),
});

export const priceFile = z
  .strictObject({
    comment: z.string().optional(),
    currency: z.string().length(3),
    off_peak: z
      .strictObject({ start_utc: hhmm, end_utc: hhmm, discount_percent: percent })
      .nullable(),
    defaults: z.strictObject({ edge: modelPrice, origin: modelPrice }),
    models: z.record(z.string().min(1), modelPrice),
  })
  .superRefine((file, ctx) => {
    for (const [id, p] of Object.entries(file.models)) {
      // Balances are kept in one currency; a model priced in another could not be charged.
      if (p.currency && p.currency !== file.currency) {
        ctx.addIssue({
          code: 'custom',
          path: ['models', id, 'currency'],
          message: `must be ${file.currency}, the balance currency`,
        });
      }
    }
  });
export type PriceFile = z.infer<typeof priceFile>;

/** Pico-units of currency per token. */
export interface UnitPrices {
  hit: number;
  miss: number;
  output: number;
}

/** The prices one request is charged at, fixed when it starts. */
export interface AppliedPrice {
  currency: string;
  offPeak: boolean;
  perToken: UnitPrices;
}

export type Placement = 'edge' | 'origin';

const minutesOf = (hhmmText: string) =>
  Number(hhmmText.slice(0, 2)) * 60 + Number(hhmmText.slice(3));

export class PriceBook {
  readonly file: PriceFile;

  constructor(input: unknown) {
    const parsed = priceFile.safeParse(input);
    if (!parsed.success) {
      const issues = parsed.error.issues.map(
        (i) => `${i.path.join('.') || '(root)'}: ${i.message}`,
      );
      throw new Error(`invalid price file:\n  ${issues.join('\n  ')}`);
    }
    this.file = parsed.data;
  }

  get currency(): string {
    return this.file.currency;
  }

  /** True when `at` falls in the off-peak window (which may wrap past midnight UTC). */
  isOffPeak(at: Date): boolean {
    const window = this.file.off_peak;
    if (!window) return false;
    const m = at.getUTCHours() * 60 + at.getUTCMinutes();
    const start = minutesOf(window.start_utc);
    const end = minutesOf(window.end_utc);
    return start <= end ? m >= start && m < end : m >= start || m < end;
  }

  priceAt(model: string, placement: Placement, at: Date): AppliedPrice {
    const p = this.file.models[model] ?? this.file.defaults[placement];
    const discount = this.isOffPeak(at)
      ? (p.off_peak_discount_percent ?? this.file.off_peak?.discount_percent ?? 0)
      : 0;
    // A discounted price is rounded half up to a whole pico-unit per token: integers all the way down.
    const apply = (v: number) => Math.round((v * (100 - discount)) / 100);
    return {
      currency: this.file.currency,
      offPeak: discount > 0,
      perToken: {
        hit: apply(p.input_cache_hit),
        miss: apply(p.input_cache_miss),
        output: apply(p.output),
      },
    };
  }
}

/** The shipped price book; importing this module validates `prices.json`. */
export const prices = new PriceBook(raw);
