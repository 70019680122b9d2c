// What the fuzzer puts where a valid value belongs: wrong types, numeric extremes, strings that look
// like numbers, lone surrogates, oversized strings and arrays, deep nesting, random JSON.
import fc from 'fast-check';

export interface Mutation {
  body: string | Uint8Array<ArrayBuffer>;
  type: string | null;
}

/** `depth` nested arrays around a 1, as JSON text (built without recursion). */
export const nested = (depth: number) => '['.repeat(depth) + '1' + ']'.repeat(depth);

const deepObject = (depth: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
};

export const badValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null,
    true,
    false,
    0,
    -1,
    -0.5,
    1.5,
    2 ** 31,
    2 ** 53 + 2,
    -(2 ** 53),
    1e308,
    -1e308,
    5e-324,
    'NaN',
    'Infinity',
    '-1',
    '1e400',
    '',
    ' ',
    '\ud800',
    '\udfff\ud800',
    'a\u0000b',
    [],
    {},
    [[]],
    [null],
    [{}],
    { type: 'text' },
    [{ type: 'image_url', image_url: { url: 'x' } }],
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.array(fc.string({ maxLength: 3 }), { maxLength: 20 }),
  fc.constantFrom(300, 3000, 100_000).map((n) => 'x'.repeat(n)),
  fc.constantFrom(17, 2049, 70_000).map((n) => Array(n).fill({})),
  fc.constantFrom(20, 40, 1000).map(deepObject),
  fc.anything({ maxDepth: 3, maxKeys: 5 }),
);
