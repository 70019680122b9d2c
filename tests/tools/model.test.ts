// `npm run -s model -- convert|info`, spawned as the user runs it: llama2.c and GGUF sources into
// model directories of every format, which load and generate (f32: the stories260K goldens).
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { syntheticLlama2cCheckpoint, syntheticLlama2cTokenizer } from '../../engine/index';
import { exportGguf } from '../../engine/formats/gguf-model';
import { ggufTokenizerFromLlama2c } from '../../engine/formats/gguf-tokenizer';
import { importLlama2c } from '../../engine/formats/import-llama2c';
import { loadModelDir } from '../../engine/llama/model-dir';
import { createNodeKernels } from '../../kernels-wasm/node';
import { readModelDir } from '../../tools/model-files';
import { loadStories } from '../engine/helpers';

const root = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'model-cli-'));

function model(...args: string[]) {
  const run = spawnSync(
    join(root, 'node_modules/.bin/tsx'),
    [join(root, 'tools/model.ts'), ...args],
    { cwd: root, encoding: 'utf8' },
  );
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

async function greedy(dir: string, prompt: string, steps: number, native = false) {
  const files = readModelDir(dir);
  if (native) files.native = createReadStream(join(dir, 'model.edge'));
  const { model: m } = await loadModelDir(await createNodeKernels(), files);
  const ids = m.tokenizer.encode(prompt, { bos: true });
  const out = [...ids];
  for await (const t of m.generate(ids, {
    maxTokens: steps - ids.length + 1,
    temperature: 0,
    topP: 1,
    stopAtEos: false,
  })) {
    if (t.id === 1) break;
    out.push(t.id);
  }
  return out;
}

describe('model CLI', () => {
  const shape = {
    dim: 64,
    hiddenDim: 192,
    nLayers: 2,
    nHeads: 4,
    nKvHeads: 2,
    vocabSize: 320,
    seqLen: 64,
  };
  const bin = join(work, 'synthetic.bin');
  writeFileSync(bin, syntheticLlama2cCheckpoint(shape, 2));
  writeFileSync(join(work, 'tokenizer.bin'), syntheticLlama2cTokenizer(shape.vocabSize));

  for (const quant of ['f32', 'f16', 'q8', 'q4', 'fp8']) {
    it(`convert llama2.c → ${quant}, then info`, async () => {
      const out = join(work, `synthetic-${quant}`);
      const run = model('convert', bin, out, '--quant', quant);
      expect(run.stderr + run.stdout).not.toMatch(/error/i);
      expect(run.status).toBe(0);
      expect(run.stdout).toContain(`(${quant})`);
      const info = model('info', out);
      expect(info.status).toBe(0);
      expect(info.stdout).toContain('llama, 0.');
      expect(info.stdout).toContain('heads 4 (kv 2, head_dim 16)');
      const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
      expect(Boolean(config.quantization_config)).toBe(
        quant === 'q8' || quant === 'q4' || quant === 'fp8',
      );
      const ids = await greedy(out, 'the cat', 16);
      expect(ids.length).toBe(17); // BOS + 16 steps
      // model.edge (tools/model-native.ts): the same tokens; f16 is skipped (f32 in memory: twice the bytes)
      expect(existsSync(join(out, 'model.edge'))).toBe(quant !== 'f16');
      if (quant !== 'f16') expect(await greedy(out, 'the cat', 16, true)).toEqual(ids);
      else expect(run.stdout).toMatch(/no model\.edge: .*f16 is widened/);
    });
  }

  it('convert GGUF Q8_0 → q8 directory', async () => {
    const gguf = join(work, 'synthetic.q8_0.gguf');
    const tokenizer = syntheticLlama2cTokenizer(shape.vocabSize);
    writeFileSync(
      gguf,
      exportGguf(
        importLlama2c(syntheticLlama2cCheckpoint(shape, 2), tokenizer),
        'q8_0',
        ggufTokenizerFromLlama2c(tokenizer, shape.vocabSize),
      ),
    );
    const out = join(work, 'from-gguf');
    expect(model('convert', gguf, out, '--quant', 'q8').status).toBe(0);
    // lossless: the same tokens as converting the llama2.c file to q8 directly
    const direct = join(work, 'synthetic-q8-direct');
    expect(model('convert', bin, direct, '--quant', 'q8').status).toBe(0);
    expect(await greedy(out, 'the dog', 24)).toEqual(await greedy(direct, 'the dog', 24));
  });

  it('refuses an unknown --quant and a missing tokenizer', () => {
    expect(model('convert', bin, join(work, 'x'), '--quant', 'q3').status).toBe(2);
    const lonely = join(mkdtempSync(join(tmpdir(), 'lonely-')), 'm.bin');
    writeFileSync(lonely, syntheticLlama2cCheckpoint(shape, 2));
    const run = model('convert', lonely, join(work, 'y'));
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--tokenizer');
  });

  it("refuses a tokenizer.bin whose vocabulary is not the model's, in one line naming both and the fix", () => {
    const dir = mkdtempSync(join(tmpdir(), 'vocab-'));
    const checkpoint = join(dir, 'm.bin'); // vocab_size 320
    writeFileSync(checkpoint, syntheticLlama2cCheckpoint(shape, 2));
    writeFileSync(join(dir, 'tokenizer.bin'), syntheticLlama2cTokenizer(512)); // the wrong one, beside it
    writeFileSync(
      join(dir, `tok${shape.vocabSize}.bin`),
      syntheticLlama2cTokenizer(shape.vocabSize),
    );
    const out = join(work, 'vocab-mismatch');
    const run = model('convert', checkpoint, out);
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('has 512 tokens but m.bin has vocab_size 320');
    expect(run.stderr).toContain(`--tokenizer <file> (${join(dir, 'tok320.bin')} is beside it)`);
    expect(existsSync(out)).toBe(false);
    const fixed = model('convert', checkpoint, out, '--tokenizer', join(dir, 'tok320.bin'));
    expect(fixed.status).toBe(0);
  });

  const stories = loadStories();
  const beside = stories && join(dirname(stories.checkpointPath), 'tokenizer.bin');
  it.skipIf(!beside || !existsSync(beside))(
    'stories260K: the 32000-token tokenizer.bin beside it is refused, naming tok512.bin',
    () => {
      const run = model('convert', stories!.checkpointPath, join(work, 'stories-wrong'));
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(/has 32000 tokens but stories260K\.bin has vocab_size 512/);
      expect(run.stderr).toContain('tok512.bin is beside it');
    },
  );
  it.skipIf(!stories)('stories260K converted to f32 generates its goldens', async () => {
    const out = join(work, 'stories260k');
    expect(
      model('convert', stories!.checkpointPath, out, '--tokenizer', stories!.tokenizerPath).status,
    ).toBe(0);
    for (const c of stories!.cases.filter((g) => g.temperature === 0))
      expect(await greedy(out, c.prompt, c.steps)).toEqual(c.token_ids);
  });
});
