// Grammar room: JSON Schema (OpenAI strict structured-outputs subset) → grammar rules. Each $ref
// target becomes one rule (so recursion is a call, bounded by the automaton's stack depth); the
// rest is inlined. Anything outside the subset raises a GrammarError naming keyword and path.
import { GrammarError } from './errors';
import { alt, literal, ref, seq, EMPTY, NEVER, type Node } from './ir';
import { formatGrammar } from './formats';
import { compileRegex } from './regex';
import { anyNumber, integerBounds, integerRange, numberRange } from './numbers';
import { bounds, count, enumValues, typesOf } from './schema-keywords';
import {
  anyJsonRules,
  arrayOf,
  jsonString,
  member,
  objectOf,
  stringRef,
  whitespace,
  type JsonLayout,
} from './json-ir';

type Schema = Record<string, unknown>;

const IGNORED = new Set([
  'description',
  'title',
  '$schema',
  '$id',
  '$comment',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
  '$defs',
  'definitions',
]);
const SUPPORTED = new Set([
  'type',
  'enum',
  'const',
  'anyOf',
  '$ref',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'minItems',
  'maxItems',
  'pattern',
  'format',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
]);

export class SchemaCompiler {
  private objects = 0;

  constructor(
    private readonly root: unknown,
    /** Prefix of this schema's rule names, so several schemas share one grammar. */
    private readonly prefix: string,
    private readonly rules: Map<string, Node>,
    private readonly layout: JsonLayout,
    /** Nesting allowed inside free-form values (`{}`, `{"type": "object"}`). */
    private readonly anyDepth: number,
  ) {}

  /** The rule for a JSON pointer into the root ("#", "#/$defs/Node"); compiled once. */
  refRule(pointer: string, path: string): string {
    const name = `${this.prefix}${pointer}`;
    if (this.rules.has(name)) return name;
    if (!pointer.startsWith('#'))
      throw new GrammarError(`only local refs ("#/...") are supported`, '$ref', path);
    let target: unknown = this.root;
    for (const raw of pointer.slice(1).split('/').slice(1)) {
      const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
      target = target !== null && typeof target === 'object' ? (target as Schema)[key] : undefined;
      if (target === undefined)
        throw new GrammarError(`$ref ${pointer} resolves to nothing`, '$ref', path);
    }
    this.rules.set(name, NEVER); // placeholder: a recursive ref finds the name already taken
    this.rules.set(name, this.value(target, pointer));
    return name;
  }

  value(schema: unknown, path: string): Node {
    if (schema === true) return this.anyValue();
    if (schema === false || schema === null || typeof schema !== 'object' || Array.isArray(schema))
      throw new GrammarError('a schema must be an object (or true)', 'schema', path);
    const s = schema as Schema;
    for (const key of Object.keys(s)) {
      if (!SUPPORTED.has(key) && !IGNORED.has(key))
        throw new GrammarError(`unsupported keyword "${key}"`, key, path);
    }
    const constraints = Object.keys(s).filter((k) => SUPPORTED.has(k));
    if ('$ref' in s) {
      if (constraints.length > 1)
        throw new GrammarError(
          '$ref with sibling constraints',
          constraints.find((k) => k !== '$ref')!,
          path,
        );
      if (typeof s.$ref !== 'string') throw new GrammarError('$ref must be a string', '$ref', path);
      return ref(this.refRule(s.$ref, `${path}/$ref`));
    }
    if ('anyOf' in s) {
      if (!Array.isArray(s.anyOf) || s.anyOf.length === 0)
        throw new GrammarError('anyOf must be a non-empty array', 'anyOf', path);
      if (constraints.length > 1)
        throw new GrammarError(
          'anyOf with sibling constraints',
          constraints.find((k) => k !== 'anyOf')!,
          path,
        );
      return alt(...s.anyOf.map((sub, i) => this.value(sub, `${path}/anyOf/${i}`)));
    }
    const types = typesOf(s, path);
    if ('const' in s || 'enum' in s) return enumValues(s, types, path);
    if (types.length === 0) return this.anyValue();
    return alt(...types.map((t) => this.typed(t, s, path)));
  }

