// The local Worker host of `npm start` and the load test: worker/index.ts bundled by wrangler itself
// (`wrangler deploy --dry-run`, the bundle a deploy uploads) and served by Miniflare alone, with
// wrangler.toml's bindings (R2, KV, D1, the rate-limiter Durable Object, vars) over the local state
// folder `wrangler dev` and `wrangler r2/d1 --local` use. Why not `wrangler dev`: its ProxyWorker
// forwards each request with a detached fetch, so a client's disconnect never reaches the Worker
// (cloudflare/workers-sdk#6467) and an abandoned JSON request decodes to the end and is billed
// whole; workerd's own listener does not notice it either, so a Node listener and a relay Worker
// (tools/worker-host-relay.ts) carry the disconnect to request.signal.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from 'wrangler';
import { repoRoot } from './paths';
import { RELAY_SCRIPT, startFrontListener } from './worker-host-relay';

export interface WorkerHostOptions {
  host: string;
  /** 0: a free port. */
  port: number;
  /** Local state folder, as `wrangler dev --persist-to`; default `.wrangler/state`. */
  persistTo?: string;
  /** Vars and secrets over wrangler.toml's [vars] (ADMIN_SECRET, MODEL_REGISTRY). */
  vars: Record<string, string>;
}

export interface WorkerHost {
  url: string;
  dispose(): Promise<void>;
}

const wranglerEnv = () => ({
  ...process.env,
  PATH: `${join(repoRoot, 'node_modules/.bin')}:${process.env.PATH}`,
  WRANGLER_SEND_METRICS: 'false',
  CI: 'true',
});

/** wrangler's bundle of the Worker (index.js and the .wasm/.html modules it imports) in a temp dir. */
function bundleWorker(): string {
  const outdir = mkdtempSync(join(tmpdir(), 'worker-host-'));
  try {
    execFileSync(
      join(repoRoot, 'node_modules/.bin/wrangler'),
      ['deploy', '--dry-run', '--outdir', outdir],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: wranglerEnv() },
    );
  } catch (err) {
    rmSync(outdir, { recursive: true, force: true });
    const { stdout, stderr } = err as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`wrangler could not bundle the Worker:\n${stdout ?? ''}\n${stderr ?? ''}`, {
      cause: err,
    });
  }
  return outdir;
}

function modules(dir: string) {
  const files = readdirSync(dir)
    .filter((f) => /\.(js|wasm|html)$/.test(f))
    // the entry module first
    .sort((a, b) => Number(b === 'index.js') - Number(a === 'index.js'));
  return files.map((path) => ({
    type: path.endsWith('.wasm') ? 'CompiledWasm' : path.endsWith('.html') ? 'Text' : 'ESModule',
    path,
    contents: readFileSync(join(dir, path)),
  }));
}

/** Bundles the Worker and serves it on host:port; resolves once it listens. */
export async function startWorkerHost(opts: WorkerHostOptions): Promise<WorkerHost> {
  const bundle = bundleWorker();
  const config = unstable_readConfig({ config: join(repoRoot, 'wrangler.toml') });
  const { workerOptions } = unstable_getMiniflareWorkerOptions(config);
  const state = resolve(repoRoot, opts.persistTo ?? '.wrangler/state');
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: '127.0.0.1',
      port: 0,
      // what `wrangler dev --persist-to DIR` and `wrangler d1/r2 --local` read and write
      resourcePersistencePath: join(state, 'v3'),
      workers: [
        // the first worker gets Miniflare's listener: the relay, in front of the real Worker
        {
          name: 'disconnect-relay',
          modules: true,
          script: RELAY_SCRIPT,
          compatibilityDate: workerOptions.compatibilityDate,
          serviceBindings: { USER: config.name! },
        },
        {
          ...workerOptions,
          // wrangler dev's name: Durable Object state in the shared folder is keyed by it
          name: config.name,
          // the settle cron stays with deployments; locally it would only log
          cronTriggers: [],
          modules: modules(bundle),
          bindings: { ...(workerOptions.bindings as Record<string, unknown>), ...opts.vars },
        },
      ],
    } as never),
  );
  try {
    const front = await startFrontListener(opts.host, opts.port, await mf.ready);
    const { port } = front.address() as AddressInfo;
    return {
      url: `http://${opts.host}:${port}`,
      async dispose() {
        front.closeAllConnections();
        await new Promise((r) => front.close(r));
        await mf.dispose();
        rmSync(bundle, { recursive: true, force: true });
      },
    };
  } catch (err) {
    // e.g. PORT taken: no workerd left behind
    await mf.dispose().catch(() => {});
    rmSync(bundle, { recursive: true, force: true });
    throw err;
  }
}
