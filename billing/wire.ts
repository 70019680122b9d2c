// Costs on the wire: the `cost` object of usage, and the x-cost-* headers of a JSON response
// (a stream's headers leave before its cost exists; its last chunk carries it).
import type { Cost, Usage } from '../protocol/usage';
import type { CostBreakdown, TokenCounts } from './cost';
import { formatAmount } from './money';
import type { AppliedPrice } from './prices';

export const toWireCost = (c: CostBreakdown, price: AppliedPrice): Cost => ({
  currency: price.currency,
  unit: 'nano',
  input_cache_hit: c.hit,
  input_cache_miss: c.miss,
  output: c.output,
  total: c.total,
  off_peak: price.offPeak,
});

export function costHeaders(usage: Usage): Record<string, string> {
  const cost = usage.cost;
  if (!cost) return {};
  return {
    'x-cost-currency': cost.currency,
    /** Exact, in whole currency units. */
    'x-cost-total': formatAmount(cost.total, 0),
    'x-cost-total-nanos': String(cost.total),
  };
}

/** The token counts usage reports, as billing counts them. */
export const countsOf = (usage: Usage): TokenCounts => ({
  promptTokens: usage.prompt_tokens,
  cachedTokens: usage.prompt_cache_hit_tokens,
  completionTokens: usage.completion_tokens,
});
