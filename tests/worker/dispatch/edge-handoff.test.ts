// Prefill at an origin, decode at the edge, through the prompt cache (docs/prompt-cache.md): our trained
// model (models/pystd-mla-moe) in R2 for the edge and served by a real origin process from the same
// files. A long prompt is prefilled by the origin, its latent blocks land in Workers KV (Miniflare's) and
// the edge decodes from them: the same greedy answer as the edge alone and as the origin alone, billed
// once with no cache hit; the next request restores the blocks from KV without the origin. An origin
// that dies mid-hand-off (a body cut mid-way) costs a try on the next; with none left the edge prefills.
import { env } from 'cloudflare:workers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerOf, provisionKey } from '../billing/setup';
import { keysOf, saltOf, waitForKeys } from '../prompt-cache/helpers';
import { chat, origin, readStream } from './helpers';

const MODEL = 'pystd-pd';
// Python source, the model's training domain: 254 prompt tokens under its tokenizer and chat template.
const source = [
  'def merge_sorted(a, b):',
  '    out = []',
  '    i = j = 0',
  '    while i < len(a) and j < len(b):',
  '        if a[i] <= b[j]:',
  '            out.append(a[i])',
  '            i += 1',
  '        else:',
  '            out.append(b[j])',
  '            j += 1',
  '    out.extend(a[i:])',
  '    out.extend(b[j:])',
  '    return out',
  '',
  'class Stack:',
  '    def __init__(self):',
  '        self.items = []',
  '',
  '    def push(self, item):',
  '        self.items.append(item)',
  '',
].join('\n');
const content = `${source}\n${source.replaceAll('Stack', 'Queue')}\n# tests\n`;

async function putPystd(id: string) {
  for (const name of [
    'config.json',
    'model.safetensors',
    'tokenizer.json',
    'tokenizer_config.json',
  ]) {
    const res = await env.FIXTURES.fetch(`http://fixtures/pystd/${name}`);
    if (!res.ok) throw new Error(`fixture ${name}: ${await res.text()}`);
    await env.MODELS.put(`${id}/${name}`, await res.arrayBuffer());
  }
  const manifest = {
    id,
    format: 'hf',
    weights: ['model.safetensors'],
    tokenizer: 'tokenizer.json',
    tokenizer_config: 'tokenizer_config.json',
    context_length: 1024,
    created: 1_700_000_000,
    owned_by: 'tests',
  };
  await env.MODELS.put(`${id}/model.json`, JSON.stringify(manifest));
}

beforeAll(async () => {
  await Promise.all([putPystd(MODEL), origin('start', 'pyo'), origin('start', 'cut')]);
}, 240_000);
afterAll(async () => {
  await Promise.all(['pyo', 'cut'].map((n) => origin('kill', n)));
});

async function ask(key: string, model: string, extra: Record<string, unknown> = {}) {
  const res = await chat(key, model, content, {
    max_tokens: 12,
    stream: true,
    stream_options: { include_usage: true },
    ...extra,
  });
  expect(res.status).toBe(200);
  const s = await readStream(res);
  expect(s.done).toBe(true);
  expect(s.error).toBeNull();
  expect(s.frames.filter((f) => f.usage)).toHaveLength(1);
  return {
    ...s,
    usage: s.frames.at(-1)!.usage,
    by: res.headers.get('x-prefilled-by'),
    id: res.headers.get('x-request-id')!,
  };
}

/** The tenant's ledger row of one request: exactly one. */
async function billedOnce(keyId: string, requestId: string) {
  const rows = (await ledgerOf(keyId)).filter((r) => r.request_id === requestId);
  expect(rows).toHaveLength(1);
  expect(rows[0].status).toBe('completed');
  return rows[0];
}

describe('a model at both tiers: prefill at an origin, decode at the edge', () => {
  let edgeOnly: Awaited<ReturnType<typeof ask>>;

  it('the edge alone and the origin alone give the same greedy answer', async () => {
    const t = await provisionKey();
    edgeOnly = await ask(t.key, MODEL, { cache: false }); // no cache: no hand-off either
    expect(edgeOnly.by).toBeNull();
    expect(edgeOnly.usage.prompt_tokens).toBeGreaterThan(3 * 64); // 3 whole blocks and a partial one
    expect(edgeOnly.usage.completion_tokens).toBe(12);
    const atOrigin = await ask(t.key, 'pystd-origin');
    expect(atOrigin.text).toBe(edgeOnly.text);
    expect(atOrigin.usage.prompt_tokens).toBe(edgeOnly.usage.prompt_tokens);
  });

  it('prefilled at an origin (after one died mid-hand-off), decoded at the edge: the same answer, billed once', async () => {
    const t = await provisionKey();
    const cutBefore = (await origin('stats', 'cut')).requests;
    const split = await ask(t.key, MODEL);
    // The cut origin has ~all the weight (rendezvous): it is asked first, dies, and the real one serves.
    expect((await origin('stats', 'cut')).requests).toBe(cutBefore + 1);
    expect(split.by).toBe('origin-pyo');
    expect(split.text).toBe(edgeOnly.text);
    expect(split.frames.filter((f) => f.choices?.[0]?.finish_reason)).toHaveLength(1);
    expect(split.usage).toMatchObject({
      prompt_tokens: edgeOnly.usage.prompt_tokens,
      prompt_cache_hit_tokens: 0,
      completion_tokens: 12,
    });
    expect(await billedOnce(t.keyId, split.id)).toMatchObject({ cache_hit_tokens: 0 });
    // The origin's blocks are the tenant's prompt-cache entries now: the next request restores them.
    const blocks = Math.floor(edgeOnly.usage.prompt_tokens / 64);
    const salt = await saltOf(t.accountId);
    expect(await waitForKeys(salt, blocks)).toHaveLength(blocks);
    await origin('kill', 'pyo'); // not needed any more: a hit never calls an origin
    const again = await ask(t.key, MODEL);
    expect(again.by).toBeNull();
    expect(again.text).toBe(edgeOnly.text);
    expect(again.usage.prompt_cache_hit_tokens).toBe(blocks * 64);
    expect(await billedOnce(t.keyId, again.id)).toMatchObject({ cache_hit_tokens: blocks * 64 });
  });

  it('no prefill origin delivers: the edge prefills itself, one answer, billed once, nothing stored', async () => {
    const t = await provisionKey(); // a new tenant: nothing cached
    const alone = await ask(t.key, MODEL);
    expect(alone.by).toBe('edge');
    expect(alone.text).toBe(edgeOnly.text);
    expect(alone.usage.prompt_cache_hit_tokens).toBe(0);
    await billedOnce(t.keyId, alone.id);
    expect(await keysOf(await saltOf(t.accountId))).toEqual([]);
  });
});
