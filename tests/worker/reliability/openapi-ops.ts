// The fuzzer's map of the API, read from the Worker's own `GET /openapi.json` (generated from
// protocol/requests.ts): each operation's path, method, query parameters, a valid example body and
// the field paths to mutate (top level, and one level into objects and array items).
type Schema = Record<string, unknown>;

export interface FuzzOperation {
  path: string;
  method: string;
  query: string[];
  /** A valid body (for operations that take one); the fuzzer mutates one field at a time. */
  example?: Record<string, unknown>;
  fields: string[][];
}

/** Valid values of the fields a request requires (the schema says their type, not a good value). */
const REQUIRED_EXAMPLES: Record<string, unknown> = {
  model: 'stories260k',
  messages: [{ role: 'user', content: 'Once upon a time' }],
  prompt: 'Once upon a time',
};

function resolver(doc: Schema) {
  const resolve = (s: unknown): Schema => {
    let schema = (s ?? {}) as Schema;
    for (let i = 0; i < 10 && typeof schema.$ref === 'string'; i++) {
      const path = (schema.$ref as string).replace(/^#\//, '').split('/');
      schema = path.reduce<Schema>((at, p) => (at?.[p] ?? {}) as Schema, doc);
    }
    // A nullable field is anyOf [T, null]: its object variant, if any, has the fields.
    const variants = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
    if (variants) {
      const object = variants.map(resolve).find((v) => v.properties || v.items);
      if (object) return object;
    }
    return schema;
  };
  return resolve;
}

function fieldsOf(schema: Schema, resolve: (s: unknown) => Schema): string[][] {
  const fields: string[][] = [];
  for (const [name, raw] of Object.entries((schema.properties ?? {}) as Record<string, unknown>)) {
    fields.push([name]);
    const s = resolve(raw);
    const items = s.items ? resolve(s.items) : null;
    const inner = items?.properties ? items : s.properties ? s : null;
    const prefix = items ? [name, '0'] : [name];
    if (items) fields.push(prefix);
    for (const sub of Object.keys((inner?.properties ?? {}) as Schema))
      fields.push([...prefix, sub]);
  }
  return fields;
}

export function fuzzOperations(doc: Schema): FuzzOperation[] {
  const resolve = resolver(doc);
  const ops: FuzzOperation[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Schema>))
    for (const [method, raw] of Object.entries(item)) {
      const op = raw as Schema;
      const params = (op.parameters ?? []) as { name: string; in: string }[];
      const query = params.filter((p) => p.in === 'query').map((p) => p.name);
      const content = (op.requestBody as Schema | undefined)?.content as Schema | undefined;
      const bodySchema = content ? resolve((content['application/json'] as Schema).schema) : null;
      if (!bodySchema) {
        ops.push({ path, method, query, fields: [] });
        continue;
      }
      const required = (bodySchema.required ?? []) as string[];
      const example: Record<string, unknown> = { max_tokens: 2 };
      for (const r of required) example[r] = REQUIRED_EXAMPLES[r] ?? 'x';
      ops.push({ path, method, query, example, fields: fieldsOf(bodySchema, resolve) });
    }
  return ops;
}
