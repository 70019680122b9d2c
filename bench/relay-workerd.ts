// The relay benchmark's Worker host (bench/relay.ts): bench/relay-worker.ts bundled and run in
// workerd through Miniflare, as production runs it (one workerd, the Worker alone on the path), or
// under `wrangler dev` (RELAY_HOST=wrangler: its dev proxy, a second workerd and an HTTP hop, is in
// the path and in the CPU count, as the first measurements of this bench had it). RELAY_ROOT bundles
// the Worker from another checkout of the repo (an older commit: before/after with one harness).
// CPU is that of the workerd processes this process started, from /proc (schedstat: ns).
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { unstable_dev } from 'wrangler';

export interface RelayHost {
  url: string;
  pids: number[];
  cpuMs(): number;
  dispose(): Promise<void>;
}

const COMPAT = { date: '2026-08-01', flags: ['nodejs_compat'] };

export interface RelayVariant {
  /** A checkout of the repo to bundle the Worker from (default RELAY_ROOT, else this one). */
  root?: string;
  /** `native` | `js`: a floor instead of the relay (bench/relay-worker.ts; default RELAY_MODE). */
  mode?: string;
}

export async function startRelay(upstream: string, v: RelayVariant = {}): Promise<RelayHost> {
  const root = resolve(v.root ?? process.env.RELAY_ROOT ?? new URL('..', import.meta.url).pathname);
  const entry = join(root, 'bench/relay-worker.ts');
  const before = workerdPids();
  let url: string;
  let dispose: () => Promise<void>;
  if (process.env.RELAY_HOST === 'wrangler') {
    // A config of its own: the project's wrangler.toml would bring D1, R2 and Durable Objects along.
    const config = join(mkdtempSync(join(tmpdir(), 'relay-bench-')), 'wrangler.toml');
    writeFileSync(
      config,
      `name = "relay-bench"\ncompatibility_date = "${COMPAT.date}"\ncompatibility_flags = ["nodejs_compat"]\n`,
    );
    const worker = await unstable_dev(entry, {
      config,
      ip: '127.0.0.1',
      vars: { UPSTREAM: upstream },
      logLevel: 'error',
      experimental: { disableExperimentalWarning: true },
    });
    url = `http://127.0.0.1:${worker.port}`;
    dispose = () => worker.stop();
  } else {
    const bundle = await build({
      entryPoints: [entry],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      conditions: ['workerd', 'worker', 'browser'],
      external: ['node:*', 'cloudflare:*'],
      write: false,
      logLevel: 'error',
    });
    const mf = new Miniflare(
      convertV4MiniflareOptions({
        modules: true,
        script: bundle.outputFiles[0].text,
        compatibilityDate: COMPAT.date,
        compatibilityFlags: COMPAT.flags,
        bindings: { UPSTREAM: upstream, MODE: v.mode ?? process.env.RELAY_MODE ?? '' },
        host: '127.0.0.1',
        port: 0,
      } as never),
    );
    url = (await mf.ready).origin;
    dispose = () => mf.dispose();
  }
  const pids = workerdPids().filter((p) => !before.includes(p));
  return { url, pids, cpuMs: () => pids.reduce((sum, p) => sum + cpuMsOf(p), 0), dispose };
}

/** Running workerd processes started by this process: other sessions' workerd on a shared machine are not ours to count. */
function workerdPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        return (
          readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'workerd' && descendsFromUs(pid)
        );
      } catch {
        return false;
      }
    });
}

function descendsFromUs(pid: number): boolean {
  for (let p = pid, hops = 0; p > 1 && hops < 16; hops++) {
    if (p === process.pid) return true;
    p = Number(readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
  }
  return false;
}

/**
 * CPU time of a process, in ms: the sum over its threads of /proc/<pid>/task/<tid>/schedstat (ns, so
 * a short run is not rounded to 10 ms ticks as /proc/<pid>/stat's utime + stime are). workerd's
 * threads live as long as it does, so none of its time leaves with an exited thread.
 */
function cpuMsOf(pid: number): number {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`))
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    return ns / 1e6;
  } catch {
    return 0;
  }
}
