// Log-probabilities of the model's distribution: log-softmax of the raw logits in float64, and the
// n most likely tokens by partial selection (n ≤ 20, so a sorted top list beats sorting the vocabulary).
import type { SampledLogprobs, TokenLogprob } from './options';
import { wasmExpSum } from './sampler';

/** log Σ exp(logits), stable; the sum in WASM where a model registered it (sampler.ts useWasmSoftmax), bit for bit. */
export function logSumExp(logits: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  return max + Math.log(wasmExpSum(logits, max) ?? expSumJs(logits, max));
}

/** logSumExp's sum in JS (the WASM kernel's reference). */
export function expSumJs(logits: Float32Array, max: number): number {
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return sum;
}

/** The n largest logits' ids, largest first (ties: lower id first). */
export function topIds(logits: Float32Array, n: number): number[] {
  // n = 0 (logprobs without alternatives, the common case) must not run the loop: top[n - 1] would be
  // top[-1], and logits[undefined] a named-property lookup that costs ~10× the scan itself.
  if (n <= 0) return [];
  const top: number[] = [];
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i];
    if (top.length === n && !(v > logits[top[n - 1]])) continue;
    let at = top.length;
    while (at > 0 && logits[top[at - 1]] < v) at--;
    top.splice(at, 0, i);
    if (top.length > n) top.pop();
  }
  return top;
}

export function logprobsOf(logits: Float32Array, chosen: number, n: number): SampledLogprobs {
  const lse = logSumExp(logits);
  const top: TokenLogprob[] = topIds(logits, n).map((id) => ({ id, logprob: logits[id] - lse }));
  return { logprob: logits[chosen] - lse, top };
}
