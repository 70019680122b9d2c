// MLA cases over a paged latent cache whose pages are shuffled (so page-table indirection is exercised):
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
import { prng } from '../../ops/harness';
import { readF32, upload } from '../gpu';
import { nonZero } from './inputs';
import { shapeName, type GpuCase } from './types';

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

function cacheWriteCase(l: Layout): GpuCase {
  const { d } = l,
    width = d.latent + d.rope,
    rows = l.lens.length;
  return {
    op: 'kv-cache-write',
    name: shapeName('kv-cache-write', { rows, latent: d.latent, rope: d.rope, page: l.pageSize }),
    nmse: 0,
    flops: 0,
    bytes: 8 * rows * width,
    test: true,
    bench: false,
    async prepare(gpu) {
      const c = pagedCache(121, l),
        latent = nonZero(122, rows * d.latent),
        kva = nonZero(123, rows * width);
      const info = Uint32Array.from(l.lens.flatMap((len, s) => [0, len - 1, s, 0])); // each sequence's last position
      const cache = gpuCache(gpu, c, l, new Float32Array(c.flat.length));
      const op = await kvCacheWrite(
        gpu,
        { latent: upload(gpu, latent), kva: upload(gpu, kva), rowInfo: upload(gpu, info) },
        cache,
        d,
        { maxRows: rows },
      );
      return {
        encode: (pass) => op(pass, rows),
        read: async () => ({ cache: await readF32(gpu, cache.cache, c.flat.length) }),
        reference() {
          const want = new Float32Array(c.flat.length);
          l.lens.forEach((len, s) => {
            const at =
              (c.table[s * c.maxPages + Math.floor((len - 1) / l.pageSize)] * l.pageSize +
                ((len - 1) % l.pageSize)) *
              width;
            want.set(latent.subarray(s * d.latent, (s + 1) * d.latent), at);
            want.set(kva.subarray(s * width + d.latent, (s + 1) * width), at + d.latent);
          });
          return { cache: want };
        },
      };
    },
  };
}

function decodeCase(l: Layout, scale: number): GpuCase {
  const { d } = l,
    qk = d.nope + d.rope,
    per = d.nope + d.v,
    rows = l.lens.length,
    maxT = Math.max(...l.lens);
  const ctx = l.lens.reduce((a, b) => a + b, 0);
  return {
    op: 'mla-decode',
    name: shapeName('mla-decode', {
      rows,
      heads: d.heads,
      latent: d.latent,
      rope: d.rope,
      maxT,
      page: l.pageSize,
    }),
    nmse: 1e-9,
    flops: 4 * d.heads * ctx * (d.latent + d.rope) + 4 * rows * d.heads * d.latent * (d.nope + d.v),
    bytes: 4 * (ctx * (d.latent + d.rope) + d.heads * per * d.latent),
    test: true,
    bench: false,
    async prepare(gpu) {
      const c = pagedCache(131, l),
        q = nonZero(132, rows * d.heads * qk, 0.05, 1),
        kvB = nonZero(133, d.heads * per * d.latent, 0.01, 0.2);
      const info = Uint32Array.from(l.lens.flatMap((len, s) => [0, len - 1, s, 0]));
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
          scale,
        }),
        await mlaAbsorbOut(gpu, { oLat, kvB: kvBb, out }, d, { maxRows: rows }),
      ];
      return {
        encode: (pass) => ops.forEach((op) => op(pass, rows)),
        read: async () => ({ out: await readF32(gpu, out, rows * d.heads * d.v) }),
        reference() {
          const want = new Float64Array(rows * d.heads * d.v),
            width = d.latent + d.rope;
          const scratch = {
            qLat: new Float64Array(d.latent),
            oLat: new Float64Array(d.latent),
            att: new Float64Array(maxT),
          };
          l.lens.forEach((len, t) => {
            const kv = new Float64Array(len * d.latent),
              pe = new Float64Array(len * d.rope);
            for (let j = 0; j < len; j++) {
              kv.set(c.rows[t].subarray(j * width, j * width + d.latent), j * d.latent);
              pe.set(c.rows[t].subarray(j * width + d.latent, (j + 1) * width), j * d.rope);
            }
            const qNope = new Float64Array(d.heads * d.nope),
              qPe = new Float64Array(d.heads * d.rope);
            for (let h = 0; h < d.heads; h++) {
              qNope.set(
                q.subarray(t * d.heads * qk + h * qk, t * d.heads * qk + h * qk + d.nope),
                h * d.nope,
              );
              qPe.set(
                q.subarray(t * d.heads * qk + h * qk + d.nope, t * d.heads * qk + (h + 1) * qk),
                h * d.rope,
              );
            }
            mlaAbsorbedAttention(
              want.subarray(t * d.heads * d.v, (t + 1) * d.heads * d.v),
              qNope,
              qPe,
              kvB,
              kv,
              pe,
              len,
              d,
              scale,
              scratch,
            );
          });
          return { out: want };
        },
      };
    },
  };
}

