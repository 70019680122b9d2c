// Next-token sampling, reproducing llama2.c run.c: argmax at temperature 0, else softmax of
// logits/temperature and top-p (nucleus) sampling driven by run.c's xorshift64* generator.
// Arithmetic is rounded to f32 (Math.fround) wherever run.c computes in float.
import type { KernelBackend } from '../../kernels-wasm/types';

export interface SamplerOptions {
  temperature: number;
  topP: number;
  /** Same seed, same tokens. Without one, a random seed is drawn. */
  seed?: number;
}

const MASK64 = (1n << 64n) - 1n;
/** run.c would never run with state 0 (xorshift stays 0 forever); seed 0 maps to this instead. */
const ZERO_SEED_STATE = 0x9e3779b97f4a7c15n;

/** run.c's xorshift64* generator: random_u32() and random_f32(). */
export class XorShiftRng {
  private state: bigint;

  constructor(seed: number | bigint) {
    const s = BigInt.asUintN(64, BigInt(seed));
    this.state = s === 0n ? ZERO_SEED_STATE : s;
  }

  nextU32(): number {
    let s = this.state;
    s ^= s >> 12n;
    s = (s ^ (s << 25n)) & MASK64;
    s ^= s >> 27n;
    this.state = s;
    return Number(((s * 0x2545f4914f6cdd1dn) & MASK64) >> 32n);
  }

  /** In [0, 1), 24 bits. */
  nextF32(): number {
    return (this.nextU32() >>> 8) / 16777216;
  }
}

/** Index of the largest value; the first one wins ties. The best value is kept in a local: half the time of re-reading x[best]. */
export function argmax(x: Float32Array): number {
  let best = 0,
    max = x[0];
  const n = x.length;
  for (let i = 1; i < n; i++) {
    const v = x[i];
    if (v > max) {
      max = v;
      best = i;
    }
  }
  return best;
}

export class Sampler {
  readonly seed: number;
  private readonly temperature: number;
  private readonly topP: number;
  private readonly rng: XorShiftRng;
  private probs: Float32Array;
  private order: Int32Array;
  private radix: RadixScratch | null = null;

  constructor(vocabSize: number, opts: SamplerOptions) {
    this.temperature = Math.fround(Math.max(0, opts.temperature));
    this.topP = Math.fround(opts.topP);
    this.seed = opts.seed ?? randomSeed();
    this.rng = new XorShiftRng(this.seed);
    this.probs = new Float32Array(vocabSize);
    this.order = new Int32Array(vocabSize);
  }

  /** Picks the next token from logits[vocabSize]; does not modify them. */
  sample(logits: Float32Array): number {
    if (this.temperature === 0) return argmax(logits);
    const probs = this.probs;
    // One rounding on the f32 store, exactly like run.c's float division.
    for (let i = 0; i < probs.length; i++) probs[i] = logits[i] / this.temperature;
    softmaxF32(probs);
    const coin = this.rng.nextF32();
    if (this.topP <= 0 || this.topP >= 1) return sampleMultinomial(probs, coin);
    return this.sampleTopP(probs, coin);
  }

  /** run.c sample_topp(): drop tokens under (1-p)/(n-1), sort descending, cut at cumulative p. */
  private sampleTopP(probs: Float32Array, coin: number): number {
    const n = probs.length;
    const cutoff = Math.fround(Math.fround(1 - this.topP) / (n - 1));
    let n0 = 0;
    for (let i = 0; i < n; i++) if (probs[i] >= cutoff) this.order[n0++] = i;
    this.radix ??= radixScratch(n);
    const order = sortByProbDesc(probs, this.order, n0, this.radix);
    let cumulative = 0;
    let last = n0 - 1;
    for (let i = 0; i < n0; i++) {
      cumulative = Math.fround(cumulative + probs[order[i]]);
      if (cumulative > this.topP) {
        last = i;
        break;
      }
    }
    const r = Math.fround(coin * cumulative);
    let cdf = 0;
    for (let i = 0; i <= last; i++) {
      cdf = Math.fround(cdf + probs[order[i]]);
      if (r < cdf) return order[i];
    }
    return order[last];
  }
}

export interface RadixScratch {
  keys: Uint32Array;
  keys2: Uint32Array;
  order2: Int32Array;
  counts: Uint32Array;
}

export const radixScratch = (n: number): RadixScratch => ({
  keys: new Uint32Array(n),
  keys2: new Uint32Array(n),
  order2: new Int32Array(n),
  counts: new Uint32Array(256),
});

/**
 * order[0, n) sorted by probs descending, ties in index order: what a stable comparator sort gives
 * (tests/engine/sampler.test.ts holds it to one), by LSD radix over the f32 bits, which order as the
 * values do for probabilities (>= 0). O(n): a random model's flat distribution over DeepSeek's 129K
 * ids keeps ~all of them as top-p candidates, and the comparator sort took ~90 ms per token.
 */
