// A loaded Llama model: weights in backend memory, a tokenizer, a pool of sessions, and
// generate(): prompt ids in, a stream of decoded tokens out. Concurrent generations decode together:
// each token is one step of the model's decode batcher (engine/decode-batcher.ts), which runs every
// decoding sequence's next token in one forward pass (engine/llama/decode-step.ts).
import type { KernelBackend } from '../../kernels-wasm/types';
import { allocSession, uploadWeights, type DeviceWeights, type SessionBuffers } from './forward';
import { allocStep, decodeStep, type StepBuffers, type StepSeq } from './decode-step';
import { DecodeBatcher, type Driver } from '../decode-batcher';
import { Admission, type Refusal } from '../admission';
import { allocBatch, prefill, PREFILL_CHUNK } from './prefill';
import { defaultKvFormat, type KvFormat } from './kv-cache';
import type { LlamaConfig } from './config';
import { parseLlama2cCheckpoint } from './llama2c-checkpoint';
import {
  kvShapeOf,
  readKvRows,
  sameShape,
  writeKvRows,
  type GqaKvRows,
} from '../prompt-cache/kv-rows';
import { Llama2cTokenizer } from '../tokenizers/llama2c-tokenizer';
import type { TextTokenizer } from '../tokenizers/types';
import type { LatentRows } from '../prompt-cache/latent-rows';
import { logprobsOf } from '../sampling/logprobs';
import { TokenSampler } from '../sampling/token-sampler';
import type { SampledLogprobs, SamplingOptions } from '../sampling/options';
import { SessionPool } from '../session-pool';
import { TextStream } from '../text-stream';
import { useWasmSoftmax } from '../sampling/sampler';

/** Sampling: temperature, top_p, seed, top_k, min_p, penalties, logit_bias, logprobs (engine/sampling/options.ts). */
export interface GenerateOptions extends SamplingOptions {
  /** Most tokens to sample (the stop token counts). */
  maxTokens: number;
  /** Generation ends before any of these strings; they are never emitted. */
  stop?: string[];
  signal?: AbortSignal;
  /** Stop on the tokenizer's stop ids (llama2.c: BOS and EOS). Default true; llama2.c's run.c stops on BOS only. */
  stopAtEos?: boolean;
  /**
   * Prompt-cache restore: KV rows of positions 0..k-1 of this very prompt, in order, k <= prompt
   * length. They are written into the session's cache and prefill starts at position k, or at the
   * last prompt token when all were restored (its logits are needed).
   */
  restore?: GqaKvRows[];
  /**
   * The same for an MLA model (the edge DeepSeek engine): latent rows (c_kv, k_pe) of positions
   * 0..k-1, in order. An engine with GQA rows is never given them.
   */
  restoreLatent?: LatentRows[];
  /** Prompt-cache capture: gets the prompt's KV rows [from, to) once, when prefill completed. */
  capture?: KvCapture;
}

export interface KvCapture {
  from: number;
  to: number;
  /**
   * Also capture the completion: rows run on past `to` over every position whose KV was computed
   * (the prompt, then each sampled token fed back; the last sampled token never is), so a later
   * prompt that repeats this conversation (a chat's next turn) can restore it too.
   */
  completion?: boolean;
  /**
   * Called before the session goes back to the pool; must be quick (copy, not encode) and not throw.
   * `tokens` are the ids of positions 0 .. rows.start + rows.count - 1 (prompt, then completion).
   */
  rows(rows: GqaKvRows, tokens: readonly number[]): void;
}

export interface GeneratedToken {
  id: number;
  /** The text this token completes: whole UTF-8 characters, minus any held-back stop-string prefix. */
  text: string;
  /** With options.logprobs: the token's log-probability and the top alternatives. */
  logprobs?: SampledLogprobs;
}

export interface GenerationResult {
  finishReason: 'stop' | 'length' | 'abort';
  promptTokens: number;
  /** Sampled tokens, including a final stop token. */
  completionTokens: number;
  /** Prompt tokens restored from the prompt cache instead of computed (present only when some were). */
  cachedTokens?: number;
}

