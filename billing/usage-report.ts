// Usage read back from the ledger: one key's settled requests summed by UTC day and model.
export interface UsageRow {
  date: string;
  model: string;
  requests: number;
  prompt_tokens: number;
  prompt_cache_hit_tokens: number;
  prompt_cache_miss_tokens: number;
  completion_tokens: number;
  cost_hit: number;
  cost_miss: number;
  cost_output: number;
  cost_total: number;
}

const DAY_MS = 86_400_000;

/** Rows for `keyId` between two UTC dates (YYYY-MM-DD, both included), ordered by date and model. */
export async function usageByDayAndModel(
  db: D1Database,
  keyId: string,
  startDate: string,
  endDate: string,
): Promise<UsageRow[]> {
  const from = Date.parse(`${startDate}T00:00:00Z`);
  const to = Date.parse(`${endDate}T00:00:00Z`) + DAY_MS;
  const { results } = await db
    .prepare(
      `SELECT date(started_at / 1000, 'unixepoch') AS date, model, COUNT(*) AS requests,
         SUM(prompt_tokens) AS prompt_tokens, SUM(cache_hit_tokens) AS prompt_cache_hit_tokens,
         SUM(cache_miss_tokens) AS prompt_cache_miss_tokens, SUM(completion_tokens) AS completion_tokens,
         SUM(cost_hit_nanos) AS cost_hit, SUM(cost_miss_nanos) AS cost_miss, SUM(cost_output_nanos) AS cost_output,
         SUM(cost_nanos) AS cost_total
       FROM ledger WHERE api_key_id = ? AND status != 'pending' AND started_at >= ? AND started_at < ?
       GROUP BY 1, 2 ORDER BY 1, 2`,
    )
    .bind(keyId, from, to)
    .all<UsageRow>();
  return results;
}
