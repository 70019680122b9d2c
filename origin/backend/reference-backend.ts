// The reference step backend: a DeepSeek-V3 forward over every token of a step at once, on the CPU.
// Projections (MLA's, the experts', the head) run batched through the wasm kernels, each weight read
// once per step for all tokens; routed experts see only the tokens routed to them (grouped by expert).
// Norms, RoPE, routing and attention run per token in the reference model's own functions, against
// the token's own slot cache. Every number equals what DeepSeekReferenceModel computes for the same
// sequence alone (same arithmetic, same order), so batching never changes a greedy token.
import { mlaDims } from '../../engine/deepseek/block';
import { qkHeadDim, type DeepSeekConfig } from '../../engine/deepseek/config';
import {
  createGateScratch,
  gateOptions,
  moeRoute,
  type GateOptions,
  type GateScratch,
} from '../../engine/deepseek/moe';
import { rmsNorm, softmax, swiglu } from '../../engine/deepseek/ops';
import {
  applyRope,
  mlaSoftmaxScale,
  ropeAngles,
  ropeAttentionFactor,
  ropeInvFreq,
} from '../../engine/deepseek/rope';
import type { DeepSeekWeights } from '../../engine/deepseek/weights';
import { instantiateBatchKernels, type BatchKernelExports } from '../kernels/wasm';
import { BatchedLinear, type LinearInput, type WasmLinear } from './batched-linear';
import {
  projectionExtent,
  uploadWeights,
  type WasmBlock,
  type WasmMlp,
  type WasmWeights,
} from './reference-weights';
import type { LatentRows } from '../../engine/prompt-cache/index';
import type { KvRows, LatentAccess, StepBackend, StepSequence } from './step-backend';
import { WasmArena } from './wasm-arena';

export interface ReferenceBackendOptions {
  /** Concurrent sequences (each holds a KV cache of maxSeqLen positions). */
  maxSlots: number;
  /** Positions per slot (default: min(max_position_embeddings, 4096), as the reference model). */
  maxSeqLen?: number;
  /** Most tokens per step (default 256). */
  maxStepTokens?: number;
}

/** One layer's latent cache of one slot, in the arena: c_kv [maxSeqLen, latent] and k_pe [maxSeqLen, rope] (f64). */
interface LayerCache {
  kv: number;
  pe: number;
  kvView: Float64Array;
  peView: Float64Array;
}

interface MlaKvRows extends KvRows {
  /** The first position copied. */
  start: number;
  layers: { kv: Float64Array; pe: Float64Array }[];
}

const BUFFERS = [
  'x',
  'xb',
  'qLat',
  'q',
  'kvA',
  'attnOut',
  'out',
  'router',
  'xe',
  'h1',
  'h3',
  'ye',
  'y',
  'ys',
  'head',
  'logits',
] as const;
type BufName = (typeof BUFFERS)[number];
/** The buffers projections read (each gets FP8 staging beside it). */
const INPUTS = ['xb', 'qLat', 'attnOut', 'xe', 'h1', 'head'] as const;

/** Activation buffers in the arena: pointer, row width, and one row view per token. */
interface Buf {
  ptr: number;
  width: number;
  rows: Float64Array[];
}

/** Where everything lives in the arena: reserved by create(), viewed by the constructor. */
interface Layout {
  bufs: Record<BufName, { ptr: number; n: number; width: number }>;
  inputs: Record<(typeof INPUTS)[number], LinearInput>;
  caches: { kv: number; pe: number }[][]; // [slot][layer]: c_kv [maxSeqLen, latent], k_pe [maxSeqLen, rope] f64
  attn: { qLat: number; qPe: number; tmp: number; oLat: number; att: number }; // attention kernels' scratch
}

export class ReferenceBackend implements StepBackend {
  readonly name = 'reference';
  readonly vocabSize: number;
  readonly maxSeqLen: number;
  readonly maxSlots: number;
  readonly maxStepTokens: number;
  private readonly c: DeepSeekConfig;
  private readonly buf: Record<BufName, Buf>;
  private readonly in: Layout['inputs'];
  private readonly caches: LayerCache[][]; // [slot][layer]
  private readonly freeSlots: number[];
  private readonly mem64: Float64Array;
  private readonly dims;
  private readonly gate: GateOptions;
  private readonly softmaxScale: number;
  private readonly invFreq: Float64Array;
  private readonly attnFactor: number;
  private readonly s; // per-token scratch
  readonly latents: LatentAccess;

