// Room: engine/deepseek (edge). A DeepSeek-V3-architecture model served by the Worker: the WASM model
// (wasm-model.ts: MLA + MoE on kernels-wasm, FP8 weights) behind the engine interface the routes use
// (engine/text-engine.ts), one sequence at a time (one latent cache: an isolate holds one). With the
// checkpoint's MTP module placed and `speculative` on, each decode step feeds [last token, draft] and
// the MTP module drafts the next token from the rows the step confirmed (edge-spec.ts). The prompt
// cache restores MLA latent rows (opts.restoreLatent, edge-cache.ts: entries the Worker read from KV,
// or an origin's prefill handed over through it); GQA rows (opts.restore) and capture are not taken.
import type { GenerateOptions, GeneratedToken, GenerationResult } from '../llama/model';
import { SessionPool } from '../session-pool';
import { TextStream } from '../text-stream';
import type { TextTokenizer } from '../tokenizers/types';
import type { TextEngine } from '../text-engine';
import { yieldToEventLoop } from '../pacer';
import { logprobsOf } from '../sampling/logprobs';
import type { SampledLogprobs } from '../sampling/options';
import { restoreLatentRows } from './edge-cache';
import { EdgeChooser, type Chosen } from './edge-chooser';
import { decodeSteps, prefillSteps, type SpecCounters } from './edge-spec';
import type { WasmDeepSeekModel } from './wasm-model';

type Finish = GenerationResult['finishReason'];

export interface DeepSeekEdgeOptions {
  id?: string;
  /** MTP speculative decoding when the model has its MTP module placed (default true). */
  speculative?: boolean;
}

export class DeepSeekEdgeModel implements TextEngine {
  readonly id: string;
  readonly config: { readonly seqLen: number; readonly vocabSize: number };
  /** Speculative decoding with the MTP module; settable (benches compare both on one model). */
  speculative: boolean;
  /** Drafts verified and accepted since load (the acceptance rate of this model's MTP). */
  readonly spec: SpecCounters = { drafted: 0, accepted: 0 };
  /** One slot: generations take turns. */
  private readonly slots = new SessionPool(() => 0, 1);

  constructor(
    readonly model: WasmDeepSeekModel,
    readonly tokenizer: TextTokenizer,
    opts: DeepSeekEdgeOptions = {},
  ) {
    this.id = opts.id ?? 'deepseek';
    this.config = { seqLen: model.maxSeqLen, vocabSize: model.config.vocabSize };
    this.speculative = (opts.speculative ?? true) && model.hasMtp;
  }

