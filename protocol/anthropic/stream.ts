// Our chat pipeline's SSE chunks → Anthropic's stream events: message_start, then one content block
// at a time (thinking, text, each tool call) as content_block_start/delta/stop, then message_delta
// with the stop reason and usage, and message_stop. A state machine, fed chunk by chunk; pure.
import type { Usage } from '../usage';
import {
  anthropicUsageOf,
  messageId,
  promptParts,
  stopReasonOf,
  stopSequenceOf,
  thinkingSignature,
  toolUseId,
} from './from-chat';
import type { AnthropicError, StreamEvent } from './responses';

/** The parts of an OpenAI chat chunk the translation reads. */
export interface ChatChunk {
  choices?: {
    delta?: {
      content?: string | null;
      reasoning_content?: string | null;
      tool_calls?: {
        index: number;
        id?: string;
        function?: { name?: string; arguments?: string };
      }[];
    };
    finish_reason?: string | null;
    stop_reason?: string | number | null;
  }[];
  usage?: Usage | null;
  model?: string;
}

export interface StreamStart {
  requestId: string;
  model: string;
  /** Known before the first token on the edge (x-prompt-tokens); else 0 until message_delta. */
  promptTokens: number;
  cacheRead: number;
  cacheCreation: number;
  stops?: readonly string[];
}

type Open = { kind: 'thinking' } | { kind: 'text' } | { kind: 'tool'; call: number };

export class AnthropicStream {
  private index = -1;
  private open: Open | null = null;
  private finish: string | null = null;
  private stopReason: unknown = null;
  private usage: Usage | null = null;

  constructor(private readonly s: StreamStart) {}

  start(): StreamEvent[] {
    const message = {
      id: messageId(this.s.requestId),
      type: 'message' as const,
      role: 'assistant' as const,
      model: this.s.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        ...promptParts(this.s.promptTokens, this.s.cacheRead, this.s.cacheCreation),
        output_tokens: 0,
      },
    };
    return [{ type: 'message_start', message }, { type: 'ping' }];
  }

  chunk(chunk: ChatChunk): StreamEvent[] {
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices?.[0];
    if (!choice) return [];
    if (choice.finish_reason) this.finish = choice.finish_reason;
    if (choice.stop_reason != null) this.stopReason = choice.stop_reason;
    const out: StreamEvent[] = [];
    const d = choice.delta ?? {};
    if (d.reasoning_content) {
      this.enter({ kind: 'thinking' }, out, { type: 'thinking', thinking: '', signature: '' });
      out.push(this.delta({ type: 'thinking_delta', thinking: d.reasoning_content }));
    }
    if (d.content) {
      this.enter({ kind: 'text' }, out, { type: 'text', text: '' });
      out.push(this.delta({ type: 'text_delta', text: d.content }));
    }
    for (const call of d.tool_calls ?? []) {
      const same = this.open?.kind === 'tool' && this.open.call === call.index;
      if (!same) {
        const block = {
          type: 'tool_use' as const,
          id: toolUseId(call.id ?? `${this.s.requestId}_${call.index}`),
          name: call.function?.name ?? '',
          input: {},
        };
        this.enter({ kind: 'tool', call: call.index }, out, block);
      }
      const args = call.function?.arguments;
      if (args) out.push(this.delta({ type: 'input_json_delta', partial_json: args }));
    }
    return out;
  }

  /** The closing events; `usage` when the pipeline's last chunk did not carry it. */
  end(): StreamEvent[] {
    const out: StreamEvent[] = [];
    this.close(out);
    const stopSequence = stopSequenceOf(this.stopReason, this.s.stops);
    const usage = this.usage
      ? anthropicUsageOf(this.usage, this.s.cacheCreation)
      : { output_tokens: 0 };
    out.push({
      type: 'message_delta',
      delta: {
        stop_reason: stopReasonOf(this.finish ?? 'stop', stopSequence),
        stop_sequence: stopSequence,
      },
      usage,
    });
    out.push({ type: 'message_stop' });
    return out;
  }

  /** An error after the stream began: Anthropic's `error` event ends it. */
  error(body: AnthropicError): StreamEvent[] {
    return [body];
  }

  private delta(delta: Extract<StreamEvent, { type: 'content_block_delta' }>['delta']) {
    return { type: 'content_block_delta' as const, index: this.index, delta };
  }

  private enter(
    next: Open,
    out: StreamEvent[],
    block: Extract<StreamEvent, { type: 'content_block_start' }>['content_block'],
  ) {
    if (this.open && this.open.kind === next.kind && next.kind !== 'tool') return;
    this.close(out);
    this.index++;
    this.open = next;
    out.push({ type: 'content_block_start', index: this.index, content_block: block });
  }

  private close(out: StreamEvent[]): void {
    if (!this.open) return;
    if (this.open.kind === 'thinking')
      out.push(
        this.delta({ type: 'signature_delta', signature: thinkingSignature(this.s.requestId) }),
      );
    out.push({ type: 'content_block_stop', index: this.index });
    this.open = null;
  }
}

/** One event on the wire: Anthropic names each event's type in an `event:` line. */
export const eventFrame = (e: StreamEvent): string =>
  `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
