// The DeepSeek-V3 path of `npm run -s generate` (tools/generate.ts): a model directory whose config.json
// says model_type deepseek_v3 runs on engine/deepseek/wasm-model.ts (the origin's CPU backend code),
// with the origin's tokenizer for that directory. With --mtp, self-speculative decoding with the
// checkpoint's MTP module, as the origin runs it: one draft per step, checked by the next step on
// [last token, draft]; greedy output is the same as without --mtp, sampled output follows the same
// distribution (the rejection rule of engine/sampling/spec-sampler.ts).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { argmax } from '../engine/deepseek/ops';
import { WasmDeepSeekModel } from '../engine/deepseek/wasm-model';
import { TokenSampler } from '../engine/sampling/token-sampler';
import { TextStream } from '../engine/text-stream';
import { loadKernelsModule } from '../kernels-wasm/node';
import { loadOriginModel } from '../origin/model/load';
import { SpecSampler } from '../engine/sampling/spec-sampler';

export interface DeepSeekRun {
  token_ids: number[];
  prompt_token_ids: number[];
  generated_token_ids: number[];
  text: string;
  stop_reason: 'stop' | 'steps';
  /** With --mtp: drafts checked, and accepted. */
  stats?: { drafted: number; accepted: number };
}

export interface DeepSeekGenerateOptions {
  prompt: string;
  /** Forward positions, prompt included (as for the other models); ≤ 0: the context. */
  steps: number;
  temperature: number;
  topP: number;
  seed?: number;
  mtp: boolean;
}

/** True when dir holds a DeepSeek-V3 checkpoint (config.json model_type deepseek_v3). */
export function isDeepSeekDir(dir: string): boolean {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) return false;
  try {
    return JSON.parse(readFileSync(path, 'utf8')).model_type === 'deepseek_v3';
  } catch {
    return false;
  }
}

/** Picks tokens: argmax at temperature 0; else TokenSampler, or SpecSampler's rejection rule with --mtp. */
function picker(vocab: number, o: DeepSeekGenerateOptions) {
  const sampling = { temperature: o.temperature, topP: o.topP, seed: o.seed };
  const plain = o.temperature > 0 ? new TokenSampler(vocab, sampling) : null;
  const spec = plain && o.mtp ? new SpecSampler(vocab, sampling, plain.seed) : null;
  return {
    pick: (l: Float32Array) => (spec ? spec.sample(l) : plain ? plain.sample(l) : argmax(l)),
    draft: (l: Float32Array) => (spec ? spec.draft(l) : argmax(l)),
    verify: (l: Float32Array, d: number) => {
      if (spec) return spec.verify(l, d);
      const id = argmax(l);
      return { id, accepted: id === d };
    },
  };
}

export async function generateDeepSeek(
  dir: string,
  o: DeepSeekGenerateOptions,
): Promise<DeepSeekRun> {
  const { files, tokenizer, config } = loadOriginModel(dir);
  const context = Math.min(config.maxPositionEmbeddings, 4096);
  const steps = o.steps <= 0 || o.steps > context ? context : o.steps;
  const model = await WasmDeepSeekModel.load(await loadKernelsModule(), files, {
    maxSeqLen: steps + 1,
    maxBatch: 64,
    mtp: o.mtp,
  });
  if (o.mtp && !model.hasMtp) throw new Error(`--mtp: ${dir} has no MTP weights`);
  const prompt = tokenizer.encode(o.prompt).slice(0, steps);
  if (!prompt.length) throw new Error('the prompt encodes to no tokens');
  const p = picker(config.vocabSize, o);
  const want = steps - prompt.length + 1; // tokens to generate
  const out: number[] = [];
  let draft = -1,
    drafted = 0,
    accepted = 0,
    stopped = false;
  const stop = (id: number) => (stopped ||= id === tokenizer.eosId);
  /** MTP over the positions just confirmed (their hidden states are the last step's rows 0..). */
  const redraft = (startPos: number, nextTokens: number[], wantLogits: boolean) => {
    const [d] = model.draft([{ slot: 0, startPos, hiddenRow: 0, nextTokens, wantLogits }]);
    if (wantLogits) draft = p.draft(d);
  };
  for (let at = 0; at < prompt.length && want > 0; at += model.maxBatch) {
    const chunk = prompt.slice(at, at + model.maxBatch),
      last = at + chunk.length === prompt.length;
    const [logits] = model.step([{ slot: 0, tokens: chunk, startPos: at, wantLogits: true }]);
    if (last) out.push(p.pick(logits));
    if (o.mtp)
      redraft(at, [...prompt.slice(at + 1, at + chunk.length + 1), ...(last ? out : [])], last);
  }
  let pos = prompt.length;
  while (out.length > 0 && out.length < want && !stop(out[out.length - 1])) {
    const tokens = draft >= 0 ? [out[out.length - 1], draft] : [out[out.length - 1]];
    // a draft's row gets its logits (the head) only once the draft stands
    const rows = model.step([
      { slot: 0, tokens, startPos: pos, wantLogits: true, firstLogits: true },
    ]);
    const confirmed: number[] = [];
    if (draft >= 0) {
      const v = p.verify(rows[0], draft);
      drafted++;
      confirmed.push(v.id);
      if (v.accepted) accepted++;
      if (v.accepted && !stop(v.id) && out.length + 1 < want)
        confirmed.push(p.pick(model.rowLogits([1])[0]));
    } else confirmed.push(p.pick(rows[0]));
    out.push(...confirmed);
    if (o.mtp) redraft(pos, confirmed, true);
    pos += confirmed.length;
  }
  const text = new TextStream();
  return {
    token_ids: [...prompt, ...out],
    prompt_token_ids: prompt,
    generated_token_ids: out,
    text: out.map((id) => text.push(tokenizer.decode(id))).join('') + text.flush(),
    stop_reason: stopped ? 'stop' : 'steps',
    ...(o.mtp ? { stats: { drafted, accepted } } : {}),
  };
}
