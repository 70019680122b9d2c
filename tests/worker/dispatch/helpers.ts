// Dispatch test helpers: origin processes through the ORIGINS service, generation requests to the
// real Worker, and reading a stream to its end (or its error frame).
import { env } from 'cloudflare:workers';
import {
  syntheticLlama2cCheckpoint,
  syntheticLlama2cTokenizer,
} from '../../../engine/llama/synthetic';
import { putModel } from '../seed';
import { call } from '../billing/setup';

export const origin = async (action: 'start' | 'kill' | 'stats', name: string) => {
  const res = await env.ORIGINS.fetch(`http://origins/${action}/${name}`, { method: 'POST' });
  if (!res.ok) throw new Error(`${action} ${name}: ${await res.text()}`);
  return res.json() as Promise<{
    requests: number;
    clientReady?: number;
    cacheHitTokens: number;
    inflight: number;
    salts: string[];
    requestIds: string[];
    bodies: unknown[];
  }>;
};

/** The edge fallback: a random-weight model of the stories260K shape (no shared files needed). */
export async function seedTinyEdge(): Promise<void> {
  const shape = {
    dim: 64,
    hiddenDim: 172,
    nLayers: 2,
    nHeads: 8,
    nKvHeads: 4,
    vocabSize: 512,
    seqLen: 512,
  };
  await putModel(
    'tiny-edge',
    syntheticLlama2cCheckpoint(shape, 3),
    syntheticLlama2cTokenizer(shape.vocabSize),
    'random-weight edge fallback',
  );
}

export function chat(
  key: string,
  model: string,
  content: string,
  extra: Record<string, unknown> = {},
  signal?: AbortSignal,
): Promise<Response> {
  const body = {
    model,
    messages: [{ role: 'user', content }],
    max_tokens: 8,
    temperature: 0,
    ...extra,
  };
  return call('/v1/chat/completions', { method: 'POST', key, body: JSON.stringify(body), signal });
}

export interface Streamed {
  frames: Record<string, any>[];
  text: string;
  done: boolean;
  error: { message: string; code: string | null } | null;
}

/** Reads an SSE body to its end; a body that breaks counts as not done. */
export async function readStream(res: Response): Promise<Streamed> {
  let raw = '';
  try {
    raw = await res.text();
  } catch {
    // a broken body: judged by what arrived
  }
  const events = raw
    .split('\n\n')
    .filter((e) => e.startsWith('data: '))
    .map((e) => e.slice(6));
  const frames = events
    .filter((e) => e !== '[DONE]')
    .map((e) => JSON.parse(e) as Record<string, any>);
  const error = frames.find((f) => f.error)?.error ?? null;
  const text = frames
    .map((f) => f.choices?.[0]?.delta?.content ?? f.choices?.[0]?.text ?? '')
    .join('');
  return { frames, text, done: events.at(-1) === '[DONE]', error };
}
