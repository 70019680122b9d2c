// TS binding of the AssemblyScript kernels: instantiates a compiled module (workerd hands the Worker a
// WebAssembly.Module; Node reads it in node.ts) and exposes it as a KernelBackend. Imports nothing Node-only.
// Either build works: kernels.wasm, or kernels-relaxed.wasm whose relaxed-SIMD kernels then replace their twins' SIMD ones.
import type {
  Bf16Ops,
  DeepSeekOps,
  KernelBackend,
  KernelOps,
  Kv8Ops,
  MatvecsBackend,
  MatvecsOps,
  Q4x8Backend,
  Q4x8Ops,
  QuantBackend,
  QuantOps,
} from './types';

export type {
  Bf16Backend,
  Bf16Ops,
  DeepSeekBackend,
  DeepSeekOps,
  KernelBackend,
  KernelOps,
  Kv8Backend,
  Kv8Ops,
  MatvecsBackend,
  MatvecsOps,
  Q4x8Backend,
  Q4x8Ops,
  QuantBackend,
  QuantOps,
} from './types';
export { createTsKernels } from './ts-kernels';

const PAGE = 65536;
const OP_NAMES = [
  'matvec',
  'matmul',
  'rmsnorm',
  'rope',
  'softmax',
  'swiglu',
  'add',
  'attention',
] as const;

// Quantized and DeepSeek ops: binding name → export name (the scalar twin adds `_scalar`, except where
// the kernel is plain code and is its own twin: the router, the plan, gather, rope by table).
const QUANT_EXPORTS: Record<keyof QuantOps, string> = {
  matvecQ8: 'matvec_q8_0',
  matmulQ8: 'matmul_q8_0',
  matvecQ4: 'matvec_q4_0',
  matmulQ4: 'matmul_q4_0',
  matvecFp8: 'matvec_fp8',
  matmulFp8: 'matmul_fp8',
};
const DEEPSEEK_EXPORTS: Record<keyof DeepSeekOps, [string, boolean]> = {
  mlaAttention: ['mla_attention', true],
  moeRoute: ['moe_route', false],
  moePlan: ['moe_plan', false],
  moeGather: ['moe_gather', false],
  moeScatterAdd: ['moe_scatter_add', true],
  ropePairs: ['rope_pairs', false],
};

type Exports = Record<string, unknown> & { memory: WebAssembly.Memory; heapBase(): number };

function exported(exports: Exports, name: string): unknown {
  const fn = exports[name];
  if (typeof fn !== 'function')
    throw new Error(`kernels.wasm lacks export ${name}: rebuild it (npm run build:wasm)`);
  return fn;
}

function pickOps(exports: Exports, suffix: string): KernelOps {
  const ops: Record<string, unknown> = {};
  for (const name of OP_NAMES) ops[name] = exported(exports, name + suffix);
  return ops as unknown as KernelOps;
}

function pickNamed<T>(
  exports: Exports,
  names: Record<string, [string, boolean]>,
  scalar: boolean,
): T {
  const ops: Record<string, unknown> = {};
  for (const [name, [exp, hasTwin]] of Object.entries(names))
    ops[name] = exported(exports, scalar && hasTwin ? `${exp}_scalar` : exp);
  return ops as T;
}

/** Which of a relaxed build's kernels to bind; each defaults to on (WORKER_RELAXED is the Worker's choice). */
export interface RelaxedChoice {
  /**
   * The relaxed Q8_0 matvec: faster in workerd on an Intel Xeon (bench/RESULTS.md, 2026-11-28), where V8
   * lowers the relaxed i8 dot product to AVX-VNNI's vpdpbusd; slower in Node 22 there, and slower in workerd
   * on an AMD EPYC (2026-12-07: 0.73× of the SIMD matvec), where it takes three instructions.
   */
  q8?: boolean;
  /**
   * Where the SIMD Q8_0 matvec is bound: its two-blocks-per-pass form (`matvec_q8_0_pairs`, bit-identical),
   * ~10 % faster in workerd and ~5 % slower in Node than the one-block form (bench/RESULTS.md, 2026-12-08).
   * Default off; in either build.
   */
  q8Pairs?: boolean;
}

/**
 * The relaxed kernels the Worker binds: the Q4_0 ones (faster on both CPUs measured) but the SIMD Q8_0 matvec,
 * in its two-blocks-per-pass form: Cloudflare's servers are AMD EPYCs, whose V8 lowering of the relaxed dot
 * product has no VNNI to use.
 */
export const WORKER_RELAXED: RelaxedChoice = { q8: false, q8Pairs: true };

function quantBackend(exports: Exports, relaxed: RelaxedChoice): QuantBackend {
  const names = Object.fromEntries(
    Object.entries(QUANT_EXPORTS).map(([k, v]) => [k, [v, true] as [string, boolean]]),
  );
  const ops = pickNamed<QuantOps>(exports, names, false);
  // kernels-relaxed.wasm: the relaxed-SIMD Q8_0 matvec and Q4_0 matvec/matmul, each bit-identical to its
  // kernels.wasm counterpart (same scalar twin).
  if (relaxed.q8 !== false && typeof exports.matvec_q8_0_relaxed === 'function')
    ops.matvecQ8 = exports.matvec_q8_0_relaxed as QuantOps['matvecQ8'];
  else if (relaxed.q8Pairs && typeof exports.matvec_q8_0_pairs === 'function')
    ops.matvecQ8 = exports.matvec_q8_0_pairs as QuantOps['matvecQ8'];
  if (typeof exports.matvec_q4_0_relaxed === 'function')
    ops.matvecQ4 = exports.matvec_q4_0_relaxed as QuantOps['matvecQ4'];
  if (typeof exports.matmul_q4_0_relaxed === 'function')
    ops.matmulQ4 = exports.matmul_q4_0_relaxed as QuantOps['matmulQ4'];
  return { ...ops, scalar: pickNamed<QuantOps>(exports, names, true) };
}

