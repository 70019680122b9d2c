// `npm run build:sdk` produces a bundle that imports nothing at run time, works from dist/, and
// declarations that a strict consumer (Node16 resolution, as a published package is read) compiles against.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '../..');
const dist = join(repo, 'dist/sdk');
const env = { ...process.env, PATH: `${join(repo, 'node_modules/.bin')}:${process.env.PATH}` };

beforeAll(() => {
  const build = spawnSync('npm', ['run', '-s', 'build:sdk'], { cwd: repo, env, encoding: 'utf8' });
  expect(build.status, build.stderr + build.stdout).toBe(0);
});

it('bundles to one ESM file with no imports', () => {
  const js = readFileSync(join(dist, 'index.js'), 'utf8');
  expect(js).not.toMatch(/^\s*import\s/m);
  expect(js).not.toMatch(/require\(/);
});

it('the built client works', async () => {
  const mod = await import(pathToFileURL(join(dist, 'index.js')).href);
  const fetch = async () =>
    new Response(JSON.stringify({ object: 'list', data: [{ id: 'm' }] }), {
      headers: { 'x-request-id': 'r' },
    });
  const client = new mod.default({ apiKey: 'k', baseURL: 'http://x/v1', fetch });
  expect((await client.models.list()).data[0].id).toBe('m');
  expect(
    new mod.InsufficientBalanceError(402, { message: 'x' }, undefined, new Headers()),
  ).toBeInstanceOf(mod.APIError);
});

it('its declarations type-check a strict consumer', () => {
  const dir = join(repo, 'dist/sdk-consumer');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
  writeFileSync(
    join(dir, 'consumer.ts'),
    `import EdgeInference, { InsufficientBalanceError, type ChatCompletionChunk } from '../sdk/index.js';
const client = new EdgeInference({ apiKey: 'k', maxRetries: 1 });
export async function run(): Promise<string> {
  const res = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 });
  const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true });
  const chunks: ChatCompletionChunk[] = [];
  for await (const c of stream) chunks.push(c);
  const cost: number | undefined = res.usage.cost?.total;
  const hits: number = res.usage.prompt_cache_hit_tokens;
  const balance = await client.balance.retrieve();
  try { await client.models.list(); } catch (e) { if (e instanceof InsufficientBalanceError) return e.requestId ?? ''; }
  return (res.choices[0].message.content ?? '') + chunks.length + cost + hits + balance.is_available;
}
// @ts-expect-error: a streamed create returns a Stream, not a ChatCompletion
export const wrong: Promise<{ choices: unknown[] }> = client.chat.completions.create({ model: 'm', messages: [], stream: true }).then((s) => s);
`,
  );
  const compilerOptions = {
    strict: true,
    noEmit: true,
    module: 'node16',
    moduleResolution: 'node16',
    target: 'es2022',
    lib: ['es2022', 'dom', 'dom.iterable'],
    types: [],
  };
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions, files: ['consumer.ts'] }),
  );
  const tsc = spawnSync('tsc', ['-p', dir], { cwd: repo, env, encoding: 'utf8' });
  expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
});
