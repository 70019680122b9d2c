// Request fields of structured output and tool calling (OpenAI/DeepSeek wire names), as zod schemas
// that protocol/requests.ts spreads into the chat request: response_format, tools, tool_choice,
// parallel_tool_calls, and the message fields of a multi-turn tool conversation.
import { z } from 'zod';

const name = z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'names are 1..64 of a-z, A-Z, 0-9, _ and -');

export const responseFormat = z
  .object({
    type: z.enum(['text', 'json_object', 'json_schema']),
    json_schema: z
      .object({
        name,
        description: z.string().nullish(),
        schema: z.record(z.string(), z.unknown()).nullish(),
        strict: z.boolean().nullish(),
      })
      .nullish(),
  })
  .refine((f) => f.type !== 'json_schema' || f.json_schema, {
    message: 'json_schema is required when type is json_schema',
    path: ['json_schema'],
  })
  .nullish()
  .meta({
    id: 'ResponseFormat',
    description:
      '`json_object`: the output is a JSON object (a system or user message must say "json"); `json_schema`: it is valid against `json_schema.schema`. Both are guaranteed by constrained decoding, `strict` true or false.',
  });

export const toolDefinition = z
  .object({
    type: z.literal('function'),
    function: z.object({
      name,
      description: z.string().nullish(),
      parameters: z.record(z.string(), z.unknown()).nullish(),
      strict: z.boolean().nullish(),
    }),
  })
  .meta({ id: 'ChatCompletionTool' });

export const toolChoice = z
  .union([
    z.enum(['none', 'auto', 'required']),
    z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }),
  ])
  .nullish()
  .meta({
    description:
      '`none`: no calls; `auto` (default with tools): text or calls; `required`: at least one call; or one named function.',
  });

export const toolFields = {
  response_format: responseFormat,
  tools: z.array(toolDefinition).max(128).nullish().meta({
    description: 'Functions the model may call; calls are guaranteed valid against `parameters`.',
  }),
  tool_choice: toolChoice,
  parallel_tool_calls: z.boolean().nullish().meta({
    description: 'Allow several calls in one answer. Default true.',
  }),
};

export const toolCall = z
  .object({
    id: z.string().min(1),
    type: z.literal('function'),
    function: z.object({ name: z.string(), arguments: z.string() }),
  })
  .meta({ id: 'ChatCompletionMessageToolCall' });
export type ToolCall = z.infer<typeof toolCall>;

/** The message fields of a tool conversation: an assistant's calls, a tool's result. */
export const toolMessageFields = {
  tool_calls: z.array(toolCall).nullish(),
  tool_call_id: z.string().nullish(),
};
export type ToolDefinitionT = z.infer<typeof toolDefinition>;
