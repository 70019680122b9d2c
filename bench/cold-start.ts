// Cold start of an edge model in workerd (Miniflare's R2): the time from an isolate's first request
// to its first token for the ~100 MB q8 model of bench/edge-models.ts, three ways: before (the
// safetensors read in R2's own 4 KiB chunks), the safetensors read in MiB pieces (converted on the
// way), and model.edge in MiB pieces (copied into place); broken into phases. Each sample is a fresh
// workerd whose first request runs one stage of bench/cold-start-worker.ts; a phase is the median
// over rounds of two stages' difference within a round. Formats alternate sample by sample, so all
// three see the same load.
//   tsx bench/cold-start.ts [rounds] [stage,stage,...]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { Miniflare } from 'miniflare';
import { NATIVE_FILE, writeNativeFile } from '../tools/model-native';
import {
  bundleWorker,
  ensureModelDir,
  MEMORY_MODELS,
  putModelDir,
  startBenchWorker,
} from './edge-models';

const STAGES = ['noop', 'get', 'read', 'parse', 'copy', 'load', 'first-token'] as const;
type Stage = (typeof STAGES)[number];
/** legacy: safetensors read in R2's own chunks, as before engine/formats/chunks.ts; safetensors: in MiB reads. */
const FORMATS = ['legacy', 'safetensors', 'native'] as const;
const LABELS: Record<Format, string> = {
  legacy: 'before: safetensors, R2 chunks',
  safetensors: 'safetensors, MiB reads',
  native: 'after: model.edge, MiB reads',
};
type Format = (typeof FORMATS)[number];

const PHASES: [string, Stage, Stage][] = [
  ['R2 get (object headers)', 'noop', 'get'],
  ['bytes in JS (every chunk read)', 'get', 'read'],
  ['parse (header; safetensors: walk every tensor)', 'read', 'parse'],
  ['copy into WASM memory (native: + checksum)', 'parse', 'copy'],
  ['conversion/repack + config, tokenizer, model', 'copy', 'load'],
  ['first prefill (16 tokens) + first token', 'load', 'first-token'],
];

const bundle = () => bundleWorker('bench/cold-start-worker.ts');

export interface ColdStartResult {
  /** Milliseconds per stage and format, every sample. */
  samples: Record<Format, Record<Stage, number[]>>;
  fileBytes: Record<Format, number>;
  /** Chunks the read stage saw, per format. */
  chunks: Record<Format, number>;
  load: number[];
}

/** `rounds` samples of every stage × format, each in a fresh workerd, the model's R2 kept on disk. */
export async function measureColdStart(
  opts: { rounds?: number; stages?: readonly Stage[]; log?: (line: string) => void } = {},
): Promise<ColdStartResult> {
  const { rounds = 5, stages = STAGES, log = () => {} } = opts;
  const m = MEMORY_MODELS[0]; // edge-100m-q8, context 256
  const dir = ensureModelDir(m.name, m.shape, m.quant);
  if (!existsSync(join(dir, NATIVE_FILE)))
    log(`writing ${NATIVE_FILE}: ${JSON.stringify(await writeNativeFile(dir))}`);
  const script = await bundle();
  // Miniflare's R2 on disk, kept between runs (seeding 200 MB takes minutes on a loaded machine)
  const persist = join(dir, '..', `${m.name}-r2`);
  const start = () => startBenchWorker(script, { persist });
  const samples = Object.fromEntries(
    FORMATS.map((f) => [f, Object.fromEntries(STAGES.map((s) => [s, [] as number[]]))]),
  ) as ColdStartResult['samples'];
  const result: ColdStartResult = {
    samples,
    fileBytes: { legacy: 0, safetensors: 0, native: 0 },
    chunks: { legacy: 0, safetensors: 0, native: 0 },
    load: [],
  };
  if (!existsSync(join(persist, 'seeded'))) {
    log(`seeding Miniflare's R2 in ${persist}`);
    await seed(start(), m, dir);
    writeFileSync(join(persist, 'seeded'), '');
  }
  result.fileBytes.safetensors = readFileSync(join(dir, 'model.safetensors')).byteLength;
  result.fileBytes.native = readFileSync(join(dir, NATIVE_FILE)).byteLength;
  const firstIds: Record<Format, string> = { legacy: '', safetensors: '', native: '' };
  for (let r = 0; r < rounds; r++) {
    result.load.push(loadavg()[0]);
    for (const stage of stages) {
      const order = r % 2 ? [...FORMATS].reverse() : FORMATS;
      for (const format of order) {
        const mf = start();
        try {
          await mf.ready;
          const t0 = performance.now();
          const res = await mf.dispatchFetch(
            `http://bench/${stage}?model=${m.name}&from=${format}`,
          );
          const body = (await res.json()) as { ids?: number[]; chunks?: number; keys?: string[] };
          const ms = performance.now() - t0;
          if (res.status !== 200) throw new Error(`${stage} ${format}: ${res.status}`);
          checkWeightsRead(format, body.keys);
          samples[format][stage].push(ms);
          if (body.chunks) result.chunks[format] = body.chunks;
          if (body.ids) firstIds[format] = JSON.stringify(body.ids);
          log(`round ${r + 1} ${stage} ${format}: ${ms.toFixed(0)} ms`);
        } finally {
          await mf.dispose();
        }
      }
    }
  }
  if (new Set(Object.values(firstIds)).size > 1)
    throw new Error(`first tokens differ: ${JSON.stringify(firstIds)}`);
  return result;
}

