// The load test's short version (`npm run loadtest` runs it longer): a few concurrent clients for a few
// seconds against a fresh local `wrangler dev`, then the money must reconcile — the costs the responses
// reported, the balance the account lost, the ledger and GET /v1/usage — and every 429 had retry-after.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../tools/paths';

describe('npm run loadtest (short)', () => {
  it('4 clients for 4 s: no errors, some 429s with retry-after, and the money reconciles', () => {
    const run = spawnSync('npx', ['tsx', 'tools/loadtest.ts', '--streams', '4', '--seconds', '4'], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 110_000,
    });
    const summary = JSON.parse(run.stdout.slice(run.stdout.indexOf('{')));
    expect(summary, run.stderr).toMatchObject({
      error_count: 0,
      refused_without_retry_after: 0,
      reconciled: true,
    });
    expect(summary.ok).toBeGreaterThan(4);
    expect(summary.refused_429).toBeGreaterThan(0);
    expect(summary.balance_drop_nanos).toBe(summary.cost_reported_nanos);
    expect(summary.ledger.cost).toBe(summary.cost_reported_nanos);
    expect(summary.usage_total_nanos).toBe(summary.cost_reported_nanos);
    expect(run.status).toBe(0);
  });
});
