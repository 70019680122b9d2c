// The seam between the scheduler and whatever computes a forward step. A backend owns the model's
// weights and one KV cache per *slot* (a running sequence); the scheduler decides which tokens of
// which slots run in each step. The CPU backend (cpu-backend.ts: kernels-wasm's f32 DeepSeek ops, batched)
// and the WebGPU backend (webgpu-backend.ts over kernels-gpu/) implement it.
import type { LatentRows, LatentShape } from '../../engine/prompt-cache/index';

/** The tokens one sequence feeds into a step: positions startPos .. startPos + tokens.length - 1. */
export interface StepSequence {
  slot: number;
  tokens: ArrayLike<number>;
  startPos: number;
  /** Return the logits of the last of these tokens (the end of a prompt, or a decode step). */
  wantLogits: boolean;
  /** Return the logits of every one of these tokens, in order. */
  allLogits?: boolean;
  /**
   * Return the logits of the first of these tokens only: [last token, draft], verifying a draft (only a
   * backend with a drafter is sent it); the draft's row gets its logits from Drafter.rowLogits if it stands.
   */
  firstLogits?: boolean;
}

/**
 * One sequence's input to a draft step, over rows of the step just run: positions startPos ..
 * startPos + nextTokens.length - 1, whose main-model hidden states are that step's rows hiddenRow..,
 * and the confirmed token after each. The drafter writes its own cache rows for those positions.
 */
export interface DraftSequence {
  slot: number;
  startPos: number;
  hiddenRow: number;
  nextTokens: ArrayLike<number>;
  /** Return the draft logits for the token after the last of nextTokens. */
  wantLogits: boolean;
}

/** A draft model beside the backend's (the checkpoint's MTP module): speculative decoding. */
export interface Drafter {
  /** 'mtp', reported by /health. */
  readonly name: string;
  /** Runs after step(), before the next one; the draft logits of each sequence with wantLogits. */
  draft(batch: readonly DraftSequence[]): Promise<Float32Array[]>;
  /**
   * The logits of token rows of the step just run (batch order), before draft(): the rows of the drafts
   * that stood. Computing them only then spares the head (most of a small model's step) for rejected ones.
   */
  rowLogits(rows: readonly number[]): Promise<Float32Array[]>;
}

/** A copy of some KV rows of one slot, in whatever form the backend keeps them (prefix cache). */
export interface KvRows {
  readonly tokens: number;
  /** Memory the copy holds, for the prefix cache's budget. */
  readonly bytes: number;
  /** Frees memory garbage collection cannot see (a GPU buffer); the prefix cache calls it on eviction. */
  release?(): void;
}

/**
 * An MLA backend's saved rows as plain latents and back, so the prefix cache can hold them as encoded
 * entries (--prefix-cache-codec, scheduler/latent-blocks.ts). A backend without it keeps its own rows.
 */
export interface LatentAccess {
  readonly shape: LatentShape;
  /** saveKv's rows as every layer's c_kv and k_pe, starting where saveKv copied from. */
  toLatents(rows: KvRows): LatentRows;
  /** Rows restoreKv takes, from latents (decoded from an entry). */
  fromLatents(rows: LatentRows): KvRows;
}

export interface StepBackend {
  /** 'cpu' | 'webgpu' …, reported by /health. */
  readonly name: string;
  readonly vocabSize: number;
  /** Positions one slot holds: prompt + completion must fit. */
  readonly maxSeqLen: number;
  /** Slots (concurrent sequences) the backend was sized for. */
  readonly maxSlots: number;
  /** Most tokens one step() takes, over all its sequences. */
  readonly maxStepTokens: number;
  /**
   * Rows of logits one step may return, where prefill chunks may ask for all of theirs (allLogits:
   * prompt scoring); absent where a prefill returns its last row only.
   */
  readonly maxLogitRows?: number;

  /** A free slot, or null when all are taken. Its cache rows are garbage until written. */
  allocate(): number | null;
  free(slot: number): void;

  /**
   * One forward over every sequence's tokens together: each weight is read once per step for all of
   * them. Resolves to the logits [vocab] of each sequence with wantLogits (each of its tokens' with
   * allLogits; of the first with firstLogits, which only a backend with a drafter is sent), in batch order; the arrays are valid until
   * the next step.
   */
  step(batch: readonly StepSequence[]): Promise<(Float32Array | Float64Array)[]>;

  /** Copies rows [start, start + count) of a slot's cache (every layer's c_kv and k_pe for MLA). */
  saveKv(slot: number, start: number, count: number): KvRows;
  /** Writes saved rows back at positions [start, start + rows.tokens) of a slot. */
  restoreKv(slot: number, start: number, rows: KvRows): void;
  /** Present where saved rows can leave the backend as latents (the CPU backend). */
  readonly latents?: LatentAccess;
  /** Present where the backend runs a draft model (the CPU backend on a checkpoint with MTP weights). */
  readonly drafter?: Drafter;
}