  static async create(
    weights: DeepSeekWeights,
    opts: ReferenceBackendOptions,
  ): Promise<ReferenceBackend> {
    const c = weights.config;
    const o: Required<ReferenceBackendOptions> = {
      maxSlots: opts.maxSlots,
      maxSeqLen: opts.maxSeqLen ?? Math.min(c.maxPositionEmbeddings, 4096),
      maxStepTokens: opts.maxStepTokens ?? 256,
    };
    const T = o.maxStepTokens,
      h = c.hiddenSize,
      H = c.numAttentionHeads,
      K = c.numExpertsPerTok;
    const C = c.kvLoraRank,
      R = c.qkRopeHeadDim,
      pairs = (H + 1) >> 1,
      outRows = Math.min(T, o.maxSlots);
    const inter = Math.max(
      c.intermediateSize,
      c.moeIntermediateSize * Math.max(1, c.nSharedExperts),
    );
    const shapes: Record<BufName, [number, number]> = {
      x: [T, h],
      xb: [T, h],
      qLat: [T, c.qLoraRank ?? 0],
      q: [T, H * qkHeadDim(c)],
      kvA: [T, C + R],
      attnOut: [T, H * c.vHeadDim],
      out: [T, h],
      router: [T, c.nRoutedExperts],
      xe: [T, h],
      h1: [T, inter],
      h3: [T, inter],
      ye: [T, h],
      y: [T * K, h],
      ys: [T, h],
      head: [outRows, h],
      logits: [outRows, c.vocabSize],
    };
    const arena = new WasmArena();
    const w = uploadWeights(arena, weights);
    const extent = projectionExtent(weights);
    const lin = new BatchedLinear(arena, T, extent.cols, extent.rows);
    const bufs = Object.fromEntries(
      BUFFERS.map((b) => [
        b,
        { ptr: arena.alloc(shapes[b][0] * shapes[b][1] * 8), n: shapes[b][0], width: shapes[b][1] },
      ]),
    ) as Layout['bufs'];
    const layout: Layout = {
      bufs,
      inputs: Object.fromEntries(
        INPUTS.map((b) => [b, lin.input(bufs[b].ptr, bufs[b].n, bufs[b].width)]),
      ) as Layout['inputs'],
      caches: Array.from({ length: o.maxSlots }, () =>
        w.layers.map(() => ({
          kv: arena.alloc(o.maxSeqLen * C * 8),
          pe: arena.alloc(o.maxSeqLen * R * 8),
        })),
      ),
      attn: {
        qLat: arena.alloc(pairs * C * 16),
        qPe: arena.alloc(pairs * R * 16),
        tmp: arena.alloc(C * 8),
        oLat: arena.alloc(C * 8),
        att: arena.alloc(H * o.maxSeqLen * 8),
      },
    };
    const kernels = await instantiateBatchKernels(arena.finish());
    lin.attach(kernels);
    return new ReferenceBackend(kernels, arena, w, lin, layout, c, o);
  }

  private constructor(
    private readonly k: BatchKernelExports,
    arena: WasmArena,
    private readonly w: WasmWeights,
    private readonly lin: BatchedLinear,
    layout: Layout,
    c: DeepSeekConfig,
    o: Required<ReferenceBackendOptions>,
  ) {
    this.c = c;
    this.vocabSize = c.vocabSize;
    this.maxSeqLen = o.maxSeqLen;
    this.maxSlots = o.maxSlots;
    this.maxStepTokens = o.maxStepTokens;
    const d = (this.dims = mlaDims(c));
    this.gate = gateOptions(c);
    this.softmaxScale = mlaSoftmaxScale(c);
    this.invFreq = ropeInvFreq(c.qkRopeHeadDim, c.ropeTheta, c.ropeScaling);
    this.attnFactor = ropeAttentionFactor(c.ropeScaling);
    this.mem64 = new Float64Array(arena.memory.buffer);
    this.buf = Object.fromEntries(
      BUFFERS.map((b) => {
        const { ptr, n, width } = layout.bufs[b],
          view = arena.f64(ptr, n * width);
        return [
          b,
          {
            ptr,
            width,
            rows: Array.from({ length: n }, (_, i) => view.subarray(i * width, (i + 1) * width)),
          },
        ];
      }),
    ) as Record<BufName, Buf>;
    this.in = layout.inputs;
    this.caches = layout.caches.map((layers) =>
      layers.map(({ kv, pe }) => ({
        kv,
        pe,
        kvView: arena.f64(kv, o.maxSeqLen * d.latent),
        peView: arena.f64(pe, o.maxSeqLen * d.rope),
      })),
    );
    this.freeSlots = Array.from({ length: o.maxSlots }, (_, i) => o.maxSlots - 1 - i);
    this.latents = {
      shape: { nLayers: w.layers.length, kvLoraRank: d.latent, ropeDim: d.rope },
      toLatents,
      fromLatents,
    };
    const T = o.maxStepTokens,
      K = c.numExpertsPerTok,
      att = arena.f64(layout.attn.att, d.heads * o.maxSeqLen);
    this.s = {
      ...layout.attn,
      attRows: Array.from({ length: d.heads }, (_, hd) =>
        att.subarray(hd * o.maxSeqLen, (hd + 1) * o.maxSeqLen),
      ), // the host softmaxes them
      cos: Array.from({ length: T }, () => new Float64Array(d.rope / 2)), // per token: its angles, set once per step
      sin: Array.from({ length: T }, () => new Float64Array(d.rope / 2)),
      kvNorm: new Float64Array(d.latent),
      gate: createGateScratch(c.nRoutedExperts, c.nGroup) as GateScratch,
      idx: new Int32Array(K),
      weight: new Float64Array(K),
      choice: new Int32Array(T * K), // expert of (token, rank)
      choiceWeight: new Float64Array(T * K),
      members: new Int32Array(T * K), // (token·K + rank) grouped by expert
      start: new Int32Array(c.nRoutedExperts + 1),
      fill: new Int32Array(c.nRoutedExperts),
      rows: new Int32Array(T), // token rows of one expert's group
      tokSlot: new Int32Array(T),
      tokPos: new Int32Array(T),
    };
  }

