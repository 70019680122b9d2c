// Room: engine. When a decoding loop gives the event loop a turn. A turn lets the response stream send
// what was enqueued, an abort arrive and other requests run, but in workerd every turn costs ~1.1 ms of
// wall time (a zero timer or setImmediate alike, measured in Miniflare; more on a loaded machine), more
// than a small model's whole decode step (0.3–0.6 ms) and ~10% of a 110M model's: yielding after every
// token tripled the edge's time per token. The pacer measures what a turn costs here (once, by a second
// turn right after the first) and yields every `every` steps, fitted so that turns take about
// `turnShare` of the time, but a cycle (steps + one turn) lasts at most `maxCycleMs`. workerd's clock
// ticks in whole ms, so a turn there reads 1 ms: a 110M model's ~11 ms step turns every 3–4 steps.
// It measures only across turns, so it also works where the clock stands still while code runs
// (deployed Workers advance Date.now() and performance.now() only on I/O): the first cycle yields
// after one step.

/** setImmediate where there is one (Node: ~2 µs), else a zero timer. */
export const yieldToEventLoop = (): Promise<void> =>
  new Promise((resolve) =>
    typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0),
  );

/** Most steps between turns, whatever the clock says: a bound on how stale a stream can get. */
const MAX_EVERY = 64;

export interface PacerOptions {
  /** Longest cycle: how long an abort or a new request may wait for a turn, in ms. Default 50. */
  maxCycleMs?: number;
  /** The share of time turns may take, when the cycle bound allows. Default 1/32. */
  turnShare?: number;
  /** How a turn is taken (tests give one of a known cost). */
  yieldTo?: () => Promise<void>;
}

export class YieldPacer {
  /** Steps between turns, 1 … MAX_EVERY. */
  private every = 1;
  private since = 0;
  private lastTurn = performance.now();
  /** What one turn costs here, in ms; null until the first turn measures it. */
  private turnMs: number | null = null;
  private readonly maxCycleMs: number;
  private readonly turnShare: number;
  private readonly yieldTo: () => Promise<void>;

  constructor(opts: PacerOptions = {}) {
    this.maxCycleMs = opts.maxCycleMs ?? 50;
    this.turnShare = opts.turnShare ?? 1 / 32;
    this.yieldTo = opts.yieldTo ?? yieldToEventLoop;
  }

  /** Counts a step; true when this one should end with a turn (then call turn()). */
  due(): boolean {
    return ++this.since >= this.every;
  }

  /** Gives the event loop a turn and refits `every` from the cycle it ended. */
  async turn(): Promise<void> {
    await this.yieldTo();
    let now = performance.now();
    const cycle = now - this.lastTurn;
    if (this.turnMs === null) {
      // a turn with no step before it: its cost alone
      await this.yieldTo();
      const after = performance.now();
      this.turnMs = after - now;
      now = after;
    }
    this.every = this.fit(Math.max(0, cycle - this.turnMs) / Math.max(1, this.since));
    this.lastTurn = now;
    this.since = 0;
  }

  /** Steps per turn for steps of stepMs: turns within their share, the cycle within its bound. */
  private fit(stepMs: number): number {
    if (!(stepMs > 0)) return MAX_EVERY; // a clock that stood still: only the step bound holds
    const forShare = Math.ceil(this.turnMs! / (this.turnShare * stepMs));
    const forCycle = Math.floor(this.maxCycleMs / stepMs);
    return Math.max(1, Math.min(forShare, forCycle, MAX_EVERY));
  }

  /** A step: a turn when one is due. */
  async step(): Promise<void> {
    if (this.due()) await this.turn();
  }

  /** Steps between turns now (for tests and benches). */
  get stepsPerTurn(): number {
    return this.every;
  }

  /** The measured cost of a turn in ms (null before the first turn). */
  get turnCostMs(): number | null {
    return this.turnMs;
  }
}
