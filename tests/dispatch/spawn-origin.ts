// Starts an origin as a real process on a loopback port (Node only): the project's origin server
// (`origin/main.ts`, a synthetic model on the CPU reference backend) or the mini origin
// (tests/dispatch/mini-origin.ts: vLLM-style usage, a stall knob, a saturation knob). Killing one is a real SIGKILL: connections reset, the
// port refuses. Each runs as one process (node --import tsx), so the signal reaches the server itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../tools/paths.ts';

export interface OriginProcess {
  name: string;
  port: number;
  url: string;
  child: ChildProcess;
  stats(): Promise<OriginStats>;
  kill(): Promise<void>;
}

/** What an origin served; the real origin reports counters only (from /metrics), the mini one everything. */
export interface OriginStats {
  requests: number;
  streams: number;
  /** Streams the origin wrote client-ready for the relay to pipe on unread (the real origin's). */
  clientReady?: number;
  cacheHitTokens: number;
  inflight: number;
  salts: string[];
  requestIds: string[];
  bodies: Record<string, unknown>[];
}

export interface OriginOptions {
  /** `real`: origin/main.ts serving synthetic:tiny as model `tiny`; `mini` (default): the test origin; `replay`: recorded vLLM/SGLang answers (replay-origin.ts). */
  kind?: 'real' | 'mini' | 'replay';
  name?: string;
  port?: number;
  tokenMs?: number;
  stall?: boolean;
  maxConcurrency?: number;
  holdMs?: number;
  hang?: boolean;
  /** The mini origin's think block: raw `<think>` text, or `reasoning_content` frames. */
  think?: 'raw' | 'field';
  /** CPUs to pin the process to (`taskset -c`), so a benchmark's other processes do not take its cores. */
  cpus?: string;
  /** The mini origin cuts its /internal/prefill-entries answers mid-body (dies mid-hand-off). */
  cutHandoff?: boolean;
  /** The mini origin writes client-ready streams whose first output's read ends inside the next frame. */
  splitClientReady?: boolean;
  /** More command-line arguments for the real origin (`--role decode ...`: tests/worker/dispatch/pd*). */
  args?: string[];
  /** The real origin from another checkout of the repo (bench/relay.ts: before/after in one run). */
  root?: string;
}

const nodeBin = () => {
  const pinned = join(repoRoot, 'node_modules/.bin/node');
  return existsSync(pinned) ? pinned : process.execPath;
};

function argsOf(o: OriginOptions): string[] {
  const port = String(o.port ?? 0);
  if (o.kind === 'real')
    return [
      '--import',
      'tsx',
      join(o.root ?? repoRoot, 'origin/main.ts'),
      '--model',
      'synthetic:tiny',
      '--model-id',
      'tiny',
      '--backend',
      'reference',
      '--port',
      port,
      ...(o.args ?? []),
    ];
  if (o.kind === 'replay')
    return [join(repoRoot, 'tests/dispatch/replay-origin.ts'), '--port', port];
  const args = [
    join(repoRoot, 'tests/dispatch/mini-origin.ts'),
    '--port',
    port,
    '--name',
    o.name ?? 'mini',
    '--token-ms',
    String(o.tokenMs ?? 0),
  ];
  if (o.stall) args.push('--stall');
  if (o.hang) args.push('--hang');
  if (o.think) args.push('--think', o.think);
  if (o.cutHandoff) args.push('--cut-handoff');
  if (o.splitClientReady) args.push('--split-client-ready');
  if (o.holdMs) args.push('--hold-ms', String(o.holdMs));
  if (o.maxConcurrency !== undefined) args.push('--max-concurrency', String(o.maxConcurrency));
  return args;
}

export function startOrigin(o: OriginOptions = {}): Promise<OriginProcess> {
  const [bin, args] = o.cpus
    ? ['taskset', ['-c', o.cpus, nodeBin(), ...argsOf(o)]]
    : [nodeBin(), argsOf(o)];
  const child = spawn(bin, args, { cwd: o.root ?? repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    // The real origin compiles its wasm kernels on its first start in a clean checkout.
    const limit = o.kind === 'real' ? 120_000 : 20_000;
    const timer = setTimeout(
      () => reject(new Error(`origin did not start within ${limit / 1000} s`)),
      limit,
    );
    child.once('exit', (code) => reject(new Error(`origin exited with ${code} before listening`)));
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      out += d;
      const m = /listening (?:on http:\/\/[\d.]+:)?(\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      const port = Number(m[1]);
      const url = `http://127.0.0.1:${port}`;
      resolve({
        name: o.name ?? 'mini',
        port,
        url,
        child,
        stats: () =>
          o.kind === 'real'
            ? metricsOf(url)
            : fetch(`${url}/stats`).then((r) => r.json() as Promise<OriginStats>),
        kill: () => killProcess(child),
      });
    });
  });
}

export function killProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** The real origin's counters from its Prometheus text. */
async function metricsOf(url: string): Promise<OriginStats> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const sum = (name: string, filter = '') =>
    text
      .split('\n')
      .filter((l) => l.startsWith(name) && l.includes(filter))
      .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
  return {
    requests: sum('origin_requests_total{endpoint="/v1/'),
    streams: 0,
    clientReady: sum('origin_client_ready_streams_total'),
    cacheHitTokens: sum('origin_prefix_cache_hit_tokens_total'),
    inflight: sum('origin_active_sequences'),
    salts: [],
    requestIds: [],
    bodies: [],
  };
}