const BF16_EXPORTS: Record<keyof Bf16Ops, [string, boolean]> = {
  matvecBf16: ['matvec_bf16', true],
  matmulBf16: ['matmul_bf16', true],
};

const Q4X8_EXPORTS: Record<keyof Q4x8Ops, [string, boolean]> = {
  matvecQ4x8: ['matvec_q4_0x8', true],
  matmulQ4x8: ['matmul_q4_0x8', true],
};

/** The repacked Q4_0 ops: the relaxed-SIMD kernels where the build has them (kernels-relaxed.wasm). */
function q4x8Backend(exports: Exports): Q4x8Backend {
  const ops = twins<Q4x8Ops>(exports, Q4X8_EXPORTS);
  const relaxed = typeof exports.matvec_q4_0x8_relaxed === 'function';
  if (relaxed) {
    ops.matvecQ4x8 = exports.matvec_q4_0x8_relaxed as Q4x8Ops['matvecQ4x8'];
    ops.matmulQ4x8 = exports.matmul_q4_0x8_relaxed as Q4x8Ops['matmulQ4x8'];
  }
  return { ...ops, packQ4x8: exports.pack_q4_0x8 as Q4x8Backend['packQ4x8'], relaxed };
}

const KV8_EXPORTS: Record<string, [string, boolean]> = {
  quantizeKv8: ['quantize_kv8', true],
  attentionKv8: ['attention_kv8', true],
};

// Batched decode → [export, scalar twin]: the twins are the matmul twins (one plain matvec per token).
const MATVECS_EXPORTS: Record<keyof MatvecsOps, [string, string]> = {
  matvecs: ['matvecs', 'matmul_scalar'],
  matvecsQ8: ['matvecs_q8_0', 'matmul_q8_0_scalar'],
  matvecsQ4: ['matvecs_q4_0', 'matmul_q4_0_scalar'],
};

function matvecsBackend(exports: Exports): MatvecsBackend {
  const pick = (i: 0 | 1) =>
    Object.fromEntries(
      Object.entries(MATVECS_EXPORTS).map(([k, v]) => [k, exported(exports, v[i])]),
    ) as unknown as MatvecsOps;
  return { ...pick(0), scalar: pick(1) };
}

/** An op set and its scalar twins (`name_scalar` where the spec says it has one). */
function twins<T>(exports: Exports, names: Record<string, [string, boolean]>): T & { scalar: T } {
  return { ...pickNamed<T>(exports, names, false), scalar: pickNamed<T>(exports, names, true) };
}

/**
 * An op set that builds older than it lack (bench/ A/B runs load those: the engine then keeps f32 KV,
 * widens BF16 to f32, runs a matvec per token): undefined unless `probe` is exported.
 */
function optional<B>(exports: Exports, probe: string, make: () => B): B | undefined {
  return typeof exports[probe] === 'function' ? make() : undefined;
}

/** Instantiates the kernels module; its arena starts at the module's __heap_base. */
export async function createWasmKernels(
  module: WebAssembly.Module,
  relaxed: RelaxedChoice = {},
): Promise<KernelBackend> {
  const imports = {
    env: {
      abort(_msg: number, _file: number, line: number, column: number): never {
        throw new Error(`kernels.wasm aborted at ${line}:${column}`);
      },
    },
  };
  const instance = await WebAssembly.instantiate(module, imports);
  const exports = instance.exports as Exports;
  const memory = exports.memory;
  let top = align16(exports.heapBase());

  return {
    ...pickOps(exports, ''),
    scalar: pickOps(exports, '_scalar'),
    quant: quantBackend(exports, relaxed),
    deepseek: twins<DeepSeekOps>(exports, DEEPSEEK_EXPORTS),
    kv8: optional(exports, 'quantize_kv8', () => twins<Kv8Ops>(exports, KV8_EXPORTS)),
    matvecs: optional(exports, 'matvecs_q8_0', () => matvecsBackend(exports)),
    bf16: optional(exports, 'matvec_bf16', () => twins<Bf16Ops>(exports, BF16_EXPORTS)),
    q4x8: optional(exports, 'pack_q4_0x8', () => q4x8Backend(exports)),
    softmaxRunC: optional(
      exports,
      'softmax_runc',
      () => exports.softmax_runc as (x: number, n: number) => number,
    ),
    expSumRunC: optional(
      exports,
      'exp_sum_runc',
      () => exports.exp_sum_runc as (x: number, n: number, max: number) => number,
    ),
    specDistribution: optional(
      exports,
      'spec_distribution',
      () => exports.spec_distribution as (x: number, n: number, t: number, out: number) => number,
    ),
    alloc(nFloats: number): number {
      if (!Number.isInteger(nFloats) || nFloats < 0) throw new Error(`alloc: bad size ${nFloats}`);
      const ptr = top;
      const end = align16(ptr + nFloats * 4);
      const need = Math.ceil(end / PAGE) - memory.buffer.byteLength / PAGE;
      if (need > 0) memory.grow(need); // throws RangeError past the 4 GiB maximum
      top = end;
      return ptr;
    },
    f32(ptr: number, len: number): Float32Array {
      return new Float32Array(memory.buffer, ptr, len);
    },
    write(ptr: number, data: Float32Array): void {
      new Float32Array(memory.buffer, ptr, data.length).set(data);
    },
    bytes(ptr: number, len: number): Uint8Array {
      return new Uint8Array(memory.buffer, ptr, len);
    },
    get bytesUsed(): number {
      return top;
    },
  };
}

function align16(n: number): number {
  return Math.ceil(n / 16) * 16;
}
