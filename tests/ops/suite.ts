// The conformance suite every backend's test file calls: each runnable case of the table is one test
// (NMSE vs the float64 references and vs the backend's twins, through runner.ts). A backend that cannot
// start, an op it lacks, and a case too slow to test are skipped with the reason printed.
import { afterAll, describe, expect, it } from 'vitest';
import type { Case } from './case';
import { runCase, type Backend, type BackendEntry } from './runner';

export interface SuiteOptions {
  /** Print every measured NMSE after the run (the GPU table: few cases, slow device). */
  log?: boolean;
}

async function start(entry: BackendEntry): Promise<Backend | string> {
  try {
    return await entry.start();
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Skip reasons, once per backend and reason, with the ops and case counts they cover. */
function warnSkips(name: string, skipped: [Case, string][]): void {
  const byReason = new Map<string, Map<string, number>>();
  for (const [c, reason] of skipped) {
    const ops = byReason.get(reason) ?? new Map<string, number>();
    ops.set(c.op, (ops.get(c.op) ?? 0) + 1);
    byReason.set(reason, ops);
  }
  for (const [reason, ops] of byReason) {
    const list = [...ops].map(([op, n]) => `${op} ×${n}`).join(', ');
    console.warn(`conformance ${name}: skipping ${list}: ${reason}`);
  }
}

export async function conformance(
  entries: BackendEntry[],
  cases: Case[],
  opts: SuiteOptions = {},
): Promise<void> {
  for (const entry of entries) {
    const backend = await start(entry);
    if (typeof backend === 'string') {
      console.warn(`conformance: skipping backend ${entry.name}: ${backend}`);
      describe.skip(`${entry.name} (unavailable: ${backend})`, () => it('is skipped', () => {}));
      continue;
    }
    const runnable: Case[] = [],
      skipped: [Case, string][] = [];
    for (const c of cases) {
      const reason = backend.lacks(c) ?? (c.test ? null : 'timed only (too slow to test here)');
      if (reason) skipped.push([c, reason]);
      else runnable.push(c);
    }
    warnSkips(entry.name, skipped);
    const lines: string[] = [];
    if (opts.log)
      afterAll(() => console.log(`case | output | check | NMSE | tolerance\n${lines.join('\n')}`));

    describe(entry.name, () => {
      it.each(runnable.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
        const { measures, failures } = await runCase(backend, c);
        for (const m of measures)
          lines.push(
            `${c.name} | ${m.output} | ${m.label} | ${m.nmse.toExponential(1)} | ${m.tolerance.toExponential(0)}`,
          );
        expect(measures.length, 'checks measured').toBeGreaterThan(0);
        expect(failures).toEqual([]);
      });
    });
  }
}
