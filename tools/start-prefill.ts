// `npm start`'s prefill tier for the DeepSeek edge model (docs/prompt-cache.md, "Prefill at an origin"):
// a local origin serving the same files the edge loads from R2 (so both name the same checkpoint digest),
// with the internal secret it is given, and the registry's `prefill` entry that points the edge model at it.
import { startOrigin, type RunningOrigin } from '../origin/launch';

export async function startPrefillOrigin(dir: string, secret: string): Promise<RunningOrigin> {
  const origin = await startOrigin(
    ['--model', dir, '--internal-secret', secret, '--role', 'prefill'],
    180_000,
  );
  return origin;
}

/** The registry's `prefill` entry of an edge model whose prefill tier is `origin`. */
export function prefillTier(origin: RunningOrigin): object {
  // Locally the origin runs the same WASM kernels on the same cores as the edge, so this shows the path
  // working (x-prefilled-by, then KV hits), not a faster first token (`npm run bench -- edge-handoff`).
  return { origins: [{ url: origin.url, name: 'local-prefill' }], min_prompt_tokens: 256 };
}
