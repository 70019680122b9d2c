// Prompt-cache block keys, on the edge cache's boundaries: a prompt is cut into 64-token blocks from
// position 0 (BOS included) and block i's key hashes every token up to its end, by chaining:
//   h0 = SHA-256("pc:v1\0" ‖ salt ‖ "\0" ‖ tokens[0, 64) as u32 LE)
//   hi = SHA-256(h(i-1) ‖ tokens[64i, 64i + 64) as u32 LE)
// The salt (the tenant, from the `x-cache-salt` header the Worker sets) seeds the chain, so two tenants
// never share a block. Only whole blocks have keys; a trailing partial block is always recomputed.
import { createHash } from 'node:crypto';

export const BLOCK_TOKENS = 64;

/** Hex keys of the whole blocks among the first `limit` tokens (default: all). */
export function chainBlockHashes(tokens: readonly number[], salt: string, limit = tokens.length): string[] {
  const blocks = Math.floor(Math.min(limit, tokens.length) / BLOCK_TOKENS);
  const keys: string[] = [];
  const words = new Uint32Array(BLOCK_TOKENS);
  const bytes = new Uint8Array(words.buffer);
  const le = new DataView(words.buffer);
  let prev: Buffer = Buffer.concat([Buffer.from('pc:v1\0'), Buffer.from(salt, 'utf8'), Buffer.from('\0')]);
  for (let b = 0; b < blocks; b++) {
    for (let i = 0; i < BLOCK_TOKENS; i++) le.setUint32(i * 4, tokens[b * BLOCK_TOKENS + i], true);
    prev = createHash('sha256').update(prev).update(bytes).digest();
    keys.push(prev.toString('hex'));
  }
  return keys;
}
