// Money as integers. Balances, costs and the ledger hold whole nano-units (1e-9 of the currency);
// prices hold whole micro-units per million tokens (= pico-units per token). Decimal text is parsed
// and printed exactly, so no amount ever passes through a binary float.

/** Nano-units per whole unit of currency. */
export const NANOS_PER_UNIT = 1_000_000_000;

/** Parses "0.014" or 0.014 into an integer of 10^-scale units; throws on extra decimals or a bad value. */
export function parseDecimal(value: string | number, scale: number): number {
  const text = typeof value === 'number' ? numberToPlain(value) : value.trim();
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw new Error(`not a non-negative decimal amount: ${JSON.stringify(value)}`);
  const frac = (m[2] ?? '').replace(/0+$/, '');
  if (frac.length > scale) throw new Error(`${text} has more than ${scale} decimals`);
  const units = Number(m[1]) * 10 ** scale + Number(frac.padEnd(scale, '0') || '0');
  if (!Number.isSafeInteger(units)) throw new Error(`${text} is too large`);
  return units;
}

/** An amount of currency ("12.5") in nano-units. */
export const parseAmount = (value: string | number): number => parseDecimal(value, 9);

/** Exact decimal text of nano-units, trailing zeros trimmed to at least `minDecimals`. */
export function formatAmount(nanos: number, minDecimals = 2): string {
  if (!Number.isSafeInteger(nanos)) throw new Error(`amount ${nanos} is not a safe integer`);
  const sign = nanos < 0 ? '-' : '';
  const abs = Math.abs(nanos);
  const whole = Math.floor(abs / NANOS_PER_UNIT);
  let frac = String(abs % NANOS_PER_UNIT).padStart(9, '0');
  while (frac.length > minDecimals && frac.endsWith('0')) frac = frac.slice(0, -1);
  return frac ? `${sign}${whole}.${frac}` : `${sign}${whole}`;
}

/** A JSON number as plain decimal text ("1e-7" would otherwise slip past the parser). */
function numberToPlain(n: number): string {
  if (!Number.isFinite(n) || n < 0) throw new Error(`not a non-negative amount: ${n}`);
  const text = String(n);
  return text.includes('e') ? n.toFixed(20) : text;
}
