// TokenMatcher's contract with a sampler: EOS exactly when complete, accept/reject, rollback for
// speculative decoding, applyMask, and masks shared across matchers of one grammar.
import { describe, expect, it } from 'vitest';
import { applyMask, compileSchema, TokenMatcher, Vocab } from '../../../engine/grammar/index';

// A toy vocabulary: one token per piece; id 0 is EOS.
const pieces = ['', '{', '}', '"', 'a', '"a"', ':', ',', '1', '12', '{"a":', 'true', ' ', 'x'];
const vocab = new Vocab(
  pieces.map((p) => new TextEncoder().encode(p)),
  [0],
);
const id = (p: string) => pieces.indexOf(p);
const allowed = (m: TokenMatcher) => {
  const mask = new Uint32Array(m.maskWords);
  m.fillMask(mask);
  return pieces.filter((_, i) => (mask[i >>> 5] >>> (i & 31)) & 1);
};

describe('TokenMatcher', () => {
  const g = compileSchema(
    { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] },
    { whitespace: 0 },
  );

  it('masks follow the grammar; EOS only when complete', () => {
    const m = new TokenMatcher(g, vocab);
    expect(allowed(m)).toEqual(['{', '{"a":']);
    expect(m.accept(id('{"a":'))).toBe(true);
    expect(allowed(m)).toEqual(['1', '12']);
    expect(m.accept(id('x'))).toBe(false);
    expect(m.accept(id('12'))).toBe(true);
    expect(m.isComplete()).toBe(false);
    expect(m.accept(0)).toBe(false);
    expect(m.accept(id('}'))).toBe(true);
    expect(m.isComplete()).toBe(true);
    expect(m.isFinished()).toBe(true);
    expect(allowed(m)).toEqual(['']); // EOS only
    expect(m.accept(0)).toBe(true);
    expect(m.accept(id('}'))).toBe(false);
  });

  it('rollback restores earlier states (speculative decoding)', () => {
    const m = new TokenMatcher(g, vocab);
    for (const p of ['{', '"a"', ':', '1']) expect(m.accept(id(p))).toBe(true);
    const before = allowed(m);
    expect(m.accept(id('}'))).toBe(true);
    expect(m.accept(0)).toBe(true);
    m.rollback(2);
    expect(allowed(m)).toEqual(before);
    m.rollback(3);
    expect(allowed(m)).toEqual(['"', '"a"']);
    expect(() => m.rollback(5)).toThrow(RangeError);
    m.reset();
    expect(allowed(m)).toEqual(['{', '{"a":']);
  });

  it('matchers of one grammar share cached masks', () => {
    const a = new TokenMatcher(g, vocab);
    const b = new TokenMatcher(g, vocab);
    a.accept(id('{'));
    b.accept(id('{'));
    const ma = new Uint32Array(a.maskWords);
    const mb = new Uint32Array(b.maskWords);
    a.fillMask(ma);
    b.fillMask(mb);
    expect(Array.from(mb)).toEqual(Array.from(ma));
    expect(g.maskCache(vocab).real.size).toBeGreaterThan(0);
  });

  it('fillMask reports a dead end (a required $ref cut by maxStack)', () => {
    // node = {a: wrap | null}, wrap = {b: node}: wrap's call of node is required, so where the
    // bound falls on it the text cannot be closed; fillMask must say so rather than allow junk.
    const schema = {
      $defs: {
        node: {
          type: 'object',
          properties: { a: { anyOf: [{ $ref: '#/$defs/wrap' }, { type: 'null' }] } },
          required: ['a'],
        },
        wrap: { type: 'object', properties: { b: { $ref: '#/$defs/node' } }, required: ['b'] },
      },
      $ref: '#/$defs/node',
    };
    const toy = ['', '{', '"a"', '"b"', ':', 'null', '}'];
    const v = new Vocab(
      toy.map((p) => new TextEncoder().encode(p)),
      [0],
    );
    const dead: boolean[] = [];
    for (const maxStack of [5, 6]) {
      const m = new TokenMatcher(compileSchema(schema, { whitespace: 0, maxStack }), v);
      const mask = new Uint32Array(m.maskWords);
      let steps = 0;
      while (m.fillMask(mask) && !m.isComplete() && steps++ < 100) {
        const next = [1, 2, 3, 4, 5, 6].find((i) => (mask[0] >>> i) & 1)!;
        expect(m.accept(next)).toBe(true);
      }
      dead.push(!m.isComplete());
      if (!m.isComplete()) expect(mask[0]).toBe(0);
    }
    expect(dead).toContain(true);
  });

  it('applyMask sets exactly the forbidden logits to -Infinity, ids past the mask too', () => {
    const mask = Uint32Array.of(0b1011, 0x80000001);
    const logits = new Float32Array(70).fill(0.5);
    applyMask(logits, mask);
    const kept = [...logits.keys()].filter((i) => logits[i] === 0.5);
    expect(kept).toEqual([0, 1, 3, 32, 63]);
  });
});
