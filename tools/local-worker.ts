// A throwaway local Worker for tools that need one (the load test): `wrangler dev` on a free port
// over its own temporary state (Miniflare R2/D1/DO), seeded with an edge model and migrated, plus a
// read of its local ledger. Node only; `npm start` (tools/start.ts) is the interactive counterpart.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticLlama2cCheckpoint, syntheticLlama2cTokenizer } from '../engine/llama/synthetic';
import { freePort } from '../origin/launch';
import { migrateLocal } from './dev-key';
import { findStories260k, repoRoot } from './paths';
import { uploadModel } from './upload-model';

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
  const port = await freePort();
  const adminSecret = `admin-${randomBytes(12).toString('hex')}`;
  const args = ['dev', '--port', String(port), '--ip', '127.0.0.1', '--persist-to', persistTo];
  args.push('--show-interactive-dev-session=false', '--var', `ADMIN_SECRET:${adminSecret}`);
  const child = spawn(join(bin, 'wrangler'), args, { cwd: repoRoot, env, stdio: 'ignore' });
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    rmSync(persistTo, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode})`);
    if (
      await fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error('wrangler dev did not start within 120 s');
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, adminSecret, model, persistTo, stop };
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
