// Grammar room: compiling a grammar spec (a JSON Schema, any JSON object, or a composition of
// literal text, schemas and choices, e.g. for tool calls) into a Grammar, cached by the spec's
// JSON text (property order matters to the output, so it is kept in the key).
import { Automaton } from './automaton';
import { GrammarError } from './errors';
import { alt, derivesText, literal, seq, type GrammarIR, type Node } from './ir';
import { objectOf, member, stringRef, whitespace, type JsonLayout } from './json-ir';
import { buildNfa } from './nfa';
import { SchemaCompiler } from './schema';
import type { Vocab } from './vocab';
import type { MaskCache } from './mask';

export type GrammarSpec =
  | { type: 'json_schema'; schema: unknown }
  | { type: 'json_object' }
  | { type: 'literal'; text: string }
  | { type: 'sequence'; items: GrammarSpec[] }
  | { type: 'choice'; items: GrammarSpec[] };

export interface GrammarOptions {
  /**
   * Whitespace bytes (space, \n, \t) allowed at each slot between JSON tokens and before the
   * value. Default 1: compact or `{"a": 1}` style, never an endless run of blanks.
   */
  whitespace?: number;
  /** Digits allowed in a number's integer and fraction parts. Default 15. */
  maxDigits?: number;
  /** Nesting depth of free-form values (json_object, `{}`). Default 6. */
  anyDepth?: number;
  /** Recursion bound: calls of recursive rules ($ref cycles) on the stack. Default 64. */
  maxStack?: number;
}

export class Grammar {
  readonly automaton: Automaton;
  private readonly masks = new WeakMap<Vocab, MaskCache>();

  constructor(ir: GrammarIR, maxStack: number) {
    if (!derivesText(ir))
      throw new GrammarError('the schema admits no value (e.g. a $ref to itself)', 'schema', '#');
    this.automaton = new Automaton(buildNfa(ir), maxStack);
  }

  /** Token masks per automaton state for one vocabulary, shared by all matchers of this grammar. */
  maskCache(vocab: Vocab): MaskCache {
    let m = this.masks.get(vocab);
    if (!m) this.masks.set(vocab, (m = { real: new Map(), local: new Map() }));
    return m;
  }
}

export function specToIR(spec: GrammarSpec, opts: GrammarOptions = {}): GrammarIR {
  const layout: JsonLayout = { ws: opts.whitespace ?? 1, maxDigits: opts.maxDigits ?? 15 };
  if (!(layout.ws >= 0 && layout.ws <= 16))
    throw new GrammarError('whitespace must be 0..16', 'whitespace', '#');
  const anyDepth = opts.anyDepth ?? 6;
  const rules = new Map<string, Node>();
  let schemas = 0;
  const build = (s: GrammarSpec, path: string): Node => {
    switch (s.type) {
      case 'json_schema': {
        const c = new SchemaCompiler(s.schema, `s${schemas++}`, rules, layout, anyDepth);
        return seq(whitespace(layout.ws), { k: 'ref', name: c.refRule('#', path) });
      }
      case 'json_object': {
        const c = new SchemaCompiler({}, `s${schemas++}`, rules, layout, anyDepth - 1);
        return seq(
          whitespace(layout.ws),
          objectOf(member(stringRef(rules), c.anyValue(), layout), layout),
        );
      }
      case 'literal':
        return literal(s.text);
      case 'sequence':
        return seq(...s.items.map((x, i) => build(x, `${path}/items/${i}`)));
      case 'choice':
        if (!s.items.length) throw new GrammarError('a choice needs alternatives', 'choice', path);
        return alt(...s.items.map((x, i) => build(x, `${path}/items/${i}`)));
      default:
        throw new GrammarError(`unknown grammar spec type`, 'type', path);
    }
  };
  rules.set('start', { k: 'seq', items: [] });
  rules.set('start', build(spec, '#'));
  return { rules, start: 'start' };
}

const CACHE_SIZE = 64;
const cache = new Map<string, Grammar>();

/** Compiles (or finds in the LRU cache) the grammar for a spec. Throws GrammarError. */
export function compileGrammar(spec: GrammarSpec, opts: GrammarOptions = {}): Grammar {
  const key = JSON.stringify([spec, opts]);
  let g = cache.get(key);
  if (g) {
    cache.delete(key); // re-insert: Map order is recency
  } else {
    g = new Grammar(specToIR(spec, opts), opts.maxStack ?? 64);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  }
  cache.set(key, g);
  return g;
}

export const compileSchema = (schema: unknown, opts?: GrammarOptions): Grammar =>
  compileGrammar({ type: 'json_schema', schema }, opts);

export const compileJsonObject = (opts?: GrammarOptions): Grammar =>
  compileGrammar({ type: 'json_object' }, opts);

export interface ToolSpec {
  name: string;
  /** The tool's parameters schema (absent: any JSON object). */
  parameters?: unknown;
}

/**
 * A tool call as `prefix{"name": "<tool>", "arguments": <its schema>}suffix`, one alternative per
 * tool, so the name picks the arguments' schema.
 */
export function toolCallSpec(
  tools: ToolSpec[],
  opts: { prefix?: string; suffix?: string } = {},
): GrammarSpec {
  const call = (t: ToolSpec): GrammarSpec => ({
    type: 'sequence',
    items: [
      { type: 'literal', text: `{"name": ${JSON.stringify(t.name)}, "arguments": ` },
      t.parameters === undefined
        ? { type: 'json_object' }
        : { type: 'json_schema', schema: t.parameters },
      { type: 'literal', text: '}' },
    ],
  });
  return {
    type: 'sequence',
    items: [
      { type: 'literal', text: opts.prefix ?? '' },
      { type: 'choice', items: tools.map(call) },
      { type: 'literal', text: opts.suffix ?? '' },
    ],
  };
}
