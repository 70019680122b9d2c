// Anthropic → our one chat pipeline: a Messages request becomes the OpenAI/DeepSeek chat body that
// POST /v1/chat/completions takes (messages with roles, tool calls and results, tools, tool_choice,
// stop, sampling, DeepSeek's `thinking` switch). Pure: no engine, no Hono; bad input is a 400.
import { invalidRequest } from '../errors';
import type {
  AnthropicMessage,
  ContentBlock,
  CountTokensRequest,
  MessagesRequest,
} from './requests';

/** An OpenAI chat message as the chat route takes it (tool calls and tool results included). */
export interface ChatMessageOut {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | null;
  tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

export interface ChatBody {
  model: string;
  messages: ChatMessageOut[];
  [field: string]: unknown;
}

const bad = (message: string, param: string) => invalidRequest(message, param, 'invalid_request');

const textOf = (blocks: { type: string; text?: unknown }[], param: string): string =>
  blocks
    .map((b, i) => {
      if (b.type !== 'text' || typeof b.text !== 'string')
        throw bad(`${param}.${i}: only text blocks are supported here, not '${b.type}'.`, param);
      return b.text;
    })
    .join('\n');

function refuseUnsupported(block: ContentBlock, param: string): void {
  if (['image', 'document'].includes(block.type))
    throw bad(
      `${param}: '${block.type}' blocks are not supported: the models here read text only.`,
      param,
    );
  if (!['text', 'tool_use', 'tool_result', 'thinking', 'redacted_thinking'].includes(block.type))
    throw bad(`${param}: '${block.type}' blocks are not supported.`, param);
}

function userMessages(blocks: ContentBlock[], at: string, open: Set<string>): ChatMessageOut[] {
  const out: ChatMessageOut[] = [];
  let text: string[] = [];
  const flush = () => {
    if (text.length) out.push({ role: 'user', content: text.join('\n') });
    text = [];
  };
  blocks.forEach((block, i) => {
    const param = `${at}.content.${i}`;
    refuseUnsupported(block, param);
    if (block.type === 'text') text.push(block.text);
    else if (block.type === 'tool_result') {
      if (!open.delete(block.tool_use_id))
        throw bad(
          `${param}: tool_result for '${block.tool_use_id}' has no matching tool_use in the previous assistant message.`,
          `${param}.tool_use_id`,
        );
      flush();
      const body =
        typeof block.content === 'string' ? block.content : textOf(block.content ?? [], param);
      out.push({
        role: 'tool',
        tool_call_id: block.tool_use_id,
        content: block.is_error ? `Error: ${body}` : body,
      });
    } else throw bad(`${param}: a user message cannot hold '${block.type}' blocks.`, param);
  });
  flush();
  return out;
}

function assistantMessage(blocks: ContentBlock[], at: string, open: Set<string>): ChatMessageOut {
  const text: string[] = [];
  const calls: NonNullable<ChatMessageOut['tool_calls']> = [];
  blocks.forEach((block, i) => {
    const param = `${at}.content.${i}`;
    refuseUnsupported(block, param);
    if (block.type === 'text') text.push(block.text);
    else if (block.type === 'tool_use') {
      open.add(block.id);
      calls.push({
        id: block.id,
        type: 'function',
        function: { name: block.name, arguments: JSON.stringify(block.input) },
      });
    } else if (block.type === 'tool_result')
      throw bad(`${param}: tool_result blocks belong in a user message.`, param);
    // Earlier turns' thinking is dropped, as DeepSeek drops reasoning_content from history.
  });
  return {
    role: 'assistant',
    content: text.length ? text.join('') : calls.length ? null : '',
    ...(calls.length ? { tool_calls: calls } : {}),
  };
}

/** The conversation as chat messages: system first, tool results as `tool` messages after their call. */
export function toChatMessages(req: CountTokensRequest): ChatMessageOut[] {
  const out: ChatMessageOut[] = [];
  if (req.system !== undefined) {
    const system = typeof req.system === 'string' ? req.system : textOf(req.system, 'system');
    if (system) out.push({ role: 'system', content: system });
  }
  let open = new Set<string>(); // tool_use ids of the last assistant turn not yet answered
  req.messages.forEach((m: AnthropicMessage, i) => {
    const at = `messages.${i}`;
    const blocks = m.content;
    if (m.role === 'assistant') {
      open = new Set();
      out.push(assistantMessage(blocks, at, open));
    } else out.push(...userMessages(blocks, at, open));
  });
  return out;
}

/** Tools and tool_choice in OpenAI's shape; Anthropic's server tools are refused by name. */
export function toChatTools(req: CountTokensRequest): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (req.tools?.length) {
    out.tools = req.tools.map((t, i) => {
      if (t.type !== undefined && t.type !== 'custom')
        throw bad(`tools.${i}: server tool '${t.type}' is not supported.`, `tools.${i}.type`);
      return {
        type: 'function',
        function: {
          name: t.name,
          ...(t.description !== undefined ? { description: t.description } : {}),
          parameters: t.input_schema,
        },
      };
    });
  }
  const choice = req.tool_choice;
  if (choice) {
    out.tool_choice =
      choice.type === 'auto'
        ? 'auto'
        : choice.type === 'any'
          ? 'required'
          : choice.type === 'none'
            ? 'none'
            : { type: 'function', function: { name: choice.name } };
    if ('disable_parallel_tool_use' in choice && choice.disable_parallel_tool_use)
      out.parallel_tool_calls = false;
  }
  return out;
}

/** DeepSeek's thinking switch: `adaptive` leaves it to the model's default. */
export const toChatThinking = ({ thinking: t }: CountTokensRequest) =>
  t && t.type !== 'adaptive' ? { thinking: { type: t.type } } : {};

/** The chat body for `model` (already mapped from the client's name, models.ts). */
export function toChatRequest(req: MessagesRequest, model: string): ChatBody {
  const defined = (o: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null));
  return {
    model,
    messages: toChatMessages(req),
    ...toChatTools(req),
    ...toChatThinking(req),
    ...defined({
      max_tokens: req.max_tokens,
      stop: req.stop_sequences?.length ? req.stop_sequences : undefined,
      temperature: req.temperature,
      top_p: req.top_p,
      top_k: req.top_k,
      user: req.metadata?.user_id,
    }),
    ...(req.stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  };
}
