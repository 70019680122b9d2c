// Keys: admin routes create and revoke them behind the admin secret; only SHA-256 hashes are
// stored; missing, unknown and revoked keys get OpenAI-shaped 401s.
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../../../billing/keys';
import { adminCall, call, migrate } from './setup';

beforeAll(migrate);

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('x-request-id')).toMatch(/\S+/);
  const body = (await res.json()) as { error: Record<string, unknown> };
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(body.error.code).toBe(code);
  return body.error;
}

describe('admin API', () => {
  it('is closed without the admin secret', async () => {
    await expectError(
      await call('/admin/accounts', { method: 'POST', body: '{"name":"x"}' }),
      401,
      'invalid_admin_secret',
    );
    await expectError(
      await call('/admin/accounts', { method: 'POST', body: '{"name":"x"}', key: 'wrong' }),
      401,
      'invalid_admin_secret',
    );
  });

  it('creates an account, tops it up, creates and revokes a key', async () => {
    const account = await (
      await adminCall('/admin/accounts', {
        method: 'POST',
        body: JSON.stringify({ name: 'acme', top_up: '5' }),
      })
    ).json<{ id: string; balance: string }>();
    expect(account.balance).toBe('5.00');
    const top = await adminCall(`/admin/accounts/${account.id}/top-ups`, {
      method: 'POST',
      body: JSON.stringify({ amount: '0.25', note: 'promo' }),
    });
    expect(top.status).toBe(201);
    expect(await top.json()).toMatchObject({ balance: '5.25', balance_nanos: 5_250_000_000 });

    const created = await adminCall('/admin/keys', {
      method: 'POST',
      body: JSON.stringify({ account_id: account.id, name: 'ci', rpm: 5 }),
    });
    expect(created.status).toBe(201);
    const key = await created.json<{
      id: string;
      key: string;
      key_hint: string;
      limits: { rpm: number };
    }>();
    expect(key.key).toMatch(/^sk-[0-9a-f]{48}$/);
    expect(key.limits.rpm).toBe(5);

    const balance = await call('/user/balance', { key: key.key });
    expect(balance.status).toBe(200);
    expect(await balance.json()).toEqual({
      is_available: true,
      balance_infos: [
        {
          currency: 'USD',
          total_balance: '5.25',
          granted_balance: '0.00',
          topped_up_balance: '5.25',
        },
      ],
    });

    const listed = await (
      await adminCall(`/admin/accounts/${account.id}`)
    ).json<{ keys: { id: string; key_hint: string }[] }>();
    expect(listed.keys.map((k) => k.id)).toEqual([key.id]);
    expect(JSON.stringify(listed)).not.toContain(key.key);

    const revoked = await adminCall(`/admin/keys/${key.id}`, { method: 'DELETE' });
    expect((await revoked.json<{ revoked_at: number | null }>()).revoked_at).toBeGreaterThan(0);
    await expectError(await call('/user/balance', { key: key.key }), 401, 'invalid_api_key');
  });

  it('validates its input and refuses a key that already exists', async () => {
    await expectError(
      await adminCall('/admin/accounts', {
        method: 'POST',
        body: JSON.stringify({ name: 'x', top_up: '0.0000000001' }),
      }),
      400,
      'invalid_value',
    );
    await expectError(
      await adminCall('/admin/keys', {
        method: 'POST',
        body: JSON.stringify({ account_id: 'acct_nope' }),
      }),
      404,
      'account_not_found',
    );
    const account = await (
      await adminCall('/admin/accounts', { method: 'POST', body: '{"name":"dup"}' })
    ).json<{ id: string }>();
    const body = JSON.stringify({ account_id: account.id, key: 'sk-imported-dev-key' });
    expect((await adminCall('/admin/keys', { method: 'POST', body })).status).toBe(201);
    await expectError(await adminCall('/admin/keys', { method: 'POST', body }), 409, 'key_exists');
    const found = await adminCall('/admin/keys/lookup', {
      method: 'POST',
      body: JSON.stringify({ key: 'sk-imported-dev-key' }),
    });
    expect(await found.json()).toMatchObject({
      account_id: account.id,
      active: true,
      account: { id: account.id },
    });
  });
});

describe('auth', () => {
  it('a missing key is a 401 in the OpenAI shape', async () => {
    const err = await expectError(await call('/v1/models'), 401, 'missing_api_key');
    expect(err.type).toBe('authentication_error');
    await expectError(
      await call('/v1/chat/completions', { method: 'POST', body: '{}' }),
      401,
      'missing_api_key',
    );
    await expectError(await call('/v1/usage'), 401, 'missing_api_key');
    await expectError(await call('/user/balance'), 401, 'missing_api_key');
  });

  it('an unknown key is a 401 invalid_api_key', async () => {
    await expectError(
      await call('/v1/models', { key: 'sk-not-a-real-key' }),
      401,
      'invalid_api_key',
    );
    await expectError(
      await call('/v1/models', { headers: { authorization: 'Basic abc' } }),
      401,
      'missing_api_key',
    );
  });

  it('health and the dashboard page stay public', async () => {
    expect((await call('/health')).status).toBe(200);
    const page = await call('/dashboard');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('data-chart="spend"');
  });

  it('stores keys only as SHA-256 hashes', async () => {
    const account = await (
      await adminCall('/admin/accounts', { method: 'POST', body: '{"name":"hash"}' })
    ).json<{ id: string }>();
    const { key, id } = await (
      await adminCall('/admin/keys', {
        method: 'POST',
        body: JSON.stringify({ account_id: account.id }),
      })
    ).json<{ key: string; id: string }>();
    const row = await env.DB.prepare('SELECT * FROM api_keys WHERE id = ?')
      .bind(id)
      .first<Record<string, unknown>>();
    expect(row!.key_hash).toBe(await hashKey(key));
    // No column of any table holds the key or anything longer than its hint.
    const dump = JSON.stringify(await env.DB.prepare('SELECT * FROM api_keys').all());
    expect(dump).not.toContain(key);
    expect(dump).not.toContain(key.slice(3, 20));
  });
});
