// Starts an origin as a real process on a loopback port (Node only): our mini origin
// (tests/dispatch/mini-origin.ts). Killing it is a real SIGKILL: connections reset, the port refuses.
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

export interface OriginStats {
  requests: number;
  streams: number;
  cacheHitTokens: number;
  inflight: number;
  salts: string[];
  requestIds: string[];
  bodies: Record<string, unknown>[];
}

export interface OriginOptions {
  name?: string;
  port?: number;
  tokenMs?: number;
  stall?: boolean;
  maxConcurrency?: number;
}

const nodeBin = () => {
  const pinned = join(repoRoot, 'node_modules/.bin/node');
  return existsSync(pinned) ? pinned : process.execPath;
};

export function startOrigin(o: OriginOptions = {}): Promise<OriginProcess> {
  const args = [join(repoRoot, 'tests/dispatch/mini-origin.ts'), '--port', String(o.port ?? 0), '--name', o.name ?? 'mini', '--token-ms', String(o.tokenMs ?? 0)];
  if (o.stall) args.push('--stall');
  if (o.maxConcurrency !== undefined) args.push('--max-concurrency', String(o.maxConcurrency));
  const child = spawn(nodeBin(), args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('origin did not start within 20 s')), 20_000);
    child.once('exit', (code) => reject(new Error(`origin exited with ${code} before listening`)));
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      const port = Number(m[1]);
      const url = `http://127.0.0.1:${port}`;
      resolve({
        name: o.name ?? 'mini',
        port,
        url,
        child,
        stats: async () => (await fetch(`${url}/stats`)).json() as Promise<OriginStats>,
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
