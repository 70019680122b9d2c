// Room: engine. When a decoding loop gives the event loop a turn. A turn lets the response stream send
// what was enqueued, an abort arrive and other requests run, but in workerd every turn costs ~1.1 ms of
// wall time (a zero timer or setImmediate alike, measured in Miniflare), more than a small model's whole
// decode step (0.3–0.6 ms): yielding after every token tripled the edge's time per token. The pacer
// yields every `every` steps and fits `every` so that a cycle (steps + one turn) lasts about `targetMs`.
// It measures only across turns, so it also works where the clock stands still while code runs (deployed
// Workers advance Date.now() and performance.now() only on I/O): the first cycles yield every step.

/** setImmediate where there is one (Node: ~2 µs), else a zero timer. */
export const yieldToEventLoop = (): Promise<void> =>
  new Promise((resolve) =>
    typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0),
  );

/** Most steps between turns, whatever the clock says: a bound on how stale a stream can get. */
const MAX_EVERY = 16;

export class YieldPacer {
  /** Steps between turns, 1 … MAX_EVERY. */
  private every = 1;
  private since = 0;
  private lastTurn = performance.now();

  /** targetMs: the cycle to aim at (a stream sends at least this often while decoding). */
  constructor(private readonly targetMs = 8) {}

  /** Counts a step; true when this one should end with a turn (then call turn()). */
  due(): boolean {
    return ++this.since >= this.every;
  }

  /** Gives the event loop a turn and refits `every` from the cycle it ended. */
  async turn(): Promise<void> {
    await yieldToEventLoop();
    const now = performance.now();
    const cycle = now - this.lastTurn;
    if (cycle < this.targetMs / 2) this.every = Math.min(MAX_EVERY, this.every * 2);
    else if (cycle > this.targetMs) this.every = Math.max(1, this.every >> 1);
    this.lastTurn = now;
    this.since = 0;
  }

  /** A step: a turn when one is due. */
  async step(): Promise<void> {
    if (this.due()) await this.turn();
  }

  /** Steps between turns now (for tests and benches). */
  get stepsPerTurn(): number {
    return this.every;
  }
}
