// The one table (tests/ops/table.ts) on every CPU backend: wasm-simd (and its scalar twins), wasm-scalar,
// ts, and the relaxed-SIMD build (bit-identical to wasm-simd). NMSE vs the float64 references; a backend
// that cannot start, or lacks an op, is skipped with the reason printed.
import { expect, it } from 'vitest';
import { cpuBackends } from '../ops/backends';
import { opSpecs, table } from '../ops/table';
import { conformance } from '../ops/suite';

it('the table has one spec per op and a cost for every case', () => {
  expect(opSpecs().size).toBeGreaterThan(20);
  for (const c of table) expect(c.bytes, c.name).toBeGreaterThan(0);
});

await conformance(cpuBackends, table);
