// `npm run -s generate -- --model models/pystd-mla-moe --json [--mtp]` on the model tools/train trained:
// the JSON carries token_ids, text, stop_reason and, with --mtp, stats { drafted, accepted }; greedy
// tokens are the same with and without --mtp, and the first generated token is the argmax PyTorch
// computed for the same prompt (golden.json, prompt 0, whose text encodes back to the same ids).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadOriginModel } from '../../origin/model/load';
import type { DeepSeekRun } from '../../tools/generate-deepseek';

const root = join(import.meta.dirname, '../..');
const DIR = 'models/pystd-mla-moe';
const golden = JSON.parse(readFileSync(join(root, DIR, 'golden.json'), 'utf8')) as {
  prompts: { ids: number[]; argmax: number[] }[];
};
const { tokenizer } = loadOriginModel(join(root, DIR));
const want = golden.prompts[0];
const prompt = Buffer.concat(
  want.ids.filter((id) => id !== tokenizer.bosId).map((id) => tokenizer.decode(id)),
).toString('utf8');
const STEPS = 40;

async function generate(...extra: string[]): Promise<DeepSeekRun> {
  const { stdout } = await promisify(execFile)(
    'npm',
    ['run', '-s', 'generate', '--', '--model', DIR, '--prompt', prompt, '--steps', String(STEPS)]
      .concat(['--temperature', '0', '--json'])
      .concat(extra),
    { cwd: root },
  );
  return JSON.parse(stdout) as DeepSeekRun;
}

describe('generate --json on the trained checkpoint', () => {
  it('prints the run, with MTP stats under --mtp, and the same greedy tokens either way', async () => {
    expect(tokenizer.encode(prompt)).toEqual(want.ids);
    const [plain, spec] = [await generate(), await generate('--mtp')];
    expect(plain.prompt_token_ids).toEqual(want.ids);
    expect(plain.generated_token_ids[0]).toBe(want.argmax.at(-1));
    expect(plain.token_ids).toEqual([...plain.prompt_token_ids, ...plain.generated_token_ids]);
    expect(['stop', 'steps']).toContain(plain.stop_reason);
    if (plain.stop_reason === 'steps') expect(plain.token_ids).toHaveLength(STEPS + 1);
    expect(typeof plain.text).toBe('string');
    expect(plain.stats).toBeUndefined();
    expect(spec.token_ids).toEqual(plain.token_ids);
    expect(spec.text).toBe(plain.text);
    expect(spec.stop_reason).toBe(plain.stop_reason);
    const { drafted, accepted } = spec.stats!;
    expect(Number.isInteger(drafted) && Number.isInteger(accepted)).toBe(true);
    expect(accepted).toBeLessThanOrEqual(drafted);
    // one step per token, or two when a draft stands: every generated token after the first is covered
    expect(drafted + accepted).toBeGreaterThanOrEqual(plain.generated_token_ids.length - 2);
    console.log(`generate --mtp on ${DIR}: ${accepted}/${drafted} drafts accepted`);
  });
});
