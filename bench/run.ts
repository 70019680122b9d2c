// `npm run bench [-- name ...]`: the benchmarks side by side in one run, printed as markdown for
// bench/RESULTS.md. With no names: the CPU benches that finish in a few minutes each (`default`);
// name any of the table's entries (or `all`) to choose.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { runCli, UsageError } from '../tools/cli';

const log = (line: string) => console.error(line);

interface Bench {
  title: string;
  inDefault: boolean;
  run(): Promise<string>;
}

const benches: Record<string, Bench> = {
  engine: {
    title: 'Engine: decode, synthetic random-weight f32 models (llama2.c shapes)',
    inDefault: true,
    run: async () => {
      const { benchEngine, engineTable } = await import('./engine');
      return engineTable(await benchEngine({ log }));
    },
  },
  kernels: {
    title: 'Kernels: f32 matvec/matmul/attention, wasm-simd vs scalar vs ts',
    inDefault: true,
    run: async () => (await import('./kernels')).benchKernels(),
  },
  quant: {
    title: "Quantized kernels (q8, q4, fp8) and this machine's limits",
    inDefault: true,
    run: async () => (await import('./quant')).benchQuant(),
  },
  'edge-models': {
    title: 'Edge models: memory in workerd, f32/q8/q4 decode and prefill',
    inDefault: false,
    run: async () => {
      const m = await import('./edge-models');
      return `${m.memoryTable(await m.measureMemory(log))}\n\n${m.speedTable(await m.measureSpeed({ log }))}`;
    },
  },
  'edge-batch': {
    title:
      'Edge: concurrent streams in one isolate, batched decode steps vs one sequence per step (110M q8)',
    inDefault: false,
    run: async () => {
      const node = await (await import('./edge-batch')).benchEdgeBatch({ log });
      const workerd = await (await import('./edge-batch-workerd')).benchEdgeBatchWorkerd({ log });
      return `${node}\n\n${workerd}`;
    },
  },
  'cold-start': {
    title:
      'Edge model cold start in workerd: first request → first token, ~100 MB q8 from R2, safetensors vs model.edge, by phase',
    inDefault: false,
    run: async () => {
      const m = await import('./cold-start');
      return m.coldStartTable(await m.measureColdStart({ rounds: 5, log }));
    },
  },
  'llama-cpp': {
    title:
      'Ours vs llama.cpp native (node-llama-cpp, one thread), same GGUF weights, interleaved in this run',
    inDefault: false,
    run: async () => {
      const dir = process.env.LLAMA_CPP_DIR;
      if (!dir)
        return 'skipped: LLAMA_CPP_DIR is not set (node-llama-cpp is installed apart, see bench/llama-cpp.ts)';
      const m = await import('./llama-cpp');
      return m.sideBySideTable(await m.sideBySide(dir, { rounds: 5, log }));
    },
  },
  runc: {
    title:
      'Ours vs llama2.c run.c native (built here, -Ofast -march=native), same .bin, interleaved',
    inDefault: false,
    run: async () => (await import('./runc')).benchRunc({ rounds: 5, log }),
  },
  'prompt-cache': {
    title: 'Prompt cache: time to first token cold vs cached, bytes per token per codec',
    inDefault: true,
    run: async () => (await import('./prompt-cache')).benchPromptCache(),
  },
  'prompt-cache-workerd': {
    title:
      'Prompt cache inside workerd, through the real Worker: TTFT cold vs cached at 256/1024/2048 prompt tokens',
    inDefault: false,
    run: async () => (await import('./prompt-cache-workerd')).benchPromptCacheWorkerd({ log }),
  },
  'prompt-cache-mla': {
    title:
      'Prompt cache for MLA latents (c_kv, k_pe): bytes per token per codec, origin prefix-cache restore quality',
    inDefault: false,
    run: async () => (await import('./prompt-cache-mla')).benchPromptCacheMla(log),
  },
  origin: {
    title: 'Origin: tokens/s at 1, 4, 16 concurrent streams',
    inDefault: true,
    run: async () => (await import('./origin')).benchOrigin({}),
  },
  eplb: {
    title:
      "Expert load and EPLB on a model's real routing (prompt sets): rank max/mean with 0–2 redundant slots, routed-expert time with --ep 2/4",
    inDefault: false,
    run: async () => (await import('./eplb')).benchEplb({ log }),
  },
  pd: {
    title:
      'Prefill/decode separation: decoding streams under long prompts, 1 prefill + 1 decode vs 2 colocated',
    inDefault: false,
    run: async () => (await import('./pd')).benchPd({ log }),
  },
  'pd-goodput': {
    title:
      "Prefill/decode separation: DistServe's goodput (highest Poisson rate with ≥ 90% of requests in both SLOs), 1 prefill + 1 decode vs 2 colocated",
    inDefault: false,
    run: async () => (await import('./pd-goodput')).benchPdGoodput({ log }),
  },
  'handoff-ttft': {
    title:
      'Time to first token of a long prompt at a busy origin: through a decode origin (hand-off) and colocated',
    inDefault: false,
    run: async () =>
      (await import('./handoff-ttft')).benchHandoffTtft({
        log,
        before: process.env.HANDOFF_BEFORE,
      }),
  },
  'serving-table': {
    title:
      "The seed's serving table for our models: output tok/s, TTFT and context, edge and origin, through npm start",
    inDefault: false,
    run: async () => (await import('./serving-table')).benchServingTable({ log }),
  },
  'edge-handoff': {
    title:
      'Prefill at an origin, decode at the edge: TTFT of a ~1K-token prompt vs the edge alone (workerd + origin)',
    inDefault: false,
    run: async () => (await import('./edge-handoff')).benchEdgeHandoff({ log }),
  },
  relay: {
    title: 'Relay: tokens/s through the Worker vs direct from the origin',
    inDefault: false,
    run: async () => (await import('./relay')).benchRelay({ log }),
  },
  grammar: {
    title:
      'Grammar: token-mask time per step and compile time (JSON Schema, 32k and 129k vocabularies)',
    inDefault: false,
    run: async () => (await import('./grammar')).benchGrammar({ log }),
  },
  structured: {
    title: 'Structured output: decode tok/s with and without a JSON Schema, mask time per token',
    inDefault: false,
    run: async () => (await import('./structured')).benchStructured({ log }),
  },
  'workerd-kernels': {
    title:
      'The same WASM in workerd and in Node: a bounds-check probe, and Q8_0/Q4_0/FP8 matvecs (kernel A/B of builds: tsx bench/workerd-kernels.ts a.wasm b.wasm)',
    inDefault: false,
    run: async () => (await import('./workerd-kernels')).benchWorkerdKernels(),
  },
  gpu: {
    title: 'WebGPU kernels and decode steps (lavapipe here; a real GPU when present)',
    inDefault: false,
    run: async () => (await import('./gpu')).benchGpu({ log }),
  },
};

