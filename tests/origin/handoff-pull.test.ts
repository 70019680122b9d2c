// A decode origin's hand-off reader (origin/server/handoff-pull.ts) against a real HTTP server sending a
// hand-off stream of random latents in small, spaced writes, so blocks arrive split across network
// chunks: the rows and logits come back exactly, as views of one lent buffer that the next hand-off reuses
// once the lease is released (also after a damaged stream), stored and compressed entries alike. On a
// decode origin busy with steps (each a synchronous stretch, then a turn), a hand-off takes a few turns,
// not a step per block or per network chunk.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeLatentEntrySync,
  type LatentRows,
  type LatentShape,
  type SyncDeflate,
} from '../../engine/prompt-cache/index';
import type { KvRows, LatentAccess } from '../../origin/backend/step-backend';
import type { PrefilledPrompt } from '../../origin/scheduler/handoff';
import type { GenerationRequest } from '../../origin/scheduler/sequence';
import { handoffClient } from '../../origin/server/handoff-pull';
import { FRAME, blockHash, fastZlib, frame, jsonFrame } from '../../origin/server/handoff-wire';

const shape: LatentShape = { nLayers: 2, kvLoraRank: 16, ropeDim: 8 };
const VOCAB = 50;
/** The rows as they were read: fromLatents keeps the decoded latents themselves. */
const latents: LatentAccess = {
  shape,
  toLatents: (rows) => (rows as KvRows & { latents: LatentRows }).latents,
  fromLatents: (r) => ({ tokens: r.count, bytes: 0, latents: r }) as KvRows,
};

let seed = 1;
const random = (n: number) =>
  Float32Array.from(
    { length: n },
    () => ((seed = (seed * 48271) % 0x7fffffff) / 0x7fffffff) * 8 - 4,
  );

/** A prompt's rows per 64-token block, its logits, and its hand-off stream. */
function handoff(tokens: number, z: SyncDeflate, damage = false) {
  const promptIds = Array.from({ length: tokens }, (_, i) => (i * 7 + seed) % VOCAB);
  const blocks: LatentRows<Float32Array>[] = [];
  for (let start = 0; start < tokens; start += 64) {
    const count = Math.min(64, tokens - start),
      rows = shape.nLayers * count;
    blocks.push({
      ...shape,
      start,
      count,
      cKv: random(rows * shape.kvLoraRank),
      kPe: random(rows * shape.ropeDim),
    });
  }
  const logits = random(VOCAB);
  const frames = [
    jsonFrame(FRAME.head, { tokens, blocks: blocks.length, logits: 'f32', vocab: VOCAB }),
    ...blocks.map((b, i) =>
      frame(FRAME.entry, encodeLatentEntrySync(b, 'f32', blockHash(promptIds, [], i), z)),
    ),
    frame(FRAME.logits, new Uint8Array(logits.buffer)),
  ];
  const wire = Buffer.concat(frames);
  if (damage) wire[wire.length >> 1] ^= 0x10;
  const req = { promptIds, blockKeys: [] } as unknown as GenerationRequest;
  return { req, blocks, logits, wire };
}

const compressed: SyncDeflate = { ...fastZlib, deflate: (b) => deflateRawSync(b, { level: 6 }) };

