// Our engine against llama2.c's run.c native, measured in the same run: run.c (MIT, Andrej Karpathy;
// /work/shared/anchors/llama2c/run.c, or RUNC_SRC) is compiled here at bench time with
// `cc -Ofast -march=native` into the git-ignored bench/.anchors/ (none of it is copied into the repo)
// and timed on the very .bin checkpoint our engine loads (a deterministic random stories110M-shaped
// one, bench/.models/), one thread each, rounds interleaved with the order alternating, so the
// shared machine's load hits both sides; the report gives every round's ratio.
//   tsx bench/runc.ts [--rounds 5] [--15m] [--tokens 64]      (or `npm run bench -- runc`)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  LlamaModel,
  STORIES110M_SHAPE,
  STORIES15M_SHAPE,
  syntheticLlama2cCheckpoint,
  syntheticLlama2cTokenizer,
  type SyntheticShape,
} from '../engine/index';
import { createNodeKernels } from '../kernels-wasm/node';
import { repoRoot } from '../tools/paths';

const RUNC_SRC = process.env.RUNC_SRC ?? resolve(repoRoot, '../shared/anchors/llama2c/run.c');
const ANCHORS = join(repoRoot, 'bench/.anchors');
const MODELS = join(repoRoot, 'bench/.models');

/** Builds run.c when the binary is missing or older than the source; null (with the reason) when there is no source. */
export function buildRunc(): { bin: string; flags: string } | { skipped: string } {
  if (!existsSync(RUNC_SRC)) return { skipped: `no run.c at ${RUNC_SRC} (set RUNC_SRC)` };
  const bin = join(ANCHORS, 'runc');
  const flags = '-Ofast -march=native';
  if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(RUNC_SRC).mtimeMs) {
    mkdirSync(ANCHORS, { recursive: true });
    execFileSync('cc', [...flags.split(' '), '-o', bin, RUNC_SRC, '-lm'], { stdio: 'inherit' });
  }
  return { bin, flags };
}

/** The checkpoint and tokenizer files both engines read (seed 1, the weights of bench/engine.ts). */
export function modelFiles(name: string, shape: SyntheticShape) {
  mkdirSync(MODELS, { recursive: true });
  const checkpoint = join(MODELS, `${name}-seq${shape.seqLen}.bin`);
  const tokenizer = join(MODELS, `tokenizer-${shape.vocabSize}.bin`);
  if (!existsSync(checkpoint)) writeFileSync(checkpoint, syntheticLlama2cCheckpoint(shape, 1));
  if (!existsSync(tokenizer)) writeFileSync(tokenizer, syntheticLlama2cTokenizer(shape.vocabSize));
  return { checkpoint, tokenizer };
}

/**
 * run.c greedy from BOS alone (an empty prompt): every step is one decode forward pass. Its own
 * "achieved tok/s" times steps 2..n; a run that stopped early (it sampled BOS) is refused.
 */
export function runcDecode(
  bin: string,
  files: { checkpoint: string; tokenizer: string },
  steps: number,
) {
  const args = [
    files.checkpoint,
    '-t',
    '0',
    '-n',
    String(steps + 1),
    '-i',
    '',
    '-z',
    files.tokenizer,
  ];
  const run = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  const rate = /achieved tok\/s: ([\d.]+)/.exec(run.stderr ?? '');
  if (run.status !== 0 || !rate) throw new Error(`run.c failed (${run.status}): ${run.stderr}`);
  return Number(rate[1]);
}

/** run.c on `shape`'s seed-1 checkpoint, for benches that time it beside theirs; the reason when it cannot run. */
export function runcAnchor(
  name: string,
  shape: SyntheticShape,
): { decode(tokens: number): number; flags: string } | { skipped: string } {
  const built = buildRunc();
  if ('skipped' in built) return built;
  const files = modelFiles(name, shape);
  runcDecode(built.bin, files, 4); // warm-up: the page cache
  return { decode: (tokens) => runcDecode(built.bin, files, tokens), flags: built.flags };
}

interface RuncRow {
  name: string;
  ours: number[];
  runc: number[];
}

