// Grammar room: JSON's lexical pieces as byte grammars: whitespace, string characters (valid
// UTF-8, escapes), code-point sets as JSON string content, and any JSON value to a bounded depth.
import { alt, asciiClass, codePointRange, literal, ref, rep, seq, type Node } from './ir';
import { anyNumber } from './numbers';

/** Sorted, merged code point ranges [lo, hi, lo, hi, ...]. */
export type CodeSet = number[];

const HEX = asciiClass('0-9a-fA-F');
/** \uXXXX escapes, surrogates excluded so one escape is one code point (as validators count). */
const U_ESCAPE = seq(
  literal('\\u'),
  alt(seq(asciiClass('0-9a-cA-C'), HEX), seq(asciiClass('dD'), asciiClass('0-7'))),
  HEX,
  HEX,
);
const SHORT_ESCAPES: Record<number, string> = {
  0x22: '\\"',
  0x5c: '\\\\',
  0x08: '\\b',
  0x0c: '\\f',
  0x0a: '\\n',
  0x0d: '\\r',
  0x09: '\\t',
};

/** One character of JSON string content: any code point, raw or escaped. */
export const STRING_CHAR: Node = alt(
  codePointRange(0x20, 0x21),
  codePointRange(0x23, 0x5b),
  codePointRange(0x5d, 0x10ffff),
  seq(literal('\\'), asciiClass('"\\/bfnrt')),
  U_ESCAPE,
);

/** JSON string content for a set of code points: raw UTF-8 where JSON allows, else one escape. */
export function codeSetChar(set: CodeSet): Node {
  const parts: Node[] = [];
  for (let i = 0; i < set.length; i += 2) {
    let lo = set[i];
    const hi = set[i + 1];
    for (; lo <= hi && lo < 0x20; lo++) parts.push(literal(SHORT_ESCAPES[lo] ?? uEscape(lo)));
    for (const special of [0x22, 0x5c]) {
      if (lo <= special && special <= hi) {
        if (lo < special) parts.push(codePointRange(lo, special - 1));
        parts.push(literal(SHORT_ESCAPES[special]));
        lo = special + 1;
      }
    }
    if (lo <= hi) parts.push(codePointRange(lo, hi));
  }
  return alt(...parts);
}

const uEscape = (cp: number) => `\\u${cp.toString(16).padStart(4, '0')}`;

export const whitespace = (max: number): Node => rep(asciiClass(' \n\t'), 0, max);

export function jsonString(minLength = 0, maxLength = Infinity): Node {
  return seq(literal('"'), rep(STRING_CHAR, minLength, maxLength), literal('"'));
}

/**
 * Any JSON string, as one shared rule: every string in a grammar then has the same local state
 * (automaton.ts), so its mask is walked once however many properties hold strings.
 */
export function stringRef(rules: Map<string, Node>): Node {
  if (!rules.has('~string')) rules.set('~string', jsonString());
  return ref('~string');
}

export interface JsonLayout {
  /** Whitespace bytes allowed at each structural slot. */
  ws: number;
  maxDigits: number;
}

/** `{ W member (W , W member)* W }` / `{ W }`, members given as alternatives of whole members. */
export function objectOf(member: Node, layout: JsonLayout): Node {
  const w = whitespace(layout.ws);
  const comma = seq(w, literal(','), w);
  return seq(
    literal('{'),
    w,
    rep(seq(member, rep(seq(comma, member), 0, Infinity)), 0, 1),
    w,
    literal('}'),
  );
}

export function arrayOf(item: Node, min: number, max: number, layout: JsonLayout): Node {
  const w = whitespace(layout.ws);
  const comma = seq(w, literal(','), w);
  const items =
    max === 0
      ? seq()
      : rep(seq(item, rep(seq(comma, item), Math.max(0, min - 1), max - 1)), min > 0 ? 1 : 0, 1);
  return seq(literal('['), w, items, w, literal(']'));
}

export function member(key: Node, value: Node, layout: JsonLayout): Node {
  const w = whitespace(layout.ws);
  return seq(key, w, literal(':'), w, value);
}

/** Rules `~json<d>` for any JSON value nested at most d deep; returns the name for `depth`. */
export function anyJsonRules(rules: Map<string, Node>, depth: number, layout: JsonLayout): string {
  const name = (d: number) => `~json${d}:${layout.ws}:${layout.maxDigits}`;
  for (let d = 0; d <= depth; d++) {
    if (rules.has(name(d))) continue;
    const scalars = [
      stringRef(rules),
      anyNumber(layout.maxDigits),
      literal('true'),
      literal('false'),
      literal('null'),
    ];
    const inner = ref(name(d - 1));
    const containers =
      d === 0
        ? []
        : [
            objectOf(member(stringRef(rules), inner, layout), layout),
            arrayOf(inner, 0, Infinity, layout),
          ];
    rules.set(name(d), alt(...scalars, ...containers));
  }
  return name(depth);
}
