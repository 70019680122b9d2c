// The plain-TypeScript scalar engine: the same KernelBackend over a growable Float32Array "heap",
// with byte-offset pointers like the wasm one. A correctness twin and the benchmark baseline.
import type { KernelBackend, KernelOps } from './types';

/** Ops over a heap that may be replaced when it grows, so every op re-reads `heap()`. */
function tsOps(heap: () => Float32Array): KernelOps {
  const f = Math.fround;
  const ops: KernelOps = {
    matvec(out, w, x, rows, cols) {
      const m = heap(),
        o = out >> 2,
        wi = w >> 2,
        xi = x >> 2;
      for (let r = 0; r < rows; r++) {
        let sum = 0;
        const row = wi + r * cols;
        for (let j = 0; j < cols; j++) sum += m[row + j] * m[xi + j];
        m[o + r] = sum;
      }
    },
    matmul(out, w, x, rows, cols, n) {
      for (let t = 0; t < n; t++) ops.matvec(out + t * rows * 4, w, x + t * cols * 4, rows, cols);
    },
    rmsnorm(out, x, weight, n, eps) {
      const m = heap(),
        o = out >> 2,
        xi = x >> 2,
        wi = weight >> 2;
      let ss = 0;
      for (let j = 0; j < n; j++) ss += m[xi + j] * m[xi + j];
      const inv = 1 / Math.sqrt(ss / n + eps);
      for (let j = 0; j < n; j++) m[o + j] = m[wi + j] * (inv * m[xi + j]);
    },
    rope(q, k, nHeads, nKvHeads, headDim, pos, theta) {
      const m = heap();
      for (let i = 0; i < headDim; i += 2) {
        // llama2.c's float32 order: freq = 1/powf(theta, i/headDim); val = pos*freq.
        const val = f(pos * f(1 / f(Math.pow(theta, f(i / headDim)))));
        const c = f(Math.cos(val)),
          s = f(Math.sin(val));
        for (let h = 0; h < nHeads + nKvHeads; h++) {
          const p = h < nHeads ? (q >> 2) + h * headDim + i : (k >> 2) + (h - nHeads) * headDim + i;
          const v0 = m[p],
            v1 = m[p + 1];
          m[p] = v0 * c - v1 * s;
          m[p + 1] = v0 * s + v1 * c;
        }
      }
    },
    softmax(x, n) {
      const m = heap(),
        xi = x >> 2;
      let max = -Infinity;
      for (let i = 0; i < n; i++) max = Math.max(max, m[xi + i]);
      let sum = 0;
      for (let i = 0; i < n; i++) sum += m[xi + i] = Math.exp(m[xi + i] - max);
      for (let i = 0; i < n; i++) m[xi + i] /= sum;
    },
    swiglu(a, b, n) {
      const m = heap(),
        ai = a >> 2,
        bi = b >> 2;
      for (let i = 0; i < n; i++) {
        const v = m[ai + i];
        m[ai + i] = v * (1 / (1 + Math.exp(-v))) * m[bi + i];
      }
    },
    add(a, b, n) {
      const m = heap(),
        ai = a >> 2,
        bi = b >> 2;
      for (let i = 0; i < n; i++) m[ai + i] += m[bi + i];
    },
    attention(out, q, kCache, vCache, att, nHeads, nKvHeads, headDim, nPos) {
      const m = heap(),
        kvDim = nKvHeads * headDim,
        group = nHeads / nKvHeads,
        scale = Math.sqrt(headDim);
      for (let h = 0; h < nHeads; h++) {
        const qh = (q >> 2) + h * headDim,
          kvOff = Math.floor(h / group) * headDim,
          ah = (att >> 2) + h * nPos;
        for (let t = 0; t < nPos; t++) {
          const kt = (kCache >> 2) + t * kvDim + kvOff;
          let score = 0;
          for (let d = 0; d < headDim; d++) score += m[qh + d] * m[kt + d];
          m[ah + t] = score / scale;
        }
        ops.softmax(att + h * nPos * 4, nPos);
        const oh = (out >> 2) + h * headDim;
        m.fill(0, oh, oh + headDim);
        for (let t = 0; t < nPos; t++) {
          const vt = (vCache >> 2) + t * kvDim + kvOff,
            a = m[ah + t];
          for (let d = 0; d < headDim; d++) m[oh + d] += a * m[vt + d];
        }
      }
    },
  };
  return ops;
}

export function createTsKernels(): KernelBackend {
  let heap = new Float32Array(1 << 14);
  let top = 16; // pointer 0 stays unused, as in the wasm arena
  const ops = tsOps(() => heap);
  return {
    ...ops,
    scalar: ops,
    alloc(nFloats: number): number {
      if (!Number.isInteger(nFloats) || nFloats < 0) throw new Error(`alloc: bad size ${nFloats}`);
      const ptr = top;
      top = Math.ceil((ptr + nFloats * 4) / 16) * 16;
      if (top > heap.byteLength) {
        const grown = new Float32Array(Math.max(top / 4, heap.length * 2));
        grown.set(heap);
        heap = grown;
      }
      return ptr;
    },
    f32: (ptr, len) => heap.subarray(ptr >> 2, (ptr >> 2) + len),
    write: (ptr, data) => heap.set(data, ptr >> 2),
    get bytesUsed() {
      return top;
    },
  };
}
