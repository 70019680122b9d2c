// An origin's streamed generation put back together as the JSON answer it stands for, losing
// nothing a client can see: every choice (by `index`, OpenAI's `n`), its text or message (content,
// `reasoning_content`, `tool_calls` merged from their deltas as vLLM and SGLang stream them), its
// logprobs (chat `content` entries or the legacy arrays), `finish_reason` as the origin gave it,
// and usage in both shapes with its details. Frames come parsed; the relay parses them only here.
import { makeUsage, type Usage } from '../protocol/usage';

interface ToolCallDelta {
  index?: number;
  id?: string | null;
  type?: string | null;
  function?: { name?: string | null; arguments?: string | null } | null;
}

/** One choice of an upstream chunk, as OpenAI-compatible servers send it. */
export interface ChunkChoice {
  index?: number;
  text?: string | null;
  delta?: {
    role?: string | null;
    content?: string | null;
    reasoning_content?: string | null;
    tool_calls?: ToolCallDelta[] | null;
  } | null;
  logprobs?: {
    content?: unknown[] | null;
    tokens?: unknown[];
    token_logprobs?: unknown[];
    top_logprobs?: unknown[];
    text_offset?: number[];
  } | null;
  finish_reason?: string | null;
}

interface ChoiceState {
  text: string;
  reasoning: string;
  tools: { id: string; type: string; function: { name: string; arguments: string } }[];
  chatLogprobs: unknown[] | null;
  legacyLogprobs: Required<Omit<NonNullable<ChunkChoice['logprobs']>, 'content'>> | null;
  finishReason: string | null;
}

/** Usage from any OpenAI-compatible origin in our shape: vLLM and SGLang report cache hits only as `prompt_tokens_details.cached_tokens`. */
export function normalizeUsage(raw: Record<string, unknown>): Usage {
  const n = (v: unknown) =>
    typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : 0;
  const prompt = n(raw.prompt_tokens);
  const details = raw.prompt_tokens_details as { cached_tokens?: unknown } | null | undefined;
  const cached = Math.min(prompt, n(raw.prompt_cache_hit_tokens ?? details?.cached_tokens));
  const usage = makeUsage(prompt, n(raw.completion_tokens), cached);
  const completion = raw.completion_tokens_details;
  if (completion && typeof completion === 'object') {
    // Every count the origin gives (reasoning_tokens, accepted/rejected prediction tokens), as numbers.
    const counts = Object.entries(completion).filter(([, v]) => typeof v === 'number');
    if (counts.length)
      usage.completion_tokens_details = Object.fromEntries(
        counts.map(([k, v]) => [k, n(v)]),
      ) as Usage['completion_tokens_details'];
  }
  return usage;
}

export class Assembler {
  private readonly choices = new Map<number, ChoiceState>();

  /** Folds one upstream chunk's choices in. */
  add(choices: ChunkChoice[]): void {
    for (const c of choices) {
      const i = typeof c.index === 'number' ? c.index : 0;
      let s = this.choices.get(i);
      if (!s) {
        s = {
          text: '',
          reasoning: '',
          tools: [],
          chatLogprobs: null,
          legacyLogprobs: null,
          finishReason: null,
        };
        this.choices.set(i, s);
      }
      s.text += c.text ?? c.delta?.content ?? '';
      s.reasoning += c.delta?.reasoning_content ?? '';
      for (const t of c.delta?.tool_calls ?? []) mergeTool(s, t);
      if (c.logprobs) mergeLogprobs(s, c.logprobs);
      if (c.finish_reason) s.finishReason = c.finish_reason;
    }
  }

  /** Choices seen, by index. */
  get count(): number {
    return this.choices.size;
  }

  /** The `choices` of the JSON answer, in index order. */
  bodyChoices(object: 'chat.completion' | 'text_completion'): object[] {
    return [...this.choices.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, s]) =>
        object === 'text_completion'
          ? { index, text: s.text, logprobs: s.legacyLogprobs, finish_reason: s.finishReason }
          : {
              index,
              message: {
                role: 'assistant',
                // With tool calls and no text, content is null (OpenAI's shape, and vLLM's answer).
                content: s.text || (s.tools.length ? null : ''),
                ...(s.reasoning ? { reasoning_content: s.reasoning } : {}),
                ...(s.tools.length ? { tool_calls: s.tools } : {}),
              },
              logprobs: s.chatLogprobs ? { content: s.chatLogprobs, refusal: null } : null,
              finish_reason: s.finishReason,
            },
      );
  }

  /** Text, reasoning and finish reason of each choice (what a replay or the bill needs). */
  summaries(): { text: string; reasoning: string; finishReason: string }[] {
    return [...this.choices.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, s]) => ({
        text: s.text,
        reasoning: s.reasoning,
        finishReason: s.finishReason ?? 'stop',
      }));
  }
}

/** A tool call's first delta names it (id, type, name); later ones of the same `index` add arguments. */
function mergeTool(s: ChoiceState, t: ToolCallDelta): void {
  const i = typeof t.index === 'number' ? t.index : s.tools.length;
  const call = (s.tools[i] ??= { id: '', type: 'function', function: { name: '', arguments: '' } });
  if (t.id) call.id = t.id;
  if (t.type) call.type = t.type;
  if (t.function?.name) call.function.name += t.function.name;
  if (t.function?.arguments) call.function.arguments += t.function.arguments;
}

function mergeLogprobs(s: ChoiceState, lp: NonNullable<ChunkChoice['logprobs']>): void {
  if (Array.isArray(lp.content)) (s.chatLogprobs ??= []).push(...lp.content);
  if (Array.isArray(lp.tokens)) {
    const l = (s.legacyLogprobs ??= {
      tokens: [],
      token_logprobs: [],
      top_logprobs: [],
      text_offset: [],
    });
    l.tokens.push(...lp.tokens);
    l.token_logprobs.push(...(lp.token_logprobs ?? []));
    l.top_logprobs.push(...(lp.top_logprobs ?? []));
    l.text_offset.push(...(lp.text_offset ?? []));
  }
}
