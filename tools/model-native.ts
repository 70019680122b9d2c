// Room: tools (model directories). Writes a directory's edge-native weights file (`model.edge`,
// docs/models.md): the directory is loaded the way a cold isolate loads safetensors (converted on the
// way), and what lands in WASM memory is written out as it lies, so loading model.edge is a copy.
// `model convert` runs it; `model upload` sends model.edge and names it in the manifest.
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepSeekConfig } from '../engine/deepseek/edge-load';
import { loadModelDir } from '../engine/llama/model-dir';
import { encodeNativeWeights } from '../engine/llama/native-weights';
import { createNodeKernels } from '../kernels-wasm/node';
import { readModelDir, weightFiles } from './model-files';

export const NATIVE_FILE = 'model.edge';

/** A native file this much bigger than the safetensors (f16 widened to f32) costs more to download than it saves. */
const MAX_GROWTH = 1.25;

/** Writes `dir`/model.edge; returns its size, or why it was not written. */
export async function writeNativeFile(
  dir: string,
): Promise<{ bytes: number } | { skipped: string }> {
  const files = readModelDir(dir);
  if (isDeepSeekConfig(files.config))
    return {
      skipped: 'DeepSeek-V3 directories load through engine/deepseek (no native layout yet)',
    };
  const k = await createNodeKernels();
  const { model, config } = await loadModelDir(k, files, { maxSessions: 1 });
  const { backend, weights } = model.memoryImage();
  const { head, data } = encodeNativeWeights(backend, config, weights);
  const safetensors = weightFiles(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  const bytes = head.length + data.length;
  if (bytes > MAX_GROWTH * safetensors)
    return {
      skipped: `the kernels' layout is ${(bytes / safetensors).toFixed(1)}× the safetensors (f16 is widened to f32 in memory)`,
    };
  const out = new Uint8Array(bytes);
  out.set(head);
  out.set(data, head.length);
  writeFileSync(join(dir, NATIVE_FILE), out);
  return { bytes };
}
