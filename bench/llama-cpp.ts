// Our engine against llama.cpp native (the prebuilt CPU binaries node-llama-cpp ships), one thread
// each, on the same random weights: bench/edge-models.ts's stories15M/110M-shaped models exported to
// GGUF (F32, Q8_0, Q4_0 — the same values our f32/q8/q4 directories hold, Q8_0/Q4_0 bit for bit).
// node-llama-cpp is not a project dependency (its npm install pulls CUDA/Vulkan builds, hundreds of
// MB); install it apart and point LLAMA_CPP_DIR at that node_modules:
//   mkdir -p /tmp/llamacpp && cd /tmp/llamacpp && npm init -y && npm install --omit=optional --ignore-scripts \
//     node-llama-cpp@3.22.1 @node-llama-cpp/linux-x64@3.22.1
// Only side by side (a llama.cpp figure from another run is no anchor on a shared machine): ours in
// this process (the engine on a model directory imported from the very GGUF file, Q8_0/Q4_0 blocks
// passed through), ours in workerd (the same directories loaded from R2 by the Worker's loader,
// dispatch/edge-hf.ts, on kernels-relaxed.wasm as worker/index.ts imports it, every model in one
// isolate of one Miniflare) and llama.cpp, f32/q8_0/q4_0 decode and 512-token prefill, rounds
// interleaved (which goes first rotates), best of N each and the per-round ratios, so the shared
// machine's load hits all three:
//   LLAMA_CPP_DIR=/tmp/llamacpp/node_modules tsx bench/llama-cpp.ts [--rounds 5] [--15m] [--no-workerd] [--types q4_0]
//   (or npm run bench -- llama-cpp)
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Miniflare } from 'miniflare';
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
import { bundleWorker, putModelDir, startBenchWorker } from './edge-models';

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

/** The GGUF file imported into a model directory beside it, once (Q8_0/Q4_0 blocks passed through). */
async function oursDir(path: string, type: GgufExportType): Promise<string> {
  const dir = path.replace(/\.gguf$/, '-ours');
  if (!existsSync(join(dir, 'model.safetensors')))
    writeModelDir(
      dir,
      planModelDir(
        await importSource(path),
        type === 'f32' ? 'f32' : type === 'q8_0' ? 'q8' : 'q4',
      ),
    );
  return dir;
}

