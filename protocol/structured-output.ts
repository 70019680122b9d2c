// From a chat request's response_format / tools / tool_choice to what constrains its decoding: a
// grammar (engine/grammar), lazy under `tool_choice: "auto"` (free text until the call prefix), and
// the call syntax its output is parsed with. Bad input is a 400 naming the field, never a 500.
// Used by the edge routes and the origin server alike.
import {
  compileGrammar,
  compileSchema,
  GrammarError,
  toolCallSpec,
  TokenMatcher,
  type Grammar,
  type GrammarSpec,
} from '../engine/grammar/index';
import { LazyMatcher, type Constraint } from '../engine/sampling/constraint';
import type { Vocab } from '../engine/grammar/index';
import { invalidRequest } from './errors';
import type { ChatCompletionRequest } from './requests';
import type { ToolSyntax } from './tool-calls';

export interface Structure {
  grammar: Grammar;
  /** Lazy: the grammar applies from this text on (a call's prefix); absent: the whole output. */
  trigger?: string;
  /** The output may hold tool calls in this syntax. */
  tools?: ToolSyntax;
}

/** Most calls one answer may hold under `parallel_tool_calls`. */
export const MAX_PARALLEL_CALLS = 8;

type Req = Pick<
  ChatCompletionRequest,
  'response_format' | 'tools' | 'tool_choice' | 'parallel_tool_calls' | 'messages'
>;

/** The request's tools that are offered (none under `tool_choice: "none"`); throws 400s. */
export function offeredTools(req: Req) {
  const tools = req.tools ?? [];
  const choice = req.tool_choice;
  if (choice != null && choice !== 'none' && !tools.length)
    throw invalidRequest(
      "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
      'tool_choice',
    );
  const names = new Set<string>();
  tools.forEach((t, i) => {
    if (names.has(t.function.name))
      throw invalidRequest(`Duplicate tool name '${t.function.name}'.`, `tools.${i}.function.name`);
    names.add(t.function.name);
  });
  if (typeof choice === 'object' && choice && !names.has(choice.function.name))
    throw invalidRequest(
      `Invalid value for 'tool_choice': no function named '${choice.function.name}' was specified in the 'tools' parameter.`,
      'tool_choice.function.name',
    );
  checkToolMessages(req.messages);
  return choice === 'none' ? [] : tools;
}

/** Every `tool` message answers a call id an earlier assistant message made. */
function checkToolMessages(messages: Req['messages']): void {
  const ids = new Set<string>();
  messages.forEach((m, i) => {
    for (const c of m.tool_calls ?? []) ids.add(c.id);
    if (m.role !== 'tool') return;
    if (!m.tool_call_id)
      throw invalidRequest(
        `Invalid parameter: messages with role 'tool' must have a 'tool_call_id'.`,
        `messages.${i}.tool_call_id`,
      );
    if (!ids.has(m.tool_call_id))
      throw invalidRequest(
        `Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls' (no call '${m.tool_call_id}').`,
        `messages.${i}.tool_call_id`,
      );
  });
}

/** The request's constraint, or null for free text. `syntax`: how this model writes calls. */
export function structureOf(req: Req, syntax: ToolSyntax): Structure | null {
  const tools = offeredTools(req);
  if (tools.length) return toolStructure(req, tools, syntax);
  const format = req.response_format;
  if (!format || format.type === 'text') return null;
  if (format.type === 'json_object') {
    const said = req.messages.some(
      (m) => m.role !== 'assistant' && /json/i.test(textOf(m.content)),
    );
    if (!said)
      throw invalidRequest(
        "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
        'messages',
      );
    return { grammar: compileGrammar({ type: 'json_object' }) };
  }
  const js = format.json_schema!;
  return {
    grammar: compiled(
      () => compileSchema(js.schema ?? {}),
      'response_format.json_schema.schema',
      `response_format '${js.name}'`,
    ),
  };
}

function toolStructure(req: Req, tools: NonNullable<Req['tools']>, syntax: ToolSyntax): Structure {
  const choice = req.tool_choice ?? 'auto';
  const named = typeof choice === 'object' ? choice.function.name : null;
  const specs = tools
    .filter((t) => named === null || t.function.name === named)
    .map((t) => ({ name: t.function.name, parameters: t.function.parameters ?? undefined }));
  // Each schema alone first, so an error names its tool.
  tools.forEach((t, i) =>
    compiled(
      () => compileSchema(t.function.parameters ?? { type: 'object' }),
      `tools.${i}.function.parameters`,
      `function '${t.function.name}'`,
    ),
  );
  const call = toolCallSpec(specs, { prefix: syntax.prefix, suffix: syntax.suffix });
  const parallel = named === null && req.parallel_tool_calls !== false;
  const spec = parallel ? repeated(call, syntax.separator, MAX_PARALLEL_CALLS) : call;
  const grammar = compiled(() => compileGrammar(spec), 'tools', 'tools');
  return choice === 'auto'
    ? { grammar, trigger: syntax.prefix, tools: syntax }
    : { grammar, tools: syntax };
}

/** One to `max` of `item`, `sep` between. */
function repeated(item: GrammarSpec, sep: string, max: number): GrammarSpec {
  let rest: GrammarSpec = item;
  for (let i = 1; i < max; i++)
    rest = {
      type: 'sequence',
      items: [
        item,
        {
          type: 'choice',
          items: [
            { type: 'literal', text: '' },
            { type: 'sequence', items: [{ type: 'literal', text: sep }, rest] },
          ],
        },
      ],
    };
  return rest;
}

function compiled(build: () => Grammar, param: string, what: string): Grammar {
  try {
    return build();
  } catch (err) {
    if (err instanceof GrammarError)
      throw invalidRequest(`Invalid schema for ${what}: ${err.message}.`, param);
    throw err;
  }
}

/** A fresh constraint for one generation (each choice of `n` gets its own). */
export function constraintOf(s: Structure, vocab: Vocab): Constraint {
  return s.trigger === undefined
    ? new TokenMatcher(s.grammar, vocab)
    : new LazyMatcher(s.grammar, vocab, s.trigger);
}

function textOf(content: Req['messages'][0]['content']): string {
  if (content == null) return '';
  return typeof content === 'string' ? content : content.map((p) => p.text).join('');
}
