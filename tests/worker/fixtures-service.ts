// A service binding (FIXTURES) that runs in Node beside workerd: it hands the Worker tests the files
// of ../shared/models and runs the real generate CLI, so tests compare the Worker with the CLI.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findStories260k, repoRoot } from '../../tools/paths.ts';

type Handler = (request: Request) => Promise<Response>;

function runCli(params: URLSearchParams): Response {
  const stories = findStories260k();
  if (!stories) return new Response('shared models absent', { status: 404 });
  const args = [
    'run',
    '-s',
    'generate',
    '--',
    '--model',
    stories.checkpoint,
    '--tokenizer',
    stories.tokenizer,
    '--json',
  ];
  for (const [k, v] of params) args.push(`--${k}`, v);
  const run = spawnSync('npm', args, {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, PATH: `${join(repoRoot, 'node_modules/.bin')}:${process.env.PATH}` },
  });
  if (run.status !== 0)
    return new Response(`generate CLI failed (${run.status}):\n${run.stderr}`, { status: 500 });
  return new Response(run.stdout, { headers: { 'content-type': 'application/json' } });
}

/** Our trained model's files (models/pystd-mla-moe), for the edge copy of a model served at both tiers. */
const PYSTD_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];

export const fixtures: Handler = async (request) => {
  const url = new URL(request.url);
  const pystd = /^\/pystd\/([\w.]+)$/.exec(url.pathname)?.[1];
  if (pystd && PYSTD_FILES.includes(pystd))
    return new Response(readFileSync(join(repoRoot, 'models/pystd-mla-moe', pystd)));
  const stories = findStories260k();
  if (url.pathname === '/cli') return runCli(url.searchParams);
  if (url.pathname === '/stories260k/checkpoint' && stories)
    return new Response(readFileSync(stories.checkpoint));
  if (url.pathname === '/stories260k/tokenizer' && stories)
    return new Response(readFileSync(stories.tokenizer));
  if (url.pathname === '/stories260k/golden' && stories)
    return new Response(readFileSync(stories.golden));
  return new Response(
    stories
      ? 'no such fixture'
      : `shared models absent (looked in ${join(repoRoot, '../shared/models')})`,
    { status: 404 },
  );
};
