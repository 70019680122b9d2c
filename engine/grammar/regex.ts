// Grammar room: the regex subset of JSON Schema `pattern` (ECMAScript syntax, as validators run it
// with the `u` flag) compiled to JSON string content. Supported: literals, escapes (\d \w \s and
// negations, \n \t \uXXXX \xXX, escaped punctuation), classes with ranges and negation, `.`,
// groups (capturing and `(?:`), `|`, quantifiers * + ? {n} {n,} {n,m} (lazy forms too), `^`/`$` at
// the ends. Unanchored sides match any text, as `pattern` is a search. Lookaround and
// backreferences are refused with a GrammarError.
import { GrammarError } from './errors';
import { codeSetChar, type CodeSet } from './json-ir';
import { alt, rep, seq, EMPTY, type Node } from './ir';

const MAX = 0x10ffff;
const DIGITS: CodeSet = [0x30, 0x39];
const WORD: CodeSet = [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a];
// ECMAScript WhiteSpace + LineTerminator.
const SPACE: CodeSet = normalize([
  9, 13, 0x20, 0x20, 0xa0, 0xa0, 0x1680, 0x1680, 0x2000, 0x200a, 0x2028, 0x2029, 0x202f, 0x202f,
  0x205f, 0x205f, 0x3000, 0x3000, 0xfeff, 0xfeff,
]);
const DOT: CodeSet = complement([0x0a, 0x0a, 0x0d, 0x0d, 0x2028, 0x2029]);
export const ANY_CHAR: CodeSet = [0, MAX];

export function normalize(ranges: number[]): CodeSet {
  const pairs: [number, number][] = [];
  for (let i = 0; i < ranges.length; i += 2) pairs.push([ranges[i], ranges[i + 1]]);
  pairs.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [lo, hi] of pairs) {
    if (out.length && lo <= out[out.length - 1] + 1)
      out[out.length - 1] = Math.max(out[out.length - 1], hi);
    else out.push(lo, hi);
  }
  return out;
}

export function complement(set: CodeSet): CodeSet {
  const out: number[] = [];
  let next = 0;
  for (let i = 0; i < set.length; i += 2) {
    if (set[i] > next) out.push(next, set[i] - 1);
    next = set[i + 1] + 1;
  }
  if (next <= MAX) out.push(next, MAX);
  return out;
}

/** The pattern as a grammar of JSON string content (without the quotes). */
export function compileRegex(pattern: string, path: string): Node {
  const p = new Parser(pattern, path);
  const anchoredStart = pattern.startsWith('^');
  if (anchoredStart) p.pos = 1;
  const body = p.alternation();
  let anchoredEnd = false;
  if (p.peek() === '$' && p.pos === pattern.length - 1) {
    anchoredEnd = true;
    p.pos++;
  }
  if (p.pos !== pattern.length) p.fail(`unexpected "${pattern[p.pos]}" at ${p.pos}`);
  const any = rep(codeSetChar(ANY_CHAR), 0, Infinity);
  return seq(anchoredStart ? EMPTY : any, body, anchoredEnd ? EMPTY : any);
}

class Parser {
  pos = 0;
  constructor(
    readonly src: string,
    readonly path: string,
  ) {}

  fail(why: string): never {
    throw new GrammarError(
      `unsupported pattern ${JSON.stringify(this.src)}: ${why}`,
      'pattern',
      this.path,
    );
  }

  peek(): string | undefined {
    return this.src[this.pos];
  }

  alternation(): Node {
    const items = [this.sequence()];
    while (this.peek() === '|') {
      this.pos++;
      items.push(this.sequence());
    }
    return alt(...items);
  }

  sequence(): Node {
    const items: Node[] = [];
    for (let c = this.peek(); c !== undefined && c !== '|' && c !== ')'; c = this.peek()) {
      if (c === '$' && this.pos === this.src.length - 1) break;
      items.push(this.quantified(this.atom()));
    }
    return seq(...items);
  }

