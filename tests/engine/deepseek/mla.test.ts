import { describe, expect, it } from 'vitest';
import { createLinearScratch, type Linear } from '../../../engine/deepseek/linear';
import {
  createMlaCache,
  mlaAbsorbedAttention,
  mlaExpandKv,
  mlaForward,
  mlaNaiveAttention,
  type MlaDims,
  type MlaScratch,
  type MlaWeights,
} from '../../../engine/deepseek/mla';
import { applyRope, ropeAngles, ropeInvFreq } from '../../../engine/deepseek/rope';
import { seededNormals } from '../../../engine/deepseek/synthetic';

const d: MlaDims = { heads: 3, nope: 8, rope: 4, v: 6, latent: 10 };
const f64 = (name: string, n: number, scale = 1) =>
  Float64Array.from(seededNormals(5, name, n), (x) => x * scale);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from(a).reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

describe('MLA absorbed vs naive', () => {
  it('gives the same attention output from the latent cache as from full k/v (max |Δ| < 1e-12)', () => {
    const T = 7,
      qk = d.nope + d.rope;
    const kvB = seededNormals(5, 'kvB', d.heads * (d.nope + d.v) * d.latent).map(
      (x) => x / Math.sqrt(d.latent),
    );
    const kv = f64('kv', T * d.latent),
      pe = f64('pe', T * d.rope),
      q = f64('q', d.heads * qk);
    const k = new Float64Array(T * d.heads * qk),
      v = new Float64Array(T * d.heads * d.v);
    for (let t = 0; t < T; t++) {
      mlaExpandKv(
        k.subarray(t * d.heads * qk),
        v.subarray(t * d.heads * d.v),
        kv.subarray(t * d.latent),
        pe.subarray(t * d.rope),
        kvB,
        d,
      );
    }
    const naive = new Float64Array(d.heads * d.v),
      absorbed = new Float64Array(d.heads * d.v);
    mlaNaiveAttention(naive, q, k, v, T, d, 0.3, new Float64Array(T));
    const qNope = new Float64Array(d.heads * d.nope),
      qPe = new Float64Array(d.heads * d.rope);
    for (let h = 0; h < d.heads; h++) {
      qNope.set(q.subarray(h * qk, h * qk + d.nope), h * d.nope);
      qPe.set(q.subarray(h * qk + d.nope, (h + 1) * qk), h * d.rope);
    }
    const s = {
      qLat: new Float64Array(d.latent),
      oLat: new Float64Array(d.latent),
      att: new Float64Array(T),
    };
    mlaAbsorbedAttention(absorbed, qNope, qPe, kvB, kv, pe, T, d, 0.3, s);
    expect(maxDiff(absorbed, naive)).toBeLessThan(1e-12);
    expect(Math.max(...naive.map(Math.abs))).toBeGreaterThan(0.1); // not trivially zero
  });

  for (const qLora of [5, null]) {
    it(`matches through whole MLA layers over 6 positions (q_lora_rank ${qLora})`, () => {
      const hidden = 12,
        qk = d.nope + d.rope;
      const mat = (name: string, rows: number, cols: number) =>
        seededNormals(9, name, rows * cols).map((x) => x / Math.sqrt(cols));
      const lin = (name: string, rows: number, cols: number): Linear => ({
        kind: 'f32',
        rows,
        cols,
        w: mat(name, rows, cols),
      });
      const w: MlaWeights = {
        qA: qLora ? lin('qA', qLora, hidden) : null,
        qANorm: qLora ? new Float32Array(qLora).fill(1.1) : null,
        qB: qLora ? lin('qB', d.heads * qk, qLora) : null,
        q: qLora ? null : lin('q', d.heads * qk, hidden),
        kvA: lin('kvA', d.latent + d.rope, hidden),
        kvANorm: new Float32Array(d.latent).fill(0.9),
        kvB: mat('kvB', d.heads * (d.nope + d.v), d.latent),
        o: lin('o', hidden, d.heads * d.v),
      };
      const invFreq = ropeInvFreq(d.rope, 10000, {
        type: 'yarn',
        factor: 4,
        originalMaxPositionEmbeddings: 4,
        betaFast: 32,
        betaSlow: 1,
        mscale: 1,
        mscaleAllDim: 1,
      });
      const scratch = (): MlaScratch => ({
        qLat: new Float64Array(qLora ?? 0),
        q: new Float64Array(d.heads * qk),
        qNope: new Float64Array(d.heads * d.nope),
        qPe: new Float64Array(d.heads * d.rope),
        kvA: new Float64Array(d.latent + d.rope),
        kvNorm: new Float64Array(d.latent),
        attnOut: new Float64Array(d.heads * d.v),
        cos: new Float64Array(d.rope / 2),
        sin: new Float64Array(d.rope / 2),
        absorbed: {
          qLat: new Float64Array(d.latent),
          oLat: new Float64Array(d.latent),
          att: new Float64Array(6),
        },
        lin: createLinearScratch(64, 64),
      });
      const run = (kind: 'naive' | 'absorbed') => {
        const cache = createMlaCache(kind, d, 6),
          s = scratch(),
          outs: number[] = [];
        for (let pos = 0; pos < 6; pos++) {
          ropeAngles(pos, invFreq, 1, s.cos, s.sin);
          const out = new Float64Array(hidden);
          mlaForward(out, f64(`x${pos}`, hidden), pos, w, cache, d, 1e-6, 0.25, s);
          outs.push(...out);
        }
        return outs;
      };
      expect(maxDiff(run('absorbed'), run('naive'))).toBeLessThan(1e-12);
    });
  }
});

describe('rope', () => {
  it('rotates interleaved pairs: identity at 0, norm-preserving, relative in position', () => {
    const inv = ropeInvFreq(8, 10000, null);
    const cos = new Float64Array(4),
      sin = new Float64Array(4);
    const x = f64('r', 8),
      y = Float64Array.from(x);
    ropeAngles(0, inv, 1, cos, sin);
    applyRope(y, 0, 8, cos, sin);
    expect(maxDiff(y, x)).toBe(0);
    ropeAngles(5, inv, 1, cos, sin);
    applyRope(y, 0, 8, cos, sin);
    expect(Math.hypot(...y)).toBeCloseTo(Math.hypot(...x), 12);
    expect(y[0]).toBeCloseTo(x[0] * Math.cos(5) - x[1] * Math.sin(5), 12); // pair (0, 1), invFreq 1
    // q at 7 · k at 4 equals q at 3 · k at 0: scores depend on distance only.
    const dot = (pq: number, pk: number) => {
      const q = Float64Array.from(x),
        k = f64('k', 8);
      ropeAngles(pq, inv, 1, cos, sin);
      applyRope(q, 0, 8, cos, sin);
      ropeAngles(pk, inv, 1, cos, sin);
      applyRope(k, 0, 8, cos, sin);
      return q.reduce((s, v, i) => s + v * k[i], 0);
    };
    expect(dot(7, 4)).toBeCloseTo(dot(3, 0), 12);
  });
});
