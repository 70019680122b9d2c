// A chat request's prompt and decoding constraint on an edge model: the one chat prompt
// (protocol/chat-prompt.ts: tools, prefix completion, thinking) with the model's chat template, and
// the grammar of its response_format / tools (protocol/structured-output.ts).
import type { EdgeModel } from '../dispatch/edge-registry';
import { vocabOf } from '../engine/sampling/constraint';
import { ThinkGate } from '../engine/sampling/think-gate';
import { renderToolChat, toolSyntaxOfTemplate } from '../protocol/chat-prompt';
import type { ChatCompletionRequest } from '../protocol/requests';
import { constraintOf, offeredTools, structureOf } from '../protocol/structured-output';
import type { ToolSyntax } from '../protocol/tool-calls';
import type { GenerationPlan } from './generation';

/** How this model writes tool calls: its template's syntax where known, else the generic one. */
export const toolSyntaxOf = (model: EdgeModel): ToolSyntax =>
  toolSyntaxOfTemplate(model.chatTemplate);

/**
 * The prompt text and whether it answers with a think block; throws 400s for bad tool input and
 * for messages the template rejects. The Anthropic route's count_tokens renders the same prompt.
 */
export function chatPrompt(
  model: EdgeModel,
  req: ChatCompletionRequest,
  reasoning: boolean,
): { prompt: string; reasoning: boolean } {
  return renderToolChat(model.chatTemplate ?? null, req.messages, offeredTools(req), {
    thinking: req.thinking?.type,
    reasoning,
  });
}

/**
 * Puts the request's constraint (if any) on the plan: a fresh matcher per choice. Call it after
 * `plan.think` is set: a reasoning answer is constrained only after its think block.
 */
export function constrain(
  plan: GenerationPlan,
  model: EdgeModel,
  req: ChatCompletionRequest,
): void {
  const structure = structureOf(req, toolSyntaxOf(model));
  if (!structure) return;
  const vocab = vocabOf(model.engine.tokenizer);
  const grammar = () => constraintOf(structure, vocab);
  // a reasoning answer's think block is free; the grammar holds from `</think>` on
  plan.constraint = plan.think ? () => new ThinkGate(grammar(), vocab) : grammar;
  plan.toolSyntax = structure.tools;
}
