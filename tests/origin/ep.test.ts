// Expert parallelism (--ep N) against the in-process CPU backend (tests/origin/ep-check.ts, run as its own
// tsx process: the rank workers load TypeScript through tsx, which stalls inside vitest's fork). The
// combine adds experts' outputs in expert order on the main thread and a rank computes with the same
// weight bytes and kernels, so without redundant slots (each expert's rows in one batch) the logits are
// bit-identical whatever the rank count. With replicas (redundant slots, or slots left over when E is not
// a multiple of N: they hold replicas too) an expert's rows are split between ranks, and
// kernels-wasm's matmul sums a row differently by batch shape (n = 1 matvec, n ≤ 4, token pairs):
// measured |Δlogit| ≤ 1.6e-6, so those are held to 1e-4 and the same greedy tokens — also across EPLB
// placements swapped in between steps. And every routed token is counted, topK per token per layer.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

interface Compared {
  maxDiff: number;
  sameGreedy: boolean;
  swaps: number;
}

describe('expert parallelism', () => {
  it('matches the local backend: exact without replicas, 1e-4 and the same greedy tokens with them', async () => {
    const { stdout } = await promisify(execFile)('npx', ['tsx', 'tests/origin/ep-check.ts'], {
      timeout: 300_000,
    });
    const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, Compared> & {
      tokens: number;
      load: { layer: number; tokens: number; imbalance: number }[];
    };
    expect(r.load.map((l) => l.layer)).toEqual([1, 2, 3]);
    for (const l of r.load) {
      expect(l.tokens).toBe(4 * r.tokens); // small: top-4
      expect(l.imbalance).toBeGreaterThanOrEqual(1);
    }
    expect(r.ep1).toMatchObject({ maxDiff: 0, sameGreedy: true });
    expect(r.ep2).toMatchObject({ maxDiff: 0, sameGreedy: true });
    expect(r.ep3r1.maxDiff).toBeLessThanOrEqual(1e-4);
    expect(r.ep3r1.sameGreedy).toBe(true);
    expect(r['ep2r1-swaps']).toMatchObject({ sameGreedy: true, swaps: 5 });
    expect(r['ep2r1-swaps'].maxDiff).toBeLessThanOrEqual(1e-4);
  }, 320_000);
});
