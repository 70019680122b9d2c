// tools/generate.ts as a real process (`npm run -s generate -- ... --json`), against the goldens and the engine.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  LlamaModel,
  syntheticLlama2cCheckpoint,
  syntheticLlama2cTokenizer,
} from '../../engine/index';
import { exportGguf } from '../../engine/formats/gguf-model';
import { ggufTokenizerFromLlama2c } from '../../engine/formats/gguf-tokenizer';
import { importLlama2c } from '../../engine/formats/import-llama2c';
import { planModelDir } from '../../engine/formats/model-dir-writer';
import { llamaConfig } from '../../engine/llama/config';
import { loadModelDir } from '../../engine/llama/model-dir';
import { ChatTemplate, chatTemplateSource } from '../../engine/tokenizers/chat-template';
import { HfTokenizer } from '../../engine/tokenizers/hf-tokenizer';
import { createNodeKernels } from '../../kernels-wasm/node';
import { readModelDir, writeModelDir } from '../../tools/model-files';
import { syntheticHfModel } from './formats/hf-reference';
import { byteLevelTokenizer } from './tokenizers/fixtures';
import { collect, loadStories, repoRoot } from './helpers';

const stories = loadStories();
const run = promisify(execFile);

async function generateCli(args: string[]) {
  const { stdout } = await run(
    'npm',
    [
      'run',
      '-s',
      'generate',
      '--',
      '--model',
      stories!.checkpointPath,
      '--tokenizer',
      stories!.tokenizerPath,
      ...args,
    ],
    {
      cwd: repoRoot,
    },
  );
  return stdout;
}

describe.skipIf(!stories)('generate CLI', () => {
  it('reproduces a golden case exactly', async () => {
    const c = stories!.cases.find((g) => g.prompt === 'The little dog')!;
    const out = JSON.parse(
      await generateCli([
        '--prompt',
        c.prompt,
        '--steps',
        String(c.steps),
        '--temperature',
        '0',
        '--json',
      ]),
    );
    expect(out.token_ids).toEqual(c.token_ids);
    expect(out.prompt_token_ids).toEqual(c.prompt_token_ids);
    expect(out.generated_token_ids).toEqual(c.token_ids.slice(c.prompt_token_ids.length));
    expect(out.text).toBe(c.output_text);
    expect(out.stop_reason).toBe(c.stop_reason);
  });

  it("prints the same completion as the engine for another prompt, and streams run.c's stdout", async () => {
    const prompt = 'Tom had a red';
    const args = [
      '--prompt',
      prompt,
      '--steps',
      '60',
      '--temperature',
      '0.8',
      '--topp',
      '0.9',
      '--seed',
      '99',
    ];
    const out = JSON.parse(await generateCli([...args, '--json', '--backend', 'ts']));
    const model = LlamaModel.fromLlama2c(
      await createNodeKernels(),
      stories!.checkpoint,
      stories!.tokenizer,
    );
    const promptIds = model.tokenizer.encode(prompt, { bos: true });
    const gen = model.generate(promptIds, {
      maxTokens: 60 - promptIds.length + 1,
      temperature: 0.8,
      topP: 0.9,
      seed: 99,
      stopAtEos: false,
    });
    const { tokens } = await collect(gen);
    const end = tokens.findIndex((t) => t.id === 1);
    const kept = end === -1 ? tokens : tokens.slice(0, end);
    expect(out.generated_token_ids).toEqual(kept.map((t) => t.id));
    expect(out.completion).toBe(kept.map((t) => t.text).join(''));
    expect(out.text.startsWith(prompt)).toBe(true);
    expect(await generateCli(args)).toBe(out.text);
  });
});

