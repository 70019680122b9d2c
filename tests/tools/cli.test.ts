// Every CLI spawned as a user runs it (tools/cli.ts conventions): `--help` is the usage on stdout
// and exit 0; a bad flag or argument is one line on stderr, no stack trace, and exit 2.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { syntheticLlama2cCheckpoint, syntheticLlama2cTokenizer } from '../../engine/index';

const root = resolve(import.meta.dirname, '../..');
const exec = promisify(execFile);
const tsx = join(root, 'node_modules/.bin/tsx');

/** name (its stderr prefix) → the command line that starts it. */
const CLIS: Record<string, string[]> = {
  model: ['npm', 'run', '-s', 'model', '--'],
  'synthetic-model': ['npm', 'run', '-s', 'synthetic-model', '--'],
  'upload-model': ['npm', 'run', '-s', 'upload-model', '--'],
  generate: ['npm', 'run', '-s', 'generate', '--'],
  origin: ['npm', 'run', '-s', 'origin', '--'],
  start: [tsx, 'tools/start.ts'],
  bench: [tsx, 'bench/run.ts'],
};

async function run(name: string, ...args: string[]) {
  const [cmd, ...pre] = CLIS[name];
  try {
    const { stdout, stderr } = await exec(cmd, [...pre, ...args], { cwd: root, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A usage error: exit 2, one line `name: …` on stderr, nothing on stdout. */
function expectUsageError(name: string, r: Awaited<ReturnType<typeof run>>, says: string) {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr.startsWith(`${name}: `)).toBe(true);
  expect(r.stderr).toContain(says);
}

describe('every CLI', () => {
  it.each(Object.keys(CLIS))('%s --help: the usage, exit 0', { timeout: 60_000 }, async (name) => {
    const r = await run(name, '--help');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^usage: /);
    expect(r.stderr).toBe('');
  });

  it.each(Object.keys(CLIS))(
    '%s with an unknown flag: one line, exit 2',
    { timeout: 60_000 },
    async (name) => {
      const r = await run(name, '--no-such-flag');
      expectUsageError(name, r, '--no-such-flag');
      expect(r.stderr).not.toMatch(/^\s+at /m);
    },
  );
});

describe('bad arguments are one line and exit 2', { timeout: 60_000 }, () => {
  it('origin: a port that is not a number', async () => {
    const r = await run('origin', '--model', 'synthetic:tiny', '--port', 'abc');
    expectUsageError('origin', r, "--port must be an integer >= 0, got 'abc'");
  });

  it('origin: no --model', async () => {
    expectUsageError('origin', await run('origin', '--port', '0'), 'missing --model');
  });

  it('synthetic-model: an unknown preset', async () => {
    const out = mkdtempSync(join(tmpdir(), 'cli-synth-'));
    const r = await run('synthetic-model', '--out', out, '--preset', 'huge');
    expectUsageError(
      'synthetic-model',
      r,
      "--preset must be one of tiny, small, tiny-mtp, small-mtp, medium, got 'huge'",
    );
  });

  it('upload-model: missing flags and a missing file', async () => {
    const a = await run('upload-model', '--id', 'x');
    expectUsageError('upload-model', a, 'missing --checkpoint, --tokenizer');
    const b = await run(
      'upload-model',
      '--id',
      'x',
      '--checkpoint',
      '/nope.bin',
      '--tokenizer',
      '/no',
    );
    expectUsageError('upload-model', b, '/nope.bin does not exist');
  });

  it('model: a command without its arguments', async () => {
    expectUsageError('model', await run('model', 'convert'), 'convert needs <src> and <out-dir>');
  });

  it('generate: no --model, a bad number', async () => {
    expectUsageError('generate', await run('generate'), 'missing --model');
    const dir = mkdtempSync(join(tmpdir(), 'cli-gen-'));
    const shape = {
      dim: 32,
      hiddenDim: 64,
      nLayers: 1,
      nHeads: 2,
      nKvHeads: 2,
      vocabSize: 300,
      seqLen: 32,
    };
    writeFileSync(join(dir, 'model.bin'), syntheticLlama2cCheckpoint(shape, 1));
    writeFileSync(join(dir, 'tokenizer.bin'), syntheticLlama2cTokenizer(shape.vocabSize));
    const r = await run('generate', '--model', dir, '--steps', 'many');
    expectUsageError('generate', r, '--steps must be a number, got "many"');
  });

  it("generate: a tokenizer whose vocabulary is not the model's", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-vocab-'));
    const shape = {
      dim: 32,
      hiddenDim: 64,
      nLayers: 1,
      nHeads: 2,
      nKvHeads: 2,
      vocabSize: 300,
      seqLen: 32,
    };
    writeFileSync(join(dir, 'model.bin'), syntheticLlama2cCheckpoint(shape, 1));
    writeFileSync(join(dir, 'tokenizer.bin'), syntheticLlama2cTokenizer(400));
    const r = await run('generate', '--model', dir, '--prompt', 'hi');
    expectUsageError('generate', r, 'has 400 tokens but model.bin has vocab_size 300');
  });

  it('start: arguments it does not take', async () => {
    expectUsageError('start', await run('start', 'now'), "takes no arguments, got 'now'");
  });

  it('bench: an unknown bench', async () => {
    expectUsageError('bench', await run('bench', 'nope'), 'unknown bench: nope');
  });
});
