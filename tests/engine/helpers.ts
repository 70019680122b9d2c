// Shared test helpers: the stories260K goldens (skipped with a reason when absent, never under CI),
// the kernel backends every golden runs on, and "scripted" models whose greedy output we choose.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  LlamaModel,
  llama2cFloatCount,
  llamaConfig,
  encodeLlama2cTokenizer,
  type GeneratedToken,
  type GenerationResult,
} from '../../engine/index';
import { createTsKernels } from '../../kernels-wasm/index';
import { createNodeKernels } from '../../kernels-wasm/node';
import type { KernelBackend } from '../../kernels-wasm/types';

export const repoRoot = resolve(import.meta.dirname, '../..');
export const modelsDir = resolve(repoRoot, '../shared/models');

export interface GoldenCase {
  prompt: string;
  steps: number;
  temperature: number;
  topp: number;
  seed?: number;
  output_text: string;
  prompt_token_ids: number[];
  token_ids: number[];
  generated_token_ids: number[];
  stop_reason: 'bos' | 'steps';
}

export interface Stories {
  checkpoint: Uint8Array;
  tokenizer: Uint8Array;
  checkpointPath: string;
  tokenizerPath: string;
  cases: GoldenCase[];
}

/** The real tiny model and its goldens, or null (with the reason printed) when the folder is absent. */
export function loadStories(): Stories | null {
  const checkpointPath = resolve(modelsDir, 'stories260K.bin');
  const tokenizerPath = resolve(modelsDir, 'tok512.bin');
  const goldenPath = resolve(modelsDir, 'stories260K.golden.json');
  const missing = [checkpointPath, tokenizerPath, goldenPath].filter((p) => !existsSync(p));
  if (missing.length > 0) {
    const reason = `stories260K goldens skipped: missing ${missing.join(', ')}`;
    if (process.env.CI) throw new Error(`${reason} (CI is set: the shared models must be present)`);
    console.warn(reason);
    return null;
  }
  return {
    checkpoint: readFileSync(checkpointPath),
    tokenizer: readFileSync(tokenizerPath),
    checkpointPath,
    tokenizerPath,
    cases: JSON.parse(readFileSync(goldenPath, 'utf8')).cases,
  };
}

export const backends: [string, () => Promise<KernelBackend>][] = [
  ['wasm', createNodeKernels],
  ['ts', async () => createTsKernels()],
];

/** Drains a generation: every yielded token and the final result. */
export async function collect(gen: AsyncGenerator<GeneratedToken, GenerationResult>) {
  const tokens: GeneratedToken[] = [];
  for (;;) {
    const step = await gen.next();
    if (step.done) return { tokens, result: step.value, text: tokens.map((t) => t.text).join('') };
    tokens.push(step.value);
  }
}

/** Specials, the 256 byte pieces, " ", then `extra` pieces; padded to `vocabSize` with unused pieces. */
export function scriptedPieces(extra: string[], vocabSize = 272): string[] {
  const pieces = ['<unk>', '\n<s>\n', '\n</s>\n'];
  for (let b = 0; b < 256; b++) pieces.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
  pieces.push(' ', ...extra);
  while (pieces.length < vocabSize) pieces.push(`<pad_${pieces.length}>`);
  return pieces;
}

/**
 * A model whose greedy next token depends only on the current one: script[i] → script[i+1], the last
 * → `end`, anything else → `end`. All layers are zero, so the residual is the one-hot embedding
 * and the (unshared) classifier row of the successor scores it.
 */
export function scriptedModel(
  backend: KernelBackend,
  pieces: string[],
  script: number[],
  opts: { end?: number; seqLen?: number } = {},
) {
  const vocabSize = pieces.length;
  const c = llamaConfig({
    dim: vocabSize,
    hiddenDim: 16,
    nLayers: 1,
    nHeads: 8,
    nKvHeads: 8,
    vocabSize,
    seqLen: opts.seqLen ?? 64,
    sharedClassifier: false,
  });
  const bytes = new Uint8Array(28 + llama2cFloatCount(c) * 4);
  new Int32Array(bytes.buffer, 0, 7).set([
    c.dim,
    c.hiddenDim,
    c.nLayers,
    c.nHeads,
    c.nKvHeads,
    -vocabSize,
    c.seqLen,
  ]);
  const body = new Float32Array(bytes.buffer, 28);
  const d = c.dim;
  for (let t = 0; t < vocabSize; t++) body[t * d + t] = 1; // token embedding: one-hot
  const rmsAtt = vocabSize * d;
  body.fill(1, rmsAtt, rmsAtt + d);
  const rmsFfn = rmsAtt + d + 4 * d * d;
  body.fill(1, rmsFfn, rmsFfn + d);
  const rmsFinal = rmsFfn + d + 3 * d * c.hiddenDim;
  body.fill(1, rmsFinal, rmsFinal + d);
  const wcls = rmsFinal + d + c.seqLen * c.headDim;
  const next = new Map<number, number>();
  script.forEach((t, i) => next.set(t, script[i + 1] ?? opts.end ?? 2));
  for (let t = 0; t < vocabSize; t++) body[wcls + (next.get(t) ?? opts.end ?? 2) * d + t] = 1;
  const tokenizer = encodeLlama2cTokenizer(pieces.map((p, i) => [p, -i]));
  return LlamaModel.fromLlama2c(backend, bytes, tokenizer, { id: 'scripted' });
}

/** The event-loop turns (setImmediate callbacks, as Node runs I/O ones) that ran while `work` did. */
export async function turnsDuring<T>(
  work: () => Promise<T>,
): Promise<{ result: T; turns: number }> {
  let turns = 0,
    running = true;
  const tick = () => {
    if (!running) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  try {
    const result = await work();
    return { result, turns };
  } finally {
    running = false;
  }
}
