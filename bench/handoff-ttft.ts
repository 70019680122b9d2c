// Time to first token of a long prompt at an origin that is busy decoding (`npm run bench -- handoff-ttft`;
// alone: `npx tsx bench/handoff-ttft.ts [--model dir|synthetic:preset] [--rounds N] [--before <checkout>]`;
// HANDOFF_BEFORE=<checkout> for the npm run form).
// Two set-ups of bench/pd.ts's origins, pinned one per core: 1 prefill + 1 decode origin (the long prompt sent
// to the decode origin, which pulls its rows from the prefill origin) and one colocated origin (`--role
// both`; the other core idle). Each is timed idle and while 4 streams decode on the origin that takes the
// request. With --before, another checkout's origins (its own code) run in the same rounds, interleaved,
// so the ratio is of one run on one machine. The prefill origin's own TTFT for the same prompt, sent to it
// directly, is the floor a hand-off adds to.
import { resolve } from 'node:path';
import { printTable, timedRequest } from './pd-load';
import type { pinnedOrigins as PinnedOrigins } from './pd-origins';
import { benchModel, type BenchModel } from './pd-prompts';

interface Code {
  label: string;
  pinnedOrigins: typeof PinnedOrigins;
  separated: string[][];
}

const PROMPT_TOKENS = 768;
const PROMPTS = 6;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function codeAt(label: string, root: string): Promise<Code> {
  const m = (await import(resolve(root, 'bench/pd-origins.ts'))) as {
    pinnedOrigins: typeof PinnedOrigins;
    SEPARATED_ROLES: string[][];
  };
  return { label, pinnedOrigins: m.pinnedOrigins, separated: m.SEPARATED_ROLES };
}

/** Median TTFT (ms) of PROMPTS long prompts to `url`, each after the same prompt straight to `direct` when given. */
async function longPrompts(
  m: BenchModel,
  url: string,
  direct?: string,
): Promise<{ ttft: number; direct?: number }> {
  const via: number[] = [],
    straight: number[] = [];
  for (let i = 0; i < PROMPTS; i++) {
    const text = m.textOf(PROMPT_TOKENS, 3 + i);
    if (direct) straight.push((await timedRequest(direct, m.id, 'long', text, 2)).ttftMs);
    via.push((await timedRequest(url, m.id, 'long', text, 2)).ttftMs);
  }
  return { ttft: median(via), ...(direct ? { direct: median(straight) } : {}) };
}

/** The same, idle and then while 4 streams decode at `url`. */
async function idleAndBusy(m: BenchModel, url: string, direct?: string) {
  await timedRequest(url, m.id, 'decode', m.textOf(24, 1), 8); // warm-up
  await timedRequest(url, m.id, 'long', m.textOf(PROMPT_TOKENS, 2), 2);
  const idle = await longPrompts(m, url, direct);
  let stop = false;
  const streams = Array.from({ length: 4 }, async (_, j) => {
    while (!stop) await timedRequest(url, m.id, 'decode', m.textOf(24, 20 + j), 64);
  });
  await new Promise((r) => setTimeout(r, 300));
  const busy = await longPrompts(m, url, direct).finally(() => (stop = true));
  await Promise.all(streams);
  return { idle, busy };
}

interface Row {
  code: string;
  setUp: string;
  idle: number;
  busy: number;
  direct?: { idle: number; busy: number };
}

async function round(m: BenchModel, code: Code): Promise<Row[]> {
  const rows: Row[] = [];
  {
    const { os } = await code.pinnedOrigins(m, code.separated);
    try {
      const r = await idleAndBusy(m, os[1].url, os[0].url);
      rows.push({
        code: code.label,
        setUp: '1 prefill + 1 decode (request to the decode origin)',
        idle: r.idle.ttft,
        busy: r.busy.ttft,
        direct: { idle: r.idle.direct!, busy: r.busy.direct! },
      });
    } finally {
      await Promise.all(os.map((o) => o.stop()));
    }
  }
  {
    const { os } = await code.pinnedOrigins(m, [[], []]);
    try {
      const r = await idleAndBusy(m, os[1].url);
      rows.push({
        code: code.label,
        setUp: 'colocated (--role both)',
        idle: r.idle.ttft,
        busy: r.busy.ttft,
      });
    } finally {
      await Promise.all(os.map((o) => o.stop()));
    }
  }
  return rows;
}

export async function benchHandoffTtft(opts: {
  model?: string;
  rounds?: number;
  before?: string;
  log?: (line: string) => void;
}): Promise<string> {
  const log = opts.log ?? ((line: string) => console.error(line));
  const m = benchModel(opts.model ?? 'models/pystd-mla-moe');
  const codes = [await codeAt('this checkout', resolve(import.meta.dirname, '..'))];
  if (opts.before) codes.unshift(await codeAt(`before (${opts.before})`, opts.before));
  const all: Row[] = [];
  for (let r = 0; r < (opts.rounds ?? 3); r++)
    for (const code of r % 2 ? [...codes].reverse() : codes) {
      const rows = await round(m, code);
      for (const x of rows)
        log(
          `bench/handoff-ttft round ${r + 1}, ${x.code}, ${x.setUp}: idle ${x.idle.toFixed(0)} ms, busy ${x.busy.toFixed(0)} ms` +
            (x.direct
              ? ` (prefill origin direct: ${x.direct.idle.toFixed(0)} / ${x.direct.busy.toFixed(0)} ms)`
              : ''),
        );
      all.push(...rows);
    }
  const lines = [
    `\`${m.spec}\`, ${PROMPT_TOKENS}-token prompts (${PROMPTS} a set, 2 tokens out; median), idle and under 4 decoding streams (24-token prompts, 64 tokens, restarted); origins pinned one per core. Per round: the set's median TTFT; "direct" is the prefill origin's own TTFT for the same prompts, sent to it straight.`,
    '',
    '| code | set-up | TTFT idle (ms), per round | TTFT busy (ms), per round | direct to the prefill origin, idle / busy (ms) |',
    '| --- | --- | --- | --- | --- |',
  ];
  const keys = [...new Set(all.map((x) => `${x.code}\u0000${x.setUp}`))];
  for (const key of keys) {
    const [code, setUp] = key.split('\u0000');
    const xs = all.filter((x) => x.code === code && x.setUp === setUp);
    const f = (v: number[]) => v.map((x) => x.toFixed(0)).join(' · ');
    const direct = xs[0].direct
      ? `${f(xs.map((x) => x.direct!.idle))} / ${f(xs.map((x) => x.direct!.busy))}`
      : '—';
    lines.push(
      `| ${code} | ${setUp} | ${f(xs.map((x) => x.idle))} | ${f(xs.map((x) => x.busy))} | ${direct} |`,
    );
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const flag = (name: string) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  printTable(
    benchHandoffTtft({
      model: flag('--model'),
      rounds: flag('--rounds') ? Number(flag('--rounds')) : undefined,
      before: flag('--before'),
    }),
  );
}
