// The DeepSeek weights as the reference backend holds them: every projection reserved in the wasm
// arena (batched kernels read it there), norms, router bias and kv_b_proj left in JS (per-token code
// reads them). Shapes follow engine/deepseek/weights.ts.
import { isMoeLayer, type DeepSeekConfig } from '../../engine/deepseek/config';
import type { Linear } from '../../engine/deepseek/linear';
import type { MlpWeights } from '../../engine/deepseek/moe';
import type { DeepSeekWeights } from '../../engine/deepseek/weights';
import { uploadLinear, type WasmLinear } from './batched-linear';
import type { WasmArena } from './wasm-arena';

export interface WasmMlp {
  gate: WasmLinear;
  up: WasmLinear;
  down: WasmLinear;
}

export interface WasmBlock {
  attnNorm: Float32Array; // [hidden]
  qA: WasmLinear | null; // [qLoraRank, hidden]
  qANorm: Float32Array | null; // [qLoraRank]
  qB: WasmLinear | null; // [H·qk, qLoraRank]
  q: WasmLinear | null; // [H·qk, hidden]
  kvA: WasmLinear; // [latent + rope, hidden]
  kvANorm: Float32Array; // [latent]
  kvB: number; // arena f32 [H·(nope+v), latent]: W_UK and W_UV, read by the attention kernels
  o: WasmLinear; // [hidden, H·v]
  ffnNorm: Float32Array; // [hidden]
  dense: WasmMlp | null;
  moe: {
    router: WasmLinear /* [E, hidden] f32 */;
    bias: Float32Array | null;
    experts: WasmMlp[];
    shared: WasmMlp | null;
  } | null;
}

export interface WasmWeights {
  embed: Float32Array; // [vocab, hidden]
  layers: WasmBlock[];
  norm: Float32Array; // [hidden]
  lmHead: WasmLinear; // [vocab, hidden]
}

const routerLinear = (router: Float32Array, c: DeepSeekConfig): Linear => ({
  kind: 'f32',
  rows: c.nRoutedExperts,
  cols: c.hiddenSize,
  w: router,
});

function* linears(w: DeepSeekWeights): Generator<Linear> {
  const mlp = (m: MlpWeights) => [m.gate, m.up, m.down];
  for (const l of w.layers) {
    for (const lin of [l.mla.qA, l.mla.qB, l.mla.q, l.mla.kvA, l.mla.o]) if (lin) yield lin;
    if (l.dense) yield* mlp(l.dense);
    if (l.moe) {
      yield routerLinear(l.moe.router, w.config);
      for (const e of l.moe.experts) yield* mlp(e);
      if (l.moe.shared) yield* mlp(l.moe.shared);
    }
  }
  yield w.lmHead;
}

/** The widest and tallest projection: sizes the kernels' staging buffers. */
export function projectionExtent(w: DeepSeekWeights): { cols: number; rows: number } {
  let cols = 0,
    rows = 0;
  for (const lin of linears(w)) {
    cols = Math.max(cols, lin.cols);
    rows = Math.max(rows, lin.rows);
  }
  return { cols, rows };
}

export function uploadWeights(arena: WasmArena, w: DeepSeekWeights): WasmWeights {
  const c = w.config;
  const up = (lin: Linear | null) => (lin ? uploadLinear(arena, lin) : null);
  const mlp = (m: MlpWeights): WasmMlp => ({
    gate: uploadLinear(arena, m.gate),
    up: uploadLinear(arena, m.up),
    down: uploadLinear(arena, m.down),
  });
  const layers = w.layers.map((l, i): WasmBlock => {
    if (isMoeLayer(c, i) !== (l.moe !== null))
      throw new Error(`layer ${i}: weights disagree with the config about MoE`);
    return {
      attnNorm: l.attnNorm,
      qA: up(l.mla.qA),
      qANorm: l.mla.qANorm,
      qB: up(l.mla.qB),
      q: up(l.mla.q),
      kvA: uploadLinear(arena, l.mla.kvA),
      kvANorm: l.mla.kvANorm,
      kvB: arena.alloc(l.mla.kvB.byteLength, l.mla.kvB),
      o: uploadLinear(arena, l.mla.o),
      ffnNorm: l.ffnNorm,
      dense: l.dense ? mlp(l.dense) : null,
      moe: l.moe && {
        router: uploadLinear(arena, routerLinear(l.moe.router, c)),
        bias: l.moe.bias,
        experts: l.moe.experts.map(mlp),
        shared: l.moe.shared ? mlp(l.moe.shared) : null,
      },
    };
  });
  return { embed: w.embed, layers, norm: w.norm, lmHead: uploadLinear(arena, w.lmHead) };
}
