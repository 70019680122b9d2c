// fast-check arbitraries for the grammar property tests: schemas from the supported subset, each
// paired with an arbitrary of instances that satisfy it (so a valid instance can be tokenized).
import fc from 'fast-check';

export interface Case {
  schema: Record<string, unknown>;
  instance: fc.Arbitrary<unknown>;
}

const key = fc.string({ unit: 'binary', maxLength: 6 });
const text = (min = 0, max = 8) => fc.string({ unit: 'binary', minLength: min, maxLength: max });
const day = fc.date({
  min: new Date('1000-01-01T00:00:00Z'),
  max: new Date('9999-12-31T00:00:00Z'),
  noInvalidDate: true,
});
const FORMATS: Record<string, fc.Arbitrary<string>> = {
  date: day.map((d) => d.toISOString().slice(0, 10)),
  'date-time': day.map((d) => d.toISOString()),
  time: day.map((d) => d.toISOString().slice(11)),
  uuid: fc.uuid(),
  email: fc.constantFrom('a@b.co', 'first.last+tag@mail.example.org', 'x_y-z@sub.domain.io'),
};
const PATTERNS = [
  '^[a-z]{1,8}$',
  '^\\d{3}-\\d{4}$',
  '^(foo|bar)+$',
  'ab',
  '^[A-Z][a-z]*( [A-Z][a-z]*)?$',
  '^[^"\\\\]{0,5}$',
  '^\\w+@\\w+\\.com$',
];

const leaf: fc.Arbitrary<Case> = fc.oneof(
  fc.constant<Case>({ schema: { type: 'string' }, instance: text() }),
  text(1, 5).chain((a) =>
    fc.uniqueArray(text(0, 5), { minLength: 1, maxLength: 4 }).map((e) => ({
      schema: { type: 'string', enum: [a, ...e.filter((x) => x !== a)] },
      instance: fc.constantFrom(a, ...e),
    })),
  ),
  fc
    .constantFrom(...Object.keys(FORMATS))
    .map((f) => ({ schema: { type: 'string', format: f }, instance: FORMATS[f] })),
  fc.constantFrom(...PATTERNS).map((p) => ({
    schema: { type: 'string', pattern: p },
    instance: fc.stringMatching(new RegExp(p, 'u'), { maxLength: 12 }),
  })),
  fc.tuple(fc.nat(3), fc.nat(4)).map(([min, extra]) => ({
    schema: { type: 'string', minLength: min, maxLength: min + extra },
    instance: text(min, min + extra),
  })),
  fc.constant<Case>({ schema: { type: 'integer' }, instance: fc.integer() }),
  fc
    .tuple(fc.integer({ min: -500, max: 500 }), fc.nat(1000), fc.boolean())
    .map(([lo, span, excl]) => ({
      schema: excl
        ? { type: 'integer', exclusiveMinimum: lo - 1, exclusiveMaximum: lo + span + 1 }
        : { type: 'integer', minimum: lo, maximum: lo + span },
      instance: fc.integer({ min: lo, max: lo + span }),
    })),
  fc.constant<Case>({
    schema: { type: 'number' },
    instance: fc.integer({ min: -1e7, max: 1e7 }).map((x) => x / 1000),
  }),
  fc.tuple(fc.integer({ min: -50, max: 50 }), fc.nat(100)).map(([lo, span]) => ({
    schema: { type: 'number', minimum: lo, maximum: lo + span },
    instance: fc.integer({ min: lo * 100, max: (lo + span) * 100 }).map((x) => x / 100),
  })),
  fc.constant<Case>({ schema: { type: 'boolean' }, instance: fc.boolean() }),
  fc.constant<Case>({ schema: { type: 'null' }, instance: fc.constant(null) }),
  fc.constant<Case>({
    schema: { type: ['string', 'null'] },
    instance: fc.option(text(), { nil: null }),
  }),
  fc.jsonValue({ maxDepth: 2 }).map((v) => ({ schema: { const: v }, instance: fc.constant(v) })),
  fc
    .array(fc.jsonValue({ maxDepth: 1 }), { minLength: 1, maxLength: 4 })
    .map((vs) => ({ schema: { enum: vs }, instance: fc.constantFrom(...vs) })),
);

function objectCase(props: [string, Case, boolean][]): Case {
  const properties = Object.fromEntries(props.map(([k, c]) => [k, c.schema]));
  const required = props.filter(([, , r]) => r).map(([k]) => k);
  const members = props.map(([k, c, r]) =>
    r
      ? c.instance.map((v) => [k, v] as const)
      : fc.option(
          c.instance.map((v) => [k, v] as const),
          { nil: null },
        ),
  );
  return {
    schema: { type: 'object', properties, required, additionalProperties: false },
    instance: fc.tuple(...members).map((ms) => Object.fromEntries(ms.filter((m) => m !== null))),
  };
}

const { value } = fc.letrec<{ value: Case }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc
      .uniqueArray(fc.tuple(key, tie('value'), fc.boolean()), {
        selector: (t) => t[0],
        maxLength: 4,
      })
      .map(objectCase),
    fc
      .tuple(tie('value'), fc.nat(2), fc.option(fc.nat(3), { nil: undefined }))
      .map(([item, min, extra]) => ({
        schema:
          extra === undefined
            ? { type: 'array', items: item.schema, minItems: min }
            : { type: 'array', items: item.schema, minItems: min, maxItems: min + extra },
        instance: fc.array(item.instance, { minLength: min, maxLength: min + (extra ?? 3) }),
      })),
    fc.tuple(tie('value'), tie('value')).map(([a, b]) => ({
      schema: { anyOf: [a.schema, b.schema] },
      instance: fc.oneof(a.instance, b.instance),
    })),
  ),
}));

/** A linked list through $defs: { v: <leaf>, next: <list> | null }. */
const recursive: fc.Arbitrary<Case> = leaf.map((v) => {
  const instance = fc.letrec<{ node: unknown }>((tie) => ({
    node: fc
      .tuple(v.instance, fc.oneof({ depthSize: 'small' }, fc.constant(null), tie('node')))
      .map(([x, next]) => ({ v: x, next })),
  })).node;
  return {
    schema: {
      $defs: {
        node: {
          type: 'object',
          properties: {
            v: v.schema,
            next: { anyOf: [{ $ref: '#/$defs/node' }, { type: 'null' }] },
          },
          required: ['v', 'next'],
          additionalProperties: false,
        },
      },
      $ref: '#/$defs/node',
    },
    instance,
  };
});

/** Top-level cases: objects most of the time (as response_format asks), any value, recursion. */
export const schemaCase: fc.Arbitrary<Case> = fc.oneof(
  fc
    .uniqueArray(fc.tuple(key, value, fc.boolean()), {
      selector: (t) => t[0],
      minLength: 1,
      maxLength: 5,
    })
    .map(objectCase),
  value,
  recursive,
);
