// `npm run loadtest`: a bounded loopback load test that reconciles money. N clients send streamed and
// JSON chat requests for T seconds (a key whose concurrency limit is below N, so some are refused),
// then stop; at the end the sum of the costs the responses reported must equal the balance the
// account lost, the ledger's total (when the Worker is our own local one) and `GET /v1/usage`, and
// every 429 (and 503 of a full edge model) must have carried `retry-after`. Prints a JSON summary; exits 1 when anything differs.
//   npm run loadtest -- [--streams 8] [--seconds 20] [--url http://127.0.0.1:8787 --admin-secret S]
// Without --url it starts its own local Worker (tools/local-worker.ts) and stops it at the end.
import { parseArgs } from 'node:util';
import { localLedger, startLocalWorker } from './local-worker';

interface Target {
  url: string;
  admin: string;
  model: string;
}
interface Tally {
  ok: number;
  refused: number;
  /** 503 model_overloaded: the engine's sessions and wait queue were full. */
  overloaded: number;
  refusedWithoutRetryAfter: number;
  errors: string[];
  costNanos: number;
}

const admin = async <T>(t: Target, path: string, body?: unknown): Promise<T> => {
  const res = await fetch(`${t.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${t.admin}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`admin ${path}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<T>;
};

/** The cost (nanos) a successful response reported: the JSON body's usage, or a stream's last usage. */
async function costOf(res: Response, stream: boolean): Promise<number> {
  if (!stream)
    return ((await res.json()) as { usage: { cost: { total: number } } }).usage.cost.total;
  const frames = (await res.text()).split('\n\n').filter((f) => f.startsWith('data: {'));
  const usage = frames.map((f) => JSON.parse(f.slice(6)).usage).findLast((u) => u?.cost);
  if (!usage) throw new Error('a stream ended without its cost');
  return usage.cost.total;
}

async function client(t: Target, key: string, until: number, tally: Tally, i: number) {
  for (let n = 0; Date.now() < until; n++) {
    const stream = (i + n) % 3 !== 0;
    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: t.model,
        messages: [{ role: 'user', content: `Once upon a time ${i}.${n}` }],
        max_tokens: 8 + ((i * 7 + n * 13) % 56),
        stream,
        ...(stream && n % 2 ? { stream_options: { include_usage: true } } : {}),
      }),
    }).catch((e: Error) => e);
    if (res instanceof Error) {
      tally.errors.push(res.message);
      continue;
    }
    // 429: the key's limits; 503: the edge model's sessions and queue are full. Both say when to retry.
    if (res.status === 429 || res.status === 503) {
      if (res.status === 429) tally.refused++;
      else tally.overloaded++;
      const after = res.headers.get('retry-after');
      if (!after) tally.refusedWithoutRetryAfter++;
      await res.body?.cancel();
      const ms = Number(res.headers.get('retry-after-ms') ?? Number(after ?? 1) * 1000);
      await new Promise((r) => setTimeout(r, Math.min(ms, 250) + Math.random() * 50));
      continue;
    }
    if (!res.ok) {
      tally.errors.push(`${res.status} ${await res.text()}`);
      continue;
    }
    const cost = await costOf(res, stream); // (not `+= await`: that reads the total before waiting)
    tally.costNanos += cost;
    tally.ok++;
  }
}

export async function loadTest(t: Target, streams: number, seconds: number, ledger?: string) {
  const account = await admin<{ id: string; balance_nanos: number }>(t, '/admin/accounts', {
    name: 'loadtest',
    top_up: '100',
  });
  const created = await admin<{ id: string; key: string }>(t, '/admin/keys', {
    account_id: account.id,
    name: 'loadtest',
    // Below the number of clients: the concurrency limit refuses some, and they must say when to retry.
    max_concurrency: Math.max(1, Math.floor(streams / 2)),
  });
  const tally: Tally = {
    ok: 0,
    refused: 0,
    overloaded: 0,
    refusedWithoutRetryAfter: 0,
    errors: [],
    costNanos: 0,
  };
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: streams }, (_, i) => client(t, created.key, until, tally, i)),
  );
  const after = await admin<{ balance_nanos: number }>(t, `/admin/accounts/${account.id}`);
  const usage = (await (
    await fetch(`${t.url}/v1/usage`, { headers: { authorization: `Bearer ${created.key}` } })
  ).json()) as { totals: { requests: number; cost: { total: number } } };
  const book = ledger === undefined ? null : localLedger(ledger, created.id);
  const summary = {
    streams,
    seconds,
    ok: tally.ok,
    refused_429: tally.refused,
    overloaded_503: tally.overloaded,
    refused_without_retry_after: tally.refusedWithoutRetryAfter,
    errors: tally.errors.slice(0, 5),
    error_count: tally.errors.length,
    cost_reported_nanos: tally.costNanos,
    balance_drop_nanos: account.balance_nanos - after.balance_nanos,
    usage_total_nanos: usage.totals.cost.total,
    usage_requests: usage.totals.requests,
    ledger: book ?? 'not read (a remote Worker: its D1 is not ours to query)',
  };
  const reconciled =
    tally.errors.length === 0 &&
    tally.ok > 0 &&
    tally.refusedWithoutRetryAfter === 0 &&
    summary.balance_drop_nanos === tally.costNanos &&
    summary.usage_total_nanos === tally.costNanos &&
    summary.usage_requests === tally.ok &&
    (book === null || (book.cost === tally.costNanos && book.rows === tally.ok && !book.pending));
  return { ...summary, reconciled };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      streams: { type: 'string', default: '8' },
      seconds: { type: 'string', default: '20' },
      url: { type: 'string' },
      'admin-secret': { type: 'string' },
      model: { type: 'string', default: 'stories260k' },
    },
  });
  const streams = Number(values.streams);
  const seconds = Number(values.seconds);
  if (!(streams >= 1 && seconds > 0)) throw new Error('--streams ≥ 1 and --seconds > 0');
  if (values.url && !values['admin-secret']) throw new Error('--url needs --admin-secret');
  const local = values.url ? null : await startLocalWorker();
  try {
    const target = local
      ? { url: local.url, admin: local.adminSecret, model: local.model }
      : { url: values.url!, admin: values['admin-secret']!, model: values.model };
    const result = await loadTest(target, streams, seconds, local?.persistTo);
    console.log(JSON.stringify(result, null, 2));
    process.exitCode = result.reconciled ? 0 : 1;
  } finally {
    await local?.stop();
  }
}

if (process.argv[1]?.endsWith('loadtest.ts'))
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
