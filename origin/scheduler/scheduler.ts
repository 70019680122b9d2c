// Continuous batching. One loop runs while there is work: each turn it drops cancelled and timed-out
// sequences (freeing their slots), admits waiting requests into free slots (restoring any cached
// prefix), builds one step (step-plan.ts) — a decode token for every running sequence, then prefill
// chunks of new ones within the step's token budget — runs it as one forward, samples, and streams each
// token to its request. New requests join at the next step; finished ones leave after theirs.
// Speculative decoding (--spec mtp, a backend with a drafter): after the step, the drafter (the MTP
// module) runs over the positions it confirmed and drafts each running sequence's next token; the next
// step feeds [last token, draft] and keeps the draft's row only if it is accepted (Sequence.verify):
// a rejected draft's cache rows are simply rewritten (the sequence's position does not advance over them),
// and the MTP module's cache only ever gets confirmed positions.
import { logprobsOf } from '../../engine/sampling/logprobs';
import { ApiError, serverError } from '../../protocol/errors';
import type { SampledLogprobs } from '../../engine/sampling/options';
import type { TokenLogprob } from '../../protocol/responses';
import type { DraftSequence, StepBackend, StepSequence } from '../backend/step-backend';
import type { OriginMetrics } from '../metrics';
import { RequestLatency } from '../request-latency';
import type { OriginTokenizer } from '../model/byte-tokenizer';
import { BLOCK_TOKENS, restoredTokens } from '../../engine/prompt-cache/blocks';
// setImmediate in Node: sockets flush and new requests arrive between steps, at a few µs a turn
import { yieldToEventLoop } from '../../engine/pacer';
import type { PrefixCache } from './prefix-cache';
import { restorePrompt, takePrompt } from './handoff';
import { planStep } from './step-plan';
import { Sequence, type FinishReason, type GenerationRequest } from './sequence';

export interface SchedulerOptions {
  /** Requests that may wait for a slot; one more gets 503. */
  maxQueue: number;
  /** Most prompt tokens of one sequence per step: long prompts are prefilled in chunks between decodes. */
  prefillChunk: number;
  /** From submission to the last token; past it a waiting request gets 503, a running one an error. */
  requestTimeoutMs: number;
  /** What 503s tell clients to wait (seconds). */
  retryAfterS: number;
  /** Speculative decoding with the backend's drafter, when it has one (default off). */
  speculative?: boolean;
}

const overloaded = (message: string, retryAfter: number) =>
  new ApiError(503, message, 'service_unavailable', 'overloaded', null, retryAfter);
/** Nobody reads it (the client is gone); it ends whatever still awaits the sequence's events. */
const clientClosed = () =>
  new ApiError(499, 'The client closed the request.', 'invalid_request_error', 'client_closed');

export class Scheduler {
  private readonly waiting: Sequence[] = [];
  private readonly active: Sequence[] = [];
  private looping = false;
  private nextId = 0;
  private readonly f32Logits: Float32Array;
  private readonly decoder = new TextDecoder();
  /** vLLM's request-latency histograms (queue time, TTFT, inter-token, end to end). */
  private readonly latency: RequestLatency;
  /** Drafts with the backend's drafter (the MTP module) and verifies them in the next step. */
  readonly speculative: boolean;

  constructor(
    private readonly backend: StepBackend,
    private readonly cache: PrefixCache,
    private readonly tokenizer: OriginTokenizer,
    private readonly metrics: OriginMetrics,
    readonly opts: SchedulerOptions,
  ) {
    this.f32Logits = new Float32Array(backend.vocabSize);
    this.speculative = !!opts.speculative && !!backend.drafter;
    this.latency = new RequestLatency(metrics);
  }

  /** The drafter speculative decoding runs ('mtp'), or 'off'. */
  get specMethod(): string {
    return this.speculative ? this.backend.drafter!.name : 'off';
  }

  get queueDepth(): number {
    return this.waiting.length;
  }

  get activeCount(): number {
    return this.active.length;
  }

  /** Queues a request (503 when the queue is full). The signal cancels it: the client went away. */
  submit(req: GenerationRequest, signal?: AbortSignal): Sequence {
    const queued = this.active.length + this.waiting.length - this.backend.maxSlots; // would wait for a slot
    if (queued >= 0 && queued >= this.opts.maxQueue) {
      throw overloaded(
        `The origin is at capacity (${this.active.length} running, ${this.waiting.length} queued). Retry shortly.`,
        this.opts.retryAfterS,
      );
    }
    if (req.promptIds.length + req.maxTokens > this.backend.maxSeqLen)
      throw new RangeError('prompt + max_tokens exceed the context');
    const seq = new Sequence(`seq-${this.nextId++}`, req, this.backend.vocabSize);
    if (signal?.aborted) seq.cancelled = true;
    signal?.addEventListener('abort', () => (seq.cancelled = true), { once: true });
    this.waiting.push(seq);
    if (!this.looping) {
      this.looping = true;
      // Started on the next turn, so requests arriving together share the first step.
      setImmediate(() => this.loop().catch((err) => this.crashed(err)));
    }
    return seq;
  }

