// Host wrappers of the MLA kernels over a paged latent KV cache: cache writes, the absorbed decode path
// (absorb-q → decode attention → absorb-out) and the naive prefill path (expand-kv → prefill attention).
import type { MlaDims } from '../engine/deepseek/mla';
import type { Gpu } from './device';
import { check, checkSize, grid, KernelCall, pipeline, type GpuOp } from './kernel';

/** One layer's paged latent cache: rows of [kv_norm(c_kv) | k_pe], pages of `pageSize` positions. */
export interface PagedCache {
  cache: GPUBuffer; // [pages · pageSize, latent + rope] f32
  pageTable: GPUBuffer; // [slots, maxPages] u32 page ids
  pages: number;
  pageSize: number;
  slots: number;
  maxPages: number;
}

const rowsIn = (op: string, rows: number, max: number) =>
  check(rows >= 1 && rows <= max, op, `rows ${rows} outside 1..${max}`);

function checkCache(op: string, c: PagedCache, d: MlaDims): void {
  check(
    d.latent % 4 === 0 && d.rope % 4 === 0,
    op,
    `latent (${d.latent}) and rope (${d.rope}) dims must be multiples of 4`,
  );
  checkSize(
    op,
    'cache',
    c.cache,
    c.pages * c.pageSize * (d.latent + d.rope),
    `[${c.pages}·${c.pageSize}, ${d.latent}+${d.rope}]`,
  );
  checkSize(op, 'pageTable', c.pageTable, c.slots * c.maxPages, `[${c.slots}, ${c.maxPages}] u32`);
}

/** Writes each row's [latent | k_pe] (k_pe from kva at offset latent) at its (slot, pos) in the cache. */
export async function kvCacheWrite(
  gpu: Gpu,
  b: { latent: GPUBuffer; kva: GPUBuffer; rowInfo: GPUBuffer },
  c: PagedCache,
  d: MlaDims,
  s: { maxRows: number },
): Promise<GpuOp> {
  const op = 'kvCacheWrite',
    width = d.latent + d.rope;
  checkCache(op, c, d);
  checkSize(op, 'latent', b.latent, s.maxRows * d.latent, `[${s.maxRows}, ${d.latent}]`);
  checkSize(op, 'kva', b.kva, s.maxRows * width, `[${s.maxRows}, ${width}]`);
  checkSize(op, 'rowInfo', b.rowInfo, s.maxRows * 4, `[${s.maxRows}] × 4 u32`);
  const call = new KernelCall(
    gpu,
    await pipeline(gpu, 'kv-cache-write'),
    op,
    [b.latent, b.kva, c.pageTable, b.rowInfo, c.cache],
    6,
  );
  return (pass, rows) => {
    rowsIn(op, rows, s.maxRows);
    call.record(
      pass,
      [rows, d.latent, d.rope, width, c.pageSize, c.maxPages],
      [],
      grid(Math.ceil((rows * width) / 64)),
    );
  };
}

/** qLat[rows, heads, latent] = q_nope · W_UK per head. */
export async function mlaAbsorbQ(
  gpu: Gpu,
  b: { q: GPUBuffer; kvB: GPUBuffer; qLat: GPUBuffer },
  d: MlaDims,
  s: { maxRows: number },
): Promise<GpuOp> {
  const op = 'mlaAbsorbQ',
    qk = d.nope + d.rope,
    per = d.nope + d.v;
  check(d.latent % 4 === 0, op, `latent ${d.latent} must be a multiple of 4`);
  checkSize(op, 'q', b.q, s.maxRows * d.heads * qk, `[${s.maxRows}, ${d.heads}·${qk}]`);
  checkSize(op, 'kvB', b.kvB, d.heads * per * d.latent, `[${d.heads}·${per}, ${d.latent}]`);
  checkSize(
    op,
    'qLat',
    b.qLat,
    s.maxRows * d.heads * d.latent,
    `[${s.maxRows}, ${d.heads}, ${d.latent}]`,
  );
  const call = new KernelCall(
    gpu,
    await pipeline(gpu, 'mla-absorb-q'),
    op,
    [b.q, b.kvB, b.qLat],
    6,
  );
  return (pass, rows) => {
    rowsIn(op, rows, s.maxRows);
    call.record(
      pass,
      [rows, d.heads, d.nope, qk, per, d.latent / 4],
      [],
      grid(Math.ceil((rows * d.heads * d.latent) / 4 / 64)),
    );
  };
}

