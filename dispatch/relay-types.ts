// What the relay reads from an origin and hands on: an upstream frame (parsed only where needed),
// the relay's context (our id and model, how to bill) and the finished generation it bills and
// stores for a replay.
import type { LatencyClock } from '../protocol/latency';
import type { Cost, Usage } from '../protocol/usage';
import type { ChunkChoice } from './assemble';

export type RelayStatus = 'completed' | 'failed' | 'disconnected';

/** One finished choice, as a replay rebuilds it. */
export interface RelayChoice {
  text: string;
  /** DeepSeek reasoner's `reasoning_content`, when the origin sends one. */
  reasoning: string;
  finishReason: 'stop' | 'length' | 'content_filter';
}

/** A finished generation: choice 0 at the top (and all of them in `choices` when n > 1), usage, and the JSON answer when one was built. */
export interface RelayResult extends RelayChoice {
  usage: Usage;
  choices?: RelayChoice[];
  /** The JSON answer's `choices`, exactly as the client got them (JSON answers only). */
  body?: object[];
}

export interface RelayContext {
  id: string;
  model: string;
  created: number;
  /** Our `system_fingerprint`, on every frame in place of the origin's. */
  fingerprint: string;
  /** The chunk `object` of this endpoint. */
  object: 'chat.completion.chunk' | 'text_completion';
  includeUsage: boolean;
  /** Chat of a reasoning generation: split raw `<think>` text into `reasoning_content` (think-frames.ts). */
  reasoning?: boolean;
  /** Prompt tokens to bill when the origin never reported usage (it failed or the client left first). */
  promptEstimate: number;
  /** The request's latency clock: marked as output frames reach the client (a stream) or the Worker (JSON). */
  latency?: LatencyClock;
  /** Keeps a piped stream's relay (relay-piped.ts) alive to its end, past a client that left. */
  waitUntil?: (p: Promise<unknown>) => void;
  /** Bills what happened (exactly once) and returns the cost to report. */
  settle(status: RelayStatus, result: RelayResult): Promise<Cost | undefined>;
}

export type Frame = {
  object?: string;
  id?: string;
  model?: string;
  created?: number;
  system_fingerprint?: string | null;
  error?: unknown;
  message?: string;
  usage?: Record<string, unknown> | Usage | null;
  choices?: ChunkChoice[];
};

export class UpstreamStreamError extends Error {
  constructor(readonly detail: unknown) {
    super(`the origin sent an error: ${JSON.stringify(detail)}`);
  }
}

/** A frame parsed; an error frame (`{"error":…}`, or vLLM's and SGLang's `{"object":"error",…}`) throws. */
export function parseFrame(data: string): Frame {
  const frame = JSON.parse(data) as Frame;
  if (frame.error) throw new UpstreamStreamError(frame.error);
  if (frame.object === 'error') throw new UpstreamStreamError(frame);
  return frame;
}

export const finishOf = (r: string | null | undefined): RelayChoice['finishReason'] =>
  r === 'length' || r === 'content_filter' ? r : 'stop';
