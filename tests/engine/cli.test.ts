// tools/generate.ts as a real process (`npm run -s generate -- ... --json`), against the goldens and the engine.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { LlamaModel } from '../../engine/index';
import { createNodeKernels } from '../../kernels-wasm/node';
import { collect, loadStories, repoRoot } from './helpers';

const stories = loadStories();
const run = promisify(execFile);

async function generateCli(args: string[]) {
  const { stdout } = await run('npm', ['run', '-s', 'generate', '--', '--model', stories!.checkpointPath, '--tokenizer', stories!.tokenizerPath, ...args], {
    cwd: repoRoot,
  });
  return stdout;
}

describe.skipIf(!stories)('generate CLI', () => {
  it('reproduces a golden case exactly', async () => {
    const c = stories!.cases.find((g) => g.prompt === 'The little dog')!;
    const out = JSON.parse(await generateCli(['--prompt', c.prompt, '--steps', String(c.steps), '--temperature', '0', '--json']));
    expect(out.token_ids).toEqual(c.token_ids);
    expect(out.prompt_token_ids).toEqual(c.prompt_token_ids);
    expect(out.generated_token_ids).toEqual(c.token_ids.slice(c.prompt_token_ids.length));
    expect(out.text).toBe(c.output_text);
    expect(out.stop_reason).toBe(c.stop_reason);
  });

  it("prints the same completion as the engine for another prompt, and streams run.c's stdout", async () => {
    const prompt = 'Tom had a red';
    const args = ['--prompt', prompt, '--steps', '60', '--temperature', '0.8', '--topp', '0.9', '--seed', '99'];
    const out = JSON.parse(await generateCli([...args, '--json', '--backend', 'ts']));
    const model = LlamaModel.fromLlama2c(await createNodeKernels(), stories!.checkpoint, stories!.tokenizer);
    const promptIds = model.tokenizer.encode(prompt, { bos: true });
    const gen = model.generate(promptIds, { maxTokens: 60 - promptIds.length + 1, temperature: 0.8, topP: 0.9, seed: 99, stopAtEos: false });
    const { tokens } = await collect(gen);
    const end = tokens.findIndex((t) => t.id === 1);
    const kept = end === -1 ? tokens : tokens.slice(0, end);
    expect(out.generated_token_ids).toEqual(kept.map((t) => t.id));
    expect(out.completion).toBe(kept.map((t) => t.text).join(''));
    expect(out.text.startsWith(prompt)).toBe(true);
    expect(await generateCli(args)).toBe(out.text);
  });
});