const SHAPES: { name: string; shape: SyntheticShape }[] = [
  { name: 'stories15M', shape: STORIES15M_SHAPE },
  { name: 'stories110M', shape: STORIES110M_SHAPE },
];

export async function benchRunc(
  opts: { rounds?: number; tokens?: number; shapes?: string[]; log?: (l: string) => void } = {},
): Promise<string> {
  const { rounds = 5, tokens = 64, shapes = ['stories110M'], log = () => {} } = opts;
  const built = buildRunc();
  if ('skipped' in built) return `skipped: ${built.skipped}`;
  const load0 = loadavg()[0];
  const rows: RuncRow[] = [];
  for (const { name, shape } of SHAPES.filter((s) => shapes.includes(s.name))) {
    const files = modelFiles(name, shape);
    const model = LlamaModel.fromLlama2c(
      await createNodeKernels(),
      readFileSync(files.checkpoint),
      readFileSync(files.tokenizer),
      { id: name, maxSessions: 1 },
    );
    const ours = () => oursDecode(model, tokens);
    await ours(); // warm-up: tier-up, page faults, the session
    runcDecode(built.bin, files, 4); // warm-up: the page cache
    const row: RuncRow = { name, ours: [], runc: [] };
    for (let r = 0; r < rounds; r++) {
      const first = r % 2 ? 'runc' : 'ours';
      for (const who of first === 'ours' ? ['ours', 'runc'] : ['runc', 'ours'])
        if (who === 'ours') row.ours.push(await ours());
        else row.runc.push(runcDecode(built.bin, files, tokens));
      log(
        `${name} round ${r + 1}/${rounds} (${first} first, load ${loadavg()[0].toFixed(1)}): ours ${row.ours[r].toFixed(1)}, run.c ${row.runc[r].toFixed(1)} tok/s`,
      );
    }
    rows.push(row);
  }
  return runcTable(rows, built.flags, rounds, tokens, load0);
}

/**
 * Ours the same way: greedy from BOS alone, the first sampled token to the last. The same weights
 * and argmax give run.c the same tokens, so a BOS here would have stopped run.c early: refused.
 */
async function oursDecode(model: LlamaModel, tokens: number): Promise<number> {
  let count = 0,
    t0 = 0;
  for await (const { id } of model.generate([1], {
    maxTokens: tokens + 1,
    temperature: 0,
    topP: 1,
    stopAtEos: false,
  })) {
    if (id === 1) throw new Error('greedy decoding sampled BOS: run.c would stop there');
    if (count++ === 0) t0 = performance.now();
  }
  return (count - 1) / ((performance.now() - t0) / 1000);
}

function runcTable(rows: RuncRow[], flags: string, rounds: number, tokens: number, load0: number) {
  const f = (v: number) => v.toFixed(1),
    x = (v: number) => `${v.toFixed(2)}×`;
  const lines = [
    `run.c built with \`cc ${flags}\`, one thread each, ${tokens} greedy decode tokens from BOS, ${rounds} interleaved rounds (order alternating); load average ${load0.toFixed(1)} at start, ${loadavg()[0].toFixed(1)} at end.`,
    '',
    '| shape | ours f32 decode (best) | run.c native decode (best) | ours / run.c per round | min–max |',
    '| --- | ---: | ---: | --- | ---: |',
  ];
  for (const r of rows) {
    const ratios = r.ours.map((o, i) => o / r.runc[i]);
    lines.push(
      `| ${r.name} | ${f(Math.max(...r.ours))} | ${f(Math.max(...r.runc))} | ${ratios.map(x).join(', ')} | ${x(Math.min(...ratios))}–${x(Math.max(...ratios))} |`,
    );
  }
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string, dflt: number) => {
    const at = process.argv.indexOf(name);
    return at > 0 ? Number(process.argv[at + 1]) : dflt;
  };
  console.log(
    await benchRunc({
      rounds: arg('--rounds', 5),
      tokens: arg('--tokens', 64),
      shapes: process.argv.includes('--15m') ? ['stories15M', 'stories110M'] : ['stories110M'],
      log: (l) => console.error(l),
    }),
  );
}