// Model directories (config.json + safetensors + tokenizer.json/tokenizer.bin) and .gguf files.
describe('generate CLI on model directories and GGUF', () => {
  const work = mkdtempSync(join(tmpdir(), 'generate-cli-'));
  const cli = async (model: string, args: string[]) => {
    const { stdout } = await run(
      'npm',
      ['run', '-s', 'generate', '--', '--model', model, ...args],
      { cwd: repoRoot },
    );
    return stdout;
  };
  const json = async (model: string, args: string[]) =>
    JSON.parse(await cli(model, [...args, '--json']));
  const failing = async (model: string, args: string[]) =>
    run('npm', ['run', '-s', 'generate', '--', '--model', model, ...args], { cwd: repoRoot }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );

  const tok = byteLevelTokenizer();
  const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  const qwen = {
    ...llamaConfig({
      dim: 64,
      hiddenDim: 128,
      nLayers: 2,
      nHeads: 4,
      nKvHeads: 2,
      vocabSize: 266,
      seqLen: 128,
    }),
    ropeTheta: 1e6,
    normEps: 1e-6,
    qkvBias: true,
  };
  const qwenDir = join(work, 'tiny-qwen-q8');
  writeModelDir(
    qwenDir,
    planModelDir(
      syntheticHfModel(qwen, 'qwen2', 21, {
        'tokenizer.json': enc(tok.tokenizerJson),
        'tokenizer_config.json': enc(tok.tokenizerConfig),
      }),
      'q8',
    ),
  );

  it('a Qwen2 q8 directory (byte-level tokenizer.json, no BOS): the engine greedy tokens, stopping on its EOS', async () => {
    const out = await json(qwenDir, ['--prompt', 'the cat', '--steps', '40', '--temperature', '0']);
    const { model } = await loadModelDir(await createNodeKernels(), readModelDir(qwenDir));
    const ids = model.tokenizer.encode('the cat', { bos: true });
    expect(out.prompt_token_ids).toEqual(ids);
    const { tokens } = await collect(
      model.generate(ids, { maxTokens: 40 - ids.length + 1, temperature: 0, topP: 1 }),
    );
    const stop = tokens.findIndex((t) => model.tokenizer.stopIds.includes(t.id));
    const kept = stop === -1 ? tokens : tokens.slice(0, stop);
    expect(out.generated_token_ids).toEqual(kept.map((t) => t.id));
    expect(out.stop_reason).toBe(stop === -1 ? 'steps' : 'stop');
    expect(out.text.startsWith('the cat')).toBe(true); // no BOS: the first prompt token is printed too
    expect(out.text).toBe('the cat' + out.completion + '\n');
  });

  it('--chat renders the chat template as the API does (no extra BOS)', async () => {
    const out = await json(qwenDir, [
      '--prompt',
      'the cat',
      '--steps',
      '60',
      '--temperature',
      '0',
      '--chat',
    ]);
    const t = new HfTokenizer(tok.tokenizerJson, tok.tokenizerConfig);
    const text = new ChatTemplate(chatTemplateSource(tok.tokenizerConfig)!, t.specialTokens).render(
      [{ role: 'user', content: 'the cat' }],
    );
    expect(out.prompt_token_ids).toEqual(t.encode(text, { bos: false }));
    expect(out.text).toContain('the cat');
  });

  it.skipIf(!stories)(
    'stories260K as an f32 model directory gives the greedy goldens',
    async () => {
      const dir = join(work, 'stories260k-f32');
      writeModelDir(
        dir,
        planModelDir(importLlama2c(stories!.checkpoint, stories!.tokenizer), 'f32'),
      );
      for (const c of stories!.cases.filter((g) => g.temperature === 0).slice(0, 2)) {
        const out = await json(dir, [
          '--prompt',
          c.prompt,
          '--steps',
          String(c.steps),
          '--temperature',
          '0',
        ]);
        expect(out.token_ids).toEqual(c.token_ids);
        expect(out.stop_reason).toBe(c.stop_reason === 'bos' ? 'stop' : c.stop_reason);
      }
    },
  );

  it('a Q8_0 .gguf loads as q8 and generates what its converted q8 directory generates', async () => {
    const shape = {
      dim: 64,
      hiddenDim: 192,
      nLayers: 2,
      nHeads: 4,
      nKvHeads: 2,
      vocabSize: 320,
      seqLen: 64,
    };
    const tokenizer = syntheticLlama2cTokenizer(shape.vocabSize);
    const imported = importLlama2c(syntheticLlama2cCheckpoint(shape, 2), tokenizer);
    const gguf = join(work, 'synthetic.q8_0.gguf');
    writeFileSync(
      gguf,
      exportGguf(imported, 'q8_0', ggufTokenizerFromLlama2c(tokenizer, shape.vocabSize)),
    );
    const dir = join(work, 'synthetic-q8');
    writeModelDir(dir, planModelDir(imported, 'q8'));
    const args = ['--prompt', 'the dog', '--steps', '30', '--temperature', '0'];
    const [fromGguf, fromDir] = await Promise.all([json(gguf, args), json(dir, args)]);
    expect(fromGguf.token_ids).toEqual(fromDir.token_ids);
    expect(fromGguf.token_ids.length).toBeGreaterThan(fromGguf.prompt_token_ids.length);
  });

  it('refuses what it cannot load with a usage error (exit 2)', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'generate-empty-'));
    const a = await failing(empty, []);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('neither a model directory');
    const b = await failing(qwenDir, ['--quant', 'q4']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('--quant applies to .gguf');
    const c = await failing(join(work, 'missing'), []);
    expect(c.code).toBe(2);
  });
});