/** Ours in this process on the GGUF file's model directory. */
async function oursOnGguf(dir: string): Promise<Runner> {
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

/**
 * Ours in workerd on the same directory: put in the Worker's R2, loaded by bench/edge-models-worker.ts
 * through the edge registry's loader. Timed from Node (workerd's clock stands still while code runs):
 * prefill is one request of the 512-token prompt and one token; decode, the time of 1 + 64 tokens
 * after the short prompt less that of 1 token (the same prompt and sampling as in Node).
 */
async function oursInWorkerd(mf: Miniflare, dir: string): Promise<Runner> {
  const id = basename(dir);
  await putModelDir(mf, id, dir, { context_length: 1024 });
  const get = async (query: string) => {
    const res = await mf.dispatchFetch(`http://bench${query}`);
    if (!res.ok)
      throw new Error(`workerd ${query.slice(0, 60)}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  await get(`/load?model=${id}`);
  const generate = async (prompt: number[], tokens: number) => {
    const t0 = performance.now();
    await get(`/generate?model=${id}&ids=${prompt.join(',')}&tokens=${tokens}`);
    return (performance.now() - t0) / 1000;
  };
  return {
    prefill: async () => LONG_PROMPT.length / (await generate(LONG_PROMPT, 1)),
    async decode() {
      const one = await generate(SHORT_PROMPT, 1);
      return DECODE_TOKENS / ((await generate(SHORT_PROMPT, DECODE_TOKENS + 1)) - one);
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

/** One of our runs: best tok/s of the rounds, and its per-round ratios to llama.cpp, [min, max]. */
export interface OursSide {
  decode: number;
  prefill: number;
  decodeRange: [number, number];
  prefillRange: [number, number];
}

export interface SideBySideRow {
  shape: string;
  type: GgufExportType;
  /** Ours in this process (Node). */
  ours: OursSide;
  /** Ours in workerd; null when skipped. */
  workerd: OursSide | null;
  llama: { decode: number; prefill: number };
}

type Who = 'ours' | 'workerd' | 'llama';

/** Every engine × type loaded at once; each round times all of them, which goes first rotating. */
export async function sideBySide(
  dir: string,
  opts: {
    rounds?: number;
    shapes?: string[];
    types?: GgufExportType[];
    workerd?: boolean;
    log?: (l: string) => void;
  } = {},
): Promise<SideBySideRow[]> {
  const {
    rounds = 5,
    shapes = ['stories110M'],
    types = TYPES,
    workerd = true,
    log = () => {},
  } = opts;
  const { getLlama } = await import(join(dir, 'node-llama-cpp/dist/index.js'));
  const llama = await getLlama({
    gpu: false,
    build: 'never',
    usePrebuiltBinaries: true,
    skipDownload: true,
    maxThreads: 1,
    progressLogs: false,
  });
  const mf = workerd
    ? startBenchWorker(await bundleWorker(), { kernels: 'kernels-relaxed' })
    : null;
  try {
    const subjects = [];
    for (const { name, shape } of SHAPES.filter((s) => shapes.includes(s.name))) {
      for (const type of types) {
        log(`loading ${name} ${type}`);
        const path = ggufFile(name, shape, type);
        const ours = await oursDir(path, type);
        const runners: Partial<Record<Who, Runner>> = {
          ours: await oursOnGguf(ours),
          llama: await llamaOnGguf(llama, path),
        };
        if (mf) runners.workerd = await oursInWorkerd(mf, ours);
        subjects.push({
          shape: name,
          type,
          runners,
          rounds: [] as Record<Who, [number, number]>[],
        });
      }
    }
    for (let r = 0; r < rounds; r++) {
      log(`round ${r + 1}/${rounds}, load average ${loadavg()[0].toFixed(1)}`);
      for (const s of subjects) {
        const whos = Object.keys(s.runners) as Who[];
        const order = whos.map((_, i) => whos[(i + r) % whos.length]);
        const got = {} as Record<Who, [number, number]>;
        for (const who of order) {
          const run = s.runners[who]!;
          got[who] = [await run.decode(), await run.prefill()];
        }
        log(
          `  ${s.shape} ${s.type} decode ${order.map((w) => `${w} ${got[w][0].toFixed(1)}`).join(', ')}`,
        );
        s.rounds.push(got);
      }
    }
    return subjects.map((s) => {
      const best = (who: Who, i: 0 | 1) => Math.max(...s.rounds.map((g) => g[who][i]));
      const side = (who: Who): OursSide => {
        const ratios = (i: 0 | 1) => s.rounds.map((g) => g[who][i] / g.llama[i]);
        return {
          decode: best(who, 0),
          prefill: best(who, 1),
          decodeRange: [Math.min(...ratios(0)), Math.max(...ratios(0))],
          prefillRange: [Math.min(...ratios(1)), Math.max(...ratios(1))],
        };
      };
      return {
        shape: s.shape,
        type: s.type,
        ours: side('ours'),
        workerd: s.runners.workerd ? side('workerd') : null,
        llama: { decode: best('llama', 0), prefill: best('llama', 1) },
      };
    });
  } finally {
    await mf?.dispose();
  }
}

export function sideBySideTable(rows: SideBySideRow[]): string {
  const f = (v: number) => v.toFixed(1),
    x = (v: number) => `${v.toFixed(2)}×`;
  const withWorkerd = rows.some((r) => r.workerd);
  // ours (Node) and, where timed, ours in workerd: tok/s, then each one's ratio (best, per-round range)
  const sides = (r: SideBySideRow) => (withWorkerd ? [r.ours, r.workerd!] : [r.ours]);
  const ratio = (best: number, llama: number, range: [number, number]) =>
    `${x(best / llama)} (${x(range[0])}–${x(range[1])})`;
  const head = (what: string, llama: string) => [
    `ours ${what}`,
    ...(withWorkerd ? [`ours in workerd ${what}`] : []),
    llama,
    'ours / llama.cpp (rounds)',
    ...(withWorkerd ? ['ours in workerd / llama.cpp (rounds)'] : []),
  ];
  const cols = [
    'shape',
    'weights',
    ...head('decode', 'llama.cpp decode'),
    ...head('prefill (512)', 'llama.cpp prefill'),
    'ours prefill / decode',
  ];
  const lines = [
    `| ${cols.join(' | ')} |`,
    `| --- | --- | ${cols
      .slice(2)
      .map(() => '---:')
      .join(' | ')} |`,
  ];
  for (const r of rows) {
    const cells = [
      r.shape,
      r.type,
      ...sides(r).map((s) => f(s.decode)),
      f(r.llama.decode),
      ...sides(r).map((s) => ratio(s.decode, r.llama.decode, s.decodeRange)),
      ...sides(r).map((s) => f(s.prefill)),
      f(r.llama.prefill),
      ...sides(r).map((s) => ratio(s.prefill, r.llama.prefill, s.prefillRange)),
      x(r.ours.prefill / r.ours.decode),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
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
    const ty = process.argv.indexOf('--types'),
      types = ty > 0 ? (process.argv[ty + 1].split(',') as GgufExportType[]) : TYPES;
    const load0 = loadavg()[0];
    const rows = await sideBySide(dir, {
      rounds,
      shapes: process.argv.includes('--15m') ? ['stories15M', 'stories110M'] : ['stories110M'],
      types,
      workerd: !process.argv.includes('--no-workerd'),
      log,
    });
    console.log(
      `Load average ${load0.toFixed(1)} at start, ${loadavg()[0].toFixed(1)} at end; best of ${rounds} interleaved rounds.\n`,
    );
    console.log(sideBySideTable(rows));
  }
}
