// Usage → cost. Token counts times per-token prices (pico-units) give exact integers; each
// component is rounded half up to a nano-unit once, and the total is the sum of the components,
// so what a response reports, what the ledger holds and what the balance loses are the same numbers.
import type { AppliedPrice } from './prices';

export interface TokenCounts {
  promptTokens: number;
  /** Prompt tokens restored from the prompt cache (priced as hits). */
  cachedTokens: number;
  completionTokens: number;
}

/** Nano-units of currency. */
export interface CostBreakdown {
  hit: number;
  miss: number;
  output: number;
  total: number;
}

const PICOS_PER_NANO = 1000;
const toNanos = (tokens: number, picosPerToken: number) =>
  Math.round((tokens * picosPerToken) / PICOS_PER_NANO);

export function costOf(counts: TokenCounts, price: AppliedPrice): CostBreakdown {
  const { hit: ph, miss: pm, output: po } = price.perToken;
  const hit = toNanos(counts.cachedTokens, ph);
  const miss = toNanos(counts.promptTokens - counts.cachedTokens, pm);
  const output = toNanos(counts.completionTokens, po);
  return { hit, miss, output, total: hit + miss + output };
}

/**
 * The most a request can cost: every prompt token at the dearer input price and every allowed
 * output token. Reserved from the balance before the first token, so no burst can overspend.
 */
export function maxCost(promptTokens: number, maxTokens: number, price: AppliedPrice): number {
  const { hit, miss, output } = price.perToken;
  // +1: a hit/miss split rounds two components, which may each round up by half a nano-unit.
  return toNanos(promptTokens, Math.max(hit, miss)) + 1 + toNanos(maxTokens, output);
}
