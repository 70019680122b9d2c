// Grammar room: reading and checking single JSON Schema keywords (type, enum/const, counts,
// numeric bounds) for schema.ts.
import { GrammarError } from './errors';
import { alt, literal, type Node } from './ir';
import type { Bounds } from './numbers';

type Schema = Record<string, unknown>;
const TYPES = ['null', 'boolean', 'integer', 'number', 'string', 'array', 'object'];

export function typesOf(s: Schema, path: string): string[] {
  const t = s.type;
  if (t === undefined) return [];
  const list = Array.isArray(t) ? t : [t];
  for (const x of list) {
    if (typeof x !== 'string' || !TYPES.includes(x))
      throw new GrammarError(`unknown type ${JSON.stringify(x)}`, 'type', path);
  }
  return list as string[];
}

export function enumValues(s: Schema, types: string[], path: string): Node {
  const kw = 'const' in s ? 'const' : 'enum';
  const values = kw === 'const' ? [s.const] : s.enum;
  if (!Array.isArray(values)) throw new GrammarError('enum must be an array', 'enum', path);
  const kept = values.filter((v) => types.length === 0 || types.some((t) => hasType(v, t)));
  if (kept.length === 0) throw new GrammarError(`no ${kw} value has the schema's type`, kw, path);
  return alt(...kept.map((v) => literal(JSON.stringify(v))));
}

export function hasType(v: unknown, t: string): boolean {
  if (t === 'integer') return Number.isInteger(v);
  if (t === 'null') return v === null;
  if (t === 'array') return Array.isArray(v);
  if (t === 'object') return v !== null && typeof v === 'object' && !Array.isArray(v);
  return typeof v === t;
}

export function count(s: Schema, kw: string, path: string): number | undefined {
  const v = s[kw];
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || (v as number) < 0)
    throw new GrammarError(`${kw} must be a non-negative integer`, kw, path);
  return v as number;
}

export function bounds(s: Schema, path: string): Bounds {
  const b: Bounds = {};
  for (const kw of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'] as const) {
    if (s[kw] === undefined) continue;
    if (typeof s[kw] !== 'number') throw new GrammarError(`${kw} must be a number`, kw, path);
    b[kw] = s[kw] as number;
  }
  return b;
}
