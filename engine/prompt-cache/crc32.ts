// CRC-32 (IEEE, as zlib and PNG): the prompt-cache entry checksum. It guards against storage and
// transport damage; the chain hash in the header, not this, says which prompt an entry belongs to.
// Slicing-by-8 (Intel's, as zlib's braided CRC): eight table lookups per 8 bytes instead of one per
// byte, ~4× the bytewise loop in V8; every entry written or read (a 64-token block of DeepSeek-V3's
// latents is ~150 KB, a 2K-token hand-off between origins ~2.8 MB) pays it. crc32Reference is the plain
// bytewise twin it is tested against.

/** T[k · 256 + b]: the CRC of byte b followed by k zero bytes. */
const T = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let k = 1; k < 8; k++)
    for (let n = 0; n < 256; n++) {
      const prev = t[(k - 1) * 256 + n];
      t[k * 256 + n] = (prev >>> 8) ^ t[prev & 0xff];
    }
  return t;
})();

let native: ((bytes: Uint8Array, crc: number) => number) | null = null;

/**
 * A host's own CRC-32 for crc32 to use from now on: the origin gives it Node's zlib.crc32 (~5× this one in
 * JS: 17 against 80 µs per 82 KB hand-off block, most of a block's decode on the decode origin).
 */
export function useNativeCrc32(f: (bytes: Uint8Array, crc: number) => number): void {
  native = f;
}

/** Continues a CRC over `bytes` (start with 0); returns the unsigned CRC. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  if (native) return native(bytes, crc);
  let c = ~crc >>> 0,
    i = 0;
  const n = bytes.length;
  for (; i + 8 <= n; i += 8) {
    const a = c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    c =
      T[1792 + (a & 0xff)] ^
      T[1536 + ((a >>> 8) & 0xff)] ^
      T[1280 + ((a >>> 16) & 0xff)] ^
      T[1024 + (a >>> 24)] ^
      T[768 + bytes[i + 4]] ^
      T[512 + bytes[i + 5]] ^
      T[256 + bytes[i + 6]] ^
      T[bytes[i + 7]];
  }
  for (; i < n; i++) c = T[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** The bytewise CRC-32: crc32's reference. */
export function crc32Reference(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = T[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
