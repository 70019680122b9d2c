// Grammar room: the intermediate form every front end (JSON Schema, regex, composition) builds.
// A grammar is named rules over bytes: byte classes, sequences, alternatives, bounded repeats and
// references to rules (which may recurse). It is compiled to a byte NFA with call edges (nfa.ts).

export type Node =
  | { k: 'bytes'; ranges: readonly number[] } // one byte in any [lo, hi] pair of the flat list
  | { k: 'seq'; items: readonly Node[] }
  | { k: 'alt'; items: readonly Node[] }
  | { k: 'rep'; item: Node; min: number; max: number } // max may be Infinity
  | { k: 'ref'; name: string };

export interface GrammarIR {
  rules: Map<string, Node>;
  start: string;
}

export const EMPTY: Node = { k: 'seq', items: [] };
export const NEVER: Node = { k: 'alt', items: [] };

export const byteRange = (lo: number, hi = lo): Node => ({ k: 'bytes', ranges: [lo, hi] });
export const byteSet = (ranges: readonly number[]): Node => ({ k: 'bytes', ranges });
export const ref = (name: string): Node => ({ k: 'ref', name });

export function seq(...items: Node[]): Node {
  const flat = items.flatMap((n) => (n.k === 'seq' ? n.items : [n]));
  return flat.length === 1 ? flat[0] : { k: 'seq', items: flat };
}

export function alt(...items: Node[]): Node {
  const flat = items.flatMap((n) => (n.k === 'alt' ? n.items : [n]));
  return flat.length === 1 ? flat[0] : { k: 'alt', items: flat };
}

export const rep = (item: Node, min: number, max: number): Node => ({ k: 'rep', item, min, max });
export const opt = (item: Node): Node => rep(item, 0, 1);

const utf8 = new TextEncoder();

/** The exact UTF-8 bytes of `text`. */
export function literal(text: string | Uint8Array): Node {
  const bytes = typeof text === 'string' ? utf8.encode(text) : text;
  return seq(...Array.from(bytes, (b) => byteRange(b)));
}

/** ASCII character class from a string of single chars and `a-z` ranges. */
export function asciiClass(spec: string): Node {
  const ranges: number[] = [];
  for (let i = 0; i < spec.length; i++) {
    const lo = spec.charCodeAt(i);
    if (spec[i + 1] === '-' && i + 2 < spec.length) {
      ranges.push(lo, spec.charCodeAt(i + 2));
      i += 2;
    } else ranges.push(lo, lo);
  }
  return byteSet(ranges);
}

/**
 * Code points [lo, hi] as UTF-8 byte sequences (the utf8-ranges split: cut the range where the
 * encoded length changes, then where leading bytes differ, until each piece is a product of
 * byte ranges). Surrogates are left out.
 */
export function codePointRange(lo: number, hi: number): Node {
  const out: Node[] = [];
  const split = (a: number, b: number): void => {
    if (a > b) return;
    if (a <= 0xd7ff && b >= 0xd800) return (split(a, 0xd7ff), split(0xe000, b));
    if (a >= 0xd800 && a <= 0xdfff) return split(0xe000, b);
    for (const max of [0x7f, 0x7ff, 0xffff]) {
      if (a <= max && b > max) return (split(a, max), split(max + 1, b));
    }
    if (b <= 0x7f) return void out.push(byteRange(a, b));
    const n = b <= 0x7ff ? 2 : b <= 0xffff ? 3 : 4;
    for (let i = 1; i < n; i++) {
      const m = (1 << (6 * i)) - 1;
      if ((a & ~m) !== (b & ~m)) {
        if ((a & m) !== 0) return (split(a, a | m), split((a | m) + 1, b));
        if ((b & m) !== m) return (split(a, (b & ~m) - 1), split(b & ~m, b));
      }
    }
    const ea = encode(a);
    const eb = encode(b);
    out.push(seq(...ea.map((x, i) => byteRange(x, eb[i]))));
  };
  split(lo, Math.min(hi, 0x10ffff));
  return alt(...out);
}

function encode(cp: number): number[] {
  return Array.from(utf8.encode(String.fromCodePoint(cp)));
}

/** Whether the start rule derives at least one finite text (a least fixed point over the rules). */
export function derivesText(ir: GrammarIR): boolean {
  const productive = new Set<string>();
  const can = (n: Node): boolean => {
    switch (n.k) {
      case 'bytes':
        return n.ranges.length > 0;
      case 'seq':
        return n.items.every(can);
      case 'alt':
        return n.items.some(can);
      case 'rep':
        return n.min === 0 || can(n.item);
      case 'ref':
        return productive.has(n.name);
    }
  };
  for (let grew = true; grew;) {
    grew = false;
    for (const [name, body] of ir.rules) {
      if (!productive.has(name) && can(body)) {
        productive.add(name);
        grew = true;
      }
    }
  }
  return productive.has(ir.start);
}
