// Entries travel as base64 text: Workers KV's bulk get (up to 100 keys in one read) returns text or
// JSON only, and one read for the whole prefix matters more than the third more bytes base64 costs.
// Uses the runtime's Uint8Array.toBase64/fromBase64 where it has them, btoa/atob otherwise.

type Base64Native = { toBase64?: () => string };
type Base64Ctor = { fromBase64?: (s: string) => Uint8Array };

const CHUNK = 0x8000;

export function toBase64(bytes: Uint8Array): string {
  const native = (bytes as Base64Native).toBase64;
  if (typeof native === 'function') return native.call(bytes);
  let binary = '';
  for (let i = 0; i < bytes.length; i += CHUNK) binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(binary);
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
