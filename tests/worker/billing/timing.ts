// Checks of a request's latency shared by the edge and relay tests: its ledger row's timing, a
// timing's inner agreement, and a Server-Timing header read into its entries.
import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import type { Timing } from '../../../protocol/usage';

export interface TimedRow {
  request_id: string;
  ttft_ms: number | null;
  decode_tps: number | null;
}

export async function ledgerTiming(requestId: string): Promise<TimedRow> {
  const row = await env.DB.prepare(
    'SELECT request_id, ttft_ms, decode_tps FROM ledger WHERE request_id = ?',
  )
    .bind(requestId)
    .first<TimedRow>();
  if (!row) throw new Error(`no ledger row for ${requestId}`);
  return row;
}

/** A timing's inner agreement: tokens after the first over decode_ms (each rounded: 0.1 ms, 0.01 tok/s). */
export function expectConsistent(t: Timing, completionTokens: number): void {
  expect(t.ttft_ms).toEqual(expect.any(Number));
  expect(t.ttft_ms!).toBeGreaterThanOrEqual(0);
  expect(t.decode_ms).toBeGreaterThanOrEqual(0);
  if (t.decode_tokens_per_second === null) {
    // Unknown only for a lone token or a clock that did not move.
    expect(completionTokens < 2 || t.decode_ms === 0).toBe(true);
    return;
  }
  const rate = ((completionTokens - 1) * 1000) / t.decode_ms;
  expect(Math.abs(t.decode_tokens_per_second - rate)).toBeLessThanOrEqual(
    rate * (0.05 / t.decode_ms) + 0.01,
  );
}

/** The entries of a Server-Timing header, by name: `dur` and `desc`. */
export function serverTimings(header: string): Map<string, { dur: number; desc?: string }> {
  const out = new Map<string, { dur: number; desc?: string }>();
  for (const entry of header.split(/,\s*/)) {
    const [name, ...params] = entry.split(';');
    const dur = params.find((p) => p.startsWith('dur='));
    const desc = params.find((p) => p.startsWith('desc='));
    out.set(name.trim(), { dur: Number(dur?.slice(4)), desc: desc?.slice(6, -1) });
  }
  return out;
}
