// Per-model scheduler of decode steps: the sequences that are decoding each wait for their next token's
// step, and one step runs them all (engine/llama/decode-step.ts: weights read once for the whole batch).
// A step runs when every decoding sequence is waiting for it, or when the oldest has waited `gatherMs`
// (a sequence whose client reads slowly does not hold the others back longer than that). Prefill chunks
// of new sequences take turns with steps, one chunk per step when both wait, so neither starves.
//
// No one waits on a promise another request resolves: in workerd a request whose only pending work is
// such a promise is cancelled as hung (engine/session-pool.ts says the same). So every waiter polls on
// its own event-loop turn, and whichever waiter finds a step due runs it, synchronously, for everyone:
// the step writes into the sessions' own memory; each sequence samples in its own request. A sequence
// decoding alone runs its steps at once and gives the event loop a turn only every few steps
// (engine/pacer.ts: a turn costs ~1.1 ms in workerd, several times a small model's step).
import { YieldPacer, yieldToEventLoop } from './pacer';

export interface DecodeBatcherOptions {
  /** Most sequences per step. */
  maxBatch: number;
  /** Longest a waiting sequence holds a step back for the others to join, in ms. Default 5. */
  gatherMs?: number;
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
  /** Prefill chunks waiting for their turn, first come first served. */
  private readonly prefills: object[] = [];
  private lastRan: 'step' | 'prefill' = 'prefill';
  private readonly gatherMs: number;
  private readonly pacer = new YieldPacer();
  /** Steps run and sequence-tokens they computed (steps · mean batch). */
  readonly stats = { steps: 0, tokens: 0 };

  constructor(
    private readonly run: (seqs: S[]) => void,
    private readonly opts: DecodeBatcherOptions,
  ) {
    if (!(opts.maxBatch >= 1)) throw new RangeError(`maxBatch must be at least 1`);
    this.gatherMs = opts.gatherMs ?? 5;
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
    return this.decoding <= 1 && this.pending.length === 0 && this.prefills.length === 0;
  }

  private stepDue(): boolean {
    const waiting = this.pending.length;
    if (waiting === 0) return false;
    const all = Math.min(this.decoding, this.opts.maxBatch);
    return waiting >= all || performance.now() - this.pending[0].since >= this.gatherMs;
  }

  /** The oldest waiters, up to maxBatch, in one step; an error goes to each of them. */
  private runStep(): void {
    const batch = this.pending.splice(0, this.opts.maxBatch);
    this.lastRan = 'step';
    this.stats.steps++;
    this.stats.tokens += batch.length;
    try {
      this.run(batch.map((w) => w.seq));
      for (const w of batch) w.done = true;
    } catch (err) {
      for (const w of batch) w.error = err;
    }
  }
}