  async *generate(
    promptIds: number[],
    opts: GenerateOptions,
  ): AsyncGenerator<GeneratedToken, GenerationResult> {
    this.checkPrompt(promptIds);
    if (opts.restore?.length || opts.capture)
      throw new RangeError(
        `model ${this.id}'s prompt cache takes latent rows only (DeepSeek edge engine)`,
      );
    const promptTokens = promptIds.length;
    let completionTokens = 0;
    let restored = 0;
    const end = (finishReason: GenerationResult['finishReason']): GenerationResult => ({
      finishReason,
      promptTokens,
      completionTokens,
      ...(restored > 0 ? { cachedTokens: restored } : {}),
    });
    if (opts.maxTokens < 1) return end('length');
    const slot = await this.slots.acquire(opts.signal);
    if (slot === null) return end('abort');
    try {
      // a constraint masks each token as it is chosen: drafts are not verified against it (as on the
      // origin, origin/scheduler/scheduler.ts), so constrained decoding runs without speculation
      const speculative = this.speculative && this.model.hasMtp && !opts.constraint;
      const chooser = new EdgeChooser(this.config.vocabSize, opts, speculative);
      const text = new TextStream(opts.stop);
      const stopIds = (opts.stopAtEos ?? true) ? this.tokenizer.stopIds : [];
      let prev = promptIds[promptTokens - 1];
      // A chosen token at position `at`: its text, and why generation ends with it (null: it goes on).
      const emit = (c: Chosen, at: number): { out: GeneratedToken; finish: Finish | null } => {
        completionTokens++;
        if (stopIds.includes(c.id))
          return { out: { id: c.id, text: text.flush(), logprobs: c.logprobs }, finish: 'stop' };
        const delta = text.push(this.tokenizer.decodePiece(prev, c.id));
        prev = c.id;
        // a constraint that is finished (nothing more may follow) ends the text as a stop would
        const stopped = text.stopped || opts.constraint?.isFinished() === true;
        const last = stopped || completionTokens >= opts.maxTokens || at >= this.config.seqLen;
        const tail = last && !text.stopped ? text.flush() : '';
        const out = { id: c.id, text: delta + tail, logprobs: c.logprobs };
        return { out, finish: stopped ? 'stop' : last ? 'length' : null };
      };
      const ctx = {
        model: this.model,
        slot,
        chooser,
        speculative,
        signal: opts.signal,
        left: () => opts.maxTokens - completionTokens,
        counters: this.spec,
      };
      const from = restoreLatentRows(this.model, slot, opts.restoreLatent ?? [], promptTokens);
      restored = from;
      const first = await prefillSteps(ctx, promptIds, from);
      if (!first) return end('abort');
      if (first.chosen.id < 0) return end('length'); // a constraint's dead end: cut like max_tokens
      const r = emit(first.chosen, promptTokens);
      yield r.out;
      if (r.finish) return end(r.finish);
      for await (const step of decodeSteps(ctx, first.chosen.id, promptTokens, first.draft)) {
        if (step === null) return end('abort');
        if (step.chosen.id < 0) return end('length');
        const e = emit(step.chosen, step.at);
        yield e.out;
        if (e.finish) return end(e.finish);
      }
      return end('abort');
    } finally {
      this.slots.release(slot);
    }
  }

  /**
   * Each prompt token's log-probability after the tokens before it, with the `top` most likely
   * alternatives; the first token, after nothing, has none (null). For a completion's echo with
   * logprobs: the prompt runs in steps whose every row returns its logits (at most maxLogitRows rows
   * a step), in the one slot, so the generation after it prefills anew. Aborted, it returns what it
   * has.
   */
  async scorePrompt(
    promptIds: number[],
    top: number,
    signal?: AbortSignal,
  ): Promise<(SampledLogprobs | null)[]> {
    this.checkPrompt(promptIds);
    const scores: (SampledLogprobs | null)[] = [null];
    const slot = await this.slots.acquire(signal);
    if (slot === null) return scores;
    try {
      // the last token's logits would score what follows the prompt: it is not fed
      const fed = promptIds.length - 1,
        chunk = Math.min(this.model.maxBatch, this.model.maxLogitRows);
      for (let a = 0; a < fed; a += chunk) {
        if (signal?.aborted) break;
        const b = Math.min(fed, a + chunk);
        const rows = this.model.step([
          { slot, tokens: promptIds.slice(a, b), startPos: a, wantLogits: true, allLogits: true },
        ]);
        rows.forEach((logits, i) => scores.push(logprobsOf(logits, promptIds[a + i + 1], top)));
        await yieldToEventLoop();
      }
      return scores;
    } finally {
      this.slots.release(slot);
    }
  }

  private checkPrompt(promptIds: number[]): void {
    const { vocabSize, seqLen } = this.config;
    if (promptIds.length === 0) throw new RangeError('prompt must hold at least one token');
    if (promptIds.length > seqLen)
      throw new RangeError(
        `prompt has ${promptIds.length} tokens; model ${this.id} has a context of ${seqLen}`,
      );
    const bad = promptIds.find((id) => !Number.isInteger(id) || id < 0 || id >= vocabSize);
    if (bad !== undefined)
      throw new RangeError(`prompt token ${bad} is outside the vocabulary (${vocabSize})`);
  }
}