  allocate(): number | null {
    return this.freeSlots.pop() ?? null;
  }

  free(slot: number): void {
    if (this.freeSlots.includes(slot)) throw new Error(`slot ${slot} freed twice`);
    this.freeSlots.push(slot);
  }

  saveKv(slot: number, start: number, count: number): KvRows {
    const { latent: C, rope: R } = this.dims;
    const layers = this.caches[slot].map((cache) => ({
      kv: cache.kvView.slice(start * C, (start + count) * C),
      pe: cache.peView.slice(start * R, (start + count) * R),
    }));
    const rows: MlaKvRows = {
      tokens: count,
      bytes: layers.length * count * (C + R) * 8,
      start,
      layers,
    };
    return rows;
  }

  restoreKv(slot: number, start: number, rows: KvRows): void {
    const { latent: C, rope: R } = this.dims;
    const saved = (rows as MlaKvRows).layers;
    this.caches[slot].forEach((cache, l) => {
      cache.kvView.set(saved[l].kv, start * C);
      cache.peView.set(saved[l].pe, start * R);
    });
  }

  async step(batch: readonly StepSequence[]): Promise<Float64Array[]> {
    return this.forward(batch);
  }

  /** The step's forward, top to bottom; T counts every token of every sequence in the batch. */
  private forward(batch: readonly StepSequence[]): Float64Array[] {
    const c = this.c,
      s = this.s,
      b = this.buf,
      d = this.dims,
      h = c.hiddenSize,
      qk = d.nope + d.rope;
    const T = this.layoutTokens(batch);

    for (let t = 0; t < T; t++)
      ropeAngles(s.tokPos[t], this.invFreq, this.attnFactor, s.cos[t], s.sin[t]);
    for (let l = 0; l < this.w.layers.length; l++) {
      const w = this.w.layers[l];
      // Multi-head latent attention
      for (let t = 0; t < T; t++) rmsNorm(b.xb.rows[t], b.x.rows[t], w.attnNorm, h, c.rmsNormEps); // [T, hidden]
      const xb = this.in.xb.reset(T, h);
      if (w.qA && w.qB && w.qANorm) {
        this.lin.run(b.qLat.ptr, w.qA, xb); // [T, qLoraRank]
        for (let t = 0; t < T; t++)
          rmsNorm(b.qLat.rows[t], b.qLat.rows[t], w.qANorm, w.qA.rows, c.rmsNormEps);
        this.lin.run(b.q.ptr, w.qB, this.in.qLat.reset(T, w.qA.rows)); // [T, H·qk]
      } else {
        this.lin.run(b.q.ptr, w.q!, xb);
      }
      this.lin.run(b.kvA.ptr, w.kvA, xb); // [T, latent + rope]
      for (let t = 0; t < T; t++) this.writeKvRow(t, l, w);
      for (let t = 0; t < T; t++) {
        for (let hd = 0; hd < d.heads; hd++)
          applyRope(b.q.rows[t], hd * qk + d.nope, d.rope, s.cos[t], s.sin[t]);
        this.attention(t, l, w);
      }
      this.lin.run(b.out.ptr, w.o, this.in.attnOut.reset(T, w.o.cols)); // [T, hidden]
      this.addResidual(T);

      // Feed-forward: dense MLP or DeepSeekMoE
      for (let t = 0; t < T; t++) rmsNorm(b.xb.rows[t], b.x.rows[t], w.ffnNorm, h, c.rmsNormEps);
      this.in.xb.reset(T, h);
      if (w.dense) this.mlp(b.out.ptr, w.dense, this.in.xb);
      else this.moe(w, T);
      this.addResidual(T);
    }
    return this.head(batch);
  }

