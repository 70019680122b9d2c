// Our engine against llama.cpp native (the prebuilt CPU binaries node-llama-cpp ships), one thread
// each, on the same random weights: bench/edge-models.ts's stories15M/110M-shaped models exported to
// GGUF (F32, Q8_0, Q4_0 — the same values our f32/q8/q4 directories hold, Q8_0/Q4_0 bit for bit).
// node-llama-cpp is not a project dependency (its npm install pulls CUDA/Vulkan builds, hundreds of
// MB); install it apart and point LLAMA_CPP_DIR at that node_modules:
//   mkdir -p /tmp/llamacpp && cd /tmp/llamacpp && npm init -y && npm install --omit=optional --ignore-scripts \
//     node-llama-cpp@3.22.1 @node-llama-cpp/linux-x64@3.22.1
// Only side by side (a llama.cpp figure from another run is no anchor on a shared machine), in one
// process: ours (the engine on a model directory imported from the very GGUF file, Q8_0/Q4_0 blocks passed through) and llama.cpp, f32/q8_0/q4_0 decode and 512-token prefill, rounds interleaved
// (which goes first alternates), best of N each and the per-round ratios, so the shared machine's load hits both:
//   LLAMA_CPP_DIR=/tmp/llamacpp/node_modules tsx bench/llama-cpp.ts [--rounds 5] [--15m]   (or npm run bench -- llama-cpp)
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import {
  syntheticLlama2cCheckpoint,
  syntheticLlama2cTokenizer,
  STORIES110M_SHAPE,
  STORIES15M_SHAPE,
} from '../engine/index';
import { exportGguf, type GgufExportType } from '../engine/formats/gguf-model';
import { ggufTokenizerFromLlama2c } from '../engine/formats/gguf-tokenizer';
import { importLlama2c } from '../engine/formats/import-llama2c';
import { planModelDir } from '../engine/formats/model-dir-writer';
import { loadModelDir } from '../engine/llama/model-dir';
import { createNodeKernels } from '../kernels-wasm/node';
import { importSource, readModelDir, writeModelDir } from '../tools/model-files';
import { repoRoot } from '../tools/paths';

const SHAPES = [
  { name: 'stories15M', shape: { ...STORIES15M_SHAPE, seqLen: 1024 } },
  { name: 'stories110M', shape: STORIES110M_SHAPE },
];
const TYPES: GgufExportType[] = ['f32', 'q8_0', 'q4_0'];

function ggufFile(name: string, shape: typeof STORIES110M_SHAPE, type: GgufExportType): string {
  const path = join(repoRoot, 'bench/.models', `${name}-${type}.gguf`);
  if (existsSync(path)) return path;
  mkdirSync(dirname(path), { recursive: true }); // bench/.models is git-ignored: absent in a fresh clone
  const tokenizer = syntheticLlama2cTokenizer(shape.vocabSize);
  // seed 1: the weights bench/edge-models.ts's directories hold
  writeFileSync(
    path,
    exportGguf(
      importLlama2c(syntheticLlama2cCheckpoint(shape, 1), tokenizer),
      type,
      ggufTokenizerFromLlama2c(tokenizer, shape.vocabSize),
    ),
  );
  return path;
}

/** The 512-token prompt of every prefill measurement here and in bench/edge-models.ts. */
const LONG_PROMPT = Array.from({ length: 512 }, (_, i) =>
  i === 0 ? 1 : 300 + ((i * 131) % 30000),
);
const SHORT_PROMPT = [1, 400, 500];
const DECODE_TOKENS = 64;

/** One engine's timings: tok/s of one 512-token prefill and of 64 greedy decode steps after a short prompt. */
interface Runner {
  prefill(): Promise<number>;
  decode(): Promise<number>;
}

const perSecond = (tokens: number, t0: number) => tokens / ((performance.now() - t0) / 1000);

/** Ours on the GGUF file itself: imported into a model directory beside it once (Q8_0/Q4_0 blocks passed through). */
async function oursOnGguf(path: string, type: GgufExportType): Promise<Runner> {
  const dir = path.replace(/\.gguf$/, '-ours');
  if (!existsSync(join(dir, 'model.safetensors')))
    writeModelDir(
      dir,
      planModelDir(
        await importSource(path),
        type === 'f32' ? 'f32' : type === 'q8_0' ? 'q8' : 'q4',
      ),
    );
  const { model } = await loadModelDir(await createNodeKernels(), readModelDir(dir), {
    maxSessions: 1,
  });
  const opts = { temperature: 0, topP: 1, stopAtEos: false };
  return {
    async prefill() {
      const t0 = performance.now();
      for await (const _ of model.generate(LONG_PROMPT, { ...opts, maxTokens: 1 })) void _;
      return perSecond(LONG_PROMPT.length, t0);
    },
    async decode() {
      let count = 0,
        t0 = 0;
      for await (const _ of model.generate(SHORT_PROMPT, { ...opts, maxTokens: DECODE_TOKENS + 1 }))
        if (count++ === 0) t0 = performance.now();
      return perSecond(count - 1, t0);
    },
  };
}

