// Prompt-cache test helpers: a long prompt for stories260k, the keys a tenant has in the real
// (Miniflare) KV, and waiting for the write-behind to land.
import { env } from 'cloudflare:workers';
import { getAccount } from '../../../billing/accounts';
import { keyPrefix } from '../../../dispatch/prompt-cache';

/** ~190 stories260k tokens: 2 cacheable blocks, and a partial third recomputed. */
export const LONG_PROMPT =
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. ' +
  'One day, she saw a big red ball under a tree. She wanted to play with it, but it was stuck. ' +
  'Lily asked her mom for help. Her mom smiled and said, "Let us get the ball together." ' +
  'They pulled and pulled, and the ball came out. Lily was very happy and said thank you to her mom. ' +
  'Then they went home and had a nice dinner. The sun was going down and the sky was';

export async function saltOf(accountId: string): Promise<string> {
  return (await getAccount(env.DB, accountId))!.tenant_salt;
}

export async function keysOf(salt: string): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await env.PROMPT_CACHE.list({ prefix: keyPrefix(salt), cursor });
    names.push(...page.keys.map((k) => k.name));
    if (page.list_complete) return names;
    cursor = page.cursor;
  }
}

/** Waits until the tenant has `count` entries (the write-behind runs after the response). */
export async function waitForKeys(
  salt: string,
  count: number,
  timeoutMs = 10_000,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const keys = await keysOf(salt);
    if (keys.length >= count) return keys;
    if (Date.now() > deadline)
      throw new Error(`tenant has ${keys.length} prompt-cache entries, expected ${count}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
