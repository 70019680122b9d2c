// Starts a real origin process (`npm run origin -- ...`) on a free port and waits for its URL: for
// tests and benches here, and for the dispatcher's tests that need live origins (Node side only).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface RunningOrigin {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Spawns `npm run origin -- <args> --port <free>` in its own process group (with `env` added to this
 * process's environment); resolves once it prints its URL.
 */
export async function startOrigin(
  args: string[],
  timeoutMs = 90_000,
  env: NodeJS.ProcessEnv = {},
): Promise<RunningOrigin> {
  const port = await freePort();
  const child = spawn('npm', ['run', '-s', 'origin', '--', ...args, '--port', String(port)], {
    cwd: repoRoot,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  // The origin runs in its own process group, so nothing takes it down with this process: whatever way
  // this process exits (a signal handler elsewhere calling process.exit, as Miniflare's does under
  // `npm start`), the group gets SIGTERM on the way out.
  const onExit = () => {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  process.on('exit', onExit);
  child.once('exit', () => process.off('exit', onExit));
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      process.kill(-child.pid!, 'SIGTERM'); // the group: npm, sh and the origin under them
    } catch {
      return;
    }
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`origin did not start within ${timeoutMs} ms:\n${out}`)),
      timeoutMs,
    );
    const check = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`origin exited with ${code} before listening:\n${out}`));
    });
  }).catch(async (err) => {
    await stop();
    throw err;
  });
  return { url, child, output: () => out, stop };
}
