// Tokenizer micro-bench: llama2.c encode of a ~2000-token prompt, the heap merge loop against the
// quadratic rescan run.c does (the tokenizer's loop before), in the same process on the same text.
// Run alone: tsx bench/tokenizer.ts
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Llama2cTokenizer, syntheticLlama2cTokenizer } from '../engine/index';
import { referenceEncode } from '../tests/engine/reference-encode';
import { findStories260k, sharedModelsDir } from '../tools/paths';

const RUNS = 5;
const TEXT =
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her big red ball. ';

/** The text repeated until it encodes to about `target` tokens. */
function promptOf(tok: Llama2cTokenizer, target: number): string {
  const perRepeat = tok.encode(TEXT, { bos: false }).length;
  return TEXT.repeat(Math.max(1, Math.round(target / perRepeat)));
}

/** The median milliseconds of RUNS calls. */
function medianMs(f: () => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    f();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)];
}

export function benchTokenizer(target = 2000): string {
  const tokenizers: [string, Llama2cTokenizer][] = [
    ['synthetic, 32000 pieces', Llama2cTokenizer.fromBytes(syntheticLlama2cTokenizer(32000))],
  ];
  const llama2 = resolve(sharedModelsDir, 'tokenizer.bin');
  if (existsSync(llama2))
    tokenizers.push([
      'Llama 2 tokenizer.bin, 32000 pieces',
      Llama2cTokenizer.fromBytes(readFileSync(llama2), 32000),
    ]);
  const stories = findStories260k();
  if (stories)
    tokenizers.push([
      'tok512.bin',
      Llama2cTokenizer.fromBytes(readFileSync(stories.tokenizer), 512),
    ]);
  const lines = [
    '| tokenizer | prompt tokens | quadratic (ms) | heap (ms) | speed-up |',
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  for (const [name, tok] of tokenizers) {
    const text = promptOf(tok, target);
    const ids = tok.encode(text, { bos: true });
    if (JSON.stringify(ids) !== JSON.stringify(referenceEncode(tok, text)))
      throw new Error(`${name}: the two encoders disagree`);
    const before = medianMs(() => referenceEncode(tok, text));
    const after = medianMs(() => tok.encode(text, { bos: true }));
    lines.push(
      `| ${name} | ${ids.length} | ${before.toFixed(1)} | ${after.toFixed(2)} | ${(before / after).toFixed(0)}× |`,
    );
  }
  lines.push('', `Median of ${RUNS} runs each, Node ${process.version}, one thread.`);
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) console.log(benchTokenizer());
