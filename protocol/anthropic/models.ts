// Which of our models answers an Anthropic model name, as DeepSeek maps them: `claude-opus*` goes to
// the large model, every other `claude*` to the fast one, our own names to themselves; an unknown
// name that is not a claude name is a 400 (api-docs.deepseek.com, "Anthropic API").
import { invalidRequest } from '../errors';

/** Candidates in order: DeepSeek's names for the large and the fast model, then its chat alias. */
export const CLAUDE_TARGETS = {
  opus: ['deepseek-v4-pro', 'deepseek-reasoner', 'deepseek-chat'],
  other: ['deepseek-v4-flash', 'deepseek-flash', 'deepseek-chat'],
} as const;

/**
 * The model to serve `name`: itself when known; for a claude name the first known candidate, else
 * `fallback` (the Worker's DEFAULT_MODEL). `known` says whether a model id exists here.
 */
export async function mapModel(
  name: string,
  known: (id: string) => Promise<boolean>,
  fallback?: string,
): Promise<string> {
  if (await known(name)) return name;
  if (!/^claude/i.test(name))
    throw invalidRequest(
      `The model '${name}' does not exist; use a model from GET /v1/models or a claude-* name.`,
      'model',
      'model_not_found',
    );
  const candidates = /^claude-opus/i.test(name) ? CLAUDE_TARGETS.opus : CLAUDE_TARGETS.other;
  for (const id of candidates) if (await known(id)) return id;
  if (fallback && (await known(fallback))) return fallback;
  throw invalidRequest(
    `The model '${name}' maps to ${candidates.join(', ')} or DEFAULT_MODEL, and none of them is served here.`,
    'model',
    'model_not_found',
  );
}
