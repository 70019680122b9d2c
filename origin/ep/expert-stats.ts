// Expert load on the origin: per MoE layer, per routed expert, the tokens the router sent to it, counted
// where routing happens (the CPU backend's MoE step, through wasm-moe.ts's hook) into one Int32Array per
// layer. Two views: lifetime totals (the Prometheus counter; the rebalancer takes EPLB's input, the load
// since its previous placement, as their difference) and the current window (admin JSON), which POST
// /admin/experts/reset starts afresh.

export interface LayerLoad {
  layer: number;
  tokens: number;
  /** max / mean over the layer's experts (1 = perfectly even; 0 when nothing was routed). */
  imbalance: number;
  counts: number[];
}

/** max / mean of the counts; 0 for an empty window. */
export function imbalance(counts: ArrayLike<number>): number {
  let max = 0,
    sum = 0;
  for (let i = 0; i < counts.length; i++) {
    max = Math.max(max, counts[i]);
    sum += counts[i];
  }
  return sum === 0 ? 0 : max / (sum / counts.length);
}

export class ExpertStats {
  /** Lifetime tokens per [layer][expert] (f64: no wrap at 2³¹). */
  readonly total: Float64Array[];
  /** Tokens per [layer][expert] since windowStart. */
  readonly window: Int32Array[];
  windowStart = Date.now();

  /** layers: the model's MoE layer indices (dense layers have no experts). */
  constructor(
    readonly layers: readonly number[],
    readonly experts: number,
  ) {
    this.total = layers.map(() => new Float64Array(experts));
    this.window = layers.map(() => new Int32Array(experts));
  }

  /** Adds one step's routing of layer slot i (offsets[e + 1] - offsets[e] rows went to expert e). */
  record(i: number, offsets: Int32Array): void {
    const t = this.total[i],
      w = this.window[i];
    for (let e = 0; e < this.experts; e++) {
      const c = offsets[e + 1] - offsets[e];
      t[e] += c;
      w[e] += c;
    }
  }

  reset(): void {
    for (const w of this.window) w.fill(0);
    this.windowStart = Date.now();
  }

  /** The current window, per layer. */
  snapshot(): LayerLoad[] {
    return this.layers.map((layer, i) => {
      const counts = Array.from(this.window[i]);
      return {
        layer,
        tokens: counts.reduce((a, b) => a + b, 0),
        imbalance: imbalance(counts),
        counts,
      };
    });
  }
}
