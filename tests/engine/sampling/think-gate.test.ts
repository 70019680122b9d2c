// ThinkGate: a reasoning answer's think block is free text, the grammar holds from `</think>` on;
// a `</think>` split across tokens is still seen, and a token that closes the block and goes on
// in the same token cannot smuggle text past the grammar.
import { describe, expect, it } from 'vitest';
import { compileSchema, TokenMatcher, Vocab } from '../../../engine/grammar/index';
import { ThinkGate } from '../../../engine/sampling/think-gate';
import { TokenSampler } from '../../../engine/sampling/token-sampler';

// id 0 is EOS
const pieces = [
  '',
  '{',
  '}',
  '"a"',
  ':',
  '1',
  'x',
  'hmm',
  '</',
  'think',
  '>',
  '</think>',
  '>{',
  '<',
];
const vocab = new Vocab(
  pieces.map((p) => new TextEncoder().encode(p)),
  [0],
);
const id = (p: string) => pieces.indexOf(p);
const grammar = compileSchema(
  { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] },
  { whitespace: 0 },
);
const gate = () => new ThinkGate(new TokenMatcher(grammar, vocab), vocab);
const allowed = (c: ThinkGate) => {
  const mask = new Uint32Array(c.maskWords);
  expect(c.fillMask(mask)).toBe(true);
  return pieces.filter((_, i) => (mask[i >>> 5] >>> (i & 31)) & 1);
};

describe('ThinkGate', () => {
  it('leaves the think block free, then masks with the grammar', () => {
    const g = gate();
    // inside the block: everything, EOS and text the grammar rejects included
    expect(allowed(g)).toEqual(pieces);
    for (const p of ['hmm', 'x', '}', '1']) expect(g.accept(id(p))).toBe(true);
    expect(g.isFinished()).toBe(false);
    expect(g.accept(id('</think>'))).toBe(true);
    // the answer: the grammar's first token only
    expect(allowed(g)).toEqual(['{']);
    expect(g.accept(id('x'))).toBe(false);
  });

  it('sees a </think> split across tokens, and refuses one that runs on into the answer', () => {
    const g = gate();
    expect(g.accept(id('</'))).toBe(true);
    expect(g.accept(id('think'))).toBe(true);
    // '>' closes the block: allowed; '>{' would close it and write '{' unmasked: refused
    expect(allowed(g)).toContain('>');
    expect(allowed(g)).not.toContain('>{');
    expect(gate().accept(id('>{'))).toBe(true); // no '</think' before it: plain think text
    const h = gate();
    h.accept(id('</'));
    h.accept(id('think'));
    expect(h.accept(id('>{'))).toBe(false);
    expect(g.accept(id('>'))).toBe(true);
    expect(allowed(g)).toEqual(['{']);
  });

  it('through the sampler: greedy picks the model’s tokens in the block, the grammar’s after it', () => {
    const sampler = new TokenSampler(pieces.length, {
      temperature: 0,
      topP: 1,
      constraint: gate(),
    });
    const favour = (p: string) => {
      const logits = new Float32Array(pieces.length).map((_, i) => Math.sin(i + 1)); // not zeros
      logits[id(p)] = 10;
      return logits;
    };
    const picked = ['hmm', 'x', '</think>', 'x', 'x', '1', '}'].map(
      (p) => pieces[sampler.sample(favour(p))],
    );
    expect(picked.slice(0, 3)).toEqual(['hmm', 'x', '</think>']); // free inside the block
    expect(picked[3]).toBe('{'); // 'x' masked out: the grammar's only start
    expect(picked[4]).toBe('"a"');
    expect(picked.slice(5)).toEqual([':', '1']);
  });
});
