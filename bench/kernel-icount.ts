// Instruction count of one kernel call, for instruction-bound kernels on a loaded machine where wall-clock
// A/Bs are noise: run this under callgrind twice, with `iters` N and 2N, and divide the difference of the
// totals by N (setup, compile and exit cancel). Self-contained (node --experimental-strip-types, no tsx), so
// the traced process holds nothing but V8 and the kernel.
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null node --experimental-strip-types --no-liftoff \
//     bench/kernel-icount.ts kernels-wasm/build/kernels.wasm matvec_q4_0 q4 2048 768 100
// A seventh argument n (tokens) calls a matmul: fn(out, w, d, x, xq, rows, cols, n).
import { readFileSync } from 'node:fs';

const [file, name, kind, rowsArg, colsArg, itersArg, nArg] = process.argv.slice(2);
const n = nArg ? Number(nArg) : 1;
const rows = Number(rowsArg),
  cols = Number(colsArg),
  iters = Number(itersArg);
const k = Math.ceil(cols / 32) * 32,
  nb = k / 32;
const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(file)), {
  env: { abort: () => {} },
});
const ex = instance.exports as Record<string, (...a: number[]) => number> & {
  memory: WebAssembly.Memory;
};
const wBytes = kind === 'f32' ? rows * cols * 4 : kind === 'q8' ? rows * k : (rows * k) / 2;
const dBytes = kind === 'f32' ? 0 : rows * nb * 2;
const base = (ex.heapBase() + 15) & ~15;
const w = base,
  d = (w + wBytes + 15) & ~15,
  x = (d + dBytes + 15) & ~15,
  xq = (x + n * cols * 4 + 15) & ~15,
  out = (xq + n * k * 4 + 15) & ~15,
  end = out + n * rows * 4;
const mem = ex.memory;
if (end > mem.buffer.byteLength) mem.grow(Math.ceil((end - mem.buffer.byteLength) / 65536));
let s = 12345;
const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
const f32 = new Float32Array(mem.buffer),
  u8 = new Uint8Array(mem.buffer),
  u16 = new Uint16Array(mem.buffer);
if (kind === 'f32') for (let i = 0; i < rows * cols; i++) f32[w / 4 + i] = rand();
else for (let i = 0; i < wBytes; i++) u8[w + i] = (rand() * 128 + 128) & 255;
for (let i = 0; i < dBytes / 2; i++) u16[d / 2 + i] = 0x2c00 | ((rand() * 512 + 512) & 1023);
for (let i = 0; i < n * cols; i++) f32[x / 4 + i] = rand();
const fn = ex[name];
if (kind === 'f32') for (let i = 0; i < iters; i++) fn(out, w, x, rows, cols);
else if (nArg) for (let i = 0; i < iters; i++) fn(out, w, d, x, xq, rows, cols, n);
else for (let i = 0; i < iters; i++) fn(out, w, d, x, xq, rows, cols);
console.log(`${name} ${rows}×${cols} ×${iters}: out[0] = ${f32[out / 4]}`);
