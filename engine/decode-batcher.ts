// Per-model scheduler of decode steps: one step runs every decoding sequence's next token
// (engine/llama/decode-step.ts: weights read once for the whole batch). Prefill chunks of new sequences
// take turns with steps, one chunk per step when both wait, so neither starves.
//
// No one waits on a promise another request resolves: in workerd a request whose only pending work is
// such a promise is cancelled as hung, and a cross-request wake failed under the workers test pool
// ("Cannot perform I/O on behalf of a different request", bench/RESULTS.md 2026-12-08). So every request
// polls on its own event-loop turns, and whichever finds a step to run runs it, synchronously, for everyone:
// the step writes into the sessions' own memory.
//
// A generation decodes as a Driver: the step that computes its position also samples its next token, in
// whichever request runs the step (`advance`, plain JS on the sequence's own objects), and queues it for its
// own request to take. So steps need not wait for each request's turn: the request that wants a token runs
// a step for every sequence with room in its queue (at most DRIVE_AHEAD tokens untaken: a client that reads
// slowly does not hold the others back), and the pacer gives the event loop a turn every few steps, as for
// one sequence (engine/pacer.ts: a turn costs ~1.1 ms in workerd, several times a small model's step). Each
// request takes its tokens on its own turns. `step` (prompt scoring) still waits for each step, sampling in
// its own request: a step runs when every such waiter has come, or the oldest has waited `gatherMs`. When
// generations did that too, every step of two or more sequences cost a turn: two streams through the
// Worker decoded at 0.74× the tokens/s of one (bench/RESULTS.md 2026-12-08).
import { YieldPacer, yieldToEventLoop, type PacerOptions } from './pacer';

/** A decoding sequence the batcher steps on its own: see the header. */
export interface Driver<S> {
  /** The step input for its next position. */
  seq: S;
  /**
   * After a step that ran `seq`: samples its token and queues it (for its request), and sets `seq` for the
   * next position; false when the sequence has finished (no further step).
   */
  advance(): boolean;
  /** Tokens queued and not yet taken by its request. */
  backlog(): number;
}

interface DriverState<S> {
  driver: Driver<S>;
  finished: boolean;
  error?: unknown;
}

/** Most tokens a sequence runs ahead of its request: past that, steps go on without it. */
export const DRIVE_AHEAD = 64;

export interface DecodeBatcherOptions {
  /** Most sequences per step. */
  maxBatch: number;
  /** Longest a waiting sequence holds a step back for the others to join, in ms. Default 5. */
  gatherMs?: number;
  /** The pacer's options (tests give turns a known cost). */
  pacer?: PacerOptions;
}

interface Waiter<S> {
  seq: S;
  since: number;
  done: boolean;
  error?: unknown;
}

export class DecodeBatcher<S> {
  /** Sequences between enter() and leave(): each will ask for a step soon, so a step waits for them. */
  private decoding = 0;
  private readonly pending: Waiter<S>[] = [];
  /** Driven sequences (drive()), in the order they started. */
  private readonly drivers: DriverState<S>[] = [];
  /** Where the next step starts taking driven sequences. */
  private nextDriver = 0;
  /** Prefill chunks waiting for their turn, first come first served. */
  private readonly prefills: object[] = [];
  private lastRan: 'step' | 'prefill' = 'prefill';
  private readonly gatherMs: number;
  private readonly pacer: YieldPacer;
  /** Steps run and sequence-tokens they computed (steps · mean batch). */
  readonly stats = { steps: 0, tokens: 0 };

  constructor(
    private readonly run: (seqs: S[]) => void,
    private readonly opts: DecodeBatcherOptions,
  ) {
    if (!(opts.maxBatch >= 1)) throw new RangeError(`maxBatch must be at least 1`);
    this.gatherMs = opts.gatherMs ?? 5;
    this.pacer = new YieldPacer(opts.pacer);
  }

  /** A sequence starts decoding: steps now wait for it. Call leave() in `finally`. */
  enter(): void {
    this.decoding++;
  }

  leave(): void {
    this.decoding--;
  }

