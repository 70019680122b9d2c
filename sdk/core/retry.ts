// When to retry and how long to wait: exponential backoff with jitter, unless the server says how
// long (`retry-after-ms`, then `retry-after` in seconds or as an HTTP date). The same policy as
// openai-node, so our clients and the official ones back off alike.

const INITIAL_DELAY_S = 0.5;
const MAX_DELAY_S = 8;
/** A server-requested wait longer than this is ignored in favour of our own backoff. */
const MAX_HONOURED_MS = 60_000;

/** Whether a response with this status and headers should be retried. */
export function shouldRetry(response: Response): boolean {
  const hint = response.headers.get('x-should-retry');
  if (hint === 'true') return true;
  if (hint === 'false') return false;
  const s = response.status;
  return s === 408 || s === 409 || s === 429 || s >= 500;
}

/** The wait the server asked for, in ms, or undefined when it asked for none we can use. */
export function serverRequestedDelayMs(
  headers: Headers | undefined,
  now = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  let ms: number | undefined;
  const millis = headers.get('retry-after-ms');
  if (millis !== null && millis.trim() !== '' && !Number.isNaN(Number(millis))) ms = Number(millis);
  const after = headers.get('retry-after');
  if (ms === undefined && after !== null && after.trim() !== '') {
    ms = Number.isNaN(Number(after)) ? Date.parse(after) - now : Number(after) * 1000;
  }
  if (ms === undefined || !Number.isFinite(ms) || ms < 0 || ms > MAX_HONOURED_MS) return undefined;
  return ms;
}

/**
 * Backoff before retry number `attempt` (1 for the first retry): 0.5 s, 1 s, 2 s … capped at 8 s,
 * each shortened by up to 25 % of jitter so that many clients do not retry in lockstep.
 */
export function backoffDelayMs(attempt: number, random: () => number = Math.random): number {
  const seconds = Math.min(INITIAL_DELAY_S * 2 ** (attempt - 1), MAX_DELAY_S);
  const jitter = 1 - random() * 0.25;
  return seconds * jitter * 1000;
}

export function retryDelayMs(
  attempt: number,
  headers: Headers | undefined,
  random?: () => number,
): number {
  return serverRequestedDelayMs(headers) ?? backoffDelayMs(attempt, random);
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
