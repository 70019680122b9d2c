// The binding's contract: arena alignment and growth, views, scalar twins present, TS engine semantics.
import { describe, expect, it } from 'vitest';
import { createTsKernels } from '../../kernels-wasm/index';
import { createNodeKernels } from '../../kernels-wasm/node';
import type { KernelBackend } from '../../kernels-wasm/types';

const backends: [string, () => Promise<KernelBackend>][] = [
  ['wasm', createNodeKernels],
  ['ts', async () => createTsKernels()],
];

describe.each(backends)('%s backend', (_name, create) => {
  it('allocates 16-byte aligned, zeroed, growing memory', async () => {
    const k = await create();
    const a = k.alloc(3);
    const b = k.alloc(5_000_000); // forces growth past the initial memory
    expect(a % 16).toBe(0);
    expect(b % 16).toBe(0);
    expect(b).toBeGreaterThanOrEqual(a + 12);
    expect(k.bytesUsed).toBeGreaterThanOrEqual(b + 20_000_000);
    expect(k.f32(b, 5_000_000).every((v) => v === 0)).toBe(true);
  });

  it('writes and reads back through views, and runs a matvec', async () => {
    const k = await create();
    const w = k.alloc(6),
      x = k.alloc(3),
      out = k.alloc(2);
    k.write(w, new Float32Array([1, 2, 3, 4, 5, 6]));
    k.write(x, new Float32Array([1, 1, 2]));
    for (const ops of [k, k.scalar]) {
      ops.matvec(out, w, x, 2, 3);
      expect(Array.from(k.f32(out, 2))).toEqual([9, 21]);
    }
  });
});