  quantified(atom: Node): Node {
    const c = this.peek();
    let min: number;
    let max: number;
    if (c === '*') [min, max] = [0, Infinity];
    else if (c === '+') [min, max] = [1, Infinity];
    else if (c === '?') [min, max] = [0, 1];
    else if (c === '{' && /^\{\d+(,\d*)?\}/.test(this.src.slice(this.pos))) {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos))!;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      this.pos += m[0].length - 1;
      if (max < min || max > 1000) this.fail(`repeat {${min},${max}}`);
    } else return atom;
    this.pos++;
    if (this.peek() === '?') this.pos++; // lazy: same language
    return this.quantified(rep(atom, min, max));
  }

  atom(): Node {
    const c = this.src[this.pos++];
    if (c === '(') {
      if (this.src.startsWith('?:', this.pos)) this.pos += 2;
      else if (this.peek() === '?') this.fail('lookaround and named groups');
      const inner = this.alternation();
      if (this.src[this.pos++] !== ')') this.fail('unclosed group');
      return inner;
    }
    if (c === '[') return codeSetChar(this.charClass());
    if (c === '.') return codeSetChar(DOT);
    if (c === '\\') return codeSetChar(this.escape(false));
    if (c === '^' || c === '$') this.fail(`anchor "${c}" inside the pattern`);
    if ('*+?'.includes(c)) this.fail(`nothing to repeat before "${c}"`);
    const cp = this.src.codePointAt(this.pos - 1)!;
    if (cp > 0xffff) this.pos++;
    return codeSetChar([cp, cp]);
  }

  charClass(): CodeSet {
    const negate = this.peek() === '^';
    if (negate) this.pos++;
    const ranges: number[] = [];
    let first = true;
    while (this.peek() !== ']' || first) {
      first = false;
      if (this.peek() === undefined) this.fail('unclosed class');
      const lo = this.classAtom();
      if (
        this.peek() === '-' &&
        this.src[this.pos + 1] !== ']' &&
        lo.length === 2 &&
        lo[0] === lo[1]
      ) {
        this.pos++;
        const hi = this.classAtom();
        if (hi.length !== 2 || hi[0] !== hi[1] || hi[0] < lo[0]) this.fail('bad class range');
        ranges.push(lo[0], hi[0]);
      } else ranges.push(...lo);
    }
    this.pos++;
    const set = normalize(ranges);
    return negate ? complement(set) : set;
  }

  classAtom(): CodeSet {
    const c = this.src[this.pos++];
    if (c === '\\') return this.escape(true);
    const cp = this.src.codePointAt(this.pos - 1)!;
    if (cp > 0xffff) this.pos++;
    return [cp, cp];
  }

  escape(inClass: boolean): CodeSet {
    const c = this.src[this.pos++];
    const simple: Record<string, CodeSet> = {
      d: DIGITS,
      D: complement(DIGITS),
      w: WORD,
      W: complement(WORD),
      s: SPACE,
      S: complement(SPACE),
      n: [10, 10],
      t: [9, 9],
      r: [13, 13],
      f: [12, 12],
      v: [11, 11],
      '0': [0, 0],
    };
    if (c === undefined) this.fail('trailing backslash');
    if (c in simple) return simple[c];
    if (c === 'b' && inClass) return [8, 8];
    const hex = c === 'u' ? /^[0-9a-fA-F]{4}/ : c === 'x' ? /^[0-9a-fA-F]{2}/ : null;
    if (hex) {
      const m = hex.exec(this.src.slice(this.pos));
      if (!m) this.fail(`bad \\${c} escape`);
      this.pos += m[0].length;
      const cp = parseInt(m[0], 16);
      return [cp, cp];
    }
    if (/[A-Za-z0-9]/.test(c)) this.fail(`escape \\${c}`);
    const cp = c.codePointAt(0)!;
    return [cp, cp];
  }
}
