// The two-command start: `npm start` seeds local R2, hosts the Worker (tools/worker-host.ts), and the
// official openai client gets the same greedy text from it as from the generate CLI; a client that
// abandons a JSON request stops its decoding and is billed only for what was produced.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findStories260k, repoRoot } from '../../tools/paths';

const stories = findStories260k();
/** The project's own trained model (models/pystd-mla-moe): at the edge under its id, at the origin as <id>-origin. */
const TRAINED = 'pystd-mla-moe';
const TRAINED_ORIGIN = `${TRAINED}-origin`;
if (!stories) {
  if (process.env.CI) throw new Error('CI must have ../shared/models');
  console.warn('skipped: ../shared/models is absent, npm start would serve the random demo model');
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe.skipIf(!stories)('npm start', () => {
  const persist = mkdtempSync(join(tmpdir(), 'edge-start-'));
  let child: ReturnType<typeof spawn>;
  let url = '';

  beforeAll(async () => {
    const port = await freePort();
    child = spawn('npm', ['start'], {
      cwd: repoRoot,
      env: { ...process.env, PORT: String(port), PERSIST_TO: persist },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`npm start not ready in 150 s:\n${log}`)),
        150_000,
      );
      const onData = (d: Buffer) => {
        log += d.toString();
        const m = log.match(/Ready: (http:\/\/\S+)\/v1/);
        if (m) {
          url = m[1];
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.on('exit', (code) => reject(new Error(`npm start exited (${code}):\n${log}`)));
    });
  }, 180_000);

  afterAll(() => {
    if (child?.pid) process.kill(-child.pid, 'SIGTERM');
    rmSync(persist, { recursive: true, force: true });
  });

  it('serves the official openai client the CLI greedy text', async () => {
    const client = new OpenAI({
      baseURL: `${url}/v1`,
      apiKey: process.env.DEV_API_KEY ?? 'sk-local-dev',
      maxRetries: 0,
    });
    const res = await client.chat.completions.create({
      model: 'stories260k',
      messages: [{ role: 'user', content: 'The little dog' }],
      max_tokens: 48,
      temperature: 0,
    });
    const steps = res.usage!.prompt_tokens - 1 + res.usage!.completion_tokens;
    const run = spawnSync(
      'npm',
      [
        'run',
        '-s',
        'generate',
        '--',
        '--model',
        stories!.checkpoint,
        '--tokenizer',
        stories!.tokenizer,
        '--prompt',
        'The little dog',
        '--steps',
        String(steps),
        '--temperature',
        '0',
        '--json',
      ],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    expect(run.status).toBe(0);
    expect(res.choices[0].message.content).toBe(JSON.parse(run.stdout).completion);
    expect(res.choices[0].message.content!.length).toBeGreaterThan(40);
  });

  it('serves the trained DeepSeek-architecture model at both tiers: the same greedy code from the origin and the edge', async () => {
    const client = new OpenAI({
      baseURL: `${url}/v1`,
      apiKey: process.env.DEV_API_KEY ?? 'sk-local-dev',
      maxRetries: 0,
    });
    const ask = (model: string) =>
      client.completions
        .create({ model, prompt: 'def parse_args(argv):\n    ', max_tokens: 12, temperature: 0 })
        .withResponse();
    const origin = await ask(TRAINED_ORIGIN);
    expect(origin.response.headers.get('x-served-by')).toBe('origin:local-origin');
    expect(origin.data.model).toBe(TRAINED_ORIGIN);
    expect(origin.data.usage?.completion_tokens).toBe(12);
    const edge = await ask(TRAINED);
    expect(edge.response.headers.get('x-served-by')).toBe(`edge:${TRAINED}`);
    expect(edge.data.choices[0].text).toBe(origin.data.choices[0].text);
    expect(origin.data.choices[0].text.trim().length).toBeGreaterThan(0);
    // both tiers list the model's own context (config.json max_position_embeddings)
    const cards: Record<string, number | undefined> = {};
    for await (const m of client.models.list())
      cards[m.id] = (m as unknown as { context_length?: number }).context_length;
    expect(cards[TRAINED]).toBe(1024);
    expect(cards[TRAINED_ORIGIN]).toBe(1024);
  });

  it("answers DeepSeek's names at DeepSeek's base URL: deepseek-chat and a reasoning deepseek-reasoner", async () => {
    const root = new OpenAI({
      baseURL: url,
      apiKey: process.env.DEV_API_KEY ?? 'sk-local-dev',
      maxRetries: 0,
    });
    const ids: Record<string, string> = {};
    for await (const m of root.models.list()) ids[m.id] = m.owned_by;
    expect(ids).toMatchObject({ 'deepseek-chat': 'deepseek', 'deepseek-reasoner': 'deepseek' });
    const ask = (model: string) =>
      root.chat.completions
        .create({
          model,
          messages: [{ role: 'user', content: 'Hello' }],
          max_tokens: 8,
          temperature: 0,
        })
        .withResponse();
    const chat = await ask('deepseek-chat');
    expect(chat.data.model).toBe('deepseek-chat');
    expect(chat.response.headers.get('x-served-model')).toBe(TRAINED_ORIGIN);
    // a model trained on Python code does not write </think> (greedy, 8 tokens): every token is reasoning
    const reasoner = await ask('deepseek-reasoner');
    const usage = reasoner.data.usage as { completion_tokens: number } & {
      completion_tokens_details?: { reasoning_tokens: number };
    };
    expect(reasoner.data.model).toBe('deepseek-reasoner');
    expect(usage.completion_tokens_details?.reasoning_tokens).toBe(usage.completion_tokens);
    expect(reasoner.data.choices[0].message.content).toBe('');
  });

  it('an abandoned JSON request stops decoding, is billed as disconnected, and the next one works', async () => {
    const key = process.env.DEV_API_KEY ?? 'sk-local-dev';
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const usage = async () =>
      ((await (await fetch(`${url}/v1/usage`, { headers })).json()) as UsageReport).totals;
    const before = await usage();
    const [n, maxTokens] = [8, 480]; // about 5 s of decoding here, run to the end
    const started = Date.now();
    const abandoned = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        model: 'stories260k',
        messages: [{ role: 'user', content: 'Once upon a time' }],
        temperature: 1,
        seed: 7,
        n,
        max_tokens: maxTokens,
      }),
      signal: AbortSignal.timeout(300),
    }).catch((e: Error) => e);
    expect(abandoned).toBeInstanceOf(Error);

    let row: LedgerRow | undefined;
    for (let i = 0; i < 20 && (!row || row.status === 'pending'); i++) {
      await new Promise((r) => setTimeout(r, 250));
      row = newestLedgerRow(persist);
    }
    expect(row!.started_at).toBeGreaterThanOrEqual(started - 1000);
    expect(row!.status).toBe('disconnected');
    expect(row!.completion_tokens).toBeGreaterThan(0);
    expect(row!.completion_tokens).toBeLessThan(n * maxTokens);
    const after = await usage();
    expect(after.requests).toBe(before.requests + 1);
    expect(after.completion_tokens).toBe(before.completion_tokens + row!.completion_tokens);

    const next = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        model: 'stories260k',
        messages: [{ role: 'user', content: 'Hello' }],
        max_tokens: 8,
      }),
    });
    expect(next.status).toBe(200);
    expect(
      ((await next.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens,
    ).toBeGreaterThan(0);
  });
});

interface UsageReport {
  totals: { requests: number; completion_tokens: number };
}

interface LedgerRow {
  status: string;
  completion_tokens: number;
  started_at: number;
}

/** The newest ledger row in npm start's local D1, read as `wrangler d1 execute --local` reads it. */
function newestLedgerRow(persistTo: string): LedgerRow | undefined {
  const sql =
    'SELECT status, completion_tokens, started_at FROM ledger ORDER BY started_at DESC LIMIT 1';
  const bin = join(repoRoot, 'node_modules/.bin');
  const run = spawnSync(
    join(bin, 'wrangler'),
    ['d1', 'execute', 'DB', '--local', '--persist-to', persistTo, '--json', '--command', sql],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        CI: 'true',
        WRANGLER_SEND_METRICS: 'false',
      },
      encoding: 'utf8',
    },
  );
  if (run.status !== 0) throw new Error(`wrangler d1 execute failed: ${run.stderr}`);
  return (JSON.parse(run.stdout) as { results: LedgerRow[] }[])[0].results[0];
}
