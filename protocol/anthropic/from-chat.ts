// Our chat pipeline's answer → Anthropic's message: text, tool calls (tool_use with the parsed
// input), reasoning (thinking), the stop reason and usage with the prompt cache's counts. Pure.
import { ApiError } from '../errors';
import type { Usage } from '../usage';
import type { AnthropicMessageOut, AnthropicUsage, ContentOut, StopReason } from './responses';

/** An OpenAI chat completion as the chat route (or an origin through it) answers it. */
export interface ChatAnswer {
  id: string;
  model: string;
  choices: {
    message: {
      content: string | null;
      reasoning_content?: string | null;
      tool_calls?: { id: string; function: { name: string; arguments: string } }[];
    };
    finish_reason: string | null;
    /** vLLM's extension: the stop string that ended the choice. */
    stop_reason?: string | number | null;
  }[];
  usage: Usage;
}

/** Anthropic ids look like `toolu_…`; ours (`call_…`) are prefixed, and kept as they come back. */
export const toolUseId = (id: string) => (id.startsWith('toolu_') ? id : `toolu_${id}`);

/** The message id from the request id: one id across the ledger, `request-id` and the body. */
export const messageId = (requestId: string) => `msg_${requestId}`;

/** Thinking blocks must carry a signature; ours only says where the thinking came from. */
export const thinkingSignature = (id: string) => `ds-reasoning:${id}`;

export function stopReasonOf(
  finish: string | null,
  stopSequence: string | null,
): StopReason | null {
  if (finish === null) return null;
  if (finish === 'length') return 'max_tokens';
  if (finish === 'tool_calls' || finish === 'function_call') return 'tool_use';
  return stopSequence !== null ? 'stop_sequence' : 'end_turn';
}

/** The matched stop string when the pipeline reports one (vLLM origins do; the edge engine does not). */
export const stopSequenceOf = (reason: unknown, stops: readonly string[] | undefined) =>
  typeof reason === 'string' && stops?.includes(reason) ? reason : null;

/**
 * Anthropic counts a prompt in three parts that add up to it: read from the cache, written to it,
 * and `input_tokens`, the rest (its SDKs and Claude Code add them up for the context size).
 */
export function promptParts(promptTokens: number, cacheRead: number, cacheCreation: number) {
  const creation = Math.min(cacheCreation, promptTokens - cacheRead);
  return {
    input_tokens: promptTokens - cacheRead - creation,
    cache_read_input_tokens: cacheRead,
    cache_creation_input_tokens: creation,
  };
}

export function anthropicUsageOf(usage: Usage, cacheCreation: number): AnthropicUsage {
  const read = usage.prompt_cache_hit_tokens ?? 0;
  return {
    ...promptParts(usage.prompt_tokens, read, cacheCreation),
    output_tokens: usage.completion_tokens,
    ...(usage.cost ? { cost: usage.cost } : {}),
  };
}

/** A tool call's arguments as an object; the grammar engine makes them valid, so a failure is ours. */
export function parseInput(args: string, name: string): Record<string, unknown> {
  try {
    const input: unknown = JSON.parse(args === '' ? '{}' : args);
    if (input && typeof input === 'object' && !Array.isArray(input))
      return input as Record<string, unknown>;
  } catch {
    // falls through
  }
  throw new ApiError(500, `The model's call of '${name}' is not a JSON object.`, 'server_error');
}

export function toAnthropicMessage(
  answer: ChatAnswer,
  o: { requestId: string; stops?: readonly string[]; cacheCreation: number },
): AnthropicMessageOut {
  const choice = answer.choices[0];
  const { message } = choice;
  const content: ContentOut[] = [];
  if (message.reasoning_content)
    content.push({
      type: 'thinking',
      thinking: message.reasoning_content,
      signature: thinkingSignature(o.requestId),
    });
  if (message.content) content.push({ type: 'text', text: message.content });
  for (const call of message.tool_calls ?? [])
    content.push({
      type: 'tool_use',
      id: toolUseId(call.id),
      name: call.function.name,
      input: parseInput(call.function.arguments, call.function.name),
    });
  const stopSequence = stopSequenceOf(choice.stop_reason, o.stops);
  return {
    id: messageId(o.requestId),
    type: 'message',
    role: 'assistant',
    model: answer.model,
    content,
    stop_reason: stopReasonOf(choice.finish_reason, stopSequence),
    stop_sequence: stopSequence,
    usage: anthropicUsageOf(answer.usage, o.cacheCreation),
  };
}