const USAGE = `usage: npm run bench [-- name ...]   (markdown on stdout, for bench/RESULTS.md)
  default  ${Object.keys(benches)
    .filter((n) => benches[n].inDefault)
    .join(', ')}
  all      every bench below
${Object.entries(benches)
  .map(([name, b]) => `  ${name.padEnd(21)}${b.title}`)
  .join('\n')}`;

async function main(asked: string[]): Promise<void> {
  const unknown = asked.filter((n) => n !== 'all' && n !== 'default' && !(n in benches));
  if (unknown.length)
    throw new UsageError(
      `unknown bench: ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}, all, default`,
    );
  const names = asked.includes('all')
    ? Object.keys(benches)
    : asked.length && !asked.includes('default')
      ? asked
      : Object.keys(benches).filter((n) => benches[n].inDefault);
  const started = performance.now();
  console.log(
    `## ${new Date().toISOString().slice(0, 10)} — \`npm run bench -- ${names.join(' ')}\` at ${gitHead()}`,
  );
  console.log(
    `\nNode ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores; load average at start ${loadavg()[0].toFixed(1)}.`,
  );
  for (const name of names) {
    log(`== ${name}`);
    const t0 = performance.now();
    console.log(`\n### ${benches[name].title}\n`);
    console.log(await benches[name].run());
    log(`== ${name}: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  console.log(`\n(total ${((performance.now() - started) / 1000).toFixed(0)} s)`);
}

/** The commit measured, marked dirty when the working tree has changes. */
function gitHead(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
    }).trim();
    return dirty ? `${head} (+ uncommitted changes)` : head;
  } catch {
    return 'an unknown commit';
  }
}

// exits when done: a bench's workers or servers may leave handles behind
runCli('bench', USAGE, async (argv) => {
  await main(argv);
  process.exit(0);
});
