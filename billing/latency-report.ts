// Latency read back from the ledger: p50 and p95 of time to first token and of decode speed, per
// UTC day and model. D1 is SQLite, which has no percentile function: the rows of each group are
// ranked by a window function and the nearest rank taken (the ceil(p/100 * n)-th smallest value,
// one that really occurred), all inside D1, so the Worker reads one row per group whatever the
// traffic. Rows without a measure (NULL) are left out of that measure's count.

/** p50 and p95 of one measure over `requests` timed requests. */
export interface Percentiles {
  p50: number;
  p95: number;
  requests: number;
}

export interface LatencyRow {
  date: string;
  model: string;
  ttft_ms: Percentiles | null;
  decode_tokens_per_second: Percentiles | null;
}

const DAY_MS = 86_400_000;

/** The ledger's measures, by column; never a caller's string in the SQL. */
const COLUMNS = { ttft_ms: 'ttft_ms', decode_tokens_per_second: 'decode_tps' } as const;
type Measure = keyof typeof COLUMNS;

/** Nearest-rank percentiles of one column per day and model. Integer division: ceil(n * p / 100). */
const percentileSql = (column: string) =>
  `WITH ranked AS (
     SELECT date(started_at / 1000, 'unixepoch') AS date, model, ${column} AS v,
       ROW_NUMBER() OVER (PARTITION BY date(started_at / 1000, 'unixepoch'), model ORDER BY ${column}) AS rank,
       COUNT(*) OVER (PARTITION BY date(started_at / 1000, 'unixepoch'), model) AS n
     FROM ledger
     WHERE api_key_id = ?1 AND status != 'pending' AND started_at >= ?2 AND started_at < ?3
       AND ${column} IS NOT NULL
   )
   SELECT date, model, MAX(n) AS requests,
     MIN(CASE WHEN rank >= (n * 50 + 99) / 100 THEN v END) AS p50,
     MIN(CASE WHEN rank >= (n * 95 + 99) / 100 THEN v END) AS p95
   FROM ranked GROUP BY date, model`;

type Group = Percentiles & { date: string; model: string };

/** Rows for `keyId` between two UTC dates (YYYY-MM-DD, both included), ordered by date and model. */
export async function latencyByDayAndModel(
  db: D1Database,
  keyId: string,
  startDate: string,
  endDate: string,
): Promise<LatencyRow[]> {
  const from = Date.parse(`${startDate}T00:00:00Z`);
  const to = Date.parse(`${endDate}T00:00:00Z`) + DAY_MS;
  const measures = Object.keys(COLUMNS) as Measure[];
  const results = await db.batch<Group>(
    measures.map((m) => db.prepare(percentileSql(COLUMNS[m])).bind(keyId, from, to)),
  );
  const rows = new Map<string, LatencyRow>();
  measures.forEach((m, i) => {
    for (const { date, model, p50, p95, requests } of results[i].results) {
      const key = `${date}\n${model}`;
      const row = rows.get(key) ?? { date, model, ttft_ms: null, decode_tokens_per_second: null };
      row[m] = { p50, p95, requests };
      rows.set(key, row);
    }
  });
  return [...rows.values()].sort(
    (a, b) => a.date.localeCompare(b.date) || a.model.localeCompare(b.model),
  );
}
