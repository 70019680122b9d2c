// What the origin must answer for a greedy request, computed without it: the DeepSeek reference model
// alone (one sequence, no batching, float64) on the same synthetic checkpoint, decoded as the origin
// decodes. The oracle runs the reference's 'dequantized' GEMM mode (FP8 weights dequantized once, float
// activations): the arithmetic both origin backends compute with f32 activations (the CPU backend under
// either --gemm, the WebGPU one under --gemm dequantized).
import { DeepSeekReferenceModel } from '../../engine/deepseek/reference';
import { generateSyntheticDeepSeek } from '../../engine/deepseek/synthetic';
import { loadDeepSeekModel, type DeepSeekWeights } from '../../engine/deepseek/weights';
import { TextStream } from '../../engine/text-stream';
import { ByteTokenizer } from '../../origin/model/byte-tokenizer';
import { SYNTHETIC_PRESETS } from '../../origin/model/presets';

/** The checkpoint files of `synthetic:<preset>` (what the origin and the CPU backend load). */
export function syntheticFiles(preset: string, seed = 1): Record<string, Uint8Array> {
  return generateSyntheticDeepSeek({ config: SYNTHETIC_PRESETS[preset].config, seed });
}

export function syntheticWeights(
  preset: string,
  gemm: 'fp8' | 'dequantized' = 'dequantized',
  seed = 1,
): DeepSeekWeights {
  return loadDeepSeekModel(syntheticFiles(preset, seed), { gemm });
}

export function tokenizerOf(w: DeepSeekWeights): ByteTokenizer {
  return new ByteTokenizer(w.config.vocabSize, w.config.bosTokenId, w.config.eosTokenId);
}

/** Greedy text of `maxTokens` tokens after `prompt` (EOS not stopping: the requests send ignore_eos). */
export function referenceGreedyText(w: DeepSeekWeights, prompt: string, maxTokens: number): string {
  const tok = tokenizerOf(w);
  const ids = new DeepSeekReferenceModel(w, { maxSeqLen: 1024 }).generateGreedy(
    tok.encode(prompt),
    maxTokens,
  );
  const text = new TextStream();
  return ids.map((id) => text.push(tok.decode(id))).join('') + text.flush();
}
