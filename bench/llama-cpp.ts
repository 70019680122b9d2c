// Our engine against llama.cpp native (the prebuilt CPU binaries node-llama-cpp ships), one thread
// each, on the same random weights: bench/edge-models.ts's stories15M/110M-shaped models exported to
// GGUF (F32, Q8_0, Q4_0 — the same values our f32/q8/q4 directories hold, Q8_0/Q4_0 bit for bit).
// node-llama-cpp is not a project dependency (its npm install pulls CUDA/Vulkan builds, hundreds of
// MB); install it apart and point LLAMA_CPP_DIR at that node_modules:
//   mkdir -p /tmp/llamacpp && cd /tmp/llamacpp && npm init -y && npm install --omit=optional --ignore-scripts \
//     node-llama-cpp@3.22.1 @node-llama-cpp/linux-x64@3.22.1
//   LLAMA_CPP_DIR=/tmp/llamacpp/node_modules tsx bench/llama-cpp.ts
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { syntheticLlama2cCheckpoint, syntheticLlama2cTokenizer, STORIES110M_SHAPE, STORIES15M_SHAPE } from '../engine/index';
import { exportGguf, type GgufExportType } from '../engine/formats/gguf-model';
import { ggufTokenizerFromLlama2c } from '../engine/formats/gguf-tokenizer';
import { importLlama2c } from '../engine/formats/import-llama2c';
import { repoRoot } from '../tools/paths';

const SHAPES = [
  { name: 'stories15M', shape: { ...STORIES15M_SHAPE, seqLen: 1024 } },
  { name: 'stories110M', shape: STORIES110M_SHAPE },
];
const TYPES: GgufExportType[] = ['f32', 'q8_0', 'q4_0'];

function ggufFile(name: string, shape: typeof STORIES110M_SHAPE, type: GgufExportType): string {
  const path = join(repoRoot, 'bench/.models', `${name}-${type}.gguf`);
  if (existsSync(path)) return path;
  const tokenizer = syntheticLlama2cTokenizer(shape.vocabSize);
  // seed 1: the weights bench/edge-models.ts's directories hold
  writeFileSync(path, exportGguf(importLlama2c(syntheticLlama2cCheckpoint(shape, 1), tokenizer), type, ggufTokenizerFromLlama2c(tokenizer, shape.vocabSize)));
  return path;
}

export interface LlamaCppResult {
  shape: string;
  type: GgufExportType;
  decode: number;
  prefill: number;
}

export async function benchLlamaCpp(dir: string, opts: { runs?: number; log?: (l: string) => void } = {}): Promise<LlamaCppResult[]> {
  const { runs = 3, log = () => {} } = opts;
  const { getLlama } = await import(join(dir, 'node-llama-cpp/dist/index.js'));
  const llama = await getLlama({ gpu: false, build: 'never', usePrebuiltBinaries: true, skipDownload: true, maxThreads: 1, progressLogs: false });
  const results: LlamaCppResult[] = [];
  for (const { name, shape } of SHAPES) {
    for (const type of TYPES) {
      log(`llama.cpp: ${name} ${type}`);
      const model = await llama.loadModel({ modelPath: ggufFile(name, shape, type) });
      const context = await model.createContext({ contextSize: 1024, batchSize: 512, threads: 1 });
      let decode = 0, prefill = 0;
      const long = Array.from({ length: 512 }, (_, i) => (i === 0 ? 1 : 300 + ((i * 131) % 30000)));
      for (let r = 0; r < runs; r++) {
        const seq = context.getSequence();
        let t0 = performance.now();
        await seq.evaluateWithoutGeneratingNewTokens(long);
        prefill = Math.max(prefill, 512 / ((performance.now() - t0) / 1000));
        await seq.clearHistory();
        let count = 0;
        for await (const _ of seq.evaluate([1, 400, 500], { temperature: 0 })) {
          if (count++ === 0) t0 = performance.now();
          if (count === 65) break;
        }
        decode = Math.max(decode, (count - 1) / ((performance.now() - t0) / 1000));
        seq.dispose();
      }
      results.push({ shape: name, type, decode, prefill });
      await context.dispose();
      await model.dispose();
    }
  }
  return results;
}

export function llamaCppTable(rows: LlamaCppResult[]): string {
  const lines = ['| shape | GGUF | llama.cpp decode tok/s | llama.cpp prefill tok/s (512) |', '| --- | --- | ---: | ---: |'];
  for (const r of rows) lines.push(`| ${r.shape} | ${r.type} | ${r.decode.toFixed(1)} | ${r.prefill.toFixed(1)} |`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.env.LLAMA_CPP_DIR;
  if (!dir) {
    console.error('set LLAMA_CPP_DIR to a node_modules holding node-llama-cpp (see the comment at the top)');
    process.exit(2);
  }
  console.log(llamaCppTable(await benchLlamaCpp(dir, { log: (l) => console.error(l) })));
}
