// MLA WGSL rows of the one table (tests/ops/table.ts) over a paged latent cache whose pages are shuffled (so page-table indirection is exercised):
// cache writes; absorbed decode (absorb-q → decode attention → absorb-out) of tokens from different
// sequences at different positions against mlaAbsorbedAttention; naive prefill (expand-kv → causal
// attention) of a chunk starting mid-sequence against mlaExpandKv + mlaNaiveAttention.
import {
  mlaAbsorbedAttention,
  mlaExpandKv,
  mlaNaiveAttention,
  type MlaDims,
} from '../../../engine/deepseek/mla';
import type { Gpu } from '../../../kernels-gpu/device';
import { storageBuffer } from '../../../kernels-gpu/kernel';
import {
  kvCacheWrite,
  mlaAbsorbOut,
  mlaAbsorbQ,
  mlaDecode,
  mlaExpandKv as gpuExpandKv,
  mlaPrefill,
  type PagedCache,
} from '../../../kernels-gpu/mla';
import { opCase, prng, type Case, type OpSpec } from '../../ops/case';
import { readF32, upload } from '../gpu';
import { nonZero } from './inputs';

interface Layout {
  d: MlaDims;
  pageSize: number;
  /** Length of each sequence (slot) held in the cache. */
  lens: number[];
}

/** Contiguous per-sequence cache rows and the same rows scattered over shuffled pages. */
function pagedCache(seed: number, { d, pageSize, lens }: Layout) {
  const width = d.latent + d.rope,
    maxPages = Math.max(...lens.map((l) => Math.ceil(l / pageSize)));
  const pages = lens.reduce((a, l) => a + Math.ceil(l / pageSize), 0) + 1; // one spare page stays unused
  const r = prng(seed),
    free = Array.from({ length: pages }, (_, i) => i);
  for (let i = free.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [free[i], free[j]] = [free[j], free[i]];
  }
  const table = new Uint32Array(lens.length * maxPages);
  const rows = lens.map((len, s) => {
    for (let pg = 0; pg < Math.ceil(len / pageSize); pg++) table[s * maxPages + pg] = free.pop()!;
    return nonZero(seed + 10 + s, len * width, 0.05, 1); // [len, latent + rope]
  });
  const flat = new Float32Array(pages * pageSize * width);
  rows.forEach((v, s) => {
    for (let j = 0; j < lens[s]; j++)
      flat.set(
        v.subarray(j * width, (j + 1) * width),
        (table[s * maxPages + Math.floor(j / pageSize)] * pageSize + (j % pageSize)) * width,
      );
  });
  return { rows, table, flat, pages, maxPages };
}

function gpuCache(
  gpu: Gpu,
  c: ReturnType<typeof pagedCache>,
  l: Layout,
  data: Float32Array = c.flat,
): PagedCache {
  return {
    cache: upload(gpu, data, 'cache'),
    pageTable: upload(gpu, c.table),
    pages: c.pages,
    pageSize: l.pageSize,
    slots: l.lens.length,
    maxPages: c.maxPages,
  };
}

const DIMS = {
  small: { heads: 4, nope: 64, rope: 32, v: 64, latent: 64 }, // the synthetic model's
  wide: { heads: 2, nope: 128, rope: 64, v: 128, latent: 512 }, // DeepSeek-V3's head dims
} satisfies Record<string, MlaDims>;

interface CacheShape {
  dims: keyof typeof DIMS;
  page: number;
  /** Length of each sequence (slot) in the cache, comma-separated. */
  lens: string;
}

const layoutOf = (s: CacheShape): Layout => ({
  d: DIMS[s.dims],
  pageSize: s.page,
  lens: s.lens.split(',').map(Number),
});

/** A cache position's offset in the flat paged cache. */
function cacheAt(c: ReturnType<typeof pagedCache>, l: Layout, slot: number, pos: number): number {
  const page = c.table[slot * c.maxPages + Math.floor(pos / l.pageSize)];
  return (page * l.pageSize + (pos % l.pageSize)) * (l.d.latent + l.d.rope);
}

interface WriteHost {
  c: ReturnType<typeof pagedCache>;
  latent: Float32Array;
  kva: Float32Array;
}

