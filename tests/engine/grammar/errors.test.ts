// Unsupported schema features raise a GrammarError that names the keyword and where it is.
import { describe, expect, it } from 'vitest';
import { compileSchema, GrammarError } from '../../../engine/grammar/index';

const cases: [string, unknown, string, string][] = [
  ['allOf', { allOf: [{ type: 'string' }] }, 'allOf', '#'],
  [
    'oneOf nested',
    { type: 'object', properties: { a: { oneOf: [{ type: 'string' }] } } },
    'oneOf',
    '#/properties/a',
  ],
  ['not', { not: { type: 'string' } }, 'not', '#'],
  ['patternProperties', { type: 'object', patternProperties: {} }, 'patternProperties', '#'],
  ['prefixItems', { type: 'array', prefixItems: [] }, 'prefixItems', '#'],
  [
    'multipleOf in items',
    { type: 'array', items: { type: 'number', multipleOf: 2 } },
    'multipleOf',
    '#/items',
  ],
  ['if/then', { if: {}, then: {} }, 'if', '#'],
  ['unknown format', { type: 'string', format: 'hostname' }, 'format', '#/format'],
  ['lookahead pattern', { type: 'string', pattern: '(?=a)b' }, 'pattern', '#/pattern'],
  ['backreference', { type: 'string', pattern: '(a)\\1' }, 'pattern', '#/pattern'],
  ['non-integer number bound', { type: 'number', minimum: 0.5 }, 'minimum', '#'],
  ['unknown type', { type: 'date' }, 'type', '#'],
  ['remote $ref', { $ref: 'https://example.com/s.json' }, '$ref', '#/$ref'],
  ['dangling $ref', { $ref: '#/$defs/missing' }, '$ref', '#/$ref'],
  ['required not declared', { type: 'object', properties: {}, required: ['x'] }, 'required', '#'],
  ['required without properties', { type: 'object', required: ['x'] }, 'required', '#'],
  ['a $ref to itself only', { $ref: '#' }, 'schema', '#'],
  ['empty enum', { enum: [] }, 'enum', '#'],
  ['false schema', { type: 'array', items: false }, 'schema', '#/items'],
  [
    '$ref with siblings',
    { $defs: { a: { type: 'string' } }, $ref: '#/$defs/a', type: 'string' },
    'type',
    '#',
  ],
  [
    'ref target unsupported',
    { $defs: { a: { uniqueItems: true } }, $ref: '#/$defs/a' },
    'uniqueItems',
    '#/$defs/a',
  ],
];

describe('GrammarError for unsupported schemas', () => {
  for (const [what, schema, keyword, path] of cases) {
    it(what, () => {
      let err: unknown;
      try {
        compileSchema(schema);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(GrammarError);
      expect((err as GrammarError).keyword).toBe(keyword);
      expect((err as GrammarError).path).toBe(path);
      expect((err as GrammarError).message).toContain(keyword);
    });
  }

  it('ignores description, title and other annotations', () => {
    const g = compileSchema({
      title: 'T',
      description: 'D',
      $schema: 'x',
      type: 'object',
      properties: { a: { type: 'string', description: 'd', examples: ['e'], default: 'f' } },
    });
    expect(g.automaton.stateCount).toBeGreaterThan(0);
  });
});
