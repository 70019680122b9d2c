// Kernel A/B on the engine's decode: the same stories110M-shaped model (seed-1 random weights, f32/q8/q4
// directories of bench/edge-models.ts) loaded once per kernels.wasm given, 64-token greedy decodes
// interleaved round by round with the order rotating, so the shared machine's load hits every build;
// prints each build's best and its per-round ratio to the first build. --kv f32,int8 loads each build
// once per KV cache format (engine/llama/kv-cache.ts); --context N sets the model's context, and
// --prompt N decodes after an N-token prompt (attention over that many positions).
//   tsx bench/decode-ab.ts [--rounds 5] [--weights f32,q8,q4] [--kv f32,int8] [--context 1024] [--prompt 3] base.wasm new.wasm ...
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { STORIES110M_SHAPE, type LlamaModel } from '../engine/index';
import type { QuantTarget } from '../engine/formats/hf-writer';
import type { KvFormat } from '../engine/llama/kv-cache';
import { loadModelDir } from '../engine/llama/model-dir';
import { createWasmKernels } from '../kernels-wasm/index';
import { readModelDir } from '../tools/model-files';
import { ensureModelDir } from './edge-models';

async function decodeRate(model: LlamaModel, prompt: number[], tokens = 64): Promise<number> {
  let count = 0,
    t0 = 0;
  const opts = { temperature: 0, topP: 1, stopAtEos: false, maxTokens: tokens + 1 };
  for await (const _ of model.generate(prompt, opts)) if (count++ === 0) t0 = performance.now();
  return (count - 1) / ((performance.now() - t0) / 1000);
}

export async function benchDecodeAb(
  wasmFiles: string[],
  opts: {
    rounds?: number;
    weights?: QuantTarget[];
    kv?: KvFormat[];
    context?: number;
    prompt?: number;
    log?: (l: string) => void;
  } = {},
): Promise<string> {
  const { rounds = 5, weights = ['f32', 'q8', 'q4'], kv = ['f32'], log = () => {} } = opts;
  const context = opts.context ?? STORIES110M_SHAPE.seqLen;
  const prompt = Array.from({ length: opts.prompt ?? 3 }, (_, i) =>
    i ? 300 + ((i * 131) % 30000) : 1,
  );
  const modules = await Promise.all(wasmFiles.map((f) => WebAssembly.compile(readFileSync(f))));
  const subjects = wasmFiles.flatMap((file, i) =>
    kv.map((format) => ({ file, module: modules[i], format })),
  );
  const lines = [
    `Load average ${loadavg()[0].toFixed(1)} at start; ${rounds} rounds, order rotating; context ${context}, ${prompt.length}-token prompt, 64 tokens.`,
    '',
    '| weights | kernels.wasm | KV cache | decode tok/s (best) | per-round ratio to the first |',
    '| --- | --- | --- | ---: | --- |',
  ];
  for (const quant of weights) {
    const dir = ensureModelDir(`stories110M-${quant}`, STORIES110M_SHAPE, quant);
    const models: LlamaModel[] = [];
    for (const s of subjects) {
      const files = readModelDir(dir); // a stream: one per load
      const o = { maxSessions: 1, contextLength: context, kvCache: s.format };
      models.push((await loadModelDir(await createWasmKernels(s.module), files, o)).model);
    }
    for (const m of models) await decodeRate(m, prompt, 8); // warm-up
    const rates = models.map(() => [] as number[]);
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < models.length; k++) {
        const i = (k + r) % models.length;
        rates[i].push(await decodeRate(models[i], prompt));
      }
      log(`${quant} round ${r + 1}: ${rates.map((x) => x[r].toFixed(1)).join(' / ')}`);
    }
    subjects.forEach((s, i) =>
      lines.push(
        `| ${quant} | ${s.file} | ${s.format} | ${Math.max(...rates[i]).toFixed(1)} | ${rates[i].map((v, r) => `${(v / rates[0][r]).toFixed(2)}×`).join(', ')} |`,
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
  const kv = (take('--kv') ?? 'f32').split(',') as KvFormat[];
  const context = take('--context'),
    prompt = take('--prompt');
  console.log(
    await benchDecodeAb(args, {
      rounds,
      weights,
      kv,
      ...(context ? { context: Number(context) } : {}),
      ...(prompt ? { prompt: Number(prompt) } : {}),
      log: (l) => console.error(l),
    }),
  );
}
