// Every case of the conformance table on every backend: NMSE vs the float64 reference, and each
// SIMD kernel vs its scalar twin. An unavailable backend is skipped with its reason printed.
import { describe, expect, it } from 'vitest';
import { backends, probe } from '../ops/backends';
import { cases } from '../ops/cases';
import { caseInputs, caseReference, prepareCase } from '../ops/harness';
import { nmse } from '../ops/nmse';

for (const entry of backends) {
  const reason = await probe(entry);
  if (reason) console.warn(`conformance: skipping backend ${entry.name}: ${reason}`);

  describe.skipIf(reason !== null)(entry.name, () => {
    it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const backend = await entry.create();
      const inputs = caseInputs(c);
      const expected = caseReference(c, inputs);
      const prepared = prepareCase(backend, c, inputs);
      const got = prepared.run(entry.ops(backend));
      for (const [name, want] of Object.entries(expected)) {
        expect(got[name].every(Number.isFinite), `${name} finite`).toBe(true);
        expect(nmse(got[name], want), `${name} NMSE vs float64 reference`).toBeLessThanOrEqual(
          c.nmse,
        );
      }
      if (!entry.hasTwin) return;
      const twin = prepared.run(backend.scalar);
      for (const name of Object.keys(expected)) {
        expect(nmse(got[name], twin[name]), `${name} NMSE vs scalar twin`).toBeLessThanOrEqual(
          c.nmse,
        );
      }
    });
  });
}