  /** Embeds every token of the batch into x and records its slot and position. Returns T. */
  private layoutTokens(batch: readonly StepSequence[]): number {
    const s = this.s,
      h = this.c.hiddenSize,
      V = this.c.vocabSize;
    let T = 0;
    for (const seq of batch) {
      if (seq.startPos + seq.tokens.length > this.maxSeqLen)
        throw new RangeError(`slot ${seq.slot}: positions past maxSeqLen ${this.maxSeqLen}`);
      for (let i = 0; i < seq.tokens.length; i++, T++) {
        if (T >= this.maxStepTokens)
          throw new RangeError(`a step takes at most ${this.maxStepTokens} tokens`);
        const id = seq.tokens[i];
        if (!Number.isInteger(id) || id < 0 || id >= V)
          throw new RangeError(`token id ${id} outside vocab 0..${V - 1}`);
        s.tokSlot[T] = seq.slot;
        s.tokPos[T] = seq.startPos + i;
        this.buf.x.rows[T].set(this.w.embed.subarray(id * h, (id + 1) * h));
      }
    }
    return T;
  }

  /** mlaAbsorbedAttention of token t over its slot's rows 0..pos, through the wasm kernels, into attnOut[t]. */
  private attention(t: number, l: number, w: WasmBlock): void {
    const s = this.s,
      d = this.dims,
      k = this.k,
      cache = this.caches[s.tokSlot[t]][l],
      n = s.tokPos[t] + 1;
    const q = this.buf.q.ptr + t * this.buf.q.width * 8,
      out = this.buf.attnOut.ptr + t * this.buf.attnOut.width * 8;
    k.mlaAbsorbQuery(s.qLat, s.tmp, q, w.kvB, d.heads, d.nope, d.rope, d.v, d.latent);
    k.mlaScores(
      s.att,
      s.qLat,
      s.qPe,
      q,
      cache.kv,
      cache.pe,
      d.heads,
      d.nope,
      d.rope,
      d.latent,
      n,
      this.softmaxScale,
      this.maxSeqLen,
    );
    for (let hd = 0; hd < d.heads; hd++) softmax(s.attRows[hd], n);
    k.mlaOutput(
      out,
      s.att,
      cache.kv,
      s.oLat,
      w.kvB,
      d.heads,
      d.nope,
      d.v,
      d.latent,
      n,
      this.maxSeqLen,
    );
  }

  /** Token t's latent and rope key, as mlaForward computes them, into its slot's cache at its position. */
  private writeKvRow(t: number, l: number, w: WasmBlock): void {
    const s = this.s,
      d = this.dims,
      kvA = this.buf.kvA.rows[t],
      pos = s.tokPos[t];
    const cache = this.caches[s.tokSlot[t]][l];
    applyRope(kvA, d.latent, d.rope, s.cos[t], s.sin[t]);
    rmsNorm(s.kvNorm, kvA, w.kvANorm, d.latent, this.c.rmsNormEps);
    cache.kvView.set(s.kvNorm, pos * d.latent);
    cache.peView.set(kvA.subarray(d.latent, d.latent + d.rope), pos * d.rope);
  }

  private addResidual(T: number): void {
    const x = this.buf.x.rows,
      out = this.buf.out.rows,
      h = this.c.hiddenSize;
    for (let t = 0; t < T; t++) for (let i = 0; i < h; i++) x[t][i] += out[t][i];
  }

  /** out[n, hidden] = down(silu(gate·x) ⊙ up·x) for the input's n rows. */
  private mlp(out: number, w: WasmMlp, x: LinearInput): void {
    const b = this.buf,
      inter = w.gate.rows,
      n = x.n;
    this.lin.run(b.h1.ptr, w.gate, x); // [n, inter]
    this.lin.run(b.h3.ptr, w.up, x); // [n, inter]
    swiglu(
      this.mem64.subarray(b.h1.ptr / 8, b.h1.ptr / 8 + n * inter),
      this.mem64.subarray(b.h3.ptr / 8),
      n * inter,
    );
    this.lin.run(out, w.down, this.in.h1.reset(n, inter)); // [n, hidden]
  }

