// `model info <dir>`: what a model directory holds (architecture, shape, parameters, tensor formats,
// tokenizer, template) and what loading it takes: WASM memory for the weights and per-session KV cache.
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseHfConfig } from '../engine/formats/hf-config';
import { llamaParamCount } from '../engine/formats/hf-tensors';
import { parseSafetensorsHeader, type SafetensorsEntry } from '../engine/formats/safetensors';
import { chatTemplateSource } from '../engine/tokenizers/chat-template';
import { weightFiles } from './model-files';

/** The header of a safetensors file, without reading its data. */
export function readSafetensorsHeaderOf(path: string): SafetensorsEntry[] {
  const fd = openSync(path, 'r');
  try {
    const len = Buffer.alloc(8);
    readSync(fd, len, 0, 8, 0);
    const n = Number(len.readBigUInt64LE(0));
    const json = new Uint8Array(n);
    readSync(fd, json, 0, n, 8);
    return parseSafetensorsHeader(json, statSync(path).size - 8 - n).entries;
  } finally {
    closeSync(fd);
  }
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** Bytes a tensor takes in backend memory: floats widen to f32, quantized codes and scales stay. */
function memoryBytes(e: SafetensorsEntry): number {
  const n = e.shape.reduce((a, b) => a * b, 1);
  return e.dtype === 'F16' || e.dtype === 'BF16' ? n * 4 : e.offsets[1] - e.offsets[0];
}

export function describeModelDir(dir: string): string {
  const configJson = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  const c = parseHfConfig(configJson);
  const entries = weightFiles(dir).flatMap((f) => readSafetensorsHeaderOf(join(dir, f)));
  const byDtype = new Map<string, number>();
  for (const e of entries) byDtype.set(e.dtype, (byDtype.get(e.dtype) ?? 0) + 1);
  const fileBytes = weightFiles(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  const weightMemory = entries.reduce((n, e) => n + memoryBytes(e), 0);
  const kvPerPosition = 2 * c.nLayers * c.nKvHeads * c.headDim * 4;
  const tokenizerConfig = existsSync(join(dir, 'tokenizer_config.json'))
    ? JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'))
    : {};
  const tokenizer = existsSync(join(dir, 'tokenizer.json'))
    ? 'tokenizer.json'
    : existsSync(join(dir, 'tokenizer.bin'))
      ? 'tokenizer.bin (llama2.c)'
      : 'none';
  const q = configJson.quantization_config;
  const lines = [
    `${dir}: ${c.architecture}, ${(llamaParamCount(c) / 1e6).toFixed(2)}M parameters${q ? `, quantized ${q.quant_method}${q.bits ? ` ${q.bits}-bit` : ''}` : ''}`,
    `  dim ${c.dim}, hidden ${c.hiddenDim}, ${c.nLayers} layers, heads ${c.nHeads} (kv ${c.nKvHeads}, head_dim ${c.headDim}), vocab ${c.vocabSize}`,
    `  context ${c.maxPositionEmbeddings}, rope theta ${c.ropeTheta}${c.ropeScaling ? ` (${c.ropeScaling.type} ×${c.ropeScaling.factor})` : ''}, ` +
      `${c.sharedClassifier ? 'tied' : 'untied'} embeddings${c.qkvBias ? ', qkv bias' : ''}, rms eps ${c.normEps}`,
    `  weights: ${weightFiles(dir).join(', ')} — ${mib(fileBytes)}, ${entries.length} tensors (${[...byDtype].map(([d, n]) => `${n} ${d}`).join(', ')})`,
    `  memory: weights ${mib(weightMemory)} in WASM memory; KV cache ${mib(kvPerPosition * 1024)} per session per 1024 positions ` +
      `(${mib(kvPerPosition * c.maxPositionEmbeddings)} at the full context)`,
    `  tokenizer: ${tokenizer}; eos ${JSON.stringify(c.eosTokenIds)}; chat template: ${chatTemplateSource(tokenizerConfig) ? 'yes' : 'no (plain template)'}`,
  ];
  return lines.join('\n');
}