const cacheWriteSpec: OpSpec<never, CacheShape, WriteHost> = {
  setup(s) {
    const l = layoutOf(s),
      rows = l.lens.length,
      width = l.d.latent + l.d.rope;
    return {
      c: pagedCache(121, l),
      latent: nonZero(122, rows * l.d.latent),
      kva: nonZero(123, rows * width),
    };
  },
  checks({ c, latent, kva }, s) {
    const l = layoutOf(s),
      { d } = l,
      width = d.latent + d.rope;
    const want = new Float32Array(c.flat.length);
    l.lens.forEach((len, slot) => {
      const at = cacheAt(c, l, slot, len - 1);
      want.set(latent.subarray(slot * d.latent, (slot + 1) * d.latent), at);
      want.set(kva.subarray(slot * width + d.latent, (slot + 1) * width), at + d.latent);
    });
    return [{ output: 'cache', label: 'vs the rows written at each last position', want }];
  },
  cost(s) {
    const { d, lens } = layoutOf(s);
    return { flops: 0, bytes: 8 * lens.length * (d.latent + d.rope) };
  },
  async gpu(gpu, { c, latent, kva }, s) {
    const l = layoutOf(s),
      rows = l.lens.length;
    const info = Uint32Array.from(l.lens.flatMap((len, slot) => [0, len - 1, slot, 0])); // each sequence's last position
    const cache = gpuCache(gpu, c, l, new Float32Array(c.flat.length));
    const op = await kvCacheWrite(
      gpu,
      { latent: upload(gpu, latent), kva: upload(gpu, kva), rowInfo: upload(gpu, info) },
      cache,
      l.d,
      { maxRows: rows },
    );
    return {
      encode: (pass) => op(pass, rows),
      read: async () => ({ cache: await readF32(gpu, cache.cache, c.flat.length) }),
    };
  },
};

interface DecodeShape extends CacheShape {
  scale: number;
}

interface DecodeHost {
  c: ReturnType<typeof pagedCache>;
  q: Float32Array;
  kvB: Float32Array;
}

const decodeSpec: OpSpec<never, DecodeShape, DecodeHost> = {
  setup(s) {
    const { d, lens } = layoutOf(s);
    return {
      c: pagedCache(131, layoutOf(s)),
      q: nonZero(132, lens.length * d.heads * (d.nope + d.rope), 0.05, 1),
      kvB: nonZero(133, d.heads * (d.nope + d.v) * d.latent, 0.01, 0.2),
    };
  },
  checks({ c, q, kvB }, s) {
    const { d, lens } = layoutOf(s),
      qk = d.nope + d.rope,
      width = d.latent + d.rope;
    const want = new Float64Array(lens.length * d.heads * d.v);
    const scratch = {
      qLat: new Float64Array(d.latent),
      oLat: new Float64Array(d.latent),
      att: new Float64Array(Math.max(...lens)),
    };
    lens.forEach((len, t) => {
      const kv = new Float64Array(len * d.latent),
        pe = new Float64Array(len * d.rope);
      for (let j = 0; j < len; j++) {
        kv.set(c.rows[t].subarray(j * width, j * width + d.latent), j * d.latent);
        pe.set(c.rows[t].subarray(j * width + d.latent, (j + 1) * width), j * d.rope);
      }
      const qNope = new Float64Array(d.heads * d.nope),
        qPe = new Float64Array(d.heads * d.rope);
      for (let h = 0; h < d.heads; h++) {
        const at = t * d.heads * qk + h * qk;
        qNope.set(q.subarray(at, at + d.nope), h * d.nope);
        qPe.set(q.subarray(at + d.nope, at + qk), h * d.rope);
      }
      const o = want.subarray(t * d.heads * d.v, (t + 1) * d.heads * d.v);
      mlaAbsorbedAttention(o, qNope, qPe, kvB, kv, pe, len, d, s.scale, scratch);
    });
    return [{ output: 'out', label: 'vs float64 mlaAbsorbedAttention', want }];
  },
  cost(s) {
    const { d, lens } = layoutOf(s),
      ctx = lens.reduce((a, b) => a + b, 0),
      rows = lens.length;
    return {
      flops:
        4 * d.heads * ctx * (d.latent + d.rope) + 4 * rows * d.heads * d.latent * (d.nope + d.v),
      bytes: 4 * (ctx * (d.latent + d.rope) + d.heads * (d.nope + d.v) * d.latent),
    };
  },
  async gpu(gpu, { c, q, kvB }, s) {
    const l = layoutOf(s),
      { d } = l,
      rows = l.lens.length,
      maxT = Math.max(...l.lens);
    const info = Uint32Array.from(l.lens.flatMap((len, slot) => [0, len - 1, slot, 0]));
    const cache = gpuCache(gpu, c, l),
      buf = (n: number, label: string) => storageBuffer(gpu, 4 * n, label);
    const qb = upload(gpu, q),
      kvBb = upload(gpu, kvB),
      rowInfo = upload(gpu, info);
    const qLat = buf(rows * d.heads * d.latent, 'qLat'),
      oLat = buf(rows * d.heads * d.latent, 'oLat');
    const att = buf(rows * d.heads * maxT, 'att'),
      out = buf(rows * d.heads * d.v, 'out');
    const ops = [
      await mlaAbsorbQ(gpu, { q: qb, kvB: kvBb, qLat }, d, { maxRows: rows }),
      await mlaDecode(gpu, { qLat, q: qb, rowInfo, att, oLat }, cache, d, {
        maxRows: rows,
        maxT,
        scale: s.scale,
      }),
      await mlaAbsorbOut(gpu, { oLat, kvB: kvBb, out }, d, { maxRows: rows }),
    ];
    return {
      encode: (pass) => ops.forEach((op) => op(pass, rows)),
      read: async () => ({ out: await readF32(gpu, out, rows * d.heads * d.v) }),
    };
  },
};

