// MTP speculative decoding at the origin, on and off: two origin processes on the same synthetic
// checkpoint with one MTP layer (`--spec off` and `--spec mtp`), driven alternately round by round (so
// load drift on a shared machine hits both alike) by 1, 4 and 16 concurrent greedy streams. Reports decode
// tok/s of each, their ratio, and the drafts accepted (/metrics spec_decode_*). Random MTP weights accept
// about one draft in 40-100 (vocab 512): no speed-up is expected until a trained checkpoint exists.
// Run alone: `npx tsx bench/origin.ts [preset] [backend] --mtp` (preset default small-mtp).
import { startOrigin } from '../origin/launch';
import { SYNTHETIC_PRESETS } from '../origin/model/presets';
import { median, round, scrape, type OriginBenchOptions } from './origin';

interface Row {
  streams: number;
  off: number[];
  mtp: number[];
  drafted: number;
  accepted: number;
}

export async function benchOriginMtp(opts: OriginBenchOptions = {}): Promise<string> {
  const preset = opts.preset ?? 'small-mtp';
  const backend = opts.backend ?? 'cpu';
  const levels = opts.levels ?? [1, 4, 16];
  const tokens = opts.tokens ?? 64;
  const runs = opts.runs ?? 3;
  const log = opts.log ?? ((line: string) => console.error(line));
  const start = (spec: string) =>
    startOrigin(
      ['--model', `synthetic:${preset}`, '--backend', backend, '--spec', spec].concat([
        '--max-seqs',
        String(Math.max(...levels)),
        '--prefix-cache-mb',
        '0',
      ]),
      300_000,
    );
  const [off, mtp] = [await start('off'), await start('mtp')];
  const model = `synthetic-${preset}`;
  const rows: Row[] = [];
  try {
    if (!/speculative decoding mtp/.test(mtp.output()))
      throw new Error(`the --spec mtp origin does not speculate:\n${mtp.output()}`);
    await round(off, model, 2, 8, 'warm-up');
    await round(mtp, model, 2, 8, 'warm-up');
    for (const streams of levels) {
      const before = await scrape(mtp);
      const row: Row = { streams, off: [], mtp: [], drafted: 0, accepted: 0 };
      for (let r = 0; r < runs; r++) {
        row.off.push(await round(off, model, streams, tokens, `off-${streams}-${r}`));
        row.mtp.push(await round(mtp, model, streams, tokens, `mtp-${streams}-${r}`));
        log(
          `bench/origin --mtp: ${preset}, ${streams} streams, run ${r + 1}/${runs}: off ${row.off.at(-1)!.toFixed(1)}, mtp ${row.mtp.at(-1)!.toFixed(1)} tok/s`,
        );
      }
      const after = await scrape(mtp);
      const d = (name: string) => after[name] - before[name];
      row.drafted = d('spec_decode_num_draft_tokens_total');
      row.accepted = d('spec_decode_num_accepted_tokens_total');
      rows.push(row);
    }
  } finally {
    await Promise.all([off.stop(), mtp.stop()]);
  }
  const lines = [
    `Origin MTP speculative decoding (\`npm run origin -- --model synthetic:${preset} --spec off|mtp\`, backend ${backend}): ${SYNTHETIC_PRESETS[preset]?.description ?? preset}. ` +
      `Each stream: a ~10-token prompt, ${tokens} greedy tokens (ignore_eos); the two origins alternate round by round; median of ${runs} runs.`,
    '',
    '| streams | tok/s --spec off | tok/s --spec mtp | mtp / off | drafts accepted |',
    '| ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    const [a, b] = [median(r.off), median(r.mtp)];
    const rate = r.drafted ? ((100 * r.accepted) / r.drafted).toFixed(1) : '0';
    lines.push(
      `| ${r.streams} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b / a).toFixed(2)}× | ${r.accepted}/${r.drafted} (${rate}%) |`,
    );
  }
  return lines.join('\n');
}
