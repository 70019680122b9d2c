// Reads a JSON request body and validates it against a zod schema; failures are 400s, never 500s.
// Shared by the Worker's routes and the origin's server (both Hono apps).
import type { Context } from 'hono';
import type { z } from 'zod';
import { invalidRequest } from './errors';
import { describeIssue } from './zod-issue';

export async function readBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let raw: unknown;
  try {
    raw = JSON.parse(await c.req.text());
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
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const { message, param } = describeIssue(parsed.error, raw);
    throw invalidRequest(message, param, 'invalid_value');
  }
  return parsed.data;
}
