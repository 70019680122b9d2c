// A throwaway local Worker for tools that need one (the load test): hosted as `npm start` hosts it
// (tools/worker-host.ts) on a free port over its own temporary state (Miniflare R2/D1/DO), seeded
// with an edge model and migrated, plus a read of its local ledger. Node only; `npm start` (tools/start.ts) is the interactive counterpart.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticLlama2cCheckpoint, syntheticLlama2cTokenizer } from '../engine/llama/synthetic';
import { migrateLocal } from './dev-key';
import { findStories260k, repoRoot } from './paths';
import { uploadModel } from './upload-model';
import { startWorkerHost } from './worker-host';

export interface LocalWorker {
  url: string;
  adminSecret: string;
  model: string;
  persistTo: string;
  stop(): Promise<void>;
}

const bin = join(repoRoot, 'node_modules/.bin');
const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, WRANGLER_SEND_METRICS: 'false' };

/** stories260K when ../shared/models has it, else a random-weight model of its shape. */
function seed(persistTo: string): string {
  const stories = findStories260k();
  if (stories) {
    uploadModel({ id: 'stories260k', ...stories, description: 'stories260K', persistTo });
    return 'stories260k';
  }
  const shape = { dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8, nKvHeads: 4 };
  const full = { ...shape, vocabSize: 512, seqLen: 512 };
  writeFileSync(join(persistTo, 'model.bin'), syntheticLlama2cCheckpoint(full, 1));
  writeFileSync(join(persistTo, 'tokenizer.bin'), syntheticLlama2cTokenizer(full.vocabSize));
  const files = {
    checkpoint: join(persistTo, 'model.bin'),
    tokenizer: join(persistTo, 'tokenizer.bin'),
  };
  uploadModel({ id: 'random-demo', ...files, description: 'random weights', persistTo });
  return 'random-demo';
}

export async function startLocalWorker(): Promise<LocalWorker> {
  const persistTo = mkdtempSync(join(tmpdir(), 'loadtest-'));
  const model = seed(persistTo);
  migrateLocal(persistTo);
  const adminSecret = `admin-${randomBytes(12).toString('hex')}`;
  const worker = await startWorkerHost({
    host: '127.0.0.1',
    port: 0,
    persistTo,
    vars: { ADMIN_SECRET: adminSecret },
  }).catch((err: unknown) => {
    rmSync(persistTo, { recursive: true, force: true });
    throw err;
  });
  const stop = async () => {
    await worker.dispose();
    rmSync(persistTo, { recursive: true, force: true });
  };
  return { url: worker.url, adminSecret, model, persistTo, stop };
}

/** The local ledger's rows of one key: how many, their total cost, and how many are still pending. */
export function localLedger(
  persistTo: string,
  keyId: string,
): { rows: number; cost: number; pending: number } {
  if (!/^[\w-]+$/.test(keyId)) throw new Error(`unexpected key id ${keyId}`);
  const sql = `SELECT COUNT(*) AS rows, COALESCE(SUM(cost_nanos), 0) AS cost, SUM(status = 'pending') AS pending FROM ledger WHERE api_key_id = '${keyId}'`;
  const run = spawnSync(
    join(bin, 'wrangler'),
    ['d1', 'execute', 'DB', '--local', '--persist-to', persistTo, '--json', '--command', sql],
    { cwd: repoRoot, env: { ...env, CI: 'true' }, encoding: 'utf8' },
  );
  if (run.status !== 0) throw new Error(`wrangler d1 execute failed: ${run.stderr}`);
  const [{ results }] = JSON.parse(run.stdout) as { results: Record<string, number>[] }[];
  return { rows: results[0].rows, cost: results[0].cost, pending: results[0].pending ?? 0 };
}
