// A chat request's prompt and decoding constraint on an edge model: the messages (with any tools
// and tool turns, protocol/tool-prompt.ts) rendered by the model's chat template or the plain one,
// and the grammar of its response_format / tools (protocol/structured-output.ts).
import type { EdgeModel } from '../dispatch/edge-registry';
import { renderPlainTemplate } from '../engine/chat-template';
import { ChatTemplateError } from '../engine/index';
import { vocabOf } from '../engine/sampling/constraint';
import { invalidRequest } from '../protocol/errors';
import type { ChatCompletionRequest, ChatMessage } from '../protocol/requests';
import type { ToolDefinitionT } from '../protocol/tool-requests';
import { constraintOf, offeredTools, structureOf } from '../protocol/structured-output';
import { GENERIC_TOOL_SYNTAX, QWEN_TOOL_SYNTAX, type ToolSyntax } from '../protocol/tool-calls';
import { templateInput, withGenericToolPrompt, withToolPreamble } from '../protocol/tool-prompt';
import type { GenerationPlan } from './generation';

type Template = NonNullable<EdgeModel['chatTemplate']>;

/** How this model writes tool calls: its template's syntax where known, else the generic one. */
export const toolSyntaxOf = (model: EdgeModel): ToolSyntax =>
  model.chatTemplate?.hermesToolCalls ? QWEN_TOOL_SYNTAX : GENERIC_TOOL_SYNTAX;

/** The prompt text; throws 400s for bad tool input and for messages the template rejects. */
export function chatPrompt(model: EdgeModel, req: ChatCompletionRequest): string {
  return renderChat(model.chatTemplate, req.messages, offeredTools(req));
}

/** Messages and offered tools through a template (or the plain one), tools as it takes them. */
export function renderChat(
  template: Template | null | undefined,
  messages: ChatMessage[],
  tools: ToolDefinitionT[],
): string {
  const toolTurns = messages.some((m) => m.role === 'tool' || m.tool_calls?.length);
  if (!template) return renderPlainTemplate(withGenericToolPrompt(messages, tools));
  if (!tools.length && !toolTurns) return render(template, messages);
  if (template.supportsTools) {
    const input = templateInput(messages, tools);
    return render(template, input.messages, input.tools ? { tools: input.tools } : {});
  }
  // it renders tool turns but takes no tool list (DeepSeek-V3's): the list goes in the preamble
  if (template.rendersToolCalls)
    return render(template, templateInput(withToolPreamble(messages, tools), [], false).messages);
  return render(template, withGenericToolPrompt(messages, tools));
}

/** Puts the request's constraint (if any) on the plan: a fresh matcher per choice. */
export function constrain(
  plan: GenerationPlan,
  model: EdgeModel,
  req: ChatCompletionRequest,
): void {
  const structure = structureOf(req, toolSyntaxOf(model));
  if (!structure) return;
  const vocab = vocabOf(model.engine.tokenizer);
  plan.constraint = () => constraintOf(structure, vocab);
  plan.toolSyntax = structure.tools;
}

/** The model's template over the messages; a template that rejects them (raise_exception) is the client's error. */
function render(
  template: Template,
  messages: Parameters<Template['render']>[0],
  extra: Record<string, unknown> = {},
): string {
  try {
    return template.render(messages, true, extra);
  } catch (err) {
    if (err instanceof ChatTemplateError)
      throw invalidRequest(
        `The model's chat template rejected the messages: ${err.message}`,
        'messages',
      );
    throw err;
  }
}