/** oLat[rows, heads, latent]: each row attends over positions 0..pos of its own sequence's pages. */
export async function mlaDecode(
  gpu: Gpu,
  b: { qLat: GPUBuffer; q: GPUBuffer; rowInfo: GPUBuffer; att: GPUBuffer; oLat: GPUBuffer },
  c: PagedCache,
  d: MlaDims,
  s: { maxRows: number; maxT: number; scale: number },
): Promise<GpuOp> {
  const op = 'mlaDecode',
    qk = d.nope + d.rope;
  checkCache(op, c, d);
  check(
    s.maxT <= c.maxPages * c.pageSize,
    op,
    `maxT ${s.maxT} exceeds what a page-table row holds (${c.maxPages}·${c.pageSize})`,
  );
  checkSize(
    op,
    'qLat',
    b.qLat,
    s.maxRows * d.heads * d.latent,
    `[${s.maxRows}, ${d.heads}, ${d.latent}]`,
  );
  checkSize(op, 'q', b.q, s.maxRows * d.heads * qk, `[${s.maxRows}, ${d.heads}·${qk}]`);
  checkSize(op, 'rowInfo', b.rowInfo, s.maxRows * 4, `[${s.maxRows}] × 4 u32`);
  checkSize(
    op,
    'att',
    b.att,
    s.maxRows * d.heads * s.maxT,
    `[${s.maxRows}, ${d.heads}, ${s.maxT}]`,
  );
  checkSize(
    op,
    'oLat',
    b.oLat,
    s.maxRows * d.heads * d.latent,
    `[${s.maxRows}, ${d.heads}, ${d.latent}]`,
  );
  check(
    d.heads <= 65535 && s.maxRows <= 65535,
    op,
    'heads and rows must fit one dispatch dimension',
  );
  const buffers = [b.qLat, b.q, c.cache, c.pageTable, b.rowInfo, b.att, b.oLat];
  const call = new KernelCall(gpu, await pipeline(gpu, 'mla-decode'), op, buffers, 9);
  return (pass, rows) => {
    rowsIn(op, rows, s.maxRows);
    call.record(
      pass,
      [d.heads, d.latent, d.rope, qk, d.nope, c.pageSize, c.maxPages, s.maxT],
      [s.scale],
      [d.heads, rows],
    );
  };
}

/** out[rows, heads·v] = oLat · W_UVᵀ per head. */
export async function mlaAbsorbOut(
  gpu: Gpu,
  b: { oLat: GPUBuffer; kvB: GPUBuffer; out: GPUBuffer },
  d: MlaDims,
  s: { maxRows: number },
): Promise<GpuOp> {
  const op = 'mlaAbsorbOut',
    per = d.nope + d.v;
  check(d.latent % 4 === 0, op, `latent ${d.latent} must be a multiple of 4`);
  checkSize(
    op,
    'oLat',
    b.oLat,
    s.maxRows * d.heads * d.latent,
    `[${s.maxRows}, ${d.heads}, ${d.latent}]`,
  );
  checkSize(op, 'kvB', b.kvB, d.heads * per * d.latent, `[${d.heads}·${per}, ${d.latent}]`);
  checkSize(op, 'out', b.out, s.maxRows * d.heads * d.v, `[${s.maxRows}, ${d.heads}·${d.v}]`);
  const call = new KernelCall(
    gpu,
    await pipeline(gpu, 'mla-absorb-out'),
    op,
    [b.oLat, b.kvB, b.out],
    6,
  );
  return (pass, rows) => {
    rowsIn(op, rows, s.maxRows);
    call.record(
      pass,
      [rows, d.heads, d.nope, d.v, per, d.latent / 4],
      [],
      grid(Math.ceil((rows * d.heads * d.v) / 64)),
    );
  };
}

