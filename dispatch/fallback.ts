// When an origin model cannot answer — every origin down, open-circuited or full, or every attempt
// failed before its first token — the model's fallbacks are tried in their listed order, as
// OpenRouter does: the answer then names the model that gave it and is billed at that model's price.
import { ApiError } from '../protocol/errors';
import type { Choice } from './policy';
import type { ModelRegistry, OriginPool } from './registry';

/** The first model of `chain` (fallback ids, in order) not tried yet, or null when the list is spent. */
export function nextFallback(chain: readonly string[], tried: ReadonlySet<string>): string | null {
  return chain.find((id) => !tried.has(id)) ?? null;
}

/** What a fallback id names: another origin pool, or an edge model (in the registry or only in R2). */
export function fallbackTarget(
  registry: ModelRegistry,
  id: string,
): { kind: 'origin'; pool: OriginPool } | { kind: 'edge'; id: string } {
  const entry = registry.get(id);
  return entry?.placement === 'origin' ? { kind: 'origin', pool: entry } : { kind: 'edge', id };
}

/** The error for a model none of whose origins may take the request (and with no fallback left). */
export function unavailable(pool: OriginPool, choice: Extract<Choice, { ok: false }>): ApiError {
  if (choice.reason === 'saturated') {
    const retryAfter = Math.max(1, Math.ceil((choice.retryAfterMs ?? 1000) / 1000));
    return new ApiError(
      503,
      `Model '${pool.id}' is overloaded; retry after ${retryAfter} s.`,
      'service_unavailable',
      'model_overloaded',
      null,
      retryAfter,
    );
  }
  return new ApiError(
    503,
    `Model '${pool.id}' is unavailable: none of its origins is healthy.`,
    'service_unavailable',
    'model_unavailable',
    null,
    5,
  );
}