/** A model.edge that failed its checks falls back to the safetensors: that would time the wrong file. */
function checkWeightsRead(format: Format, keys: string[] | undefined): void {
  if (!keys) return;
  const read = keys.filter((k) => /model\.(edge|safetensors)$/.test(k)).map((k) => k.split('/')[1]);
  const want = format === 'native' ? NATIVE_FILE : 'model.safetensors';
  if (read.length !== 1 || read[0] !== want)
    throw new Error(`${format}: the load read ${read.join(', ') || 'no weights'}, not ${want}`);
}

async function seed(mf: Miniflare, m: (typeof MEMORY_MODELS)[number], dir: string): Promise<void> {
  await putModelDir(mf, m.name, dir, { context_length: m.context });
  await mf.dispose();
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** A phase per format: the median over rounds of the round's two stages' difference (paired in time). */
function phaseMs(r: ColdStartResult, f: Format, from: Stage, to: Stage): number {
  const [a, b] = [r.samples[f][from], r.samples[f][to]];
  if (!a.length || a.length !== b.length) return Number.NaN;
  return median(b.map((v, i) => v - a[i]));
}

export function coldStartTable(r: ColdStartResult): string {
  const ms = (v: number) => (Number.isNaN(v) ? '–' : `${v.toFixed(0)} ms`);
  const n = r.samples.native[STAGES.find((s) => r.samples.native[s].length)!].length;
  const total = (f: Format) =>
    r.samples[f]['first-token'].length ? median(r.samples[f]['first-token']) : Number.NaN;
  const ratio = (a: Format, b: Format) => (total(a) / total(b)).toFixed(2);
  const lines = [
    `Files: model.safetensors ${(r.fileBytes.safetensors / 2 ** 20).toFixed(1)} MiB, model.edge ${(r.fileBytes.native / 2 ** 20).toFixed(1)} MiB; ` +
      `chunks read: ${FORMATS.map((f) => `${f} ${r.chunks[f]}`).join(', ')}. ${n} fresh workerd per cell, ` +
      `formats interleaved; load average per round ${r.load.map((l) => l.toFixed(1)).join(', ')} (2 cores). ` +
      `A phase is the median over rounds of the difference of two cumulative stages in that round ` +
      `(noise can make a small one negative); the total is the median of the first-token samples.`,
    '',
    `| phase | ${FORMATS.map((f) => LABELS[f]).join(' | ')} |`,
    `| --- | ${FORMATS.map(() => '---:').join(' | ')} |`,
  ];
  for (const [name, from, to] of PHASES)
    lines.push(`| ${name} | ${FORMATS.map((f) => ms(phaseMs(r, f, from, to))).join(' | ')} |`);
  lines.push(
    `| **first request → first token** | ${FORMATS.map((f) => `**${ms(total(f))}** (${ratio('legacy', f)}× before)`).join(' | ')} |`,
    '',
    `model.edge against the safetensors with the same MiB reads: ${ratio('safetensors', 'native')}× ` +
      `(above 1: model.edge is faster).`,
    '',
    `| stage (cumulative; every sample, ms) | ${FORMATS.join(' | ')} |`,
    `| --- | ${FORMATS.map(() => '---').join(' | ')} |`,
  );
  for (const s of STAGES)
    lines.push(
      `| ${s} | ${FORMATS.map((f) => r.samples[f][s].map((v) => v.toFixed(0)).join(', ')).join(' | ')} |`,
    );
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rounds = Number(process.argv[2] ?? 5);
  const stages = process.argv[3]?.split(',') as Stage[] | undefined;
  const log = (line: string) => console.error(line);
  console.log(coldStartTable(await measureColdStart({ rounds, stages, log })));
  process.exit(0);
}
