// One generation, answered as a JSON body or an SSE stream. Chat and text completions differ only
// in their frame shapes (`Frames`); the engine run, stop handling and usage live here once.
import type { GenerateOptions, LlamaModel } from '../engine/index';
import type { FinishReason } from '../protocol/responses';
import { makeUsage, type Usage } from '../protocol/usage';
import { toApiError } from './errors';

export interface GenerationPlan {
  engine: LlamaModel;
  promptIds: number[];
  options: Omit<GenerateOptions, 'signal'>;
  includeUsage: boolean;
  requestId: string;
}

export interface GenerationResult {
  text: string;
  finishReason: FinishReason;
  usage: Usage;
}

/** How one endpoint shapes its stream frames. */
export interface Frames {
  /** Frames sent before the first token (chat sends the assistant role). */
  opening(): object[];
  delta(text: string): object;
  finish(reason: FinishReason): object;
  usage(usage: Usage): object;
}

const finishOf = (reason: 'stop' | 'length' | 'abort'): FinishReason => (reason === 'length' ? 'length' : 'stop');

/** Runs to the end (or abort) and returns the whole text. */
export async function runToEnd(plan: GenerationPlan, signal?: AbortSignal): Promise<GenerationResult> {
  const iterator = plan.engine.generate(plan.promptIds, { ...plan.options, signal });
  let text = '';
  for (;;) {
    const step = await iterator.next();
    if (step.done) {
      const r = step.value;
      return { text, finishReason: finishOf(r.finishReason), usage: makeUsage(r.promptTokens, r.completionTokens) };
    }
    text += step.value.text;
  }
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
};

/**
 * Streams the generation as SSE. A client that goes away cancels the body, which aborts decoding.
 * An error after the first byte becomes an `error` frame, and the stream closes either way.
 */
export function streamResponse(plan: GenerationPlan, frames: Frames, headers: Record<string, string>): Response {
  const abort = new AbortController();
  const source = sseFrames(plan, frames, abort.signal);
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await source.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    async cancel() {
      abort.abort();
      await source.return(undefined);
    },
  });
  return new Response(body, { headers: { ...SSE_HEADERS, ...headers } });
}

const frame = (data: object | string) => `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;

async function* sseFrames(plan: GenerationPlan, frames: Frames, signal: AbortSignal): AsyncGenerator<string> {
  const tokens = plan.engine.generate(plan.promptIds, { ...plan.options, signal });
  try {
    for (const f of frames.opening()) yield frame(f);
    for (;;) {
      const step = await tokens.next();
      if (step.done) {
        const r = step.value;
        yield frame(frames.finish(finishOf(r.finishReason)));
        if (plan.includeUsage) yield frame(frames.usage(makeUsage(r.promptTokens, r.completionTokens)));
        break;
      }
      if (step.value.text) yield frame(frames.delta(step.value.text));
    }
    yield frame('[DONE]');
  } catch (err) {
    console.error(`request ${plan.requestId} failed mid-stream:`, err);
    yield frame(toApiError(err).toJSON());
  } finally {
    await tokens.return(undefined as never);
  }
}