export function sortByProbDesc(
  probs: Float32Array,
  order: Int32Array,
  n: number,
  s: RadixScratch = radixScratch(n),
): Int32Array {
  const bits = new Uint32Array(probs.buffer, probs.byteOffset, probs.length);
  let keys = s.keys,
    keys2 = s.keys2,
    from = order,
    to = s.order2;
  for (let i = 0; i < n; i++) keys[i] = ~bits[from[i]] >>> 0; // ascending ~bits = descending probs
  for (let shift = 0; shift < 32; shift += 8) {
    const counts = s.counts.fill(0);
    for (let i = 0; i < n; i++) counts[(keys[i] >>> shift) & 255]++;
    if (counts[(keys[0] >>> shift) & 255] === n) continue; // every key has this byte: nothing moves
    let sum = 0;
    for (let b = 0; b < 256; b++) {
      const c = counts[b];
      counts[b] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const at = counts[(keys[i] >>> shift) & 255]++;
      keys2[at] = keys[i];
      to[at] = from[i];
    }
    [keys, keys2] = [keys2, keys];
    [from, to] = [to, from];
  }
  if (from !== order) order.set(from.subarray(0, n));
  return order.subarray(0, n);
}

/**
 * The WASM softmax the samplers use once a model registers its backend (useWasmSoftmax): kernels-wasm's
 * softmax_runc, the loops below bit for bit (fdlibm's exp, which V8's Math.exp is, over f64x2 lanes): a top-p 1
 * draw over 20,755 ids in 184 µs against 366 (bench/RESULTS.md, 2026-12-08), where Math.exp alone took 0.2 ms.
 */
let wasmSoftmax: {
  capacity: number;
  run(x: Float32Array): void;
  expSum(x: Float32Array, max: number): number;
  /** spec_distribution; absent from older builds. */
  distribution?(x: Float32Array, t: number, out: Float64Array): number;
} | null = null;

/**
 * Lets softmaxF32 (and logprobs.ts's logSumExp) run in `k`'s memory for up to `capacity` values (a scratch of
 * that many f32, allocated now, so no sampling step grows memory under a caller's views). The largest capacity
 * registered wins, and is held: models live as long as their isolate or process (dispatch/edge-registry.ts
 * keeps every model it loads).
 */
export function useWasmSoftmax(k: KernelBackend, capacity: number): void {
  const softmax = k.softmaxRunC,
    expSum = k.expSumRunC,
    distribution = k.specDistribution;
  if (!softmax || !expSum || (wasmSoftmax && wasmSoftmax.capacity >= capacity)) return;
  const ptr = k.alloc(capacity);
  // the speculative sampler's f64 distribution (8 bytes an id), where the build has its kernel
  const outPtr = distribution ? k.alloc(2 * capacity) : 0;
  const place = (x: Float32Array) => k.f32(ptr, x.length).set(x);
  wasmSoftmax = {
    capacity,
    run(x) {
      place(x);
      softmax(ptr, x.length);
      x.set(k.f32(ptr, x.length));
    },
    expSum(x, max) {
      place(x);
      return expSum(ptr, x.length, max);
    },
    ...(distribution && {
      distribution(x, t, out) {
        place(x);
        const mass = distribution(ptr, x.length, t, outPtr);
        if (mass > 0) {
          const f = k.f32(outPtr, 2 * x.length);
          out.set(new Float64Array(f.buffer, f.byteOffset, x.length));
        } else x.set(k.f32(ptr, x.length)); // the caller goes on from the softmax
        return mass;
      },
    }),
  };
}

/**
 * The speculative sampler's untruncated distribution through the registered kernel (x ÷ t and softmax in
 * place, out = x / mass over x > 0): the mass, or undefined where none is registered (then the caller's loops).
 * A mass not > 0 leaves out alone and x softmaxed.
 */
export function wasmSpecDistribution(
  x: Float32Array,
  t: number,
  out: Float64Array,
): number | undefined {
  const w = wasmSoftmax;
  return w?.distribution && x.length >= 64 && x.length <= w.capacity
    ? w.distribution(x, t, out)
    : undefined;
}

/** Σ exp(x[i] - max) in index order through the registered kernel, or undefined (then the caller's loop). */
export function wasmExpSum(x: Float32Array, max: number): number | undefined {
  const w = wasmSoftmax;
  return w && x.length >= 64 && x.length <= w.capacity ? w.expSum(x, max) : undefined;
}

/** In place, max subtracted, in f32 like run.c's softmax(). */
export function softmaxF32(x: Float32Array): void {
  if (wasmSoftmax && x.length >= 64 && x.length <= wasmSoftmax.capacity) return wasmSoftmax.run(x);
  softmaxF32Js(x);
}

/** softmaxF32's JS loops (the WASM kernel's reference). */
export function softmaxF32Js(x: Float32Array): void {
  let max = x[0];
  for (let i = 1; i < x.length; i++) if (x[i] > max) max = x[i];
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    x[i] = Math.exp(Math.fround(x[i] - max));
    sum = Math.fround(sum + x[i]);
  }
  for (let i = 0; i < x.length; i++) x[i] = x[i] / sum;
}

/** run.c sample_mult(): the first index whose running sum of probabilities exceeds coin. */
function sampleMultinomial(probs: Float32Array, coin: number): number {
  let cdf = 0;
  for (let i = 0; i < probs.length; i++) {
    cdf = Math.fround(cdf + probs[i]);
    if (coin < cdf) return i;
  }
  return probs.length - 1;
}

function randomSeed(): number {
  const words = new Uint32Array(2);
  crypto.getRandomValues(words);
  // 53 bits, so the seed round-trips through JSON and can be reported back.
  return (words[0] & 0x1fffff) * 2 ** 32 + words[1];
}