async function llamaOnGguf(
  llama: { loadModel(o: object): Promise<any> },
  path: string,
): Promise<Runner> {
  const model = await llama.loadModel({ modelPath: path });
  const context = await model.createContext({ contextSize: 1024, batchSize: 512, threads: 1 });
  return {
    async prefill() {
      const seq = context.getSequence();
      const t0 = performance.now();
      await seq.evaluateWithoutGeneratingNewTokens(LONG_PROMPT);
      const rate = perSecond(LONG_PROMPT.length, t0);
      seq.dispose();
      return rate;
    },
    async decode() {
      const seq = context.getSequence();
      let count = 0,
        t0 = 0;
      for await (const _ of seq.evaluate(SHORT_PROMPT, { temperature: 0 })) {
        if (count++ === 0) t0 = performance.now();
        if (count === DECODE_TOKENS + 1) break;
      }
      const rate = perSecond(count - 1, t0);
      seq.dispose();
      return rate;
    },
  };
}

export interface SideBySideRow {
  shape: string;
  type: GgufExportType;
  ours: { decode: number; prefill: number };
  llama: { decode: number; prefill: number };
  /** Per-round ours/llama.cpp ratios, [min, max]. */
  decodeRange: [number, number];
  prefillRange: [number, number];
}

/** Every engine × type loaded at once; each round times all of them, the two engines' order alternating. */
export async function sideBySide(
  dir: string,
  opts: { rounds?: number; shapes?: string[]; log?: (l: string) => void } = {},
): Promise<SideBySideRow[]> {
  const { rounds = 5, shapes = ['stories110M'], log = () => {} } = opts;
  const { getLlama } = await import(join(dir, 'node-llama-cpp/dist/index.js'));
  const llama = await getLlama({
    gpu: false,
    build: 'never',
    usePrebuiltBinaries: true,
    skipDownload: true,
    maxThreads: 1,
    progressLogs: false,
  });
  const subjects = [];
  for (const { name, shape } of SHAPES.filter((s) => shapes.includes(s.name))) {
    for (const type of TYPES) {
      log(`loading ${name} ${type}`);
      const path = ggufFile(name, shape, type);
      subjects.push({
        shape: name,
        type,
        ours: await oursOnGguf(path, type),
        llama: await llamaOnGguf(llama, path),
        rounds: [] as { ours: [number, number]; llama: [number, number] }[],
      });
    }
  }
  for (let r = 0; r < rounds; r++) {
    log(`round ${r + 1}/${rounds}, load average ${loadavg()[0].toFixed(1)}`);
    for (const s of subjects) {
      const order = r % 2 ? (['llama', 'ours'] as const) : (['ours', 'llama'] as const);
      const got = {} as Record<'ours' | 'llama', [number, number]>;
      for (const who of order) got[who] = [await s[who].decode(), await s[who].prefill()];
      s.rounds.push(got);
    }
  }
  const best = (xs: number[]) => Math.max(...xs);
  return subjects.map((s) => {
    const ratios = (i: 0 | 1) => s.rounds.map((g) => g.ours[i] / g.llama[i]);
    return {
      shape: s.shape,
      type: s.type,
      ours: {
        decode: best(s.rounds.map((g) => g.ours[0])),
        prefill: best(s.rounds.map((g) => g.ours[1])),
      },
      llama: {
        decode: best(s.rounds.map((g) => g.llama[0])),
        prefill: best(s.rounds.map((g) => g.llama[1])),
      },
      decodeRange: [Math.min(...ratios(0)), Math.max(...ratios(0))],
      prefillRange: [Math.min(...ratios(1)), Math.max(...ratios(1))],
    };
  });
}

export function sideBySideTable(rows: SideBySideRow[]): string {
  const f = (v: number) => v.toFixed(1),
    x = (v: number) => `${v.toFixed(2)}×`;
  const lines = [
    '| shape | weights | ours decode | llama.cpp decode | ours / llama.cpp (rounds) | ours prefill (512) | llama.cpp prefill | ours / llama.cpp (rounds) | ours prefill / decode |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.shape} | ${r.type} | ${f(r.ours.decode)} | ${f(r.llama.decode)} | ${x(r.ours.decode / r.llama.decode)} (${x(r.decodeRange[0])}–${x(r.decodeRange[1])}) | ` +
        `${f(r.ours.prefill)} | ${f(r.llama.prefill)} | ${x(r.ours.prefill / r.llama.prefill)} (${x(r.prefillRange[0])}–${x(r.prefillRange[1])}) | ${x(r.ours.prefill / r.ours.decode)} |`,
    );
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.env.LLAMA_CPP_DIR;
  if (!dir) {
    console.error(
      'set LLAMA_CPP_DIR to a node_modules holding node-llama-cpp (see the comment at the top)',
    );
    process.exit(2);
  }
  const log = (l: string) => console.error(l);
  {
    const at = process.argv.indexOf('--rounds'),
      rounds = at > 0 ? Number(process.argv[at + 1]) : 5;
    const load0 = loadavg()[0];
    const rows = await sideBySide(dir, {
      rounds,
      shapes: process.argv.includes('--15m') ? ['stories15M', 'stories110M'] : ['stories110M'],
      log,
    });
    console.log(
      `Load average ${load0.toFixed(1)} at start, ${loadavg()[0].toFixed(1)} at end; best of ${rounds} interleaved rounds.\n`,
    );
    console.log(sideBySideTable(rows));
  }
}