export interface LlamaModelOptions {
  id?: string;
  /** Most concurrent sessions (each holds a full KV cache), decoded together; more requests wait. Default 4. */
  maxSessions?: number;
  /**
   * Most requests waiting for a session; beyond it refuse() says so, and the routes answer 503 with
   * `retry-after` (docs/api.md). Default 4 × maxSessions.
   */
  maxQueue?: number;
  /** Longest a decode step waits for a slow sequence to join (engine/decode-batcher.ts), ms. Default 5. */
  gatherMs?: number;
  /** Most sequences per decode step; default maxSessions. 1: one sequence per step, as before batching. */
  decodeBatch?: number;
  /**
   * The KV cache's format (engine/llama/kv-cache.ts): 'int8' (a quarter of the bytes; the default for
   * contexts over 1024 where the backend has the kv8 kernels) or 'f32' (bit-exact; the default otherwise).
   */
  kvCache?: KvFormat;
}

export class LlamaModel {
  private readonly sessions: SessionPool<SessionBuffers>;
  /** Steps the decoding sequences together; its step buffers are allocated on the first step of two. */
  readonly batcher: DecodeBatcher<StepSeq>;
  private stepBuffers: StepBuffers | null = null;
  private readonly admission: Admission;

  private constructor(
    readonly id: string,
    readonly config: LlamaConfig,
    readonly tokenizer: TextTokenizer,
    private readonly backend: KernelBackend,
    private readonly weights: DeviceWeights,
    opts: LlamaModelOptions,
  ) {
    this.kvFormat = opts.kvCache ?? defaultKvFormat(backend, config);
    useWasmSoftmax(backend, config.vocabSize);
    this.sessions = new SessionPool(
      () => allocSession(backend, config, this.kvFormat),
      opts.maxSessions ?? 4,
    );
    const maxBatch = Math.min(opts.decodeBatch ?? Infinity, this.sessions.capacity);
    this.admission = new Admission(
      this.id,
      this.sessions,
      opts.maxQueue ?? 4 * this.sessions.capacity,
    );
    this.batcher = new DecodeBatcher(
      (seqs) => {
        if (seqs.length > 1) this.stepBuffers ??= allocStep(backend, config, maxBatch);
        decodeStep(backend, config, weights, this.stepBuffers!, seqs);
      },
      { maxBatch, gatherMs: opts.gatherMs },
    );
  }

  /** Admits a request that will call generate() right away (null), or refuses it (engine/admission.ts). */
  admit(): Refusal | null {
    return this.admission.admit();
  }

  /** An admitted request that will not call generate() gives its place back. */
  withdraw(): void {
    this.admission.withdrawn();
  }

  /** The sessions' KV cache format. */
  readonly kvFormat: KvFormat;

  /** The weights as they lie in backend memory (engine/llama/native-weights.ts writes them out). */
  memoryImage(): { backend: KernelBackend; weights: DeviceWeights } {
    return { backend: this.backend, weights: this.weights };
  }

  /** Loads a llama2.c v0 checkpoint and tokenizer.bin; the weights are copied into backend memory. */
  static fromLlama2c(
    backend: KernelBackend,
    checkpoint: Uint8Array,
    tokenizer: Uint8Array,
    opts: LlamaModelOptions = {},
  ): LlamaModel {
    const { config, weights } = parseLlama2cCheckpoint(checkpoint);
    const tok = Llama2cTokenizer.fromBytes(tokenizer, config.vocabSize);
    const device = uploadWeights(backend, weights, config);
    return new LlamaModel(opts.id ?? 'llama2c', config, tok, backend, device, opts);
  }

  /** A model whose weights are already in backend memory (engine/llama/hf-weights.ts streams a model directory there). */
  static fromWeights(
    backend: KernelBackend,
    config: LlamaConfig,
    tokenizer: TextTokenizer,
    weights: DeviceWeights,
    opts: LlamaModelOptions = {},
  ): LlamaModel {
    return new LlamaModel(opts.id ?? 'model', config, tokenizer, backend, weights, opts);
  }

