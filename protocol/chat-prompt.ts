// One chat prompt for the Worker's edge models and the origin: the messages with any tools and tool
// turns (protocol/tool-prompt.ts), DeepSeek's prefix completion and thinking switch
// (renderChatPrompt, engine/tokenizers/chat-template.ts), through the model's chat template or the
// plain one. A template that rejects the messages (raise_exception) is the client's error: a 400.
import { renderPlainTemplate } from '../engine/chat-template';
import {
  ChatTemplateError,
  renderChatPrompt,
  type ChatPromptOptions,
  type ChatTemplate,
} from '../engine/tokenizers/chat-template';
import { invalidRequest } from './errors';
import type { ChatMessage } from './requests';
import { GENERIC_TOOL_SYNTAX, QWEN_TOOL_SYNTAX, type ToolSyntax } from './tool-calls';
import type { ToolDefinitionT } from './tool-requests';
import { templateInput, withGenericToolPrompt, withToolPreamble } from './tool-prompt';

/** How a model with this template writes tool calls: its syntax where known, else the generic one. */
export const toolSyntaxOfTemplate = (template: ChatTemplate | null | undefined): ToolSyntax =>
  template?.hermesToolCalls ? QWEN_TOOL_SYNTAX : GENERIC_TOOL_SYNTAX;

/** The prompt text and whether the answer opens with a think block; throws 400s. */
export function renderToolChat(
  template: ChatTemplate | null,
  messages: ChatMessage[],
  tools: ToolDefinitionT[],
  opts: ChatPromptOptions,
): { prompt: string; reasoning: boolean } {
  try {
    return renderChatPrompt(template, messages, opts, (m, vars) =>
      renderChat(template, m, tools, vars),
    );
  } catch (err) {
    if (err instanceof ChatTemplateError)
      throw invalidRequest(
        `The model's chat template rejected the messages: ${err.message}`,
        'messages',
      );
    throw err;
  }
}

/** Messages and offered tools through a template (or the plain one), tools as it takes them. */
export function renderChat(
  template: ChatTemplate | null | undefined,
  messages: ChatMessage[],
  tools: ToolDefinitionT[],
  vars: Record<string, unknown> = {},
): string {
  const toolTurns = messages.some((m) => m.role === 'tool' || m.tool_calls?.length);
  if (!template) return renderPlainTemplate(withGenericToolPrompt(messages, tools));
  if (!tools.length && !toolTurns) return template.render(messages, true, vars);
  if (template.supportsTools) {
    const input = templateInput(messages, tools);
    return template.render(input.messages, true, {
      ...vars,
      ...(input.tools ? { tools: input.tools } : {}),
    });
  }
  // it renders tool turns but takes no tool list (DeepSeek-V3's): the list goes in the preamble
  if (template.rendersToolCalls)
    return template.render(
      templateInput(withToolPreamble(messages, tools), [], false).messages,
      true,
      vars,
    );
  return template.render(withGenericToolPrompt(messages, tools), true, vars);
}
