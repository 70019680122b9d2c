// Builds and instantiates the origin's batched-projection kernels (origin/kernels/assembly, AssemblyScript
// with SIMD). The module is compiled on first use and cached in origin/kernels/build/ (rebuilt when a
// source is newer), so `npm run origin`, tests and benches need no separate build step.
//
// Why not kernels-wasm's DeepSeek ops (matvec_fp8/matmul_fp8, mla_attention, moe_*): those compute in f32
// with f32x4 partial sums (a different summation order) and fold the FP8 scale into x, which is the WASM
// engine's contract (greedy parity with the reference in f32). These reproduce the reference's float64
// arithmetic and its W8A8 activation quantization term by term, so the reference backend stays bit-exact
// (tests/origin/backend.test.ts); no op here has an identical twin there.
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const srcDir = join(here, 'assembly');
const outFile = join(here, 'build', 'batch.wasm');

export interface BatchKernelExports {
  memory: WebAssembly.Memory;
  gemmF32(
    out: number,
    w: number,
    x: number,
    xt: number,
    T: number,
    rows: number,
    cols: number,
  ): void;
  gemmFp8(
    out: number,
    wq: number,
    ws: number,
    xd: number,
    xs: number,
    xt: number,
    st: number,
    table: number,
    T: number,
    rows: number,
    cols: number,
    br: number,
    bc: number,
  ): void;
  quantizeFp8(xd: number, xs: number, x: number, T: number, cols: number, bc: number): void;
  mlaAbsorbQuery(
    qLat: number,
    tmp: number,
    q: number,
    kvB: number,
    H: number,
    nope: number,
    rope: number,
    v: number,
    C: number,
  ): void;
  mlaScores(
    att: number,
    qLat: number,
    qPe: number,
    q: number,
    kv: number,
    pe: number,
    H: number,
    nope: number,
    rope: number,
    C: number,
    T: number,
    scale: number,
    attStride: number,
  ): void;
  mlaOutput(
    out: number,
    att: number,
    kv: number,
    oLat: number,
    kvB: number,
    H: number,
    nope: number,
    v: number,
    C: number,
    T: number,
    attStride: number,
  ): void;
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -Infinity;
  }
}

async function compileSources(): Promise<Uint8Array<ArrayBuffer>> {
  const { default: asc } = await import('assemblyscript/dist/asc.js');
  const tmp = `${outFile}.${process.pid}.tmp`;
  mkdirSync(dirname(outFile), { recursive: true });
  const args = [
    join(srcDir, 'index.ts'),
    '-O3',
    '--enable',
    'simd',
    '--runtime',
    'stub',
    '--noAssert',
    '--debug',
    '--importMemory',
    '-o',
    tmp,
  ];
  const { error, stderr } = await asc.main(args);
  if (error)
    throw new Error(`origin kernels failed to compile: ${error.message}\n${stderr.toString()}`);
  // Renamed into place, so a concurrent reader never sees half a module.
  renameSync(tmp, outFile);
  return new Uint8Array(readFileSync(outFile));
}

let cached: Promise<WebAssembly.Module> | undefined;

/** The compiled module (built from source when the cached binary is missing or stale). */
export function batchKernelModule(): Promise<WebAssembly.Module> {
  cached ??= (async () => {
    const newest = Math.max(...readdirSync(srcDir).map((f) => mtime(join(srcDir, f))));
    const bytes =
      mtime(outFile) > newest ? new Uint8Array(readFileSync(outFile)) : await compileSources();
    return WebAssembly.compile(bytes);
  })();
  return cached;
}

/** Instantiates the kernels over `memory` (the caller lays out weights, caches and scratch in it). */
export async function instantiateBatchKernels(
  memory: WebAssembly.Memory,
): Promise<BatchKernelExports> {
  const instance = await WebAssembly.instantiate(await batchKernelModule(), {
    env: {
      memory,
      abort: () => {
        throw new Error('wasm abort');
      },
    },
  });
  return { ...(instance.exports as unknown as Omit<BatchKernelExports, 'memory'>), memory };
}
