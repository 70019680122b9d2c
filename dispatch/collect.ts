// An origin's generation collected whole for a JSON answer: every frame parsed and folded into the
// answer it stands for (assemble.ts), a raw think block split first (think-frames.ts), the usage the
// origin reported (the frames counted when it reported none). Billing is the caller's: on a throw
// nothing was delivered. A client that went away (`signal`) ends the upstream request; what the
// origin produced until then comes back marked `abandoned`, since it was produced for this client
// and is billed as disconnected.
import { makeUsage, type Usage } from '../protocol/usage';
import { Assembler, normalizeUsage } from './assemble';
import { finishOf, parseFrame, type RelayContext, type RelayResult } from './relay-types';
import { ThinkFrames } from './think-frames';
import type { OpenedUpstream } from './upstream';

export async function collect(
  up: OpenedUpstream,
  ctx: RelayContext,
  signal?: AbortSignal,
): Promise<RelayResult & { abandoned?: true }> {
  const a = new Assembler();
  const think = new ThinkFrames(ctx.reasoning);
  let usage: Usage | null = null;
  let frames = 0;
  let finished = false;
  const take = (data: string): boolean => {
    if (data === '[DONE]') return true;
    const frame = parseFrame(data);
    if (frame.usage) usage = normalizeUsage(frame.usage as Record<string, unknown>);
    const choices = frame.choices ?? [];
    if (choices.some((c) => c.text || c.delta?.content || c.delta?.reasoning_content)) frames++;
    if (choices.some((c) => c.finish_reason)) finished = true;
    else if (choices.length > 0) ctx.latency?.mark(); // output reached the Worker
    for (const f of think.split(frame)) a.add(f.choices ?? []);
    return false;
  };
  const result = (): RelayResult => {
    const choices = a.summaries().map((c) => ({ ...c, finishReason: finishOf(c.finishReason) }));
    let billed = usage ?? makeUsage(ctx.promptEstimate, frames);
    // A partial generation bills at least what was seen, whatever the last usage said.
    if (!finished && billed.completion_tokens < frames)
      billed = makeUsage(billed.prompt_tokens, frames, billed.prompt_cache_hit_tokens);
    return {
      ...(choices[0] ?? { text: '', reasoning: '', finishReason: 'stop' }),
      usage: think.count(billed),
      ...(choices.length > 1 ? { choices } : {}),
      body: a.bodyChoices(ctx.object === 'text_completion' ? 'text_completion' : 'chat.completion'),
    };
  };
  try {
    let done = false;
    for (const data of up.first) done ||= take(data);
    while (!done) {
      const data = await up.next();
      if (data === null) break;
      done = take(data);
      for (const more of up.drain()) done ||= take(more);
    }
    if (!finished) throw new Error('the origin ended the stream before finishing');
    return result();
  } catch (err) {
    if (signal?.aborted) return { ...result(), abandoned: true };
    throw err;
  } finally {
    up.close();
  }
}
