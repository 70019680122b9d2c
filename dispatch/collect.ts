// An origin's generation collected whole for a JSON answer: every frame parsed and folded into the
// answer it stands for (assemble.ts), the usage the origin reported (the frames counted when it
// reported none). Billing is the caller's: on a throw nothing was delivered.
import { makeUsage, type Usage } from '../protocol/usage';
import { Assembler, normalizeUsage } from './assemble';
import { finishOf, parseFrame, type RelayContext, type RelayResult } from './relay-types';
import type { OpenedUpstream } from './upstream';

export async function collect(up: OpenedUpstream, ctx: RelayContext): Promise<RelayResult> {
  const a = new Assembler();
  let usage: Usage | null = null;
  let frames = 0;
  let finished = false;
  const take = (data: string): boolean => {
    if (data === '[DONE]') return true;
    const frame = parseFrame(data);
    if (frame.usage) usage = normalizeUsage(frame.usage as Record<string, unknown>);
    const choices = frame.choices ?? [];
    if (choices.some((c) => c.text || c.delta?.content)) frames++;
    if (choices.some((c) => c.finish_reason)) finished = true;
    a.add(choices);
    return false;
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
    const choices = a.summaries().map((c) => ({ ...c, finishReason: finishOf(c.finishReason) }));
    return {
      ...choices[0],
      usage: usage ?? makeUsage(ctx.promptEstimate, frames),
      ...(choices.length > 1 ? { choices } : {}),
      body: a.bodyChoices(ctx.object === 'text_completion' ? 'text_completion' : 'chat.completion'),
    };
  } finally {
    up.close();
  }
}
