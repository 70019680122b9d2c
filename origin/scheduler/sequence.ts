// One request inside the scheduler: its prompt, sampling state, progress through its slot's KV cache,
// and the queue of events (text deltas, then an end or an error) its HTTP response reads.
import { argmax } from '../../engine/deepseek/ops';
import { logprobsOf } from '../../engine/sampling/logprobs';
import {
  hasExtras,
  type SampledLogprobs,
  type SamplingOptions,
} from '../../engine/sampling/options';
import type { Constraint } from '../../engine/sampling/constraint';
import { TokenSampler } from '../../engine/sampling/token-sampler';
import { TextStream } from '../../engine/text-stream';
import type { ApiError } from '../../protocol/errors';
import type { TokenLogprob } from '../../protocol/responses';
import { makeUsage, type Usage } from '../../protocol/usage';
import { EventQueue } from './event-queue';
import type { PrefilledPrompt } from './handoff';
import { SpecSampler } from './spec-sampler';

export interface GenerationRequest {
  /** Prompt token ids, BOS included. */
  promptIds: number[];
  /** Most tokens to sample (a stop token counts). */
  maxTokens: number;
  /** The API's sampling controls (temperature 0 = greedy), as the edge engine takes them. */
  sampling: SamplingOptions;
  /** Generation ends before any of these strings; they are never emitted. */
  stop: string[];
  /** Keep sampling past EOS (benchmarks want a fixed length; vLLM's `ignore_eos`). */
  ignoreEos: boolean;
  /** Prefix-cache keys of the prompt's whole blocks (promptBlockKeys: per tenant, model and weights). */
  blockKeys: string[];
  /** Prefill only (a prefill origin's hand-off): the computed prompt goes here instead of sampling. */
  onPrefilled?: (prompt: PrefilledPrompt) => void;
  /** A decode origin's request: the prompt as a prefill origin computed it (handoff.ts). */
  prefilled?: PrefilledPrompt;
  /** Constrained decoding (response_format, tools): each sequence makes its own constraint. */
  constraint?: () => Constraint;
  /**
   * Score the prompt (completions' echo with logprobs): each prompt token's logprob after those
   * before it, with this many alternatives, into Sequence.promptScores. The prompt is computed
   * whole (no prefix-cache hits, no hand-off), in chunks of the rows of logits a step returns.
   */
  scorePrompt?: number;
}

export type FinishReason = 'stop' | 'length';

export type SequenceEvent =
  /** Text now safe to show, and the logprob entries of the tokens since the last event (when asked for). */
  | { kind: 'text'; text: string; logprobs?: TokenLogprob[] }
  | { kind: 'end'; finishReason: FinishReason; usage: Usage }
  | { kind: 'error'; error: ApiError; usage: Usage };

export class Sequence {
  readonly events = new EventQueue<SequenceEvent>();
  state: 'waiting' | 'prefill' | 'decode' | 'done' = 'waiting';
  /** The backend slot holding its KV cache while active. */
  slot = -1;
  /** Positions whose KV rows are in the slot (restored or computed). */
  pos = 0;
  /** Prompt tokens restored from the prefix cache. */
  cachedTokens = 0;
  completionTokens = 0;
  /** The latest sampled token: the next decode step's input. */
  lastToken = -1;
  /** Whole prompt blocks already offered to the prefix cache. */
  savedBlocks = 0;
  /** Set when the client went away: the scheduler frees the slot before the next step. */
  cancelled = false;
  /** Speculative decoding: the drafted token after lastToken, checked by the next step (-1: none). */
  draft = -1;
  /** This sequence's drafts verified, and those that stood. */
  drafted = 0;
  accepted = 0;
  /** Sampling under speculation (the rejection rule); null when greedy or when speculation is off. */
  private spec: SpecSampler | null = null;
  /** Null for plain greedy: argmax over the backend's own logits, as the reference model decodes. */
  readonly sampler: TokenSampler | null;
  readonly text: TextStream;
  readonly submittedAt = Date.now();
  /** Logprob entries not sent yet, and all of them (for a JSON body). */
  pendingLogprobs: TokenLogprob[] = [];
  readonly logprobs: TokenLogprob[] = [];
  /** With scorePrompt: each prompt token's logprob after those before it (null for the first). */
  readonly promptScores: (SampledLogprobs | null)[] = [null];
  /** This sequence's grammar matcher: its mask applies to its own logits row. */
  readonly constraint: Constraint | undefined;
  /** Holds the handed-over prompt's memory (handoff.ts) until its slot has the rows or it ends. */
  private holdsPrompt: boolean;

