// MTP speculative decoding at the origin, on and off: two origin processes on the same checkpoint with
// one MTP layer (`--spec off` and `--spec mtp`), a synthetic preset (default small-mtp) or a model
// directory (models/pystd-mla-moe, prompted with held-out code: bench/bench-model.ts), driven alternately
// round by round (so load drift on a shared machine hits both alike) by 1, 4 and 16 concurrent greedy
// streams. Reports decode tok/s of each, their ratio, the drafts accepted (/metrics spec_decode_*), and
// the mean step latency of each origin (a verify step carries 2 rows per sequence: what speculation costs).
// Random MTP weights accept about one draft in 40-100 (vocab 512): no speed-up is expected on them.
// Run alone: `npx tsx bench/origin.ts [preset | model dir] [backend] --mtp [--tokens N] [--runs N]`.
import { startOrigin, type RunningOrigin } from '../origin/launch';
import { benchModel } from './bench-model';
import { median, round, scrape, type OriginBenchOptions } from './origin';

interface Row {
  streams: number;
  off: number[];
  mtp: number[];
  drafted: number;
  accepted: number;
  stepMs: { off: number; mtp: number };
  steps: { off: number; mtp: number };
}

/** Mean step latency (ms) and step count between two /metrics scrapes. */
function steps(before: Record<string, number>, after: Record<string, number>) {
  const d = (name: string) => after[name] - before[name];
  const n = d('origin_step_seconds_count');
  return { ms: (d('origin_step_seconds_sum') / n) * 1000, n };
}

export async function benchOriginMtp(opts: OriginBenchOptions = {}): Promise<string> {
  const model = benchModel(opts.preset ?? 'small-mtp');
  const backend = opts.backend ?? 'cpu';
  const levels = opts.levels ?? [1, 4, 16];
  const tokens = opts.tokens ?? 64;
  const runs = opts.runs ?? 3;
  const log = opts.log ?? ((line: string) => console.error(line));
  const start = (spec: string) =>
    startOrigin(
      ['--model', model.arg, '--backend', backend, '--spec', spec].concat([
        '--max-seqs',
        String(Math.max(...levels)),
        '--prefix-cache-mb',
        '0',
      ]),
      300_000,
    );
  const [off, mtp] = [await start('off'), await start('mtp')];
  const rows: Row[] = [];
  try {
    if (!/speculative decoding mtp/.test(mtp.output()))
      throw new Error(`the --spec mtp origin does not speculate:\n${mtp.output()}`);
    await round(off, model, 2, 8, 'warm-up');
    await round(mtp, model, 2, 8, 'warm-up');
    for (const streams of levels) rows.push(await level(off, mtp, streams));
  } finally {
    await Promise.all([off.stop(), mtp.stop()]);
  }
  return table(rows);

  async function level(off: RunningOrigin, mtp: RunningOrigin, streams: number): Promise<Row> {
    const [b0, b1] = [await scrape(off), await scrape(mtp)];
    const row = { streams, off: [] as number[], mtp: [] as number[] };
    for (let r = 0; r < runs; r++) {
      row.off.push(await round(off, model, streams, tokens, `off-${streams}-${r}`));
      row.mtp.push(await round(mtp, model, streams, tokens, `mtp-${streams}-${r}`));
      log(
        `bench/origin --mtp: ${model.id}, ${streams} streams, run ${r + 1}/${runs}: off ${row.off.at(-1)!.toFixed(1)}, mtp ${row.mtp.at(-1)!.toFixed(1)} tok/s`,
      );
    }
    const [a0, a1] = [await scrape(off), await scrape(mtp)];
    const [so, sm] = [steps(b0, a0), steps(b1, a1)];
    return {
      ...row,
      drafted: a1.spec_decode_num_draft_tokens_total - b1.spec_decode_num_draft_tokens_total,
      accepted: a1.spec_decode_num_accepted_tokens_total - b1.spec_decode_num_accepted_tokens_total,
      stepMs: { off: so.ms, mtp: sm.ms },
      steps: { off: so.n, mtp: sm.n },
    };
  }

  function table(rows: Row[]): string {
    const lines = [
      `Origin MTP speculative decoding (\`npm run origin -- --model ${model.arg} --spec off|mtp\`, backend ${backend}): ${model.description}. ` +
        `Each stream: a prompt, ${tokens} greedy tokens (ignore_eos); the two origins alternate round by round; median of ${runs} runs. ` +
        `Steps: the origin's forward steps over the level's runs (prefill included); step ms: their mean latency.`,
      '',
      '| streams | tok/s --spec off | tok/s --spec mtp | mtp / off | drafts accepted | steps off / mtp | step ms off / mtp |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ];
    for (const r of rows) {
      const [a, b] = [median(r.off), median(r.mtp)];
      const rate = r.drafted ? ((100 * r.accepted) / r.drafted).toFixed(1) : '0';
      lines.push(
        `| ${r.streams} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b / a).toFixed(2)}× | ${r.accepted}/${r.drafted} (${rate}%) | ` +
          `${r.steps.off} / ${r.steps.mtp} | ${r.stepMs.off.toFixed(2)} / ${r.stepMs.mtp.toFixed(2)} |`,
      );
    }
    return lines.join('\n');
  }
}
