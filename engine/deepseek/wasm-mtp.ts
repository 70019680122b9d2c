// The MTP module (DeepSeek-V3's next-n layer) on the WASM kernels, batched like the main step: for each
// sequence, positions startPos.. with the main model's final hidden states h_i (after model.norm, kept by
// the last main step) and the confirmed token t_{i+1} after each: x = eh_proj([enorm(emb(t_{i+1})) ;
// hnorm(h_i)]) (embedding zeroed at position 0, as mtp.ts and vLLM do), one transformer block with its own
// latent cache per slot (rope position i), then shared_head.norm and the main head give logits for t_{i+2}.
// It shares the main model's embedding, head and step buffers; mtp.ts is its float64 reference.
import type { KernelBackend } from '../../kernels-wasm/types';
import type { DeepSeekConfig } from './config';
import { wasmBlockForward, type BlockStep } from './wasm-block';
import { linearForward } from './wasm-linear';
import { createMlaCache, type WasmMlaCache } from './wasm-mla';
import type { MlaDims } from './mla';
import type { WasmMtpWeights } from './wasm-weights';

/** One sequence's input to a draft step: positions startPos .. startPos + nextTokens.length - 1. */
export interface MtpStepSequence {
  slot: number;
  startPos: number;
  /** Row of the last main step that holds the hidden state at startPos (the following rows: the rest). */
  hiddenRow: number;
  /** The confirmed token after each of those positions. */
  nextTokens: ArrayLike<number>;
  /** Return the draft logits of the last position (the token after the last of nextTokens). */
  wantLogits: boolean;
}

export interface WasmMtp {
  w: WasmMtpWeights;
  caches: WasmMlaCache[]; // [slot]
  eh: number; // [maxBatch, 2·hidden] = [enorm(emb(t_{i+1})) ; hnorm(h_i)]
}

export function createWasmMtp(
  mem: KernelBackend,
  w: WasmMtpWeights,
  c: DeepSeekConfig,
  d: MlaDims,
  maxSlots: number,
  maxSeqLen: number,
  maxBatch: number,
): WasmMtp {
  return {
    w,
    caches: Array.from({ length: maxSlots }, () => createMlaCache(mem, d, maxSeqLen)),
    eh: mem.alloc(maxBatch * 2 * c.hiddenSize),
  };
}

/**
 * The MTP module over T rows already laid out in s.tok (slot, position) and m.eh; leaves its final residual
 * stream in s.x[T, hidden] (the caller applies shared_head.norm and the head to the rows it wants).
 */
export function wasmMtpForward(s: BlockStep, m: WasmMtp, T: number, lin: number): void {
  linearForward(s.kit, s.x, m.w.ehProj, m.eh, T, lin); // [T, hidden]
  wasmBlockForward(s, m.w.block, m.caches, T);
}

/** Writes row T of eh: enorm(embedding of `token`) (zero at position 0) and hnorm(hidden row). */
export function mtpInputRow(
  s: BlockStep,
  m: WasmMtp,
  T: number,
  embedRow: number,
  hiddenRow: number,
  pos: number,
): void {
  const h = s.hidden,
    row = m.eh + 4 * T * 2 * h;
  if (pos === 0) s.heap.fill(0, row >> 2, (row >> 2) + h);
  else s.kit.k.rmsnorm(row, embedRow, m.w.enorm, h, s.eps);
  s.kit.k.rmsnorm(row + 4 * h, hiddenRow, m.w.hnorm, h, s.eps);
}
