// One request's latency clock: started when the Worker receives the request (routes' timing
// middleware), marked at each output token (the edge's generation as it produces or streams them,
// the relay as it hands an origin's frames on), and read once at the end: usage's `timing`, the
// ledger's ttft_ms and decode_tps, and a Server-Timing header on JSON answers. workerd advances its
// clock only on I/O (a Spectre mitigation, locally as in production), so a span without I/O reads
// short or zero: a decode speed over a span of zero is unknown (null), never infinite.
import type { Timing } from './usage';

const round = (v: number, digits: number) => Number(v.toFixed(digits));

export class LatencyClock {
  private first: number | null = null;
  private last: number | null = null;
  /** What `finish` measured; read by the middleware for the Server-Timing header. */
  result: Timing | null = null;

  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly start = now(),
  ) {}

  /** Output was produced (or handed to the client) now. */
  mark(): void {
    const t = this.now();
    this.first ??= t;
    this.last = t;
  }

  /** Forgets the marks: a JSON answer retried on another origin is made of the retry's tokens only. */
  restart(): void {
    this.first = null;
    this.last = null;
  }

  /** The timing of the `completionTokens` produced since the start, kept as `result`. */
  finish(completionTokens: number): Timing {
    if (this.first === null || this.last === null)
      return (this.result = { ttft_ms: null, decode_ms: 0, decode_tokens_per_second: null });
    const decodeMs = this.last - this.first;
    return (this.result = {
      ttft_ms: round(this.first - this.start, 1),
      decode_ms: round(decodeMs, 1),
      decode_tokens_per_second:
        completionTokens >= 2 && decodeMs > 0
          ? round(((completionTokens - 1) * 1000) / decodeMs, 2)
          : null,
    });
  }
}

/** Server-Timing entries of a timing (beside the prompt cache's pc-*); '' when no token came. */
export function serverTiming(t: Timing): string {
  if (t.ttft_ms === null) return '';
  const tps = t.decode_tokens_per_second;
  return (
    `ttft;dur=${t.ttft_ms.toFixed(1)};desc="time to first token", ` +
    `decode;dur=${t.decode_ms.toFixed(1)}${tps === null ? '' : `;desc="tok/s=${tps.toFixed(2)}"`}`
  );
}
