// What the origin must answer for a greedy request, computed without it: the DeepSeek reference model
// alone (one sequence, no batching) on the same synthetic checkpoint, with the presets' tokenizer
// (DeepSeek-V3's), decoded as the origin decodes.
import { DeepSeekReferenceModel } from '../../engine/deepseek/reference';
import { loadDeepSeekModel, type DeepSeekWeights } from '../../engine/deepseek/weights';
import { TextStream } from '../../engine/text-stream';
import type { TemplateMessage } from '../../engine/chat-template';
import type { OriginTokenizer } from '../../origin/model/byte-tokenizer';
import { readModelFiles } from '../../origin/model/load';
import { deepSeekV3TokenizerDir, loadOriginTokenizer } from '../../origin/model/tokenizer';

export function syntheticWeights(
  preset: string,
  gemm: 'fp8' | 'dequantized' = 'fp8',
  seed = 1,
): DeepSeekWeights {
  return loadDeepSeekModel(readModelFiles(`synthetic:${preset}`, seed).files, { gemm });
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
