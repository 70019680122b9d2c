// Anthropic Messages API requests (POST /anthropic/v1/messages and .../count_tokens), as zod
// schemas: the validation is the spec. Field names are Anthropic's wire names; what we do with each
// is in to-chat.ts (the translation onto our one chat pipeline) and docs/anthropic.md.
import { z } from 'zod';

// Prompt-caching hints are accepted and ignored: our prompt cache keys on the prompt itself.
const cacheControl = { cache_control: z.unknown().optional() };

const textBlock = z.looseObject({ type: z.literal('text'), text: z.string(), ...cacheControl });
const toolUseBlock = z.looseObject({
  type: z.literal('tool_use'),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
  ...cacheControl,
});
const toolResultBlock = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]).optional(),
  is_error: z.boolean().optional(),
  ...cacheControl,
});
const thinkingBlock = z.looseObject({
  type: z.literal('thinking'),
  thinking: z.string(),
  signature: z.string().optional(),
});
const redactedThinkingBlock = z.looseObject({
  type: z.literal('redacted_thinking'),
  data: z.string(),
});
/** Blocks we know but cannot take: the translation names them in a 400. */
const unsupportedBlock = z.looseObject({
  type: z.enum(['image', 'document', 'search_result', 'server_tool_use', 'web_search_tool_result']),
});

const BLOCK_TYPES = ['text', 'tool_use', 'tool_result', 'thinking', 'redacted_thinking'];
export const contentBlock = z.discriminatedUnion(
  'type',
  [
    textBlock,
    toolUseBlock,
    toolResultBlock,
    thinkingBlock,
    redactedThinkingBlock,
    unsupportedBlock,
  ],
  { error: () => `unknown content block type; supported: ${BLOCK_TYPES.join(', ')}` },
);
export type ContentBlock = z.infer<typeof contentBlock>;

/** A string is one text block: read as blocks, a bad block's issue names the block, not the union. */
const asBlocks = (v: unknown) => (typeof v === 'string' ? [{ type: 'text', text: v }] : v);

export const anthropicMessage = z.object({
  role: z.enum(['user', 'assistant']),
  content: z.preprocess(asBlocks, z.array(contentBlock)),
});
export type AnthropicMessage = z.infer<typeof anthropicMessage>;

const tool = z.looseObject({
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'tool names are 1-64 of [a-zA-Z0-9_-]'),
  description: z.string().optional(),
  input_schema: z.looseObject({ type: z.literal('object') }),
  /** Client tools only; Anthropic's server tools (bash_…, web_search_…) are refused by to-chat.ts. */
  type: z.string().optional(),
  ...cacheControl,
});

const parallel = { disable_parallel_tool_use: z.boolean().optional() };
const toolChoice = z.discriminatedUnion('type', [
  z.object({ type: z.literal('auto'), ...parallel }),
  z.object({ type: z.literal('any'), ...parallel }),
  z.object({ type: z.literal('tool'), name: z.string().min(1), ...parallel }),
  z.object({ type: z.literal('none') }),
]);

const thinking = z.discriminatedUnion('type', [
  z.object({ type: z.literal('enabled'), budget_tokens: z.number().int().min(1).optional() }),
  z.object({ type: z.literal('disabled') }),
  z.object({ type: z.literal('adaptive') }),
]);

const system = z.union([z.string(), z.array(textBlock)]);

/** What count_tokens takes: the prompt part of a messages request. */
const promptFields = {
  model: z.string().min(1, 'model must be a non-empty string'),
  messages: z.array(anthropicMessage).min(1, 'messages must contain at least one message'),
  system: system.optional(),
  tools: z.array(tool).optional(),
  tool_choice: toolChoice.optional(),
  thinking: thinking.optional(),
};

export const countTokensRequest = z.looseObject(promptFields);
export type CountTokensRequest = z.infer<typeof countTokensRequest>;

export const messagesRequest = z.looseObject({
  ...promptFields,
  max_tokens: z.number().int().min(1),
  stop_sequences: z.array(z.string().min(1)).max(16).optional(),
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  stream: z.boolean().optional(),
  metadata: z.looseObject({ user_id: z.string().nullish() }).optional(),
});
export type MessagesRequest = z.infer<typeof messagesRequest>;
