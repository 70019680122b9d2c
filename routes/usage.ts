// GET /v1/usage (the key's tokens, costs and latency percentiles by day and model) and DeepSeek's
// GET /user/balance (also at /v1/user/balance, for clients whose base URL ends in /v1).
import { Hono } from 'hono';
import { getAccount } from '../billing/accounts';
import { maxCost } from '../billing/cost';
import { latencyByDayAndModel, type LatencyRow } from '../billing/latency-report';
import { formatAmount } from '../billing/money';
import { prices } from '../billing/prices';
import { usageByDayAndModel, type UsageRow } from '../billing/usage-report';
import { invalidRequest } from '../protocol/errors';
import type { AppEnv } from './env';

const DAY_MS = 86_400_000;
const MAX_DAYS = 366;
const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function dateParam(value: string | undefined, fallback: string, param: string): string {
  const date = value ?? fallback;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`))) {
    throw invalidRequest(`${param} must be a date, YYYY-MM-DD.`, param, 'invalid_value');
  }
  return date;
}

const tokensOf = (r: Omit<UsageRow, 'date' | 'model'>) => ({
  requests: r.requests,
  prompt_tokens: r.prompt_tokens,
  prompt_cache_hit_tokens: r.prompt_cache_hit_tokens,
  prompt_cache_miss_tokens: r.prompt_cache_miss_tokens,
  completion_tokens: r.completion_tokens,
  total_tokens: r.prompt_tokens + r.completion_tokens,
  cost: {
    input_cache_hit: r.cost_hit,
    input_cache_miss: r.cost_miss,
    output: r.cost_output,
    total: r.cost_total,
  },
});

function sum(rows: UsageRow[]): Omit<UsageRow, 'date' | 'model'> {
  const t = {
    requests: 0,
    prompt_tokens: 0,
    prompt_cache_hit_tokens: 0,
    prompt_cache_miss_tokens: 0,
    completion_tokens: 0,
    cost_hit: 0,
    cost_miss: 0,
    cost_output: 0,
    cost_total: 0,
  };
  for (const r of rows) for (const k of Object.keys(t) as (keyof typeof t)[]) t[k] += r[k];
  return t;
}

/** A day and model's percentiles; both null where none of its requests was timed. Totals have none: percentiles do not add up. */
function latencyLookup(rows: LatencyRow[]) {
  const byGroup = new Map(rows.map((r) => [`${r.date}\n${r.model}`, r]));
  return (date: string, model: string) => {
    const r = byGroup.get(`${date}\n${model}`);
    return {
      ttft_ms: r?.ttft_ms ?? null,
      decode_tokens_per_second: r?.decode_tokens_per_second ?? null,
    };
  };
}

export function usage() {
  const app = new Hono<AppEnv>();
  app.get('/', async (c) => {
    const today = isoDate(Date.now());
    const end = dateParam(c.req.query('end_date'), today, 'end_date');
    const start = dateParam(
      c.req.query('start_date'),
      isoDate(Date.parse(`${end}T00:00:00Z`) - 29 * DAY_MS),
      'start_date',
    );
    const days = (Date.parse(end) - Date.parse(start)) / DAY_MS + 1;
    if (days < 1 || days > MAX_DAYS)
      throw invalidRequest(
        `start_date must be on or before end_date, at most ${MAX_DAYS} days apart.`,
        'start_date',
        'invalid_value',
      );
    const { keyId } = c.get('key');
    const [rows, latency] = await Promise.all([
      usageByDayAndModel(c.env.DB, keyId, start, end),
      latencyByDayAndModel(c.env.DB, keyId, start, end),
    ]);
    const latencyOf = latencyLookup(latency);
    return c.json({
      object: 'usage',
      key_id: c.get('key').keyId,
      currency: prices.currency,
      unit: 'nano',
      start_date: start,
      end_date: end,
      data: rows.map((r) => ({
        date: r.date,
        model: r.model,
        ...tokensOf(r),
        latency: latencyOf(r.date, r.model),
      })),
      totals: tokensOf(sum(rows)),
    });
  });
  return app;
}

/** The least any request reserves now: one prompt and one output token at the lowest price. */
function smallestRequestNanos(now: Date): number {
  const listed = Object.keys(prices.file.models).map((m) => prices.priceAt(m, 'edge', now));
  // '' names no model (ids start with a letter or digit): each placement's default price
  const defaults = [prices.priceAt('', 'edge', now), prices.priceAt('', 'origin', now)];
  return Math.min(...[...listed, ...defaults].map((p) => maxCost(1, 1, p)));
}

/**
 * DeepSeek's shape. Amounts are exact decimal strings; in-flight reservations are not spendable.
 * `is_available`: the balance pays for at least the smallest request (a few nano-units left over
 * pay for none, and every request would get a 402).
 */
export function balance() {
  const app = new Hono<AppEnv>();
  app.get('/balance', async (c) => {
    const account = await getAccount(c.env.DB, c.get('key').accountId);
    const nanos = account?.balance_nanos ?? 0;
    const total = formatAmount(nanos);
    return c.json({
      is_available: nanos >= smallestRequestNanos(new Date()),
      balance_infos: [
        {
          currency: prices.currency,
          total_balance: total,
          granted_balance: '0.00',
          topped_up_balance: total,
        },
      ],
    });
  });
  return app;
}
