// OpenAI's `n` on the origin: each choice is a sequence of its own, sampled with seed + i as the
// edge samples choice i. Choice 0 is submitted first and the others once it has produced its first
// event, so its prompt blocks are in the prefix cache by then and they restore them instead of
// computing the prompt again. The prompt is billed once (usage.ts: choice 0's prompt and hits).
import { makeUsage, type Usage } from '../../protocol/usage';
import type { Scheduler } from '../scheduler/scheduler';
import type { GenerationRequest, Sequence, SequenceEvent } from '../scheduler/sequence';

/** One choice's events, its first one already read for choice 0. */
export interface ChoiceEvents {
  seq: Sequence;
  next(): Promise<SequenceEvent>;
  /** The next event if one is queued already (several per step with MTP drafts), without waiting. */
  poll(): SequenceEvent | undefined;
}

/** Submits `n` choices; throws choice 0's error when it fails before any output (a real status code). */
export async function submitChoices(
  scheduler: Pick<Scheduler, 'submit'>,
  request: GenerationRequest,
  n: number,
  signal: AbortSignal,
): Promise<ChoiceEvents[]> {
  const first = scheduler.submit(request, signal);
  const head = await first.events.next();
  if (head.kind === 'error') throw head.error;
  let held: SequenceEvent | null = head;
  const choices: ChoiceEvents[] = [
    {
      seq: first,
      next: () => {
        const ev = held;
        held = null;
        return ev ? Promise.resolve(ev) : first.events.next();
      },
      poll: () => {
        const ev = held ?? first.events.poll();
        held = null;
        return ev;
      },
    },
  ];
  for (let i = 1; i < n; i++) {
    const seed = request.sampling.seed;
    const seq = scheduler.submit(
      {
        ...request,
        sampling: { ...request.sampling, ...(seed === undefined ? {} : { seed: seed + i }) },
        scorePrompt: undefined, // choice 0 scored the prompt: the others restore it from the cache
      },
      signal,
    );
    choices.push({ seq, next: () => seq.events.next(), poll: () => seq.events.poll() });
  }
  return choices;
}

/** Usage of all the choices: the prompt (and its cache hits) once, the completions summed. */
export function usageOfChoices(usages: Usage[]): Usage {
  return makeUsage(
    usages[0].prompt_tokens,
    usages.reduce((sum, u) => sum + u.completion_tokens, 0),
    usages[0].prompt_cache_hit_tokens,
  );
}