  /** DeepSeekMoE over the step: route each token, run each expert once over its tokens, sum per token in rank order. */
  private moe(w: WasmBlock, T: number): void {
    const moe = w.moe!,
      s = this.s,
      b = this.buf,
      h = this.c.hiddenSize,
      K = this.c.numExpertsPerTok,
      E = moe.experts.length;
    const m64 = this.mem64,
      ye = b.ye.ptr / 8,
      y = b.y.ptr / 8,
      xb = this.in.xb;
    this.lin.run(b.router.ptr, moe.router, xb); // [T, E] router logits
    const gate = moe.experts[0].gate;
    if (gate.kind === 'fp8') this.lin.quantize(xb, gate.block[1]); // once, for every expert's gate and up
    s.start.fill(0);
    for (let t = 0; t < T; t++) {
      moeRoute(b.router.rows[t], moe.bias, this.gate, s.idx, s.weight, s.gate);
      for (let j = 0; j < K; j++) {
        s.choice[t * K + j] = s.idx[j];
        s.choiceWeight[t * K + j] = s.weight[j];
        s.start[s.idx[j] + 1]++;
      }
    }
    for (let e = 0; e < E; e++) s.start[e + 1] += s.start[e];
    s.fill.set(s.start.subarray(0, E)); // counting sort of (token, rank) by expert
    for (let i = 0; i < T * K; i++) s.members[s.fill[s.choice[i]]++] = i;

    for (let e = 0; e < E; e++) {
      const from = s.start[e],
        n = s.start[e + 1] - from;
      if (n === 0) continue;
      for (let i = 0; i < n; i++) s.rows[i] = (s.members[from + i] / K) | 0;
      this.lin.gather(this.in.xe, xb, s.rows, n); // the expert's tokens
      this.mlp(b.ye.ptr, moe.experts[e], this.in.xe); // [n, hidden]
      for (let i = 0; i < n; i++) {
        const slot = s.members[from + i];
        m64.copyWithin(y + slot * h, ye + i * h, ye + (i + 1) * h);
      }
    }
    if (moe.shared) this.mlp(b.ys.ptr, moe.shared, xb);
    for (let t = 0; t < T; t++) {
      const out = b.out.rows[t];
      out.fill(0);
      for (let j = 0; j < K; j++) {
        const wj = s.choiceWeight[t * K + j],
          yj = b.y.rows[t * K + j];
        for (let i = 0; i < h; i++) out[i] += wj * yj[i];
      }
      if (moe.shared) for (let i = 0, ys = b.ys.rows[t]; i < h; i++) out[i] += ys[i];
    }
  }

  /** model.norm and lm_head for the last token of each sequence that wants logits. */
  private head(batch: readonly StepSequence[]): Float64Array[] {
    const b = this.buf,
      h = this.c.hiddenSize;
    let t = 0,
      n = 0;
    for (const seq of batch) {
      t += seq.tokens.length;
      if (seq.wantLogits)
        rmsNorm(b.head.rows[n++], b.x.rows[t - 1], this.w.norm, h, this.c.rmsNormEps);
    }
    if (n === 0) return [];
    this.lin.run(b.logits.ptr, this.w.lmHead, this.in.head.reset(n, h)); // [n, vocab]
    return b.logits.rows.slice(0, n);
  }
}

/** Saved rows as the prompt cache's latent rows [nLayers, count, width], still f64 (the codecs read f64). */
function toLatents(rows: KvRows): LatentRows {
  const { start, tokens: count, layers } = rows as MlaKvRows;
  const C = layers[0].kv.length / count,
    R = layers[0].pe.length / count;
  const cKv = new Float64Array(layers.length * count * C),
    kPe = new Float64Array(layers.length * count * R);
  layers.forEach(({ kv, pe }, l) => {
    cKv.set(kv, l * count * C);
    kPe.set(pe, l * count * R);
  });
  return { nLayers: layers.length, kvLoraRank: C, ropeDim: R, start, count, cKv, kPe };
}

function fromLatents(r: LatentRows): KvRows {
  const C = r.kvLoraRank,
    R = r.ropeDim,
    n = r.count;
  const layers = Array.from({ length: r.nLayers }, (_, l) => ({
    kv: Float64Array.from(r.cKv.subarray(l * n * C, (l + 1) * n * C)),
    pe: Float64Array.from(r.kPe.subarray(l * n * R, (l + 1) * n * R)),
  }));
  const rows: MlaKvRows = { tokens: n, bytes: r.nLayers * n * (C + R) * 8, start: r.start, layers };
  return rows;
}

export type { WasmLinear };