/** One sequence's cached positions 0..len-1 → k[len, heads, nope+rope], v[len, heads, v]. `rows` is len here. */
export async function mlaExpandKv(
  gpu: Gpu,
  b: { kvB: GPUBuffer; k: GPUBuffer; v: GPUBuffer },
  c: PagedCache,
  d: MlaDims,
  s: { maxLen: number; slot: number },
): Promise<GpuOp> {
  const op = 'mlaExpandKv',
    qk = d.nope + d.rope,
    per = d.nope + d.v;
  checkCache(op, c, d);
  check(s.slot < c.slots, op, `slot ${s.slot} outside 0..${c.slots - 1}`);
  checkSize(op, 'kvB', b.kvB, d.heads * per * d.latent, `[${d.heads}·${per}, ${d.latent}]`);
  checkSize(op, 'k', b.k, s.maxLen * d.heads * qk, `[${s.maxLen}, ${d.heads}, ${qk}]`);
  checkSize(op, 'v', b.v, s.maxLen * d.heads * d.v, `[${s.maxLen}, ${d.heads}, ${d.v}]`);
  const call = new KernelCall(
    gpu,
    await pipeline(gpu, 'mla-expand-kv'),
    op,
    [c.cache, c.pageTable, b.kvB, b.k, b.v],
    9,
  );
  return (pass, len) => {
    check(len >= 1 && len <= s.maxLen, op, `len ${len} outside 1..${s.maxLen}`);
    const params = [
      len,
      s.slot,
      d.heads,
      d.nope,
      d.rope,
      d.v,
      d.latent / 4,
      c.pageSize,
      c.maxPages,
    ];
    call.record(pass, params, [], grid(Math.ceil((len * d.heads * (per + d.rope)) / 64)));
  };
}

/** Causal attention of `rows` query tokens (positions start..) over expanded k, v: out[rows, heads·v]. */
export async function mlaPrefill(
  gpu: Gpu,
  b: { q: GPUBuffer; k: GPUBuffer; v: GPUBuffer; att: GPUBuffer; out: GPUBuffer },
  d: MlaDims,
  s: { maxRows: number; maxT: number; start: number; scale: number },
): Promise<GpuOp> {
  const op = 'mlaPrefill',
    qk = d.nope + d.rope;
  check(
    qk % 4 === 0 && d.v % 4 === 0,
    op,
    `nope+rope (${qk}) and v (${d.v}) must be multiples of 4`,
  );
  check(
    s.start + s.maxRows <= s.maxT,
    op,
    `positions up to ${s.start + s.maxRows - 1} exceed maxT ${s.maxT}`,
  );
  checkSize(op, 'q', b.q, s.maxRows * d.heads * qk, `[${s.maxRows}, ${d.heads}, ${qk}]`);
  checkSize(op, 'k', b.k, s.maxT * d.heads * qk, `[${s.maxT}, ${d.heads}, ${qk}]`);
  checkSize(op, 'v', b.v, s.maxT * d.heads * d.v, `[${s.maxT}, ${d.heads}, ${d.v}]`);
  checkSize(
    op,
    'att',
    b.att,
    s.maxRows * d.heads * s.maxT,
    `[${s.maxRows}, ${d.heads}, ${s.maxT}]`,
  );
  checkSize(op, 'out', b.out, s.maxRows * d.heads * d.v, `[${s.maxRows}, ${d.heads}, ${d.v}]`);
  const call = new KernelCall(
    gpu,
    await pipeline(gpu, 'mla-prefill'),
    op,
    [b.q, b.k, b.v, b.att, b.out],
    6,
  );
  return (pass, rows) => {
    rowsIn(op, rows, s.maxRows);
    call.record(pass, [d.heads, qk, d.v, s.start, s.maxT], [s.scale], [d.heads, rows]);
  };
}
