// One request inside the scheduler: its prompt, sampling state, progress through its slot's KV cache,
// and the queue of events (text deltas, then an end or an error) its HTTP response reads.
import { Sampler } from '../../engine/sampler';
import { TextStream } from '../../engine/text-stream';
import type { ApiError } from '../../protocol/errors';
import { makeUsage, type Usage } from '../../protocol/usage';
import { EventQueue } from './event-queue';

export interface GenerationRequest {
  /** Prompt token ids, BOS included. */
  promptIds: number[];
  /** Most tokens to sample (a stop token counts). */
  maxTokens: number;
  /** 0 = greedy. */
  temperature: number;
  topP: number;
  seed?: number;
  /** Generation ends before any of these strings; they are never emitted. */
  stop: string[];
  /** Keep sampling past EOS (benchmarks want a fixed length; vLLM's `ignore_eos`). */
  ignoreEos: boolean;
  /** Prefix-cache keys of the prompt's whole blocks (promptBlockKeys: per tenant, model and weights). */
  blockKeys: string[];
}

export type FinishReason = 'stop' | 'length';

export type SequenceEvent =
  | { kind: 'text'; text: string }
  | { kind: 'end'; finishReason: FinishReason; usage: Usage }
  | { kind: 'error'; error: ApiError; usage: Usage };

export class Sequence {
  readonly events = new EventQueue<SequenceEvent>();
  state: 'waiting' | 'prefill' | 'decode' | 'done' = 'waiting';
  /** The backend slot holding its KV cache while active. */
  slot = -1;
  /** Positions whose KV rows are in the slot (restored or computed). */
  pos = 0;
  /** Prompt tokens restored from the prefix cache. */
  cachedTokens = 0;
  completionTokens = 0;
  /** The latest sampled token: the next decode step's input. */
  lastToken = -1;
  /** Whole prompt blocks already offered to the prefix cache. */
  savedBlocks = 0;
  /** Set when the client went away: the scheduler frees the slot before the next step. */
  cancelled = false;
  readonly sampler: Sampler | null;
  readonly text: TextStream;
  readonly submittedAt = Date.now();

  constructor(readonly id: string, readonly req: GenerationRequest, vocabSize: number) {
    this.sampler = req.temperature > 0 ? new Sampler(vocabSize, { temperature: req.temperature, topP: req.topP, seed: req.seed }) : null;
    this.text = new TextStream(req.stop);
  }

  get promptTokens(): number {
    return this.req.promptIds.length;
  }

  usage(): Usage {
    return makeUsage(this.promptTokens, this.completionTokens, this.cachedTokens);
  }

  /** Queues an event for the response, unless the sequence already ended. */
  emit(event: SequenceEvent): void {
    if (this.state === 'done') return;
    if (event.kind !== 'text') this.state = 'done';
    this.events.push(event);
  }
}
