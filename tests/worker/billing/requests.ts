// Requests to the real Worker for billing tests: chat/completions with a key, SSE parsing, and
// waiting for a ledger row to settle (a cancelled stream settles after the client has gone).
import { env } from 'cloudflare:workers';
import type { Usage } from '../../../protocol/usage';
import { call, type LedgerRow } from './setup';

export const MODEL = 'stories260k';

export const chat = (
  key: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
) =>
  call('/v1/chat/completions', {
    method: 'POST',
    key,
    headers,
    body: JSON.stringify({
      model: MODEL,
      messages: [{ role: 'user', content: 'Once upon a time' }],
      temperature: 0,
      ...body,
    }),
  });

export interface Chunk {
  id?: string;
  created?: number;
  choices: { delta?: { content?: string }; text?: string; finish_reason: string | null }[];
  usage?: Usage | null;
}

/** All `data:` frames of an SSE body, JSON-parsed, without [DONE]. */
export async function frames(res: Response): Promise<Chunk[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((f) => f.startsWith('data: ') && f !== 'data: [DONE]')
    .map((f) => JSON.parse(f.slice(6)) as Chunk);
}

export async function settledRow(ledgerId: string, timeoutMs = 10_000): Promise<LedgerRow> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await env.DB.prepare('SELECT * FROM ledger WHERE id = ?')
      .bind(ledgerId)
      .first<LedgerRow>();
    if (row && row.status !== 'pending') return row;
    if (Date.now() > deadline)
      throw new Error(`ledger row ${ledgerId} still ${row?.status ?? 'missing'}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function rowsOf(keyId: string): Promise<LedgerRow[]> {
  const { results } = await env.DB.prepare(
    'SELECT * FROM ledger WHERE api_key_id = ? ORDER BY started_at',
  )
    .bind(keyId)
    .all<LedgerRow>();
  return results;
}
