// Tool calls in generated text: the call syntax a model writes (per chat-template family), the
// parse of a finished text into `message.tool_calls`, and the incremental split of a stream into
// content deltas and OpenAI's tool-call deltas. The grammar (protocol/structured-output.ts) makes
// every call `prefix{"name": "<tool>", "arguments": <JSON>}suffix`, so the parse cannot fail on a
// complete call.
import { ToolCallStream } from './tool-call-stream';
import type { ToolCall } from './tool-requests';

export {
  toolCallId,
  ToolCallStream,
  type StreamEvent,
  type ToolCallDelta,
} from './tool-call-stream';

export interface ToolSyntax {
  /** Family name, for docs and logs. */
  family: 'generic' | 'qwen';
  /** Opens a call; also the lazy grammar's trigger under `tool_choice: "auto"`. */
  prefix: string;
  suffix: string;
  /** Between two parallel calls. */
  separator: string;
}

/** The generic syntax (models whose template does not know tools) and Qwen/Hermes templates'. */
export const GENERIC_TOOL_SYNTAX: ToolSyntax = {
  family: 'generic',
  prefix: '<tool_call>',
  suffix: '</tool_call>',
  separator: '\n',
};
export const QWEN_TOOL_SYNTAX: ToolSyntax = {
  family: 'qwen',
  prefix: '<tool_call>\n',
  suffix: '\n</tool_call>',
  separator: '\n',
};

/**
 * A finished text's content (null when it is only calls) and its calls: the complete ones, and
 * when max_tokens cut the text (`cut`) the unfinished last one too, as OpenAI returns it (with
 * `finish_reason: "length"`, its arguments as far as they got).
 */
export function parseToolCalls(
  text: string,
  syntax: ToolSyntax,
  cut = false,
): { content: string | null; calls: ToolCall[] } {
  const s = new ToolCallStream(syntax);
  s.push(text);
  s.flush();
  const calls = keptCalls(s.calls, cut);
  return { content: calls.length && !s.content.trim() ? null : s.content, calls };
}

/** The calls a choice returns: every one when cut by max_tokens, else those whose arguments are whole. */
export const keptCalls = (calls: ToolCall[], cut: boolean): ToolCall[] =>
  cut ? calls : calls.filter((c) => isJson(c.function.arguments));

/** The text is one JSON value (a call's arguments complete). */
function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
