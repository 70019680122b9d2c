// POST /admin/prompt-cache/purge: behind the admin secret; purges one tenant's entries, one
// model's entries across tenants, or both at once; pages through with a cursor.
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminCall, call, provisionKey, type TestKey } from '../billing/setup';
import { PURGE_PAGE } from '../../../routes/admin-cache';
import { keyPrefix } from '../../../dispatch/prompt-cache';
import { seedStories260k, sharedModelsPresent, skipReason } from '../seed';
import { keysOf, saltOf } from './helpers';

const reason = skipReason(await sharedModelsPresent());
const purge = (body: object) =>
  adminCall('/admin/prompt-cache/purge', { method: 'POST', body: JSON.stringify(body) });

/** Fake entries (purge never reads values): `n` per tenant and model. */
async function plant(salt: string, model: string, n: number): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      env.PROMPT_CACHE.put(
        `${keyPrefix(salt)}${model}@0123456789abcdef:${String(i).padStart(32, '0')}`,
        'x',
      ),
    ),
  );
}

describe.skipIf(reason !== null)('prompt-cache purge', () => {
  let a: TestKey, b: TestKey;
  let saltA: string, saltB: string;

  beforeAll(async () => {
    await seedStories260k();
    [a, b] = [await provisionKey(), await provisionKey()];
    [saltA, saltB] = [await saltOf(a.accountId), await saltOf(b.accountId)];
  });

  it('needs the admin secret and a target', async () => {
    expect(
      (
        await call('/admin/prompt-cache/purge', {
          method: 'POST',
          key: a.key,
          body: JSON.stringify({ account_id: a.accountId }),
        })
      ).status,
    ).toBe(401);
    const res = await purge({});
    expect(res.status).toBe(400);
    expect((await purge({ account_id: 'acct_nope' })).status).toBe(404);
  });

  it('purges one tenant, leaving the others', async () => {
    await plant(saltA, 'stories260k', 3);
    await plant(saltA, 'other-model', 2);
    await plant(saltB, 'stories260k', 3);
    const res = await purge({ account_id: a.accountId });
    expect(await res.json()).toEqual({
      object: 'prompt_cache.purge',
      deleted: 5,
      complete: true,
      cursor: null,
    });
    expect(await keysOf(saltA)).toEqual([]);
    expect(await keysOf(saltB)).toHaveLength(3);
  });

  it("purges one model across tenants, or one tenant's entries of one model", async () => {
    await plant(saltA, 'stories260k', 2);
    await plant(saltA, 'stories260k-b', 2); // a model id that starts like the other must survive
    expect(
      await (await purge({ account_id: a.accountId, model: 'stories260k' })).json(),
    ).toMatchObject({ deleted: 2, complete: true });
    expect(await keysOf(saltA)).toHaveLength(2);
    await plant(saltA, 'stories260k', 2);
    expect(await (await purge({ model: 'stories260k' })).json()).toMatchObject({
      deleted: 5,
      complete: true,
    });
    expect((await keysOf(saltA)).every((k) => k.includes(':stories260k-b@'))).toBe(true);
    expect(await keysOf(saltB)).toEqual([]);
  });

  it('pages: a big purge asks to be called again with its cursor', async () => {
    const c = await provisionKey();
    const salt = await saltOf(c.accountId);
    await plant(salt, 'stories260k', PURGE_PAGE + 20);
    const first = await (
      await purge({ account_id: c.accountId })
    ).json<{ deleted: number; complete: boolean; cursor: string }>();
    expect(first).toMatchObject({ deleted: PURGE_PAGE, complete: false });
    const second = await (await purge({ account_id: c.accountId, cursor: first.cursor })).json();
    expect(second).toMatchObject({ deleted: 20, complete: true, cursor: null });
    expect(await keysOf(salt)).toEqual([]);
  });
});
