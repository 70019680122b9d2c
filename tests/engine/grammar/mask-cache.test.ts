// The adaptive mask (a local state's certain tokens + uncertain ones checked per state) against
// the plain trie walk of the real state, on every state sampled runs visit, on a real vocabulary.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  compileGrammar,
  compileSchema,
  computeMask,
  referenceMask,
  toolCallSpec,
  type Grammar,
  type MaskCache,
  type Vocab,
} from '../../../engine/grammar/index';
import { schemaCase } from './arbitraries';
import { llamaVocab, sample } from './helpers';

/** States along a sampled run: the start, then after each token. */
function statesOf(g: Grammar, vocab: Vocab, seed: number): number[] {
  const run = sample(g, vocab, seed, 200);
  const a = g.automaton;
  const states = [a.start];
  let s = a.start;
  for (const id of run.tokens) {
    if (vocab.eosIds.includes(id)) break;
    for (const b of vocab.tokens[id]) s = a.step(s, b);
    states.push(s);
  }
  return states;
}

function compare(g: Grammar, vocab: Vocab, seeds: number[]): number {
  const cache: MaskCache = { real: new Map(), local: new Map() };
  let checked = 0;
  for (const seed of seeds) {
    for (const s of statesOf(g, vocab, seed)) {
      expect(Array.from(computeMask(g.automaton, vocab, s, cache))).toEqual(
        Array.from(referenceMask(g.automaton, vocab, s)),
      );
      checked++;
    }
  }
  return checked;
}

describe('adaptive mask = plain walk', () => {
  const llama = llamaVocab('tokenizer.bin');
  const tree = {
    $defs: {
      node: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          kids: { type: 'array', items: { $ref: '#/$defs/node' } },
        },
        required: ['name', 'kids'],
        additionalProperties: false,
      },
    },
    $ref: '#/$defs/node',
  };

  it.runIf(llama)('recursive, json_object, tool calls, generated schemas (32k vocab)', () => {
    const v = llama!.vocab;
    let n = compare(compileSchema(tree, { maxStack: 12 }), v, [1, 2, 3]);
    n += compare(compileGrammar({ type: 'json_object' }, { anyDepth: 4 }), v, [4, 5]);
    n += compare(
      compileGrammar(
        toolCallSpec([
          {
            name: 'f',
            parameters: { type: 'object', properties: { s: { type: 'string' } }, required: ['s'] },
          },
          { name: 'g' },
        ]),
      ),
      v,
      [6],
    );
    for (const c of fc.sample(schemaCase, { numRuns: 25, seed: 9 }))
      n += compare(compileSchema(c.schema), v, [7]);
    expect(n).toBeGreaterThan(500);
  });

  it('string content has one local state shared by all grammars', () => {
    const keyAt = (schema: unknown, prefix: string) => {
      const a = compileSchema(schema).automaton;
      let s = a.start;
      for (const b of new TextEncoder().encode(prefix)) s = a.step(s, b);
      return a.sharedKey(a.local(s));
    };
    const k1 = keyAt({ type: 'object', properties: { a: { type: 'string' } } }, '{"a": "x');
    const k2 = keyAt({ type: 'array', items: { type: 'string' } }, '["');
    expect(k1).not.toBeNull();
    expect(k1).toBe(k2);
    expect(keyAt({ type: 'object', properties: { a: { type: 'integer' } } }, '{"a": 1')).toBeNull();
  });
});
