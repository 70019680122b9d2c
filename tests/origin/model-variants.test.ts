// Checkpoints that lack a part, served by the real origin process (copies of models/pystd-mla-moe): one
// without its MTP layer (config.json unchanged, as releases that strip it ship) starts, says at startup
// that speculation is off and why, and answers with the greedy tokens of the full checkpoint run without
// speculation; one whose tokenizer has no FIM tokens answers `suffix` with 400 fim_not_supported.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseOriginArgs } from '../../origin/options';
import { createOrigin } from '../../origin/start';
import type { Completion } from '../../protocol/responses';
import { startOrigin, type RunningOrigin } from './helpers';
import { copyModel, TRAINED_DIR, withoutTensors } from './model-copy';

const root = mkdtempSync(join(tmpdir(), 'origin-variants-'));
const running: RunningOrigin[] = [];
afterAll(async () => {
  await Promise.all(running.map((o) => o.stop()));
  rmSync(root, { recursive: true, force: true });
});

async function start(dir: string): Promise<RunningOrigin> {
  const origin = await startOrigin(['--model', dir, '--backend', 'cpu', '--max-seqs', '2']);
  running.push(origin);
  return origin;
}

const completion = (model: string, extra: object = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    model,
    prompt: 'def parse(',
    max_tokens: 24,
    temperature: 0,
    ignore_eos: true,
    ...extra,
  }),
});

describe('origin: checkpoints without a part', () => {
  it('no MTP weights: serves without speculation, says so, same greedy tokens', async () => {
    const dir = copyModel(join(root, 'no-mtp'), {
      'model.safetensors': (b) => withoutTensors(b, (n) => n.startsWith('model.layers.4.')),
      'manifest.json': () => null, // its sha256 is of the full file
    });
    const origin = await start(dir);
    expect(origin.output()).toContain(
      'speculative decoding off (the checkpoint has no MTP weights)',
    );
    const res = await fetch(`${origin.url}/v1/completions`, completion('no-mtp'));
    expect(res.status).toBe(200);
    const stripped = (await res.json()) as Completion;
    const full = await createOrigin(
      parseOriginArgs(['--model', TRAINED_DIR, '--backend', 'cpu', '--spec', 'off']),
    );
    expect(full.summary).toContain('speculative decoding off (--spec off)');
    const want = (await (
      await full.app.request('/v1/completions', completion('pystd-mla-moe'))
    ).json()) as Completion;
    expect(stripped.usage?.completion_tokens).toBe(24);
    expect(stripped.choices[0].text).toBe(want.choices[0].text);
  });

  it('no FIM tokens in the tokenizer: `suffix` is a 400 fim_not_supported', async () => {
    const dir = copyModel(join(root, 'no-fim'), {
      'tokenizer.json': (b) => {
        const t = JSON.parse(new TextDecoder().decode(b)) as {
          added_tokens: { id: number; content: string }[];
        };
        for (const a of t.added_tokens)
          if (a.content.includes('fim')) a.content = `<｜unused▁${a.id}｜>`;
        return JSON.stringify(t);
      },
    });
    const origin = await start(dir);
    const fim = await fetch(`${origin.url}/v1/completions`, completion('no-fim', { suffix: ')' }));
    expect(fim.status).toBe(400);
    expect(await fim.json()).toMatchObject({
      error: { code: 'fim_not_supported', param: 'suffix', type: 'invalid_request_error' },
    });
    // without `suffix` the same checkpoint answers; the original tokenizer has the tokens and fills in
    expect((await fetch(`${origin.url}/v1/completions`, completion('no-fim'))).status).toBe(200);
    const withFim = await createOrigin(
      parseOriginArgs(['--model', TRAINED_DIR, '--backend', 'cpu']),
    );
    const res = await withFim.app.request(
      '/v1/completions',
      completion('pystd-mla-moe', { suffix: ')' }),
    );
    expect(res.status).toBe(200);
  });
});
