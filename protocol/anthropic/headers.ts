// Response headers of the Anthropic routes: our x-ratelimit-* (OpenAI's names, set by metering)
// again under Anthropic's names, whose resets are RFC 3339 times rather than durations.

/** OpenAI's durations ("20ms", "1.5s", "6m0s") in milliseconds; null when unreadable. */
export function durationMs(text: string): number | null {
  const m = /^(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/.exec(text.trim());
  if (!m || text.trim() === '') return null;
  return (Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 1000 + Number(m[3] ?? 0);
}

const KINDS = ['requests', 'tokens'] as const;

/** Anthropic's rate-limit headers from ours; `now` in ms (resets are absolute times). */
export function anthropicRateLimitHeaders(
  ours: Headers,
  now: number = Date.now(),
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kind of KINDS) {
    const limit = ours.get(`x-ratelimit-limit-${kind}`);
    const remaining = ours.get(`x-ratelimit-remaining-${kind}`);
    const reset = ours.get(`x-ratelimit-reset-${kind}`);
    if (limit !== null) out[`anthropic-ratelimit-${kind}-limit`] = limit;
    if (remaining !== null) out[`anthropic-ratelimit-${kind}-remaining`] = remaining;
    const ms = reset === null ? null : durationMs(reset);
    if (ms !== null)
      out[`anthropic-ratelimit-${kind}-reset`] = new Date(now + ms)
        .toISOString()
        .replace(/\.\d+Z$/, 'Z');
  }
  return out;
}

/** Headers of the pipeline's answer that the Anthropic answer carries on unchanged. */
export const PASSED_HEADERS = [
  'x-request-id',
  'x-served-by',
  'x-served-model',
  'x-fallback-from',
  'idempotent-replayed',
  'retry-after',
  'retry-after-ms',
  'server-timing',
  'x-cost-currency',
  'x-cost-total',
  'x-cost-total-nanos',
  'x-ratelimit-limit-requests',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-reset-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-tokens',
];

export function passedHeaders(ours: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PASSED_HEADERS) {
    const v = ours.get(name);
    if (v !== null) out[name] = v;
  }
  return { ...out, ...anthropicRateLimitHeaders(ours) };
}