  private typed(type: string, s: Schema, path: string): Node {
    switch (type) {
      case 'null':
        return literal('null');
      case 'boolean':
        return alt(literal('true'), literal('false'));
      case 'integer': {
        const [lo, hi] = integerBounds(bounds(s, path), path);
        if (lo !== null && hi !== null && lo > hi)
          throw new GrammarError('empty integer range', 'minimum', path);
        return integerRange(lo, hi, this.layout.maxDigits);
      }
      case 'number': {
        const b = bounds(s, path);
        return Object.keys(b).length
          ? numberRange(b, path, this.layout.maxDigits)
          : anyNumber(this.layout.maxDigits);
      }
      case 'string':
        return this.string(s, path);
      case 'array': {
        const min = count(s, 'minItems', path) ?? 0;
        const max = count(s, 'maxItems', path) ?? Infinity;
        if (min > max) throw new GrammarError('minItems > maxItems', 'minItems', path);
        const item = s.items === undefined ? this.anyValue() : this.value(s.items, `${path}/items`);
        return arrayOf(item, min, max, this.layout);
      }
      default:
        return this.object(s, path);
    }
  }

  private string(s: Schema, path: string): Node {
    const min = count(s, 'minLength', path);
    const max = count(s, 'maxLength', path);
    const special = ['pattern', 'format'].filter((k) => k in s);
    if (special.length && (min !== undefined || max !== undefined || special.length > 1))
      throw new GrammarError(
        `${special[0]} combined with another string constraint`,
        special[0],
        path,
      );
    if (typeof s.format === 'string')
      return seq(literal('"'), formatGrammar(s.format, `${path}/format`), literal('"'));
    if ('format' in s) throw new GrammarError('format must be a string', 'format', path);
    if (typeof s.pattern === 'string')
      return seq(literal('"'), compileRegex(s.pattern, `${path}/pattern`), literal('"'));
    if ('pattern' in s) throw new GrammarError('pattern must be a string', 'pattern', path);
    if (max !== undefined && max > 10_000)
      throw new GrammarError('maxLength above 10000', 'maxLength', path);
    return min === undefined && max === undefined
      ? stringRef(this.rules)
      : jsonString(min ?? 0, max ?? Infinity);
  }

  private object(s: Schema, path: string): Node {
    const props = s.properties;
    const extra = s.additionalProperties;
    if (props === undefined) {
      // No declared properties: a map whose values follow additionalProperties (any JSON if absent).
      if (Array.isArray(s.required) && s.required.length)
        throw new GrammarError('required properties need declared properties', 'required', path);
      if (extra === false) return seq(literal('{'), whitespace(this.layout.ws), literal('}'));
      const value =
        extra === undefined || extra === true
          ? this.anyValue()
          : this.value(extra, `${path}/additionalProperties`);
      return objectOf(member(stringRef(this.rules), value, this.layout), this.layout);
    }
    if (props === null || typeof props !== 'object' || Array.isArray(props))
      throw new GrammarError('properties must be an object', 'properties', path);
    const names = Object.keys(props);
    const required = new Set<string>(Array.isArray(s.required) ? (s.required as string[]) : []);
    if (s.required !== undefined && !Array.isArray(s.required))
      throw new GrammarError('required must be an array', 'required', path);
    for (const r of required) {
      if (!names.includes(r))
        throw new GrammarError(`required property "${r}" is not in properties`, 'required', path);
    }
    // Declared properties only, in declared order; extra ones are never generated (always valid).
    const members = names.map((n) =>
      member(
        literal(JSON.stringify(n)),
        this.value((props as Schema)[n], `${path}/properties/${n}`),
        this.layout,
      ),
    );
    const w = whitespace(this.layout.ws);
    const comma = seq(w, literal(','), w);
    const id = `~obj:${this.prefix}:${this.objects++}:`; // a helper rule: starts with ~
    // tail(i, first): members i.. with commas; optional ones may be skipped. One rule each, so
    // skipping does not copy the rest of the object.
    const tail = (i: number, first: boolean): Node => {
      if (i === names.length) return EMPTY;
      const name = `${id}${i}${first ? 'f' : 'n'}`;
      if (!this.rules.has(name)) {
        const take = seq(first ? EMPTY : comma, members[i], tail(i + 1, false));
        this.rules.set(name, required.has(names[i]) ? take : alt(take, tail(i + 1, first)));
      }
      return ref(name);
    };
    return seq(literal('{'), w, tail(0, true), w, literal('}'));
  }

  anyValue(): Node {
    return ref(anyJsonRules(this.rules, this.anyDepth, this.layout));
  }
}
