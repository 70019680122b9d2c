// Anthropic Messages API answers as zod schemas: the message, its usage, the stream events and the
// error body. The types the route builds are inferred from them; tests parse real answers with them.
import { z } from 'zod';
import { costSchema } from '../usage';

/** input + cache read + cache creation = the prompt's tokens (Anthropic's accounting). */
export const anthropicUsage = z.object({
  input_tokens: z.number().int().min(0),
  output_tokens: z.number().int().min(0),
  cache_read_input_tokens: z.number().int().min(0),
  /** Prompt tokens this request stored in the prompt cache (whole 64-token blocks it computed). */
  cache_creation_input_tokens: z.number().int().min(0),
  /** Ours: what the request cost (absent where billing is off). */
  cost: costSchema.optional(),
});
export type AnthropicUsage = z.infer<typeof anthropicUsage>;

export const textOut = z.object({ type: z.literal('text'), text: z.string() });
export const toolUseOut = z.object({
  type: z.literal('tool_use'),
  id: z.string().startsWith('toolu_'),
  name: z.string(),
  input: z.record(z.string(), z.unknown()),
});
export const thinkingOut = z.object({
  type: z.literal('thinking'),
  thinking: z.string(),
  signature: z.string(),
});
export const contentOut = z.discriminatedUnion('type', [textOut, toolUseOut, thinkingOut]);
export type ContentOut = z.infer<typeof contentOut>;

export const stopReason = z.enum(['end_turn', 'max_tokens', 'stop_sequence', 'tool_use']);
export type StopReason = z.infer<typeof stopReason>;

export const anthropicMessageOut = z.object({
  id: z.string().startsWith('msg_'),
  type: z.literal('message'),
  role: z.literal('assistant'),
  model: z.string(),
  content: z.array(contentOut),
  stop_reason: stopReason.nullable(),
  stop_sequence: z.string().nullable(),
  usage: anthropicUsage,
});
export type AnthropicMessageOut = z.infer<typeof anthropicMessageOut>;

const blockDelta = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text_delta'), text: z.string() }),
  z.object({ type: z.literal('input_json_delta'), partial_json: z.string() }),
  z.object({ type: z.literal('thinking_delta'), thinking: z.string() }),
  z.object({ type: z.literal('signature_delta'), signature: z.string() }),
]);

export const anthropicErrorType = z.enum([
  'invalid_request_error',
  'authentication_error',
  'billing_error',
  'permission_error',
  'not_found_error',
  'request_too_large',
  'rate_limit_error',
  'api_error',
  'overloaded_error',
]);
export type AnthropicErrorType = z.infer<typeof anthropicErrorType>;

export const anthropicError = z.object({
  type: z.literal('error'),
  error: z.object({ type: anthropicErrorType, message: z.string() }),
  request_id: z.string().optional(),
});
export type AnthropicError = z.infer<typeof anthropicError>;

export const streamEvent = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('message_start'),
    message: anthropicMessageOut.extend({ content: z.array(contentOut).length(0) }),
  }),
  z.object({
    type: z.literal('content_block_start'),
    index: z.number().int(),
    content_block: contentOut,
  }),
  z.object({ type: z.literal('content_block_delta'), index: z.number().int(), delta: blockDelta }),
  z.object({ type: z.literal('content_block_stop'), index: z.number().int() }),
  z.object({
    type: z.literal('message_delta'),
    delta: z.object({ stop_reason: stopReason.nullable(), stop_sequence: z.string().nullable() }),
    usage: anthropicUsage.partial().extend({ output_tokens: z.number().int().min(0) }),
  }),
  z.object({ type: z.literal('message_stop') }),
  z.object({ type: z.literal('ping') }),
  anthropicError,
]);
export type StreamEvent = z.infer<typeof streamEvent>;
