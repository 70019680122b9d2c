// `system_fingerprint`: one value per model and deployment, the same in a JSON answer and in every
// chunk of a stream, as OpenAI's (`fp_` and 10 hex digits). It changes when what answers changes:
// the tier, the backend, the weights (their digest), or the origin pool behind the Worker.

/** `fp_` + 10 hex digits of FNV-1a (64-bit) over the parts: synchronous, so any path can name it. */
export function systemFingerprint(...parts: string[]): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(parts.join('\0'))) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return `fp_${h.toString(16).padStart(16, '0').slice(0, 10)}`;
}
