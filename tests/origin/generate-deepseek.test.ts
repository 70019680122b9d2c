// `npm run -s generate` on a DeepSeek-V3 directory (tools/generate-deepseek.ts): greedy tokens with --mtp
// equal those without it and the WASM model's own greedy decoding; a sampled --mtp run accepts drafts
// (two tokens a step) and stops at --steps; the CLI prints token_ids, text, stop_reason and stats as JSON.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { WasmDeepSeekModel } from '../../engine/deepseek/wasm-model';
import { loadKernelsModule } from '../../kernels-wasm/node';
import { generateDeepSeek, type DeepSeekRun } from '../../tools/generate-deepseek';
import { writeSyntheticModel } from '../../tools/synthetic-model';
import { syntheticFiles } from './reference-text';

const root = mkdtempSync(join(tmpdir(), 'generate-deepseek-'));
const dir = join(root, 'tiny-mtp');
writeSyntheticModel(dir, 'tiny-mtp');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const opts = { prompt: 'Hello there', steps: 48, temperature: 0, topP: 1, mtp: false };

describe('generate on a DeepSeek-V3 directory', () => {
  it('greedy with --mtp equals greedy without it and the WASM model alone', async () => {
    const plain = await generateDeepSeek(dir, opts);
    const spec = await generateDeepSeek(dir, { ...opts, mtp: true });
    expect(spec.token_ids).toEqual(plain.token_ids);
    expect(spec.text).toBe(plain.text);
    expect(plain.token_ids).toHaveLength(opts.steps + 1);
    const m = await WasmDeepSeekModel.load(await loadKernelsModule(), syntheticFiles('tiny-mtp'), {
      maxSeqLen: 64,
    });
    const want = plain.generated_token_ids.length;
    expect(m.generateGreedy(plain.prompt_token_ids, want)).toEqual(plain.generated_token_ids);
    expect(spec.stats!.drafted).toBeGreaterThanOrEqual(want - 1 - spec.stats!.accepted);
    expect(plain.stats).toBeUndefined();
  });

  it('sampled with --mtp accepts drafts and still stops at --steps', async () => {
    const run = await generateDeepSeek(dir, { ...opts, temperature: 0.8, seed: 3, mtp: true });
    expect(run.token_ids).toHaveLength(opts.steps + 1);
    expect(run.stats!.accepted).toBeGreaterThan(0);
    expect(run.stop_reason).toBe('steps');
  });

  it('the CLI prints the run as JSON with --json --mtp', async () => {
    const { stdout } = await promisify(execFile)(
      'npm',
      [
        'run',
        '-s',
        'generate',
        '--',
        '--model',
        dir,
        '--prompt',
        'Hi',
        '--steps',
        '12',
        '--temperature',
        '0',
        '--json',
        '--mtp',
      ],
      { cwd: join(import.meta.dirname, '../..') },
    );
    const run = JSON.parse(stdout) as DeepSeekRun;
    expect(run.token_ids).toHaveLength(13);
    expect(run.stop_reason).toBe('steps');
    expect(typeof run.text).toBe('string');
    expect(run.stats!.drafted).toBeGreaterThan(0);
  });
});