  constructor(
    readonly id: string,
    readonly req: GenerationRequest,
    vocabSize: number,
  ) {
    this.constraint = req.constraint?.();
    const o = { ...req.sampling, constraint: this.constraint };
    // a constraint (response_format, tools) masks an f32 copy: the sampler path, greedy included
    this.sampler =
      o.temperature > 0 || hasExtras(o) || o.constraint ? new TokenSampler(vocabSize, o) : null;
    this.text = new TextStream(req.stop);
    this.holdsPrompt = !!req.prefilled?.lease;
    if (this.holdsPrompt) req.prefilled!.lease!.hold();
  }

  /** Lets go of the handed-over prompt: restored into the slot, or never to be. */
  releasePrompt(): void {
    if (!this.holdsPrompt) return;
    this.holdsPrompt = false;
    this.req.prefilled!.lease!.release();
  }

  /** Speculative decoding from now on: a sampling sequence draws its tokens by the rejection rule. */
  speculate(vocabSize: number): void {
    if (this.sampler) this.spec = new SpecSampler(vocabSize, this.req.sampling, this.sampler.seed);
  }

  /** Takes the drafter's logits for the token after lastToken: greedy drafts their argmax. */
  takeDraft(logits: Float32Array): void {
    this.draft = this.spec ? this.spec.draft(logits) : argmax(logits);
  }

  /**
   * The token at the draft's position from the main model's logits there: greedy keeps the draft iff it
   * is their argmax (the token is that argmax either way); sampling keeps it by the rejection rule.
   */
  verify(
    logits: Float32Array | Float64Array,
    f32: Float32Array,
  ): { id: number; accepted: boolean; logprobs?: SampledLogprobs } {
    const draft = this.draft;
    this.draft = -1;
    this.drafted++;
    if (!this.spec) {
      const chosen = this.choose(logits, f32);
      if (chosen.id === draft) this.accepted++;
      return { ...chosen, accepted: chosen.id === draft };
    }
    f32.set(logits);
    const { id, accepted } = this.spec.verify(f32, draft);
    if (accepted) this.accepted++;
    const n = this.req.sampling.logprobs;
    return { id, accepted, ...(n === undefined ? {} : { logprobs: logprobsOf(f32, id, n) }) };
  }

  /** The next token from this step's logits (f32 is a scratch copy for the samplers), and its logprobs when asked for. */
  choose(
    logits: Float32Array | Float64Array,
    f32: Float32Array,
  ): { id: number; logprobs?: SampledLogprobs } {
    const n = this.req.sampling.logprobs;
    if (this.sampler || n !== undefined) f32.set(logits);
    if (this.spec) {
      const id = this.spec.sample(f32);
      return { id, ...(n === undefined ? {} : { logprobs: logprobsOf(f32, id, n) }) };
    }
    if (!this.sampler)
      return {
        id: argmax(logits),
        ...(n === undefined ? {} : { logprobs: logprobsOf(f32, argmax(logits), n) }),
      };
    const id = this.sampler.sample(f32);
    return { id, logprobs: this.sampler.lastLogprobs };
  }

  /** Tokens it may still emit (max_tokens minus those emitted). */
  get tokensLeft(): number {
    return this.req.maxTokens - this.completionTokens;
  }

  get promptTokens(): number {
    return this.req.promptIds.length;
  }

  usage(): Usage {
    return makeUsage(this.promptTokens, this.completionTokens, this.cachedTokens);
  }

  /** Queues text with the logprob entries gathered since the last text; nothing when there is neither. */
  emitText(text: string): void {
    if (!text && this.pendingLogprobs.length === 0) return;
    const logprobs = this.pendingLogprobs;
    this.pendingLogprobs = [];
    this.emit({ kind: 'text', text, ...(logprobs.length ? { logprobs } : {}) });
  }

  /** Queues an event for the response, unless the sequence already ended. */
  emit(event: SequenceEvent): void {
    if (this.state === 'done') return;
    if (event.kind !== 'text') {
      this.state = 'done';
      this.releasePrompt();
    }
    this.events.push(event);
  }
}
