// How tools and a tool conversation reach the prompt. A chat template that knows tools gets them as
// HF's apply_chat_template passes them (`tools`, assistant `tool_calls` with arguments as objects,
// `tool` turns); any other model gets the one generic tool prompt: the tool list as JSON in a system
// preamble, calls written `<tool_call>{"name": …, "arguments": …}</tool_call>`, results as user turns
// `<tool_response>…</tool_response>` (templates without tools often reject a `tool` role).
import type { ChatMessage } from './requests';
import type { ToolDefinitionT } from './tool-requests';
import { GENERIC_TOOL_SYNTAX as G } from './tool-calls';

export interface TemplateInput {
  messages: (Omit<ChatMessage, 'tool_calls'> & { tool_calls?: unknown })[];
  tools?: ToolDefinitionT[];
}

const args = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

/**
 * HF's shape for a template that renders tool turns itself. `parseArguments`: calls' arguments as
 * objects (templates that `tojson` them: Qwen, Llama 3.1) or kept as the JSON string (DeepSeek-V3's
 * concatenates them into its ```json block).
 */
export function templateInput(
  messages: ChatMessage[],
  tools: ToolDefinitionT[],
  parseArguments = true,
): TemplateInput {
  return {
    messages: messages.map((m) => ({
      role: m.role,
      content: m.content,
      ...(m.tool_calls?.length
        ? {
            tool_calls: m.tool_calls.map((c) => ({
              id: c.id,
              type: 'function',
              function: {
                name: c.function.name,
                arguments: parseArguments ? args(c.function.arguments) : c.function.arguments,
              },
            })),
          }
        : {}),
      ...(m.tool_call_id ? { tool_call_id: m.tool_call_id } : {}),
    })),
    ...(tools.length ? { tools } : {}),
  };
}

export function genericToolPreamble(tools: ToolDefinitionT[]): string {
  const list = tools.map((t) => JSON.stringify(t.function)).join('\n');
  return (
    `You may call these functions (each with its JSON Schema of arguments):\n<tools>\n${list}\n</tools>\n` +
    `To call one, answer with ${G.prefix}{"name": <function name>, "arguments": <arguments object>}${G.suffix}.`
  );
}

/** Messages with the generic tool prompt written into them (plain text only, any template). */
export function withGenericToolPrompt(
  messages: ChatMessage[],
  tools: ToolDefinitionT[],
): ChatMessage[] {
  const out: ChatMessage[] = messages.map((m) => {
    if (m.role === 'tool')
      return { role: 'user', content: `<tool_response>${textOf(m)}</tool_response>` };
    if (m.role === 'assistant' && m.tool_calls?.length) {
      const calls = m.tool_calls.map(
        (c) =>
          `${G.prefix}${JSON.stringify({ name: c.function.name, arguments: args(c.function.arguments) })}${G.suffix}`,
      );
      return {
        role: 'assistant',
        content: [textOf(m), ...calls].filter(Boolean).join(G.separator),
      };
    }
    return m;
  });
  return withToolPreamble(out, tools);
}

/** The generic preamble as (or merged into) the first system message; nothing without tools. */
export function withToolPreamble(messages: ChatMessage[], tools: ToolDefinitionT[]): ChatMessage[] {
  if (!tools.length) return messages;
  const preamble = genericToolPreamble(tools);
  return messages[0]?.role === 'system'
    ? [{ role: 'system', content: `${preamble}\n\n${textOf(messages[0])}` }, ...messages.slice(1)]
    : [{ role: 'system', content: preamble }, ...messages];
}

function textOf(m: ChatMessage): string {
  if (m.content == null) return '';
  return typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join('');
}
