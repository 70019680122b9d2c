// What the origin must answer for a greedy request, computed without it: the DeepSeek reference model
// alone (one sequence, no batching, float64) on the same synthetic checkpoint, decoded as the origin
// decodes. The oracle runs the reference's 'dequantized' GEMM mode (FP8 weights dequantized once, float
// activations): the arithmetic both origin backends compute with f32 activations (the CPU backend under
// either --gemm, the WebGPU one under --gemm dequantized), with the presets'
// tokenizer (DeepSeek-V3's).
import { DeepSeekReferenceModel } from '../../engine/deepseek/reference';
import { loadDeepSeekModel, type DeepSeekWeights } from '../../engine/deepseek/weights';
import { TextStream } from '../../engine/text-stream';
import type { TemplateMessage } from '../../engine/chat-template';
import type { OriginTokenizer } from '../../origin/model/byte-tokenizer';
import { readModelFiles } from '../../origin/model/load';
import { deepSeekV3TokenizerDir, loadOriginTokenizer } from '../../origin/model/tokenizer';

/** The checkpoint files of `synthetic:<preset>` (what the origin and the CPU backend load). */
export function syntheticFiles(preset: string, seed = 1): Record<string, Uint8Array> {
  return readModelFiles(`synthetic:${preset}`, seed).files;
}

export function syntheticWeights(
  preset: string,
  gemm: 'fp8' | 'dequantized' = 'dequantized',
  seed = 1,
): DeepSeekWeights {
  return loadDeepSeekModel(syntheticFiles(preset, seed), { gemm });
}

/** The synthetic presets' tokenizer, as the origin loads it. */
export function tokenizerOf(w: DeepSeekWeights): OriginTokenizer {
  return loadOriginTokenizer(deepSeekV3TokenizerDir(), w.config);
}

/** The prompt ids of a chat, as the origin's /v1/chat/completions builds them (the model's template). */
export function chatIds(w: DeepSeekWeights, messages: TemplateMessage[]): number[] {
  const tok = tokenizerOf(w);
  return tok.encode(tok.chatTemplate!.render(messages), { bos: false });
}

/**
 * Greedy text of `maxTokens` tokens after `prompt` (a completion's text, or ids from chatIds); EOS does
 * not stop it: the requests send ignore_eos.
 */
export function referenceGreedyText(
  w: DeepSeekWeights,
  prompt: string | number[],
  maxTokens: number,
): string {
  const tok = tokenizerOf(w);
  const ids = new DeepSeekReferenceModel(w, { maxSeqLen: 1024 }).generateGreedy(
    typeof prompt === 'string' ? tok.encode(prompt) : prompt,
    maxTokens,
  );
  const text = new TextStream();
  return ids.map((id) => text.push(tok.decode(id))).join('') + text.flush();
}
