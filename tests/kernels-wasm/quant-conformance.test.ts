// Every quantized case of the conformance table on every backend that has the quant ops: NMSE vs the
// float64 references, and each SIMD kernel vs its scalar twin. A backend without them is skipped, saying so.
import { describe, expect, it } from 'vitest';
import { backends, probe } from '../ops/backends';
import { quantCases, quantFamily } from '../ops/quant-cases';
import { checkCase, familyOps } from '../ops/quant-table';
import { nmse } from '../ops/nmse';

for (const entry of backends) {
  let reason = await probe(entry);
  if (!reason && !familyOps(quantFamily, entry, await entry.create()))
    reason = `${entry.name} has no ${quantFamily.name} ops`;
  if (reason) console.warn(`quant conformance: skipping backend ${entry.name}: ${reason}`);

  describe.skipIf(reason !== null)(`${entry.name} quant`, () => {
    it.each(quantCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const b = await entry.create();
      const host = c.host();
      const prepared = host.place(b);
      const { failures, got } = checkCase(
        host.checks(),
        prepared,
        familyOps(quantFamily, entry, b)!,
      );
      expect(failures).toEqual([]);
      if (!entry.hasTwin) return;
      const twin = prepared.run(quantFamily.of(b)!.scalar);
      for (const name of Object.keys(twin))
        expect(nmse(got[name], twin[name]), `${name} vs scalar twin`).toBeLessThanOrEqual(
          c.twinNmse,
        );
    });
  });
}