  /** A bug, not a request's fault: fail everything in flight rather than leave clients hanging. */
  private crashed(err: unknown): void {
    console.error('origin: scheduler loop failed:', err);
    this.looping = false;
    for (const s of [...this.active]) this.fail(s, serverError());
    for (const s of this.waiting.splice(0))
      s.emit({ kind: 'error', error: serverError(), usage: s.usage() });
  }

  private async loop(): Promise<void> {
    try {
      for (;;) {
        this.reap();
        this.admit();
        if (this.active.length === 0) break;
        await this.step();
        await yieldToEventLoop();
      }
    } finally {
      this.looping = false;
    }
  }

  /** Drops cancelled and timed-out sequences, waiting or running. */
  private reap(): void {
    const now = Date.now();
    const expired = (s: Sequence) => now - s.submittedAt > this.opts.requestTimeoutMs;
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const s = this.waiting[i];
      if (!s.cancelled && !expired(s)) continue;
      this.waiting.splice(i, 1);
      const error = s.cancelled
        ? clientClosed()
        : overloaded('The request waited too long for a slot.', this.opts.retryAfterS);
      s.emit({ kind: 'error', error, usage: s.usage() });
    }
    for (const s of [...this.active]) {
      if (s.cancelled) this.fail(s, clientClosed());
      else if (expired(s))
        this.fail(
          s,
          new ApiError(
            504,
            `The request timed out after ${this.opts.requestTimeoutMs} ms.`,
            'server_error',
            'timeout',
          ),
        );
    }
  }

  /** Moves waiting requests into free slots, first come first served, restoring cached prefix blocks. */
  private admit(): void {
    while (this.waiting.length > 0) {
      const slot = this.backend.allocate();
      if (slot === null) return;
      const s = this.waiting.shift()!;
      s.slot = slot;
      s.state = 'prefill';
      this.latency.admitted(s, s.submittedAt);
      if (s.req.prefilled) {
        this.admitPrefilled(s);
        continue;
      }
      if (this.drafts(s)) s.speculate(this.backend.vocabSize);
      // a scored prompt is computed whole: a restored row has no logits to score it by
      const hits = s.req.scorePrompt === undefined ? this.cache.lookup(s.req.blockKeys) : [];
      hits.forEach((rows, i) => this.backend.restoreKv(slot, i * BLOCK_TOKENS, rows));
      // The last prompt token is computed even when its block was restored: its logits pick the first
      // output token (its row is rewritten with the same values).
      s.pos = s.cachedTokens = restoredTokens(hits.length, s.promptTokens);
      s.savedBlocks = hits.length;
      this.metrics.cacheHitTokens.inc({}, s.cachedTokens);
      this.active.push(s);
    }
  }

  /** A handed-over prompt (handoff.ts): its rows restored, its first token sampled from its logits. */
  private admitPrefilled(s: Sequence): void {
    const p = s.req.prefilled!;
    s.pos = restorePrompt(this.backend, s.slot, p);
    s.savedBlocks = s.req.blockKeys.length; // the prefill origin's cache holds them
    s.state = 'decode';
    this.active.push(s);
    this.accept(s, p.logits);
    s.releasePrompt();
  }

  /**
   * Whether this sequence is speculated on. Not one under a constraint (response_format, tools): a
   * draft and its verification bypass the grammar's mask, so it decodes one masked token a step.
   */
  private drafts(s: Sequence): boolean {
    return this.speculative && !s.constraint;
  }

  /** Plans, runs and consumes one forward step over the active sequences; then drafts, when speculating. */
  private async step(): Promise<void> {
    const { batch, members, budget } = planStep(this.active, this.backend, this.opts.prefillChunk);
    const started = performance.now();
    let logits: (Float32Array | Float64Array)[];
    try {
      logits = await this.backend.step(batch);
    } catch (err) {
      console.error('origin: forward step failed:', err);
      for (const s of members) this.fail(s, serverError());
      return;
    }
    this.metrics.stepSeconds.observe((performance.now() - started) / 1000);
    this.metrics.batchSize.observe(batch.length);
    this.metrics.stepTokens.observe(this.backend.maxStepTokens - budget);

    // Each entry's confirmed tokens; a verify entry whose draft stood waits for its draft row's logits.
    const done: { s: Sequence; entry: StepSequence; row: number; confirmed: number[] | null }[] =
      [];
    const stood: { at: number; row: number }[] = [];
    let next = 0,
      row = 0;
    batch.forEach((entry, i) => {
      const s = members[i],
        rows = entry.allLogits ? entry.tokens.length : entry.wantLogits ? 1 : 0;
      const confirmed = this.consume(s, entry, logits.slice(next, (next += rows)));
      if (confirmed && entry.firstLogits && s.pos === entry.startPos + 2)
        stood.push({ at: done.length, row: row + 1 }); // the draft stood: its row's logits come next
      done.push({ s, entry, row, confirmed });
      row += entry.tokens.length;
    });
    if (stood.length && !(await this.afterStood(done, stood))) return;
    const drafts: DraftSequence[] = [];
    const drafting: Sequence[] = [];
    for (const { s, entry, row, confirmed } of done) {
      if (!this.drafts(s) || !confirmed) continue;
      drafts.push({
        slot: s.slot,
        startPos: entry.startPos,
        hiddenRow: row,
        nextTokens: confirmed,
        wantLogits: s.state === 'decode' && s.tokensLeft >= 2, // a draft is of use
      });
      drafting.push(s);
    }
    if (drafts.length) await this.draft(drafts, drafting);
  }

  /**
   * The token after each draft that stood, from its row's logits (computed only now: the head is most
   * of a small model's step, and a rejected draft needs none). False when the backend failed.
   */
  private async afterStood(
    done: { s: Sequence; confirmed: number[] | null }[],
    stood: { at: number; row: number }[],
  ): Promise<boolean> {
    let logits: Float32Array[];
    try {
      logits = await this.backend.drafter!.rowLogits(stood.map((x) => x.row));
    } catch (err) {
      console.error('origin: forward step failed:', err);
      for (const { at } of stood) this.fail(done[at].s, serverError());
      return false;
    }
    stood.forEach(({ at }, i) => {
      const d = done[at];
      const second = this.accept(d.s, logits[i]);
      d.confirmed = second < 0 ? null : [...d.confirmed!, second];
    });
    return true;
  }

  /**
   * Applies one entry's logits to its sequence. Returns the confirmed token after each position whose row
   * the step wrote and kept (the MTP module's input), or null when the sequence ended. A firstLogits
   * verify entry whose draft stood returns the token at the draft's position alone, with s.pos past the
   * draft's row: the token after it comes from that row's logits (afterStood).
   */
  private consume(
    s: Sequence,
    entry: StepSequence,
    rows: (Float32Array | Float64Array)[],
  ): number[] | null {
    const start = entry.startPos,
      n = entry.tokens.length;
    if (s.state === 'prefill') {
      s.pos += n;
      this.offerPromptBlocks(s);
      const following = s.req.promptIds.slice(start + 1, start + n + 1);
      if (entry.allLogits) this.scorePrompt(s, following, rows);
      if (!entry.wantLogits) return following;
      if (s.req.onPrefilled) {
        s.req.onPrefilled(takePrompt(this.backend, s.slot, s.pos, rows[0]));
        this.finish(s, 'length', '');
        return null;
      }
      const token = this.accept(s, rows[rows.length - 1]);
      return token < 0 ? null : [...following, token];
    }
    s.pos += 1;
    if (!entry.firstLogits && !entry.allLogits) {
      const token = this.accept(s, rows[0]);
      return token < 0 ? null : [token];
    }
    // [last token, draft]: the draft's row stays only if the draft is accepted.
    const v = s.verify(rows[0], this.f32Logits);
    this.metrics.specDraftTokens.inc();
    if (v.accepted) this.metrics.specAcceptedTokens.inc();
    const first = this.emitToken(s, v.id, v.logprobs);
    if (first < 0) return null;
    if (!v.accepted) return [first];
    s.pos += 1;
    if (entry.firstLogits) return [first]; // the token after the draft: afterStood
    const second = this.accept(s, rows[1]);
    return second < 0 ? null : [first, second];
  }

  /** A scored prompt chunk: each row's logprob of the prompt token after it (the last row's, if any, is the output's). */
  private scorePrompt(
    s: Sequence,
    following: number[],
    rows: (Float32Array | Float64Array)[],
  ): void {
    following.forEach((id, j) => {
      this.f32Logits.set(rows[j]);
      s.promptScores.push(logprobsOf(this.f32Logits, id, s.req.scorePrompt!));
    });
  }

  /** Runs the drafter over the rows just confirmed; each running sequence takes its next draft. */
  private async draft(drafts: DraftSequence[], drafting: Sequence[]): Promise<void> {
    let out: Float32Array[];
    try {
      out = await this.backend.drafter!.draft(drafts);
    } catch (err) {
      console.error('origin: draft step failed:', err);
      for (const s of drafting) this.fail(s, serverError());
      return;
    }
    let next = 0;
    drafts.forEach((d, i) => {
      if (d.wantLogits) drafting[i].takeDraft(out[next++]);
    });
  }

  /** Puts the sequence's newly computed whole prompt blocks into the prefix cache. */
  private offerPromptBlocks(s: Sequence): void {
    const keys = s.req.blockKeys;
    while (s.savedBlocks < keys.length && (s.savedBlocks + 1) * BLOCK_TOKENS <= s.pos) {
      const key = keys[s.savedBlocks];
      if (!this.cache.has(key))
        this.cache.insert(
          key,
          this.backend.saveKv(s.slot, s.savedBlocks * BLOCK_TOKENS, BLOCK_TOKENS),
        );
      s.savedBlocks++;
    }
  }

  /** Samples the next token and emits it; returns it, or -1 when the sequence ended. */
  private accept(s: Sequence, logits: Float32Array | Float64Array): number {
    if (s.cancelled || s.state === 'done') return -1; // reap() frees it before the next step
    const { id, logprobs } = s.choose(logits, this.f32Logits);
    if (id < 0) {
      this.finish(s, 'length', s.text.flush()); // a constraint's dead end
      return -1;
    }
    return this.emitToken(s, id, logprobs);
  }

  /** Streams a chosen token and decides whether the sequence goes on; returns it, or -1 when it ended. */
  private emitToken(s: Sequence, token: number, logprobs: SampledLogprobs | undefined): number {
    if (s.cancelled || s.state === 'done') return -1;
    s.completionTokens++;
    this.latency.token(s);
    const stopToken = !s.req.ignoreEos && token === this.tokenizer.eosId;
    if (logprobs && !stopToken) {
      const entry = this.logprobEntry(token, logprobs); // a stop token is not content: no entry, as with OpenAI
      s.pendingLogprobs.push(entry);
      s.logprobs.push(entry);
    }
    if (stopToken) return this.finish(s, 'stop', s.text.flush());
    const delta = s.text.push(this.tokenizer.decode(token));
    if (s.text.stopped) return this.finish(s, 'stop', delta);
    // a finished constraint (the grammar allows nothing more) ends it as a stop token would
    if (s.constraint?.isFinished()) return this.finish(s, 'stop', delta + s.text.flush());
    if (s.completionTokens >= s.req.maxTokens || s.pos >= this.backend.maxSeqLen)
      return this.finish(s, 'length', delta + s.text.flush());
    s.emitText(delta);
    s.lastToken = token;
    s.state = 'decode';
    return token;
  }

  /** A token's logprobs on the wire: its text and bytes, and the alternatives'. */
  private logprobEntry(token: number, lp: SampledLogprobs): TokenLogprob {
    const entry = (id: number, logprob: number) => {
      const bytes = this.tokenizer.decode(id);
      return { token: this.decoder.decode(bytes), logprob, bytes: Array.from(bytes) };
    };
    return { ...entry(token, lp.logprob), top_logprobs: lp.top.map((t) => entry(t.id, t.logprob)) };
  }

  private finish(s: Sequence, reason: FinishReason, text: string): -1 {
    s.emitText(text);
    this.latency.finished(s);
    this.metrics.promptTokens.inc({}, s.promptTokens);
    this.metrics.completionTokens.inc({}, s.completionTokens);
    s.emit({ kind: 'end', finishReason: reason, usage: s.usage() });
    this.release(s);
    return -1;
  }

  private fail(s: Sequence, error: ApiError): void {
    // Tokens a cancelled or failed sequence produced were generated all the same.
    this.metrics.completionTokens.inc({}, s.completionTokens);
    s.emit({ kind: 'error', error, usage: s.usage() });
    this.release(s);
  }

  /** Frees the slot; the sequence leaves the batch. */
  private release(s: Sequence): void {
    const i = this.active.indexOf(s);
    if (i >= 0) this.active.splice(i, 1);
    if (s.slot >= 0) this.backend.free(s.slot);
    s.slot = -1;
    s.state = 'done';
  }
}
