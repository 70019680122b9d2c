// What this isolate knows about each origin: a circuit breaker fed by passive signals (errors and
// first-token latency of real requests) and by active `/health` probes, requests in flight, and the
// queue depth the origin last reported. Time and randomness are injected, so it is deterministic.

export interface HealthOptions {
  /** Consecutive failures (5xx, timeouts) that open the circuit; a refused connection opens it at once. */
  failureThreshold: number;
  /** First open period; each reopening without a success in between doubles it, up to maxOpenMs. */
  openMs: number;
  maxOpenMs: number;
  /** Active probes: mean interval, spread ± jitter (a fraction) so isolates do not probe in lockstep. */
  probeIntervalMs: number;
  probeJitter: number;
  probeTimeoutMs: number;
  /** Weight of the newest first-token latency in its moving average. */
  latencyAlpha: number;
}

export const defaultHealthOptions: HealthOptions = {
  failureThreshold: 3,
  openMs: 2_000,
  maxOpenMs: 60_000,
  probeIntervalMs: 10_000,
  probeJitter: 0.2,
  probeTimeoutMs: 2_000,
  latencyAlpha: 0.3,
};

export type CircuitState = 'closed' | 'open' | 'half_open';
export type FailureKind = 'connect' | 'timeout' | 'server';

export interface OriginSnapshot {
  circuit: CircuitState;
  /** May take a request now: closed, or half-open with no trial request out. */
  available: boolean;
  inflight: number;
  /** Queue depth from the last probe (0 when unknown). */
  queue: number;
  /** Refused new work (429/503) until this time. */
  overloadedUntil: number;
  firstTokenMs: number | null;
}

class OriginState {
  circuit: CircuitState = 'closed';
  failures = 0;
  openUntil = 0;
  openings = 0;
  trialOut = false;
  inflight = 0;
  queue = 0;
  overloadedUntil = 0;
  firstTokenMs: number | null = null;
  nextProbeAt = 0;
}

export class HealthBoard {
  private readonly origins = new Map<string, OriginState>();

  constructor(
    readonly options: HealthOptions = defaultHealthOptions,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  private state(url: string): OriginState {
    let s = this.origins.get(url);
    if (!s) {
      s = new OriginState();
      // The first probe of a new origin comes within one interval, jittered like the rest.
      s.nextProbeAt = this.now() + this.jittered();
      this.origins.set(url, s);
    }
    return s;
  }

  private jittered(): number {
    const { probeIntervalMs, probeJitter } = this.options;
    return Math.round(probeIntervalMs * (1 + probeJitter * (2 * this.random() - 1)));
  }

  snapshot(url: string): OriginSnapshot {
    const s = this.state(url);
    if (s.circuit === 'open' && this.now() >= s.openUntil) s.circuit = 'half_open';
    const available = s.circuit === 'closed' || (s.circuit === 'half_open' && !s.trialOut);
    return {
      circuit: s.circuit,
      available,
      inflight: s.inflight,
      queue: s.queue,
      overloadedUntil: s.overloadedUntil,
      firstTokenMs: s.firstTokenMs,
    };
  }

  /** A request goes to `url`; the returned function, called once in `finally`, ends it. */
  acquire(url: string): () => void {
    const s = this.state(url);
    this.snapshot(url);
    const trial = s.circuit === 'half_open';
    if (trial) s.trialOut = true;
    s.inflight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      s.inflight--;
      if (trial) s.trialOut = false;
    };
  }

  /** The origin produced a first token after `firstTokenMs`. */
  onSuccess(url: string, firstTokenMs?: number): void {
    const s = this.state(url);
    s.failures = 0;
    s.openings = 0;
    s.circuit = 'closed';
    if (firstTokenMs !== undefined) {
      const a = this.options.latencyAlpha;
      s.firstTokenMs =
        s.firstTokenMs === null
          ? firstTokenMs
          : Math.round(a * firstTokenMs + (1 - a) * s.firstTokenMs);
    }
  }

  onFailure(url: string, kind: FailureKind): void {
    const s = this.state(url);
    s.failures++;
    if (
      kind === 'connect' ||
      s.circuit === 'half_open' ||
      s.failures >= this.options.failureThreshold
    )
      this.open(s);
  }

  /** The origin said it is full (429/503): healthy, but no new work until `retryAfterMs` passes. */
  onOverloaded(url: string, retryAfterMs: number): void {
    this.state(url).overloadedUntil = this.now() + retryAfterMs;
  }

  private open(s: OriginState): void {
    const { openMs, maxOpenMs } = this.options;
    s.circuit = 'open';
    s.openUntil = this.now() + Math.min(maxOpenMs, openMs * 2 ** s.openings);
    s.openings++;
    // Probe as soon as the open period ends: a probe can close the circuit before any request risks it.
    s.nextProbeAt = s.openUntil;
  }

  /** Origins due for an active probe now; each is rescheduled, so a caller probes it once. */
  dueProbes(urls: readonly string[]): string[] {
    const now = this.now();
    return urls.filter((url) => {
      const s = this.state(url);
      if (now < s.nextProbeAt) return false;
      s.nextProbeAt = now + this.jittered();
      return true;
    });
  }

  /** What a `/health` probe found: ok or not, and the queue depth it reported. */
  onProbe(url: string, ok: boolean, queue?: number): void {
    const s = this.state(url);
    if (queue !== undefined) s.queue = queue;
    if (!ok) {
      // A failed probe of a closed origin counts like a failed request; of an open one, keeps it open.
      if (s.circuit === 'closed') this.onFailure(url, 'server');
      else this.open(s);
      return;
    }
    this.snapshot(url);
    // Only a probe after the open period may close the circuit: a flapping origin must sit it out.
    if (s.circuit === 'half_open') {
      s.circuit = 'closed';
      s.failures = 0;
    }
  }
}

/** Reads an origin's `/health`: ours reports JSON with its queue depth; vLLM and SGLang answer 200 with no body. */
export async function probeOrigin(
  url: string,
  path: string,
  timeoutMs: number,
  headers: Record<string, string> = {},
): Promise<{ ok: boolean; queue?: number }> {
  try {
    const res = await fetch(url + path, { headers, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    if (!res.ok) return { ok: false };
    return { ok: true, queue: queueDepthOf(text) };
  } catch {
    return { ok: false };
  }
}

function queueDepthOf(text: string): number | undefined {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const q =
      body.queue_depth ??
      body.queueDepth ??
      body.num_requests_waiting ??
      (body.queue as Record<string, unknown> | undefined)?.depth;
    return typeof q === 'number' && Number.isFinite(q) && q >= 0 ? q : undefined;
  } catch {
    return undefined;
  }
}
