// Reads a JSON request body and validates it against a zod schema; failures are 4xx, never 500s.
// Shared by the Worker's routes and the origin's server (both Hono apps). Before the schema sees a
// body, its size and shape are bounded (docs/errors.md "Limits"): a huge body is a 413, and an
// array or nesting beyond what any request needs is a 400, since the validator, the idempotency hash
// and the relay to an origin all recurse or spread over the body and would overflow the stack.
import type { Context } from 'hono';
import type { z } from 'zod';
import { ApiError, invalidRequest } from './errors';
import { describeIssue } from './zod-issue';

/** Largest request body, in bytes (413 beyond). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Most elements of any array in a body (so at most this many messages). */
export const MAX_ARRAY_ITEMS = 2048;
/** Deepest nesting of arrays and objects in a body. */
export const MAX_DEPTH = 32;

export const bodyTooLarge = (bytes: number | null) =>
  new ApiError(
    413,
    `The request body${bytes === null ? '' : ` (${bytes} bytes)`} is larger than the limit of ${MAX_BODY_BYTES} bytes.`,
    'invalid_request_error',
    'request_too_large',
  );

async function readText(c: Context): Promise<string> {
  const declared = Number(c.req.header('content-length'));
  if (declared > MAX_BODY_BYTES) throw bodyTooLarge(declared);
  const bytes = await c.req.arrayBuffer();
  if (bytes.byteLength > MAX_BODY_BYTES) throw bodyTooLarge(bytes.byteLength);
  return new TextDecoder().decode(bytes);
}

/** The first array or nesting beyond the limits, as a 400 naming where; walked without recursion. */
function checkShape(body: unknown): void {
  const stack: { value: unknown; path: string; depth: number }[] = [
    { value: body, path: '', depth: 0 },
  ];
  while (stack.length) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_DEPTH)
      throw invalidRequest(
        `The request body is nested deeper than ${MAX_DEPTH} levels (at '${path}').`,
        path || null,
        'invalid_value',
      );
    const param = path || null;
    if (Array.isArray(value) && value.length > MAX_ARRAY_ITEMS)
      throw invalidRequest(
        `Invalid value for '${param}': an array may hold at most ${MAX_ARRAY_ITEMS} items; this one has ${value.length}.`,
        param,
        'array_above_max_length',
      );
    for (const [k, v] of Object.entries(value))
      stack.push({ value: v, path: path ? `${path}.${k}` : k, depth: depth + 1 });
  }
}

export async function readBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const text = await readText(c);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw invalidRequest(
      'We could not parse the JSON body of your request. The API expects a JSON payload.',
      null,
      'invalid_json',
    );
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalidRequest('The request body must be a JSON object.', null, 'invalid_json');
  }
  checkShape(raw);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const { message, param } = describeIssue(parsed.error, raw);
    throw invalidRequest(message, param, 'invalid_value');
  }
  return parsed.data;
}