  /** Sessions allocated so far. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /**
   * Feeds the prompt (BOS included) in chunks, one per batcher turn, then samples up to maxTokens,
   * each token one decode step shared with the other decoding sequences.
   * A stop token (BOS/EOS under stopAtEos) is yielded last with text '' (plus any held-back
   * text) and counted; a stop string ends generation without being emitted. The session is
   * taken on the first next() and given back in `finally`, also when the consumer returns early.
   */
  async *generate(
    promptIds: number[],
    opts: GenerateOptions,
  ): AsyncGenerator<GeneratedToken, GenerationResult> {
    this.checkPrompt(promptIds);
    const restoreTo = this.checkPromptCache(opts, promptIds.length);
    const promptTokens = promptIds.length;
    let completionTokens = 0;
    let cachedTokens = 0;
    let prefilled = false;
    let decoding: Driver<StepSeq> | null = null;
    // positions whose KV the session holds: the prompt, then the sampled tokens fed back (fed)
    let computed = 0;
    const fed: number[] = [];
    const end = (finishReason: GenerationResult['finishReason']): GenerationResult => ({
      finishReason,
      promptTokens,
      completionTokens,
      ...(cachedTokens ? { cachedTokens } : {}),
    });
    this.admission.started();
    if (opts.maxTokens < 1) return end('length');
    const session = await this.sessions.acquire(opts.signal);
    if (session === null) return end('abort');
    try {
      const { backend: k, config: c, weights: w } = this;
      for (const rows of opts.restore ?? []) writeKvRows(k, c, session, rows);
      const prefillFrom = Math.min(restoreTo, promptIds.length - 1);
      cachedTokens = prefillFrom;
      const sampler = new TokenSampler(c.vocabSize, opts);
      const text = new TextStream(opts.stop);
      const stopIds = (opts.stopAtEos ?? true) ? this.tokenizer.stopIds : [];

      // prefill in chunks of tokens (engine/llama/prefill.ts), then the last prompt token alone for its logits
      const last = promptIds.length - 1;
      // one chunk per turn: the batcher alternates them with the decode steps of other sequences
      for (let pos = prefillFrom; pos < last;) {
        if (!(await this.batcher.prefillTurn(opts.signal))) return end('abort');
        const n = Math.min(PREFILL_CHUNK, last - pos);
        session.batch ??= allocBatch(k, c, PREFILL_CHUNK, this.kvFormat === 'int8');
        prefill(k, c, w, session, session.batch, promptIds.slice(pos, pos + n), pos);
        pos += n;
      }
      // Each step samples this sequence's next token as soon as it is computed, in whichever request ran
      // it (engine/decode-batcher.ts Driver); this request takes the tokens from `made` on its own turns.
      const made: GeneratedToken[] = [];
      let finish: GenerationResult['finishReason'] | null = null;
      // sampled ahead; completionTokens counts those this request took (a client that left pays for those)
      let sampled = 0;
      let token = promptIds[last],
        pos = last;
      const driver: Driver<StepSeq> = {
        seq: { session, token, pos },
        backlog: () => made.length,
        advance: () => {
          computed = pos + 1;
          prefilled = true;
          const next = sampler.sample(k.f32(session.logits, c.vocabSize));
          if (next < 0) {
            finish = 'length'; // a constraint's dead end: cut like max_tokens
            return false;
          }
          sampled++;
          const take = (text: string) =>
            made.push({ id: next, text, logprobs: sampler.lastLogprobs });
          if (stopIds.includes(next)) {
            take(text.flush());
            finish = 'stop';
            return false;
          }
          const delta = text.push(this.tokenizer.decodePiece(token, next));
          // a stop string, or a constraint that is finished (nothing more may follow), ends the text
          const finished = text.stopped || opts.constraint?.isFinished() === true;
          const ends = finished || sampled >= opts.maxTokens || pos + 1 >= c.seqLen;
          take(ends && !text.stopped ? delta + text.flush() : delta);
          if (ends) {
            finish = finished ? 'stop' : 'length';
            return false;
          }
          token = next;
          fed.push(next);
          pos++;
          driver.seq = { session, token, pos };
          return true;
        },
      };
      decoding = driver;
      for (;;) {
        if (opts.signal?.aborted) return end('abort');
        if (!(await this.batcher.drive(driver, opts.signal))) return end('abort');
        while (made.length) {
          completionTokens++;
          yield made.shift()!;
          if (opts.signal?.aborted) return end('abort');
        }
        if (finish) return end(finish);
      }
    } finally {
      if (decoding) this.batcher.stop(decoding);
      try {
        // Decoding wrote only positions past the prompt, so the prompt's rows are still intact.
        const cap = opts.capture;
        const to = cap?.completion ? Math.max(cap.to, computed) : (cap?.to ?? 0);
        if (prefilled && cap && to > cap.from) {
          const tokens =
            fed.length && to > promptIds.length
              ? [...promptIds, ...fed.slice(0, to - promptIds.length)]
              : promptIds.slice(0, to);
          cap.rows(readKvRows(this.backend, this.config, session, cap.from, to - cap.from), tokens);
        }
      } finally {
        this.sessions.release(session);
      }
    }
  }

