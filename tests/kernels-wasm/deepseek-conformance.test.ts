// The DeepSeek ops' cases of the conformance table on every backend that has them: NMSE vs the float64
// references of engine/deepseek/, and the SIMD kernels vs their scalar twins.
import { describe, expect, it } from 'vitest';
import { backends, probe } from '../ops/backends';
import { deepSeekCases, deepSeekFamily } from '../ops/deepseek-cases';
import { nmse } from '../ops/nmse';
import { checkCase, familyOps } from '../ops/quant-table';

for (const entry of backends) {
  let reason = await probe(entry);
  if (!reason && !familyOps(deepSeekFamily, entry, await entry.create()))
    reason = `${entry.name} has no ${deepSeekFamily.name} ops`;
  if (reason) console.warn(`deepseek conformance: skipping backend ${entry.name}: ${reason}`);

  describe.skipIf(reason !== null)(`${entry.name} deepseek`, () => {
    it.each(deepSeekCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const b = await entry.create();
      const host = c.host();
      const prepared = host.place(b);
      const { failures, got } = checkCase(
        host.checks(),
        prepared,
        familyOps(deepSeekFamily, entry, b)!,
      );
      expect(failures).toEqual([]);
      if (!entry.hasTwin) return;
      const twin = prepared.run(deepSeekFamily.of(b)!.scalar);
      for (const name of Object.keys(twin))
        expect(nmse(got[name], twin[name]), `${name} vs scalar twin`).toBeLessThanOrEqual(
          c.twinNmse,
        );
    });
  });
}
