// Seeds the Worker's real (Miniflare) R2 bucket with models for tests.
import { env } from 'cloudflare:workers';

export interface Golden {
  cases: {
    prompt: string;
    steps: number;
    temperature: number;
    token_ids: number[];
    prompt_token_ids: number[];
    output_text: string;
  }[];
}

/** True when ../shared/models exists on this machine; CI must have it. */
export async function sharedModelsPresent(): Promise<boolean> {
  const res = await env.FIXTURES.fetch('http://fixtures/stories260k/golden');
  await res.body?.cancel();
  return res.ok;
}

export async function putModel(
  id: string,
  checkpoint: ArrayBuffer | Uint8Array,
  tokenizer: ArrayBuffer | Uint8Array,
  description = 'test model',
  /** More manifest fields (max_sessions, max_queue). */
  extra: Record<string, unknown> = {},
) {
  await env.MODELS.put(`${id}/model.bin`, checkpoint);
  await env.MODELS.put(`${id}/tokenizer.bin`, tokenizer);
  const manifest = {
    id,
    format: 'llama2c',
    checkpoint: 'model.bin',
    tokenizer: 'tokenizer.bin',
    created: 1_700_000_000,
    owned_by: 'tests',
    description,
    ...extra,
  };
  await env.MODELS.put(`${id}/model.json`, JSON.stringify(manifest));
}

export async function seedStories260k(): Promise<void> {
  const [checkpoint, tokenizer] = await Promise.all(
    ['checkpoint', 'tokenizer'].map(async (f) =>
      (await env.FIXTURES.fetch(`http://fixtures/stories260k/${f}`)).arrayBuffer(),
    ),
  );
  await putModel('stories260k', checkpoint, tokenizer, 'llama2.c stories260K');
}

export async function golden(): Promise<Golden> {
  return (await env.FIXTURES.fetch('http://fixtures/stories260k/golden')).json();
}

/** Runs the real generate CLI (in Node) and returns its JSON. */
export async function cli(
  params: Record<string, string | number>,
): Promise<{ token_ids: number[]; text: string; completion: string; stop_reason: string }> {
  const qs = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
  const res = await env.FIXTURES.fetch(`http://fixtures/cli?${qs}`);
  if (!res.ok) throw new Error(await res.text());
  return res.json();
}

export function skipReason(present: boolean): string | null {
  if (present) return null;
  const reason = 'skipped: ../shared/models (stories260K) is absent on this machine';
  if (env.CI) throw new Error(`CI must have the shared models: ${reason}`);
  console.warn(reason);
  return reason;
}
