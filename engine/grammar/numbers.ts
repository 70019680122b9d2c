// Grammar room: JSON numbers as byte grammars, with exact integer ranges. Digit counts are bounded
// (`maxDigits`) so a tiny model cannot loop on digits forever.
import { GrammarError } from './errors';
import { alt, asciiClass, byteRange, literal, opt, rep, seq, EMPTY, NEVER, type Node } from './ir';

const DIGIT = asciiClass('0-9');
const NONZERO = asciiClass('1-9');

/** Decimal naturals in [lo, hi] without leading zeros; hi may be null (unbounded, up to maxDigits). */
export function naturalRange(lo: bigint, hi: bigint | null, maxDigits: number): Node {
  if (lo < 0n) lo = 0n;
  const cap = 10n ** BigInt(maxDigits) - 1n;
  const top = hi === null || hi > cap ? cap : hi;
  if (lo > top) return NEVER;
  const a = lo.toString();
  const b = top.toString();
  const parts: Node[] = [];
  for (let len = a.length; len <= b.length; len++) {
    const from = len === a.length ? a : `1${'0'.repeat(len - 1)}`;
    const to = len === b.length ? b : '9'.repeat(len);
    parts.push(sameLength(from, to));
  }
  return alt(...parts);
}

/** Digit strings of equal length between x and y (inclusive), lexicographic = numeric. */
function sameLength(x: string, y: string): Node {
  if (x.length === 0) return EMPTY;
  const x0 = x.charCodeAt(0);
  const y0 = y.charCodeAt(0);
  const restX = x.slice(1);
  const restY = y.slice(1);
  if (x0 === y0) return seq(byteRange(x0), sameLength(restX, restY));
  const n = restX.length;
  const parts: Node[] = [];
  const allZero = /^0*$/.test(restX);
  const allNine = /^9*$/.test(restY);
  const lo = allZero ? x0 : x0 + 1;
  const hi = allNine ? y0 : y0 - 1;
  if (!allZero) parts.push(seq(byteRange(x0), sameLength(restX, '9'.repeat(n))));
  if (lo <= hi) parts.push(seq(byteRange(lo, hi), rep(DIGIT, n, n)));
  if (!allNine) parts.push(seq(byteRange(y0), sameLength('0'.repeat(n), restY)));
  return alt(...parts);
}

/** Integers in [lo, hi] (null = unbounded on that side). */
export function integerRange(lo: bigint | null, hi: bigint | null, maxDigits: number): Node {
  const parts: Node[] = [];
  if (lo === null || lo < 0n) {
    // -n for n in [max(1, -hi), -lo]: never "-0".
    const nLo = hi !== null && hi < 0n ? -hi : 1n;
    parts.push(seq(literal('-'), naturalRange(nLo, lo === null ? null : -lo, maxDigits)));
  }
  if (hi === null || hi >= 0n)
    parts.push(naturalRange(lo !== null && lo > 0n ? lo : 0n, hi, maxDigits));
  return alt(...parts);
}

/** A fraction with at least one non-zero digit. */
function nonZeroFraction(maxDigits: number): Node {
  const half = Math.max(1, maxDigits >> 1);
  return seq(literal('.'), rep(DIGIT, 0, half - 1), NONZERO, rep(DIGIT, 0, maxDigits - half));
}

/** Any JSON number (bounded digits, 2-digit exponent so values stay finite). */
export function anyNumber(maxDigits: number): Node {
  return seq(
    opt(literal('-')),
    alt(literal('0'), seq(NONZERO, rep(DIGIT, 0, maxDigits - 1))),
    opt(seq(literal('.'), rep(DIGIT, 1, maxDigits))),
    opt(seq(asciiClass('eE'), opt(asciiClass('+-')), rep(DIGIT, 1, 2))),
  );
}

export interface Bounds {
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

/** Integer bounds as an inclusive [lo, hi] (null when open). */
export function integerBounds(b: Bounds, path: string): [bigint | null, bigint | null] {
  let lo: bigint | null = null;
  let hi: bigint | null = null;
  const big = (v: number, kw: string) => {
    if (!Number.isFinite(v) || Math.abs(v) > Number.MAX_SAFE_INTEGER)
      throw new GrammarError(`${kw} must be a finite number within ±2^53`, kw, path);
    return BigInt(v);
  };
  const raise = (v: bigint) => (lo = lo === null || v > lo ? v : lo);
  const lower = (v: bigint) => (hi = hi === null || v < hi ? v : hi);
  if (b.minimum !== undefined) raise(big(Math.ceil(b.minimum), 'minimum'));
  if (b.exclusiveMinimum !== undefined)
    raise(big(Math.floor(b.exclusiveMinimum), 'exclusiveMinimum') + 1n);
  if (b.maximum !== undefined) lower(big(Math.floor(b.maximum), 'maximum'));
  if (b.exclusiveMaximum !== undefined)
    lower(big(Math.ceil(b.exclusiveMaximum), 'exclusiveMaximum') - 1n);
  return [lo, hi];
}

/**
 * Numbers within integer-valued bounds: the integers in range, plus n.f (f ≠ 0) for each integer
 * n whose open interval (n, n+1) lies inside. Non-integer bounds on `number` are refused.
 */
export function numberRange(b: Bounds, path: string, maxDigits: number): Node {
  for (const kw of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'] as const) {
    const v = b[kw];
    if (v !== undefined && !Number.isInteger(v))
      throw new GrammarError('only integer-valued bounds are supported on numbers', kw, path);
  }
  const [lo, hi] = integerBounds(b, path);
  const loOpen = b.minimum ?? b.exclusiveMinimum; // the real (possibly exclusive) lower edge
  const hiOpen = b.maximum ?? b.exclusiveMaximum;
  const fracLo =
    loOpen === undefined ? null : BigInt(Math.max(loOpen, b.exclusiveMinimum ?? -Infinity));
  const fracHi =
    hiOpen === undefined ? null : BigInt(Math.min(hiOpen, b.exclusiveMaximum ?? Infinity)) - 1n;
  const parts: Node[] = [integerRange(lo, hi, maxDigits)];
  const frac = nonZeroFraction(maxDigits);
  // n >= 0: "n.f"; n < 0: "-m.f" with m = -n - 1.
  if (fracHi === null || fracHi >= 0n)
    parts.push(
      seq(naturalRange(fracLo !== null && fracLo > 0n ? fracLo : 0n, fracHi, maxDigits), frac),
    );
  if (fracLo === null || fracLo < 0n) {
    const mLo = fracHi !== null && fracHi < 0n ? -fracHi - 1n : 0n;
    parts.push(
      seq(literal('-'), naturalRange(mLo, fracLo === null ? null : -fracLo - 1n, maxDigits), frac),
    );
  }
  return alt(...parts);
}
