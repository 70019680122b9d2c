// The origin pairs of bench/pd.ts and bench/pd-goodput.ts: two origin processes of one model, each
// pinned to its own core (taskset), one per entry of `roles` (its extra flags; `$0` stands for the
// first origin's URL, so a decode origin can name the prefill origin started before it).
import { startOrigin, type RunningOrigin } from '../origin/launch';
import { pin } from './pd-load';
import type { BenchModel } from './pd-prompts';

export const PD_SECRET = 'bench-pd';

export async function pinnedOrigins(
  m: BenchModel,
  roles: string[][],
): Promise<{ os: RunningOrigin[]; pinned: boolean }> {
  const os: RunningOrigin[] = [];
  let pinned = true;
  for (const [i, extra] of roles.entries()) {
    // a write per token (--stream-interval-ms 0): the benches time each token's arrival, which the
    // origin's default coalescing (20 ms) would turn into bursts with 0 ms between their tokens
    const args = ['--model', m.spec, '--backend', 'cpu', '--prefix-cache-mb', '0'];
    args.push('--stream-interval-ms', '0');
    const o = await startOrigin(
      [...args, ...extra.map((a) => a.replace('$0', os[0]?.url ?? ''))],
      300_000,
      { ORIGIN_INTERNAL_SECRET: PD_SECRET },
    );
    pinned = pin(o, i % 2) && pinned;
    os.push(o);
  }
  return { os, pinned };
}

/** The separated pair's flags: origin 0 prefills, origin 1 decodes and pulls prompts ≥ 256 tokens from it. */
export const SEPARATED_ROLES = [
  ['--role', 'prefill'],
  ['--role', 'decode', '--prefill-origins', '$0', '--handoff-min-tokens', '256'],
];
