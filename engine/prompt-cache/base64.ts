// Entries travel as base64 text: Workers KV's bulk get (up to 100 keys in one read) returns text or
// JSON only, and one read for the whole prefix matters more than the third more bytes base64 costs.
// Uses the runtime's Uint8Array.toBase64/fromBase64 where it has them; else a table encoder (btoa
// over a binary string is slow in Node) and atob.

type Base64Native = { toBase64?: () => string };
type Base64Ctor = { fromBase64?: (s: string) => Uint8Array };

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** Two base64 characters (as their char codes) for every 12-bit value. */
const PAIRS = (() => {
  const t = new Uint16Array(4096);
  for (let v = 0; v < 4096; v++)
    t[v] = ALPHABET.charCodeAt(v >> 6) | (ALPHABET.charCodeAt(v & 63) << 8);
  return t;
})();
const PAD = 61; // '='

export function toBase64(bytes: Uint8Array): string {
  const native = (bytes as Base64Native).toBase64;
  if (typeof native === 'function') return native.call(bytes);
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4);
  const pairs = new Uint16Array(out.buffer);
  const whole = bytes.length - (bytes.length % 3);
  let o = 0;
  for (let i = 0; i < whole; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    pairs[o++] = PAIRS[v >> 12];
    pairs[o++] = PAIRS[v & 0xfff];
  }
  const rest = bytes.length - whole;
  if (rest > 0) {
    const v = (bytes[whole] << 16) | (rest === 2 ? bytes[whole + 1] << 8 : 0);
    pairs[o++] = PAIRS[v >> 12];
    pairs[o] = PAIRS[v & 0xfff];
    out[out.length - 1] = PAD;
    if (rest === 1) out[out.length - 2] = PAD;
  }
  return new TextDecoder().decode(out); // ASCII, so UTF-8 reads it as is
}

/** Bytes of a base64 string, or null when it is not base64. */
export function fromBase64(text: string): Uint8Array | null {
  try {
    const native = (Uint8Array as Base64Ctor).fromBase64;
    if (typeof native === 'function') return native(text);
    const binary = atob(text);
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}
