// The digest that names a checkpoint at both tiers: hex SHA-256 over its files (config.json and the
// safetensors), each as `name\nbyteLength\n` then its bytes, in name order. The origin computes the same
// (origin/model/load.ts filesDigest) and names it in its prompt-cache entry answers, so the Worker takes
// an origin's rows only for the weights its edge model holds, and both tiers key the prompt cache alike.
import { toHex } from '../engine/prompt-cache/blocks';

export async function checkpointDigest(files: Record<string, Uint8Array>): Promise<string> {
  const enc = new TextEncoder();
  const parts = Object.keys(files)
    .sort()
    .flatMap((name) => [enc.encode(`${name}\n${files[name].byteLength}\n`), files[name]]);
  // workerd's DigestStream hashes the parts in place; elsewhere they are joined once.
  const Stream = (crypto as { DigestStream?: typeof DigestStream }).DigestStream;
  if (Stream) {
    const stream = new Stream('SHA-256');
    const writer = stream.getWriter();
    for (const p of parts) await writer.write(p);
    await writer.close();
    return toHex(new Uint8Array(await stream.digest));
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', all)));
}
