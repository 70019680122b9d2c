// Constrained decoding inside the real engine: LlamaModel.generate with a grammar constraint, on
// stories260K and on a random-weight model with the real 32k llama2.c vocabulary. Property: over
// generated schemas and sampled decoding, 100% of finished outputs parse and validate
// (@cfworker/json-schema); a cut output says `length`; a finished grammar ends the generation.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Validator } from '@cfworker/json-schema';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileGrammar, compileSchema, TokenMatcher } from '../../../engine/grammar/index';
import { LlamaModel, syntheticLlama2cCheckpoint } from '../../../engine/index';
import { LazyMatcher, vocabOf } from '../../../engine/sampling/constraint';
import { createNodeKernels } from '../../../kernels-wasm/node';
import { schemaCase } from '../grammar/arbitraries';
import { collect, loadStories, modelsDir } from '../helpers';

const stories = loadStories();
const bigTokenizer = resolve(modelsDir, 'tokenizer.bin');

async function storiesModel(): Promise<LlamaModel> {
  return LlamaModel.fromLlama2c(await createNodeKernels(), stories!.checkpoint, stories!.tokenizer);
}

/** Random weights, llama2.c's real 32k vocabulary: near-flat logits visit every corner of a grammar. */
async function synthetic32k(): Promise<LlamaModel> {
  const shape = {
    dim: 64,
    hiddenDim: 128,
    nLayers: 2,
    nHeads: 4,
    nKvHeads: 4,
    vocabSize: 32000,
    seqLen: 512,
  };
  return LlamaModel.fromLlama2c(
    await createNodeKernels(),
    syntheticLlama2cCheckpoint(shape, 7),
    new Uint8Array(readFileSync(bigTokenizer)),
  );
}

async function property(model: LlamaModel, runs: number, seed: number, maxTokens: number) {
  const prompt = model.tokenizer.encode('Once upon a time', { bos: true, eos: false });
  const vocab = vocabOf(model.tokenizer);
  let finished = 0;
  await fc.assert(
    fc.asyncProperty(schemaCase, fc.integer({ min: 0, max: 2 ** 30 }), async ({ schema }, s) => {
      const constraint = new TokenMatcher(compileSchema(schema), vocab);
      const run = await collect(
        model.generate(prompt, { maxTokens, temperature: 1, topP: 0.95, seed: s, constraint }),
      );
      if (run.result.finishReason !== 'stop') {
        expect(run.result.finishReason).toBe('length');
        return;
      }
      finished++;
      const result = new Validator(schema as never, '2020-12').validate(JSON.parse(run.text));
      expect(result.valid, `${run.text} against ${JSON.stringify(schema)}`).toBe(true);
    }),
    { numRuns: runs, seed },
  );
  return finished;
}

describe.skipIf(!stories)('constrained generation on stories260K', () => {
  it('300 generated schemas, sampled: every finished output parses and validates', async () => {
    const finished = await property(await storiesModel(), 300, 14, 200);
    console.log(`stories260K: ${finished}/300 finished within 200 tokens`);
    expect(finished).toBeGreaterThan(150);
  }, 240_000);

  it('greedy too; max_tokens cuts with length; a finished grammar stops without an end token', async () => {
    const model = await storiesModel();
    const prompt = model.tokenizer.encode('Lily', { bos: true, eos: false });
    const grammar = compileSchema({ enum: ['yes', 'no'] });
    const constraint = new TokenMatcher(grammar, vocabOf(model.tokenizer));
    const run = await collect(
      model.generate(prompt, { maxTokens: 30, temperature: 0, topP: 1, constraint }),
    );
    expect(['"yes"', '"no"', ' "yes"', ' "no"']).toContain(run.text);
    expect(run.result.finishReason).toBe('stop');
    expect(model.tokenizer.stopIds).not.toContain(run.tokens.at(-1)!.id);
    const object = compileSchema({
      type: 'object',
      properties: { a: { type: 'string' } },
      required: ['a'],
    });
    const cut = await collect(
      model.generate(prompt, {
        maxTokens: 3,
        temperature: 0,
        topP: 1,
        constraint: new TokenMatcher(object, vocabOf(model.tokenizer)),
      }),
    );
    expect(cut.result.finishReason).toBe('length');
    expect(cut.result.completionTokens).toBe(3);
  });

  it('a lazy grammar leaves the text free until its trigger, then holds it to the end', async () => {
    const model = await storiesModel();
    const prompt = model.tokenizer.encode('Once upon a time', { bos: true, eos: false });
    const free = await collect(model.generate(prompt, { maxTokens: 40, temperature: 0, topP: 1 }));
    const grammar = compileSchema({ const: 'never' });
    // a trigger the story never writes: the output is exactly the unconstrained one
    const lazy = new LazyMatcher(grammar, vocabOf(model.tokenizer), '<never>');
    const same = await collect(
      model.generate(prompt, { maxTokens: 40, temperature: 0, topP: 1, constraint: lazy }),
    );
    expect(same.text).toBe(free.text);
    // a trigger it writes at once (its first two tokens' text): constrained from there on
    const two = free.tokens[0].text + free.tokens[1].text;
    const g2 = compileGrammar({
      type: 'sequence',
      items: [
        { type: 'literal', text: two },
        { type: 'json_schema', schema: { const: 1 } },
      ],
    });
    const vocab = vocabOf(model.tokenizer);
    const held = await collect(
      model.generate(prompt, {
        maxTokens: 60,
        temperature: 0,
        topP: 1,
        constraint: new LazyMatcher(g2, vocab, two),
      }),
    );
    expect(held.text.slice(0, two.length)).toBe(two);
    expect(held.text.slice(two.length).trim()).toBe('1');
    // a token that would complete the trigger and run on past it with text the grammar rejects
    // (the second token, for a trigger that ends inside it) is masked out before the trigger
    const short = two.slice(0, free.tokens[0].text.length + 1);
    const g3 = compileGrammar({
      type: 'sequence',
      items: [
        { type: 'literal', text: short },
        { type: 'json_schema', schema: { const: 1 } },
      ],
    });
    const straddle = new LazyMatcher(g3, vocab, short);
    const mask = new Uint32Array(straddle.maskWords);
    expect(straddle.accept(free.tokens[0].id)).toBe(true);
    straddle.fillMask(mask);
    const second = free.tokens[1].id;
    expect(free.tokens[1].text.length).toBeGreaterThan(1);
    expect((mask[second >>> 5] >>> (second & 31)) & 1).toBe(0);
    expect(straddle.active()).toBe(false);
    expect(held.result.finishReason).toBe('stop');
  });
});

describe.skipIf(!existsSync(bigTokenizer))('constrained generation on a 32k-vocab model', () => {
  it('60 generated schemas, sampled: every finished output parses and validates', async () => {
    const finished = await property(await synthetic32k(), 60, 32, 160);
    console.log(`synthetic 32k: ${finished}/60 finished within 160 tokens`);
    expect(finished).toBeGreaterThan(20);
  }, 300_000);
});