interface PrefillShape {
  dims: keyof typeof DIMS;
  page: number;
  /** The chunk's first position and its length. */
  start: number;
  rows: number;
  scale: number;
}

const prefillLayout = (s: PrefillShape): Layout => ({
  d: DIMS[s.dims],
  pageSize: s.page,
  lens: [s.start + s.rows],
});

const prefillSpec: OpSpec<never, PrefillShape, DecodeHost> = {
  setup(s) {
    const d = DIMS[s.dims];
    return {
      c: pagedCache(141, prefillLayout(s)),
      q: nonZero(142, s.rows * d.heads * (d.nope + d.rope), 0.05, 1),
      kvB: nonZero(143, d.heads * (d.nope + d.v) * d.latent, 0.01, 0.2),
    };
  },
  checks({ c, q, kvB }, { dims, start, rows, scale }) {
    const d = DIMS[dims],
      qk = d.nope + d.rope,
      width = d.latent + d.rope,
      len = start + rows;
    const kRef = new Float64Array(len * d.heads * qk),
      vRef = new Float64Array(len * d.heads * d.v);
    for (let j = 0; j < len; j++) {
      const row = c.rows[0].subarray(j * width, (j + 1) * width);
      mlaExpandKv(
        kRef.subarray(j * d.heads * qk, (j + 1) * d.heads * qk),
        vRef.subarray(j * d.heads * d.v, (j + 1) * d.heads * d.v),
        row.subarray(0, d.latent),
        row.subarray(d.latent),
        kvB,
        d,
      );
    }
    const want = new Float64Array(rows * d.heads * d.v),
      att = new Float64Array(len);
    for (let t = 0; t < rows; t++) {
      const o = want.subarray(t * d.heads * d.v, (t + 1) * d.heads * d.v);
      const qt = q.subarray(t * d.heads * qk, (t + 1) * d.heads * qk);
      mlaNaiveAttention(o, qt, kRef, vRef, start + t + 1, d, scale, att);
    }
    return [{ output: 'out', label: 'vs float64 mlaExpandKv + mlaNaiveAttention', want }];
  },
  cost({ dims, start, rows }) {
    const d = DIMS[dims],
      qk = d.nope + d.rope,
      per = d.nope + d.v,
      len = start + rows;
    return {
      flops: 2 * len * d.heads * per * d.latent + 2 * rows * d.heads * len * (qk + d.v),
      bytes:
        4 * (len * (d.latent + d.rope) + d.heads * per * d.latent + rows * d.heads * (qk + d.v)),
    };
  },
  async gpu(gpu, { c, q, kvB }, s) {
    const l = prefillLayout(s),
      { d } = l,
      { rows, start } = s,
      qk = d.nope + d.rope,
      len = start + rows;
    const cache = gpuCache(gpu, c, l),
      buf = (n: number, label: string) => storageBuffer(gpu, 4 * n, label);
    const k = buf(len * d.heads * qk, 'k'),
      v = buf(len * d.heads * d.v, 'v');
    const att = buf(rows * d.heads * len, 'att'),
      out = buf(rows * d.heads * d.v, 'out');
    const expand = await gpuExpandKv(gpu, { kvB: upload(gpu, kvB), k, v }, cache, d, {
      maxLen: len,
      slot: 0,
    });
    const attend = await mlaPrefill(gpu, { q: upload(gpu, q), k, v, att, out }, d, {
      maxRows: rows,
      maxT: len,
      start,
      scale: s.scale,
    });
    return {
      encode(pass) {
        expand(pass, len);
        attend(pass, rows);
      },
      read: async () => ({ out: await readF32(gpu, out, rows * d.heads * d.v) }),
    };
  },
};

const write = (dims: keyof typeof DIMS, page: number, lens: string) =>
  opCase('kv-cache-write', cacheWriteSpec, { dims, page, lens }, 0);
const decode = (dims: keyof typeof DIMS, page: number, lens: string, scale: number) =>
  opCase('mla-decode', decodeSpec, { dims, page, lens, scale }, 1e-9);
const prefill = (
  dims: keyof typeof DIMS,
  page: number,
  start: number,
  rows: number,
  scale: number,
) => opCase('mla-prefill', prefillSpec, { dims, page, start, rows, scale }, 1e-9);

export const mlaCases: Case[] = [
  write('small', 4, '1,5,9'),
  write('wide', 16, '17,3'),
  decode('small', 4, '1', 0.1),
  decode('small', 4, '1,7,30,13', 0.1),
  decode('wide', 16, '70,5,129', 0.05),
  prefill('small', 4, 0, 9, 0.1),
  prefill('small', 8, 13, 6, 0.1),
  prefill('wide', 16, 40, 5, 0.05),
];
