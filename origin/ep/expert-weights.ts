// Moving one routed expert's weights between WASM instances: the main model's memory holds every expert
// (as wasm-weights.ts placed it: FP8 E4M3 bytes + f32 block scales, or f32); an EP worker gets copies of
// only the experts its slots hold. The copies are the same bytes, so a worker's expert computes exactly
// what the main instance would.
import type { KernelBackend } from '../../kernels-wasm/types';
import { placeBytes, placeF32, type WasmLinear } from '../../engine/deepseek/wasm-linear';
import type { WasmMlp } from '../../engine/deepseek/wasm-weights';

/** A projection's bytes out of its WASM memory (structured-clone safe). */
export interface LinearBytes {
  kind: 'f32' | 'fp8';
  rows: number;
  cols: number;
  block: [number, number];
  w: Uint8Array;
  scales: Float32Array;
}

export interface MlpBytes {
  gate: LinearBytes;
  up: LinearBytes;
  down: LinearBytes;
}

function copyLinear(mem: KernelBackend, l: WasmLinear): LinearBytes {
  const n = l.rows * l.cols;
  if (l.kind === 'f32')
    return {
      kind: 'f32',
      rows: l.rows,
      cols: l.cols,
      block: [1, 1],
      w: mem.bytes!(l.w, 4 * n).slice(),
      scales: new Float32Array(0),
    };
  if (l.kind === 'bf16')
    throw new Error('expert projections are f32 or FP8, never BF16 (Placer.linear)');
  const [br, bc] = l.block;
  const nScales = Math.ceil(l.rows / br) * Math.ceil(l.cols / bc);
  return {
    kind: 'fp8',
    rows: l.rows,
    cols: l.cols,
    block: l.block,
    w: mem.bytes!(l.w, n).slice(),
    scales: mem.f32(l.scales, nScales).slice(),
  };
}

export function copyMlp(mem: KernelBackend, m: WasmMlp): MlpBytes {
  return {
    gate: copyLinear(mem, m.gate),
    up: copyLinear(mem, m.up),
    down: copyLinear(mem, m.down),
  };
}

function placeLinear(mem: KernelBackend, l: LinearBytes): WasmLinear {
  if (l.kind === 'f32') return { kind: 'f32', rows: l.rows, cols: l.cols, w: placeBytes(mem, l.w) };
  return {
    kind: 'fp8',
    rows: l.rows,
    cols: l.cols,
    w: placeBytes(mem, l.w),
    scales: placeF32(mem, l.scales),
    block: l.block,
  };
}

export function placeMlp(mem: KernelBackend, m: MlpBytes): WasmMlp {
  return {
    gate: placeLinear(mem, m.gate),
    up: placeLinear(mem, m.up),
    down: placeLinear(mem, m.down),
  };
}
