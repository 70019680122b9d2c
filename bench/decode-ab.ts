// Kernel A/B on the engine's decode: the same stories110M-shaped model (seed-1 random weights, f32/q8/q4
// directories of bench/edge-models.ts) loaded once per kernels.wasm given, 64-token greedy decodes
// interleaved round by round with the order rotating, so the shared machine's load hits every build;
// prints each build's best and its per-round ratio to the first build.
//   tsx bench/decode-ab.ts [--rounds 5] [--weights f32,q8,q4] base.wasm new.wasm ...
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { STORIES110M_SHAPE, type LlamaModel } from '../engine/index';
import type { QuantTarget } from '../engine/formats/hf-writer';
import { loadModelDir } from '../engine/llama/model-dir';
import { createWasmKernels } from '../kernels-wasm/index';
import { readModelDir } from '../tools/model-files';
import { ensureModelDir } from './edge-models';

async function decodeRate(model: LlamaModel, tokens = 64): Promise<number> {
  let count = 0,
    t0 = 0;
  const opts = { temperature: 0, topP: 1, stopAtEos: false, maxTokens: tokens + 1 };
  for await (const _ of model.generate([1, 400, 500], opts)) if (count++ === 0) t0 = performance.now();
  return (count - 1) / ((performance.now() - t0) / 1000);
}

export async function benchDecodeAb(
  wasmFiles: string[],
  opts: { rounds?: number; weights?: QuantTarget[]; log?: (l: string) => void } = {},
): Promise<string> {
  const { rounds = 5, weights = ['f32', 'q8', 'q4'], log = () => {} } = opts;
  const modules = await Promise.all(wasmFiles.map((f) => WebAssembly.compile(readFileSync(f))));
  const lines = [
    `Load average ${loadavg()[0].toFixed(1)} at start; ${rounds} rounds, order rotating.`,
    '',
    '| weights | kernels.wasm | decode tok/s (best) | per-round ratio to the first |',
    '| --- | --- | ---: | --- |',
  ];
  for (const quant of weights) {
    const dir = ensureModelDir(`stories110M-${quant}`, STORIES110M_SHAPE, quant);
    const models: LlamaModel[] = [];
    for (const m of modules) {
      const files = readModelDir(dir); // a stream: one per load
      models.push((await loadModelDir(await createWasmKernels(m), files, { maxSessions: 1 })).model);
    }
    for (const m of models) await decodeRate(m, 8); // warm-up
    const rates = models.map(() => [] as number[]);
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < models.length; k++) {
        const i = (k + r) % models.length;
        rates[i].push(await decodeRate(models[i]));
      }
      log(`${quant} round ${r + 1}: ${rates.map((x) => x[r].toFixed(1)).join(' / ')}`);
    }
    wasmFiles.forEach((f, i) =>
      lines.push(
        `| ${quant} | ${f} | ${Math.max(...rates[i]).toFixed(1)} | ${rates[i].map((v, r) => `${(v / rates[0][r]).toFixed(2)}×`).join(', ')} |`,
      ),
    );
  }
  lines.push('', `Load average ${loadavg()[0].toFixed(1)} at end.`);
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const take = (name: string) => {
    const at = args.indexOf(name);
    return at < 0 ? undefined : args.splice(at, 2)[1];
  };
  const rounds = Number(take('--rounds') ?? 5);
  const weights = (take('--weights') ?? 'f32,q8,q4').split(',') as QuantTarget[];
  console.log(await benchDecodeAb(args, { rounds, weights, log: (l) => console.error(l) }));
}
