// The real Worker for bench/prompt-cache-workerd.ts: worker/index.ts bundled by wrangler itself
// (`wrangler deploy --dry-run`: the same bundle a deploy uploads), run by Miniflare (workerd) with
// the bindings of the project's wrangler.toml (R2, KV, D1, the rate-limiter Durable Object), all in
// memory. Seeds R2 with an edge model and D1 with the migrations; provisions keys through the
// Worker's own admin API. Timing is done from Node: workerd's clock moves only on I/O.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';
import { unstable_getMiniflareWorkerOptions, unstable_splitSqlQuery } from 'wrangler';
import { keyPrefix } from '../dispatch/prompt-cache';
import { repoRoot } from '../tools/paths';

const ADMIN_SECRET = 'bench-admin-secret';

/** wrangler's bundle of the Worker entry (index.js plus the .wasm and .html modules it imports), in a temp dir. */
export function bundleWorker(): string {
  const outdir = mkdtempSync(join(tmpdir(), 'pc-workerd-bench-'));
  const bin = join(repoRoot, 'node_modules/.bin');
  execFileSync(join(bin, 'wrangler'), ['deploy', '--dry-run', '--outdir', outdir], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' },
  });
  return outdir;
}

const moduleOf = (dir: string, path: string) => ({
  type: path.endsWith('.wasm')
    ? ('CompiledWasm' as const)
    : path.endsWith('.html')
      ? ('Text' as const)
      : ('ESModule' as const),
  path,
  contents: readFileSync(join(dir, path)),
});

export interface BenchWorker {
  mf: Miniflare;
  /** A new account (so a new prompt-cache tenant) with a key; its tenant's KV key prefix. */
  newTenant(): Promise<{ key: string; prefix: string }>;
  /** Entries under a KV key prefix (the write-behind lands after the response). */
  entries(prefix: string): Promise<number>;
  dispose(): Promise<void>;
}

/** The Worker in a fresh workerd with `vars` over wrangler.toml's; `models` are put in R2 as `<id>/<file>`. */
export async function startWorker(
  bundle: string,
  vars: Record<string, string>,
  models: Record<string, Uint8Array | string>,
): Promise<BenchWorker> {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(repoRoot, 'wrangler.toml'));
  const files = readdirSync(bundle)
    .filter((f) => /\.(js|wasm|html)$/.test(f))
    .sort((a, b) => Number(b === 'index.js') - Number(a === 'index.js'));
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      ...workerOptions,
      cronTriggers: [],
      modules: files.map((f) => moduleOf(bundle, f)),
      bindings: { ...(workerOptions.bindings as Record<string, unknown>), ADMIN_SECRET, ...vars },
    } as never),
  );
  const bucket = await mf.getR2Bucket('MODELS');
  for (const [path, body] of Object.entries(models)) await bucket.put(path, body);
  const db = await mf.getD1Database('DB');
  for (const file of readdirSync(join(repoRoot, 'migrations'))
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    const statements = unstable_splitSqlQuery(
      readFileSync(join(repoRoot, 'migrations', file), 'utf8'),
    );
    await db.batch(statements.map((s) => db.prepare(s)));
  }
  const kv = await mf.getKVNamespace('PROMPT_CACHE');
  const admin = async <T>(path: string, body: unknown): Promise<T> => {
    const res = await mf.dispatchFetch(`http://bench${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_SECRET}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 201) throw new Error(`admin ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  return {
    mf,
    async newTenant() {
      const account = await admin<{ id: string }>('/admin/accounts', {
        name: 'bench',
        top_up: '100',
      });
      const { key } = await admin<{ key: string }>('/admin/keys', {
        account_id: account.id,
        name: 'bench',
        rpm: 100_000,
        tpm: 100_000_000,
        max_concurrency: 16,
      });
      const row = await db
        .prepare('SELECT tenant_salt FROM accounts WHERE id = ?')
        .bind(account.id)
        .first<{ tenant_salt: string }>();
      return { key, prefix: keyPrefix(row!.tenant_salt) };
    },
    async entries(prefix) {
      let count = 0;
      let cursor: string | undefined;
      for (;;) {
        const page = await kv.list({ prefix, cursor });
        count += page.keys.length;
        if (page.list_complete) return count;
        cursor = page.cursor;
      }
    },
    dispose: () => mf.dispose(),
  };
}

export function removeBundle(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
