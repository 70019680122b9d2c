// Per-request latencies for /metrics under vLLM's names (metrics.ts): the scheduler reports a request's
// admission, each token and its end; this keeps the times it needs per sequence (a WeakMap: nothing to
// clean up when a request fails or is cancelled).
import type { OriginMetrics } from './metrics';

interface Times {
  submittedAt: number;
  lastToken: number;
}

type Latencies = Pick<
  OriginMetrics,
  'timeToFirstToken' | 'interTokenLatency' | 'e2eLatency' | 'queueTime'
>;

export class RequestLatency {
  private readonly times = new WeakMap<object, Times>();

  constructor(private readonly m: Latencies) {}

  /** The request left the queue for a slot (submittedAt: its arrival, Date.now() ms). */
  admitted(seq: object, submittedAt: number, now = Date.now()): void {
    this.times.set(seq, { submittedAt, lastToken: 0 });
    this.m.queueTime.observe((now - submittedAt) / 1000);
  }

  /** A generated token was handed to the request's stream. */
  token(seq: object, now = Date.now()): void {
    const t = this.times.get(seq);
    if (!t) return;
    if (t.lastToken === 0) this.m.timeToFirstToken.observe((now - t.submittedAt) / 1000);
    else this.m.interTokenLatency.observe((now - t.lastToken) / 1000);
    t.lastToken = now;
  }

  /** The request finished (stop or length); failed and cancelled ones are not counted, as in vLLM. */
  finished(seq: object, now = Date.now()): void {
    const t = this.times.get(seq);
    if (t) this.m.e2eLatency.observe((now - t.submittedAt) / 1000);
    this.times.delete(seq);
  }
}