function prefillCase(l: Layout, start: number, rows: number, scale: number): GpuCase {
  const { d } = l,
    qk = d.nope + d.rope,
    per = d.nope + d.v,
    len = start + rows;
  return {
    op: 'mla-prefill',
    name: shapeName('mla-prefill', {
      rows,
      start,
      heads: d.heads,
      latent: d.latent,
      rope: d.rope,
      page: l.pageSize,
    }),
    nmse: 1e-9,
    flops: 2 * len * d.heads * per * d.latent + 2 * rows * d.heads * len * (qk + d.v),
    bytes: 4 * (len * (d.latent + d.rope) + d.heads * per * d.latent + rows * d.heads * (qk + d.v)),
    test: true,
    bench: false,
    async prepare(gpu) {
      const layout = { ...l, lens: [len] },
        c = pagedCache(141, layout);
      const q = nonZero(142, rows * d.heads * qk, 0.05, 1),
        kvB = nonZero(143, d.heads * per * d.latent, 0.01, 0.2);
      const cache = gpuCache(gpu, c, layout),
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
        scale,
      });
      return {
        encode(pass) {
          expand(pass, len);
          attend(pass, rows);
        },
        read: async () => ({ out: await readF32(gpu, out, rows * d.heads * d.v) }),
        reference() {
          const width = d.latent + d.rope,
            kRef = new Float64Array(len * d.heads * qk),
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
            mlaNaiveAttention(
              want.subarray(t * d.heads * d.v, (t + 1) * d.heads * d.v),
              q.subarray(t * d.heads * qk, (t + 1) * d.heads * qk),
              kRef,
              vRef,
              start + t + 1,
              d,
              scale,
              att,
            );
          }
          return { out: want };
        },
      };
    },
  };
}

const small: MlaDims = { heads: 4, nope: 64, rope: 32, v: 64, latent: 64 }; // the synthetic model's
const wide: MlaDims = { heads: 2, nope: 128, rope: 64, v: 128, latent: 512 }; // DeepSeek-V3's head dims

export const mlaCases: GpuCase[] = [
  cacheWriteCase({ d: small, pageSize: 4, lens: [1, 5, 9] }),
  cacheWriteCase({ d: wide, pageSize: 16, lens: [17, 3] }),
  decodeCase({ d: small, pageSize: 4, lens: [1] }, 0.1),
  decodeCase({ d: small, pageSize: 4, lens: [1, 7, 30, 13] }, 0.1),
  decodeCase({ d: wide, pageSize: 16, lens: [70, 5, 129] }, 0.05),
  prefillCase({ d: small, pageSize: 4, lens: [] }, 0, 9, 0.1),
  prefillCase({ d: small, pageSize: 8, lens: [] }, 13, 6, 0.1),
  prefillCase({ d: wide, pageSize: 16, lens: [] }, 40, 5, 0.05),
];
