// Copies of the committed trained checkpoint (models/pystd-mla-moe) with one thing changed, for the
// origin's checkpoint tests: tensors dropped (rewritten with the project's safetensors writer), a file
// truncated or overwritten, a tokenizer edited. And the origin process started on one that must not start.
import { spawn } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  readSafetensors,
  writeSafetensors,
  type TensorInput,
} from '../../engine/formats/safetensors';

export const TRAINED_DIR = resolve(import.meta.dirname, '../../models/pystd-mla-moe');
const repoRoot = resolve(import.meta.dirname, '../..');

/** A copy of the trained checkpoint at `to`; `edit` rewrites files by name (null deletes one). */
export function copyModel(
  to: string,
  edit: Record<string, (bytes: Uint8Array) => Uint8Array | string | null> = {},
): string {
  cpSync(TRAINED_DIR, to, { recursive: true });
  for (const [name, change] of Object.entries(edit)) {
    const out = change(new Uint8Array(readFileSync(join(to, name))));
    if (out === null) rmSync(join(to, name));
    else writeFileSync(join(to, name), out);
  }
  return to;
}

/** The safetensors file without the tensors `drop` names, written again (not a patched header). */
export function withoutTensors(bytes: Uint8Array, drop: (name: string) => boolean): Uint8Array {
  const out: Record<string, TensorInput> = {};
  for (const [name, t] of readSafetensors(bytes).tensors)
    if (!drop(name)) out[name] = { dtype: t.dtype, shape: t.shape, data: t.bytes };
  return writeSafetensors(out);
}

/** Runs `npm run origin` on args and waits for it to exit (or be killed after timeoutMs). */
export function originExit(
  args: string[],
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('npm', ['run', '-s', 'origin', '--', ...args, '--port', '0'], {
    cwd: repoRoot,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '',
    stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), timeoutMs);
  return new Promise((done) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    }),
  );
}
