// A failed validation as the client reads it: the first zod issue becomes OpenAI's `param` (its
// dotted path) and a message that names the field, the limit and what was sent. A union (`stop`,
// `content`, `prompt`) is reported by the branch the value's type chose, so a 17th stop string
// says "at most 16 items", not zod's "Invalid input".
import type { z } from 'zod';

type Issue = z.core.$ZodIssue;
type Path = (string | number)[];

/** Messages zod writes itself; a schema's own message (`.min(1, '…')`) is kept as it is. */
const ZOD_DEFAULT = /^(Invalid input|Invalid option|Too big|Too small|Invalid|Unrecognized)/;

const at = (input: unknown, path: readonly PropertyKey[]): unknown =>
  path.reduce<unknown>(
    (v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : v),
    input,
  );

/** What was sent, as a type; a number that is none of zod's (JSON's 1e400 is Infinity) as itself. */
const kindOf = (v: unknown): string =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'array'
      : v === undefined
        ? 'nothing'
        : typeof v === 'number' && !Number.isFinite(v)
          ? String(v)
          : typeof v;

const show = (v: unknown): string =>
  typeof v === 'string' ? `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'` : JSON.stringify(v);

/** The issue a union's value really failed: within the branch its type matched, else the union itself. */
function innermost(issue: Issue, path: Path): { issue: Issue; path: Path } {
  const full = [...path, ...(issue.path as Path)];
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return { issue, path: full };
  const typed = issue.errors.filter(
    (branch) => !branch.some((i) => i.code === 'invalid_type' && i.path.length === 0),
  );
  if (typed.length === 0) return { issue, path: full };
  return innermost(typed[0][0], full);
}

const unit = (origin: string, n: number | bigint) =>
  origin === 'array'
    ? `${n} item${n === 1 ? '' : 's'}`
    : origin === 'string'
      ? `${n} characters`
      : `${n}`;

/** What the value should have been, with what it was. */
function detail(issue: Issue, value: unknown, unionTypes: string[]): string {
  switch (issue.code) {
    case 'invalid_type':
      return value === undefined
        ? 'this field is required'
        : `expected ${issue.expected}, got ${kindOf(value)}`;
    case 'too_big': {
      const size = Array.isArray(value)
        ? value.length
        : typeof value === 'string'
          ? value.length
          : value;
      const bound = issue.inclusive === false ? 'less than' : 'at most';
      return `${bound} ${unit(issue.origin, issue.maximum as number)}, got ${String(size)}`;
    }
    case 'too_small': {
      const size = Array.isArray(value)
        ? value.length
        : typeof value === 'string'
          ? value.length
          : value;
      const bound = issue.inclusive === false ? 'greater than' : 'at least';
      return `${bound} ${unit(issue.origin, issue.minimum as number)}, got ${String(size)}`;
    }
    case 'invalid_value':
      return `expected ${issue.values.map(show).join(' or ')}, got ${show(value)}`;
    case 'invalid_union':
      return `expected ${unionTypes.join(' or ')}, got ${kindOf(value)}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map(show).join(', ')}`;
    default:
      return issue.message;
  }
}

/** The first issue as an OpenAI-style message and `param` (dotted path); `input` is the body as sent. */
export function describeIssue(
  error: z.ZodError,
  input?: unknown,
): { message: string; param: string | null } {
  const { issue, path } = innermost(error.issues[0], []);
  const param = path.length ? path.join('.') : null;
  const value = at(input, path);
  const unionTypes =
    issue.code === 'invalid_union'
      ? issue.errors.flatMap((b) =>
          b.flatMap((i) => (i.code === 'invalid_type' ? [i.expected] : [])),
        )
      : [];
  const own = !ZOD_DEFAULT.test(issue.message);
  const text = own
    ? issue.code === 'invalid_value' || issue.code === 'invalid_type'
      ? `${issue.message} (got ${show(value)})`
      : issue.message
    : detail(issue, value, unionTypes);
  const sentence = text.replace(/\.$/, '');
  return { message: param ? `Invalid value for '${param}': ${sentence}.` : `${sentence}.`, param };
}
