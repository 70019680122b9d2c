// Grammar constructs one by one: which texts each schema's grammar accepts, byte by byte.
import { describe, expect, it } from 'vitest';
import {
  compileGrammar,
  compileJsonObject,
  compileSchema,
  toolCallSpec,
} from '../../../engine/grammar/index';
import { acceptsText, mulberry32 } from './helpers';

const yes = (schema: unknown, ...texts: string[]) => {
  const g = compileSchema(schema);
  for (const t of texts) expect(acceptsText(g, t), `should accept ${t}`).toBe(true);
};
const no = (schema: unknown, ...texts: string[]) => {
  const g = compileSchema(schema);
  for (const t of texts) expect(acceptsText(g, t), `should reject ${t}`).toBe(false);
};

describe('grammar constructs', () => {
  it('objects: declared order, required, optional, no extra properties', () => {
    const s = {
      type: 'object',
      properties: { a: { type: 'integer' }, b: { type: 'string' }, c: { type: 'boolean' } },
      required: ['b'],
      additionalProperties: false,
    };
    yes(
      s,
      '{"b":"x"}',
      '{"a":1,"b":""}',
      '{"a":1, "b":"x", "c":true}',
      '{"b":"x","c":false}',
      ' {"b":"y"}',
    );
    no(s, '{}', '{"b":"x","a":1}', '{"a":1}', '{"b":"x","d":1}', '{"b":"x",}', '{,"b":"x"}');
  });

  it('whitespace is bounded per slot (default 1, configurable)', () => {
    const s = { type: 'object', properties: { a: { type: 'null' } }, required: ['a'] };
    yes(s, '{"a":null}', '{ "a" : null }', '{\n"a":\tnull\n}');
    no(s, '{  "a":null}', '{"a":  null}');
    const g0 = compileSchema(s, { whitespace: 0 });
    expect(acceptsText(g0, '{"a":null}')).toBe(true);
    expect(acceptsText(g0, '{"a": null}')).toBe(false);
    const g4 = compileSchema(s, { whitespace: 4 });
    expect(acceptsText(g4, '{\n   "a": null\n}')).toBe(true);
    expect(acceptsText(g4, '{\n    "a": null\n}')).toBe(false);
  });

  it('arrays: items, minItems, maxItems', () => {
    const s = { type: 'array', items: { type: 'integer' }, minItems: 1, maxItems: 3 };
    yes(s, '[1]', '[1,2]', '[1, 2, 3]', '[ -4 ]');
    no(s, '[]', '[1,2,3,4]', '[1,]', '["a"]');
    yes({ type: 'array', items: { type: 'boolean' } }, '[]', '[true,false,true,true,false]');
    yes({ type: 'array', maxItems: 0 }, '[]');
    no({ type: 'array', maxItems: 0 }, '[1]');
  });

  it('strings: escapes, valid UTF-8 only, lengths', () => {
    yes({ type: 'string' }, '""', '"a\\"b\\\\c\\n\\u00e9"', '"héllo 世界 🎉"');
    no({ type: 'string' }, '"a"b"', '"\n"', '"\\x"', '"\\ud800"');
    const g = compileSchema({ type: 'string' });
    const bad = (bytes: number[]) => {
      let s = g.automaton.start;
      for (const b of [0x22, ...bytes, 0x22]) s = s < 0 ? s : g.automaton.step(s, b);
      return s >= 0 && g.automaton.isAccepting(s);
    };
    expect(bad([0xc3, 0xa9])).toBe(true); // é
    expect(bad([0xc3])).toBe(false); // truncated
    expect(bad([0xed, 0xa0, 0x80])).toBe(false); // encoded surrogate
    expect(bad([0xc0, 0x80])).toBe(false); // overlong
    yes({ type: 'string', minLength: 2, maxLength: 3 }, '"ab"', '"a\\nb"', '"éèà"');
    no({ type: 'string', minLength: 2, maxLength: 3 }, '"a"', '"abcd"');
  });

  it('enum and const of any JSON value', () => {
    const s = { enum: ['a', 1, null, { x: [true] }, [1, 'b']] };
    yes(s, '"a"', '1', 'null', '{"x":[true]}', '[1,"b"]');
    no(s, '"b"', '2', '{"x":[false]}', 'true');
    yes({ const: 'fixed' }, '"fixed"');
    no({ const: 'fixed' }, '"other"');
    yes({ type: 'string', enum: ['a', 1] }, '"a"');
    no({ type: 'string', enum: ['a', 1] }, '1');
  });

  it('integers: exact ranges, exclusive bounds, no leading zeros or -0', () => {
    const rnd = mulberry32(7);
    for (let k = 0; k < 12; k++) {
      const lo = Math.floor(rnd() * 400) - 200;
      const hi = lo + Math.floor(rnd() * 300);
      const g = compileSchema({ type: 'integer', minimum: lo, exclusiveMaximum: hi + 1 });
      for (let v = lo - 30; v <= hi + 30; v++)
        expect(acceptsText(g, String(v)), `${v} in [${lo},${hi}]`).toBe(v >= lo && v <= hi);
    }
    no({ type: 'integer' }, '01', '-0', '1.0', '1e3', '+1');
    yes({ type: 'integer', minimum: 5 }, '5', '1000000', '99999999');
    no({ type: 'integer', minimum: 5 }, '4', '-10');
    yes({ type: 'integer', maximum: -3 }, '-3', '-100');
    no({ type: 'integer', maximum: -3 }, '-2', '0');
  });

  it('numbers: JSON syntax, integer-valued bounds', () => {
    yes({ type: 'number' }, '0', '-1.5', '3.25e10', '1E-2', '0.0');
    no({ type: 'number' }, '.5', '1.', '01', '-', 'NaN', '1e');
    const s = { type: 'number', minimum: -2, exclusiveMaximum: 3 };
    yes(s, '-2', '-1.5', '-0.25', '0', '2.999', '2');
    no(s, '-2.5', '3', '3.5', '-3', '10');
    const t = { type: 'number', exclusiveMinimum: 0, maximum: 1 };
    yes(t, '0.5', '1', '0.0001');
    no(t, '0', '1.5', '-0.5');
  });

  it('boolean, null, type arrays, anyOf', () => {
    yes({ type: 'boolean' }, 'true', 'false');
    no({ type: 'boolean' }, 'null', '1');
    yes({ type: ['string', 'null'] }, '"x"', 'null');
    no({ type: ['string', 'null'] }, '1');
    const s = {
      anyOf: [
        { type: 'integer' },
        { type: 'object', properties: { k: { type: 'string' } }, required: ['k'] },
      ],
    };
    yes(s, '3', '{"k":"v"}');
    no(s, '"3"', '{}');
  });

  it('string patterns (a regex subset) and formats', () => {
    yes({ type: 'string', pattern: '^[A-Z]{2}-\\d{3}$' }, '"AB-123"');
    no({ type: 'string', pattern: '^[A-Z]{2}-\\d{3}$' }, '"ab-123"', '"AB-1234"');
    yes({ type: 'string', pattern: 'cat|dog' }, '"a cat!"', '"dog"');
    no({ type: 'string', pattern: 'cat|dog' }, '"bird"');
    yes({ type: 'string', pattern: '^a"b\\\\$' }, '"a\\"b\\\\"');
    yes({ type: 'string', format: 'date' }, '"2024-02-29"', '"2000-02-29"', '"1999-12-31"');
    no(
      { type: 'string', format: 'date' },
      '"2023-02-29"',
      '"1900-02-29"',
      '"2024-04-31"',
      '"2024-13-01"',
    );
    yes(
      { type: 'string', format: 'date-time' },
      '"2024-05-01T12:30:00Z"',
      '"2024-05-01T23:59:59.123+05:30"',
    );
    no({ type: 'string', format: 'date-time' }, '"2024-05-01T24:00:00Z"', '"2024-05-01T12:30:00"');
    yes({ type: 'string', format: 'time' }, '"08:00:00Z"');
    yes({ type: 'string', format: 'uuid' }, '"123e4567-e89b-12d3-a456-426614174000"');
    no({ type: 'string', format: 'uuid' }, '"123e4567-e89b-12d3-a456"');
    yes({ type: 'string', format: 'email' }, '"ada.lovelace@example.co.uk"');
    no({ type: 'string', format: 'email' }, '"ada@"', '".ada@example.com"');
  });

  it('recursive $defs/$ref, definitions, and the root ref "#"', () => {
    const tree = {
      $defs: {
        node: {
          type: 'object',
          properties: {
            v: { type: 'integer' },
            kids: { type: 'array', items: { $ref: '#/$defs/node' } },
          },
          required: ['v', 'kids'],
          additionalProperties: false,
        },
      },
      $ref: '#/$defs/node',
    };
    yes(
      tree,
      '{"v":1,"kids":[]}',
      '{"v":1,"kids":[{"v":2,"kids":[{"v":3,"kids":[]}]},{"v":4,"kids":[]}]}',
    );
    no(tree, '{"v":1,"kids":[{"v":2}]}');
    const list = {
      type: 'object',
      properties: { next: { anyOf: [{ $ref: '#' }, { type: 'null' }] } },
      required: ['next'],
    };
    yes(list, '{"next":null}', '{"next":{"next":{"next":null}}}');
    const defs = {
      definitions: { n: { type: 'number' } },
      type: 'array',
      items: { $ref: '#/definitions/n' },
    };
    yes(defs, '[1,2.5]');
    no(defs, '["1"]');
  });

  it('recursion deeper than maxStack is cut off, not crashed', () => {
    const list = {
      type: 'object',
      properties: { next: { anyOf: [{ $ref: '#' }, { type: 'null' }] } },
      required: ['next'],
    };
    const g = compileSchema(list, { maxStack: 8 });
    const nest = (n: number) => '{"next":'.repeat(n) + 'null' + '}'.repeat(n);
    expect(acceptsText(g, nest(3))).toBe(true);
    expect(acceptsText(g, nest(30))).toBe(false);
    // No dead end at the cut: every prefix the automaton still allows can be closed with null.
    const a = g.automaton;
    let cut = 0;
    for (let k = 1; k <= 30 && !cut; k++) {
      let s = a.start;
      for (const b of new TextEncoder().encode('{"next":'.repeat(k))) s = s < 0 ? s : a.step(s, b);
      if (s < 0) cut = k;
      else expect(acceptsText(g, nest(k)), `depth ${k}`).toBe(true);
    }
    expect(cut).toBeGreaterThan(3);
  });

  it('json_object: any object, nesting bounded', () => {
    const g = compileJsonObject({ anyDepth: 3 });
    for (const t of ['{}', '{"a":[1,{"b":null}],"c":"d"}', '{"x":{"y":[]}}'])
      expect(acceptsText(g, t), t).toBe(true);
    for (const t of ['[]', '1', '{"a":}', '{"a":[[[[1]]]]}'])
      expect(acceptsText(g, t), t).toBe(false);
    yes({}, '1', '"s"', '[{}]');
  });

  it('tool calls: prefix, a choice of names, each with its arguments schema, suffix', () => {
    const spec = toolCallSpec(
      [
        {
          name: 'get_weather',
          parameters: {
            type: 'object',
            properties: { city: { type: 'string' } },
            required: ['city'],
            additionalProperties: false,
          },
        },
        {
          name: 'add',
          parameters: {
            type: 'object',
            properties: { a: { type: 'integer' }, b: { type: 'integer' } },
            required: ['a', 'b'],
            additionalProperties: false,
          },
        },
      ],
      { prefix: '<tool_call>', suffix: '</tool_call>' },
    );
    const g = compileGrammar(spec);
    expect(
      acceptsText(g, '<tool_call>{"name": "add", "arguments": {"a":1,"b":2}}</tool_call>'),
    ).toBe(true);
    expect(
      acceptsText(
        g,
        '<tool_call>{"name": "get_weather", "arguments": {"city":"Oslo"}}</tool_call>',
      ),
    ).toBe(true);
    expect(
      acceptsText(g, '<tool_call>{"name": "add", "arguments": {"city":"Oslo"}}</tool_call>'),
    ).toBe(false);
    expect(
      acceptsText(g, '<tool_call>{"name": "mul", "arguments": {"a":1,"b":2}}</tool_call>'),
    ).toBe(false);
    expect(acceptsText(g, '{"name": "add", "arguments": {"a":1,"b":2}}')).toBe(false);
  });

  it('caches compiled grammars by spec', () => {
    const s = { type: 'object', properties: { q: { type: 'string' } } };
    expect(compileSchema(s)).toBe(compileSchema(JSON.parse(JSON.stringify(s))));
    expect(compileSchema(s)).not.toBe(compileSchema(s, { whitespace: 0 }));
  });
});