  /** Waits for a step that runs `seq` (maybe run by this caller); false when the signal aborts first. */
  async step(seq: S, signal?: AbortSignal): Promise<boolean> {
    if (this.alone()) {
      if (this.pacer.due()) await this.pacer.turn();
      if (signal?.aborted) return false;
      if (this.alone()) {
        this.lastRan = 'step';
        this.stats.steps++;
        this.stats.tokens++;
        this.run([seq]);
        return true;
      }
    }
    const me: Waiter<S> = { seq, since: performance.now(), done: false };
    this.pending.push(me);
    try {
      for (;;) {
        await yieldToEventLoop();
        if (me.error !== undefined) throw me.error;
        if (me.done) return true;
        if (signal?.aborted) return false;
        if (this.stepDue() && (this.prefills.length === 0 || this.lastRan === 'prefill')) {
          this.runStep();
          if (me.error !== undefined) throw me.error;
          if (me.done) return true;
        }
      }
    } finally {
      const at = this.pending.indexOf(me);
      if (at !== -1) this.pending.splice(at, 1);
    }
  }

  /**
   * Until the driver has a token queued (or has finished); the caller runs the steps when none ran for it.
   * The first call starts it; stop() it in `finally`. False when the signal aborts first.
   */
  async drive(driver: Driver<S>, signal?: AbortSignal): Promise<boolean> {
    let me = this.drivers.find((d) => d.driver === driver);
    if (!me) this.drivers.push((me = { driver, finished: false }));
    for (;;) {
      if (me.error !== undefined) throw me.error;
      if (me.finished || driver.backlog() > 0) return true;
      if (signal?.aborted) return false;
      if (this.prefills.length > 0 && this.lastRan === 'step') {
        await yieldToEventLoop(); // a prefill chunk's turn
        continue;
      }
      if (this.pacer.due()) {
        await this.pacer.turn();
        continue;
      }
      this.runStep();
    }
  }

  /** A driven sequence is over (finished, aborted or failed): steps no longer run it. */
  stop(driver: Driver<S>): void {
    const at = this.drivers.findIndex((d) => d.driver === driver);
    if (at !== -1) this.drivers.splice(at, 1);
  }

  /**
   * Waits for this caller's turn to run one prefill chunk, which it must then run synchronously;
   * false when the signal aborts first.
   */
  async prefillTurn(signal?: AbortSignal): Promise<boolean> {
    const ticket = {};
    this.prefills.push(ticket);
    try {
      for (;;) {
        await yieldToEventLoop();
        if (signal?.aborted) return false;
        if (this.prefills[0] === ticket && (this.lastRan === 'step' || !this.stepDue())) {
          this.lastRan = 'prefill';
          return true;
        }
      }
    } finally {
      this.prefills.splice(this.prefills.indexOf(ticket), 1);
    }
  }

  /** The only decoding sequence, with no prefill waiting for a turn: its steps need no one else. */
  private alone(): boolean {
    return (
      this.decoding <= 1 &&
      this.pending.length === 0 &&
      this.prefills.length === 0 &&
      this.drivers.length === 0
    );
  }

  private stepDue(): boolean {
    const waiting = this.pending.length;
    if (waiting === 0) return false;
    const all = Math.min(this.decoding, this.opts.maxBatch);
    return waiting >= all || performance.now() - this.pending[0].since >= this.gatherMs;
  }

  /**
   * One step: the oldest waiters (step()), then the driven sequences with room ahead, up to maxBatch; the
   * driven ones then sample. An error goes to each of them.
   */
  private runStep(): void {
    const batch = this.pending.splice(0, this.opts.maxBatch);
    const driven: DriverState<S>[] = [];
    // from where the last step stopped, so a batch smaller than the sequences serves them in turn
    const n = this.drivers.length;
    for (let i = 0; i < n && batch.length + driven.length < this.opts.maxBatch; i++) {
      const d = this.drivers[(this.nextDriver + i) % n];
      if (!d.finished && d.error === undefined && d.driver.backlog() < DRIVE_AHEAD) driven.push(d);
    }
    if (n) this.nextDriver = (this.nextDriver + driven.length) % n;
    if (batch.length + driven.length === 0) return;
    this.lastRan = 'step';
    this.stats.steps++;
    this.stats.tokens += batch.length + driven.length;
    try {
      this.run([...batch.map((w) => w.seq), ...driven.map((d) => d.driver.seq)]);
      for (const w of batch) w.done = true;
    } catch (err) {
      for (const w of batch) w.error = err;
      for (const d of driven) d.error = err;
      return;
    }
    for (const d of driven) {
      try {
        if (!d.driver.advance()) d.finished = true;
      } catch (err) {
        d.error = err;
      }
    }
  }
}