  /**
   * Each prompt token's log-probability after the tokens before it, with the `top` most likely
   * alternatives; the first token, after nothing, has none (null). For a completion's echo with
   * logprobs: one decode step per position (each gives a position's logits, which the chunked
   * prefill never computes), in a session of its own, so the generation after it is unchanged.
   * Aborted, it returns what it has.
   */
  async scorePrompt(
    promptIds: number[],
    top: number,
    signal?: AbortSignal,
  ): Promise<(SampledLogprobs | null)[]> {
    this.checkPrompt(promptIds);
    const scores: (SampledLogprobs | null)[] = [null];
    const session = await this.sessions.acquire(signal);
    if (session === null) return scores;
    this.batcher.enter();
    try {
      for (let pos = 0; pos + 1 < promptIds.length; pos++) {
        if (!(await this.batcher.step({ session, token: promptIds[pos], pos }, signal))) break;
        const logits = this.backend.f32(session.logits, this.config.vocabSize);
        scores.push(logprobsOf(logits, promptIds[pos + 1], top));
      }
      return scores;
    } finally {
      this.batcher.leave();
      this.sessions.release(session);
    }
  }

  /** Restored rows must be this model's shape, contiguous from 0, within the prompt; returns how many. */
  private checkPromptCache(
    { restore = [], capture }: GenerateOptions,
    promptTokens: number,
  ): number {
    if (capture && (capture.from < 0 || capture.to > promptTokens))
      throw new RangeError(
        `cannot capture [${capture.from}, ${capture.to}) of a ${promptTokens}-token prompt`,
      );
    let next = 0;
    for (const rows of restore) {
      if (!sameShape(rows, kvShapeOf(this.config)))
        throw new RangeError(`restored KV rows do not have model ${this.id}'s shape`);
      if (rows.start !== next)
        throw new RangeError(`restored KV rows start at ${rows.start}, expected ${next}`);
      next += rows.count;
    }
    if (next > promptTokens)
      throw new RangeError(`restored ${next} positions of a ${promptTokens}-token prompt`);
    return next;
  }

  private checkPrompt(promptIds: number[]): void {
    const { vocabSize, seqLen } = this.config;
    if (promptIds.length === 0) throw new RangeError('prompt must hold at least one token (BOS)');
    if (promptIds.length > seqLen) {
      throw new RangeError(
        `prompt has ${promptIds.length} tokens; model ${this.id} has a context of ${seqLen}`,
      );
    }
    const bad = promptIds.find((id) => !Number.isInteger(id) || id < 0 || id >= vocabSize);
    if (bad !== undefined)
      throw new RangeError(`prompt token ${bad} is outside the vocabulary (${vocabSize})`);
  }
}