describe('hand-off reader', () => {
  let server: Server, url: string;
  /** What the next POST is answered with: in small, spaced writes, or whole in one. */
  const next: { wire: Buffer; whole?: boolean }[] = [];
  beforeAll(async () => {
    server = createServer(async (req, res) => {
      for await (const _ of req); // the request's body (prompt ids), unread here
      const { wire, whole } = next.shift()!;
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      if (whole) return void res.end(wire);
      // writes of 1,000 to 4,000 bytes, each on its own turn: every ~6 KB block spans several reads
      for (let o = 0, k = 0; o < wire.length; k++) {
        const n = [1000, 7, 4000, 2500][k % 4];
        res.write(wire.subarray(o, (o += n)));
        await new Promise((r) => setTimeout(r, 1));
      }
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const client = () =>
    handoffClient({
      origins: [url],
      secret: 's',
      latents,
      vocabSize: VOCAB,
      maxSeqLen: 512,
      minTokens: 1,
      timeoutMs: 10_000,
    });
  const pull = async (
    c: ReturnType<typeof client>,
    h: ReturnType<typeof handoff>,
    whole = false,
  ) => {
    next.push({ wire: h.wire, whole });
    return (await c.pull(h.req, undefined, new AbortController().signal))?.prompt ?? null;
  };
  const expectSame = (got: PrefilledPrompt, h: ReturnType<typeof handoff>) => {
    expect(got.logits).toEqual(h.logits);
    expect(got.blocks.length).toBe(h.blocks.length);
    got.blocks.forEach((b, i) => {
      const r = latents.toLatents(b);
      expect([r.start, r.count]).toEqual([h.blocks[i].start, h.blocks[i].count]);
      expect(r.cKv).toEqual(h.blocks[i].cKv);
      expect(r.kPe).toEqual(h.blocks[i].kPe);
      // written into the lent buffer, not into arrays of their own
      expect(r.cKv.buffer).toBe(got.logits.buffer);
      expect(r.kPe.buffer).toBe(got.logits.buffer);
    });
  };

  it('reads every row and the logits into one lent buffer, reused once released', async () => {
    const c = client();
    const a = handoff(200, fastZlib);
    const first = (await pull(c, a))!;
    expectSame(first, a);
    // held: a second hand-off gets other memory
    const b = handoff(300, fastZlib);
    const second = (await pull(c, b))!;
    expectSame(second, b);
    expect(second.logits.buffer).not.toBe(first.logits.buffer);
    expectSame(first, a);
    first.lease!.release();
    // released: the next hand-off reads into the first one's memory, a damaged one too
    expect(await pull(c, handoff(130, fastZlib, true))).toBeNull();
    expect(c.counts).toEqual({ pulled: 2, fallback: 1 });
    const d = handoff(511, fastZlib);
    const third = (await pull(c, d))!;
    expect(third.logits.buffer).toBe(first.logits.buffer);
    expectSame(third, d);
  });

  it('takes a few event-loop turns of a busy origin, not one per block', async () => {
    const c = client();
    const h = handoff(1024, fastZlib); // 16 blocks, 197 KB
    await pull(c, handoff(64, fastZlib), true); // the connection, warm
    // the decode loop: a 2 ms step, then a turn, for as long as the hand-off runs
    let steps = 0,
      running = true;
    const step = () => {
      if (!running) return;
      steps++;
      const until = performance.now() + 2;
      while (performance.now() < until);
      setImmediate(step);
    };
    setImmediate(step);
    const got = await pull(c, h, true).finally(() => (running = false));
    expectSame(got!, h);
    expect(steps).toBeLessThanOrEqual(8);
  });

  it('reads entries deflated with compression (not stored blocks) the same way', async () => {
    const h = handoff(150, compressed);
    expectSame((await pull(client(), h))!, h);
  });
});

describe('fastZlib.inflateInto', () => {
  const bytes = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 2654435761) >>> 24);

  it.each([
    ['stored blocks', 0],
    ['compressed blocks', 6],
  ])('fills its target exactly from %s', (_, level) => {
    const deflated = deflateRawSync(bytes, { level });
    const out = new Uint8Array(bytes.length);
    fastZlib.inflateInto!(deflated, out);
    expect(Buffer.compare(out, bytes)).toBe(0);
    expect(() => fastZlib.inflateInto!(deflated, new Uint8Array(bytes.length + 1))).toThrow();
    expect(() => fastZlib.inflateInto!(deflated, new Uint8Array(bytes.length - 1))).toThrow();
  });

  it('throws on a stored block whose length check fails, or that runs past its stream', () => {
    const deflated = deflateRawSync(bytes, { level: 0 });
    const out = new Uint8Array(bytes.length);
    const bad = Uint8Array.from(deflated);
    bad[3] ^= 1; // NLEN of the first block
    expect(() => fastZlib.inflateInto!(bad, out)).toThrow(/length check/);
    expect(() => fastZlib.inflateInto!(deflated.subarray(0, 1000), out)).toThrow(/runs past/);
  });
});
