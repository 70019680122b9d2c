// A minimal origin that speaks the real wire protocol (OpenAI-compatible SSE, vLLM-style usage with
// `prompt_tokens_details.cached_tokens`), with a per-salt prefix cache, `/health` with its queue
// depth, and knobs a test needs: token pace, a stall before the first token, a concurrency cap,
// response headers held back (as our origin holds them until its first token), or a hang (it
// accepts connections and never answers anything, /health included: an unreachable host).
// `--think raw|field`: asked for `thinking: {type: "enabled"}`, a chat answer opens with a think
// block, as raw text with its tags cut across frames (an origin without a reasoning parser) or as
// `reasoning_content` (vLLM's and SGLang's reasoning parsers).
// `--cut-handoff`: POST /internal/prefill-entries (a prefill origin's prompt-cache hand-off) answers 200
// and half a body, then resets the connection: an origin that dies mid-hand-off.
// `--split-client-ready`: asked for a client-ready stream (`x-relay-head`), it writes one as our origin
// does (its end held for GET /v1/relay-ends/:key), with the read that brings its first output ending
// inside the next frame, as TCP may cut our origin's writes: that stream cannot be handed over unread.
// Runs as its own process: `node tests/dispatch/mini-origin.ts --port 0 [--token-ms 5] [--stall]`;
// prints `listening <port>` when ready. `GET /stats` says what it served.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    name: { type: 'string', default: 'mini' },
    'token-ms': { type: 'string', default: '0' },
    stall: { type: 'boolean', default: false },
    'hold-ms': { type: 'string', default: '0' },
    hang: { type: 'boolean', default: false },
    'max-concurrency': { type: 'string', default: '1000' },
    think: { type: 'string', default: 'off' },
    'cut-handoff': { type: 'boolean', default: false },
    'split-client-ready': { type: 'boolean', default: false },
  },
});
const tokenMs = Number(opts['token-ms']);
const maxConcurrency = Number(opts['max-concurrency']);
const BLOCK_CHARS = 256; // one 64-token block at ~4 characters a token

const stats = {
  requests: 0,
  streams: 0,
  cacheHitTokens: 0,
  inflight: 0,
  salts: [] as string[],
  requestIds: [] as string[],
  bodies: [] as unknown[],
};
const cache = new Set<string>();
/** --split-client-ready: the held ends of client-ready streams, by key (answered once the stream is over). */
const ends = new Map<string, Promise<string[]>>();
/** The think block as raw frames: the tags cut mid-way, as tokens would cut them. */
const THINK_RAW = ['<th', 'ink>', '\nThe user', ' wants a cat', '.\n</', 'think', '>\n\n'];
const THINK_TEXT = '\nThe user wants a cat.\n';
const WORDS = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'and', 'dog', 'ran', 'far', 'away', 'home'];

/** Leading whole blocks this salt has sent before, then remembers all of this prompt's blocks. */
function cachedTokens(salt: string, prompt: string): number {
  let hits = 0;
  let missed = false;
  for (let end = BLOCK_CHARS; end <= prompt.length; end += BLOCK_CHARS) {
    const key = `${salt}\u0000${prompt.slice(0, end)}`;
    if (!missed && cache.has(key)) hits++;
    else missed = true;
    cache.add(key);
  }
  return Math.min(hits * 64, Math.ceil(prompt.length / 4));
}

const promptOf = (body: Record<string, any>) =>
  body.messages
    ? (body.messages as { content: string }[]).map((m) => m.content).join('\n')
    : String(Array.isArray(body.prompt) ? body.prompt[0] : body.prompt);

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (text += d));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function generate(req: IncomingMessage, res: ServerResponse, chat: boolean): Promise<void> {
  const body = JSON.parse(await read(req)) as Record<string, any>;
  stats.requests++;
  stats.bodies.push(body);
  stats.salts.push(String(req.headers['x-cache-salt'] ?? ''));
  stats.requestIds.push(String(req.headers['x-request-id'] ?? ''));
  const valid = chat
    ? Array.isArray(body.messages)
    : typeof body.prompt === 'string' || Array.isArray(body.prompt);
  if (!valid) {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        object: 'error',
        message: chat ? 'messages must be a list' : 'prompt is required',
        type: 'BadRequestError',
        param: null,
        code: 400,
      }),
    );
    return;
  }
  if (stats.inflight >= maxConcurrency) {
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '2' });
    res.end(
      JSON.stringify({
        error: {
          message: 'queue full',
          type: 'service_unavailable',
          param: null,
          code: 'overloaded',
        },
      }),
    );
    return;
  }
  const prompt = promptOf(body);
  const promptTokens = Math.ceil(prompt.length / 4) + 1;
  const cached = cachedTokens(String(req.headers['x-cache-salt'] ?? ''), prompt);
  stats.cacheHitTokens += cached;
  const max = Number(body.max_tokens ?? 16);
  const id = `mini-${stats.requests}`;
  const base = {
    id,
    created: Math.floor(Date.now() / 1000),
    model: body.model,
    system_fingerprint: `fp_${opts.name}`,
  };
  const object = chat ? 'chat.completion.chunk' : 'text_completion';
  const usage = (completion: number) => ({
    prompt_tokens: promptTokens,
    completion_tokens: completion,
    total_tokens: promptTokens + completion,
    prompt_tokens_details: { cached_tokens: cached },
  });
  const piece = (i: number) => `${i === 0 ? '' : ' '}${WORDS[(prompt.length + i) % WORDS.length]}`;
  const choice = (text: string, finish: string | null) =>
    chat
      ? {
          index: 0,
          delta:
            text === '' && finish === null ? { role: 'assistant', content: '' } : { content: text },
          logprobs: null,
          finish_reason: finish,
        }
      : { index: 0, text, logprobs: null, finish_reason: finish };

  stats.inflight++;
  let gone = false;
  res.on('close', () => (gone = true));
  try {
    if (!body.stream) {
      let text = '';
      for (let i = 0; i < max; i++) text += piece(i);
      const message = chat ? { message: { role: 'assistant', content: text } } : { text };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          ...base,
          object: chat ? 'chat.completion' : 'text_completion',
          choices: [{ index: 0, ...message, logprobs: null, finish_reason: 'length' }],
          usage: usage(max),
        }),
      );
      return;
    }
    stats.streams++;
    if (Number(opts['hold-ms']) > 0) await sleep(Number(opts['hold-ms']));
    // --split-client-ready: our origin's client-ready stream (origin/server/relay-ends.ts) whose first
    // output arrives in two reads, cut inside its frame, as TCP may deliver it: the end is held all the same
    const head = req.headers['x-relay-head'];
    const relayKey =
      opts['split-client-ready'] && head ? (JSON.parse(String(head)).key as string) : null;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      ...(relayKey ? { 'x-relay-frames': 'client-ready' } : {}),
    });
    const held: string[] = [];
    let over = (_: string[]) => {};
    if (relayKey) ends.set(relayKey, new Promise((resolve) => (over = resolve)));
    const send = (data: unknown) => {
      const text = typeof data === 'string' ? data : JSON.stringify(data);
      if (
        relayKey &&
        (text === '[DONE]' || text.includes('"finish_reason":"') || text.includes('"choices":[]'))
      )
        return void (text === '[DONE]' ? over(held) : held.push(text));
      return res.write(`data: ${text}\n\n`);
    };
    if (relayKey) {
      const frame = (text: string, finish: string | null = null) =>
        `data: ${JSON.stringify({ ...base, object, choices: [choice(text, finish)] })}\n\n`;
      // the first output, then the next frame's first bytes: the read that brings the one ends inside the other
      const next = frame(' upon');
      res.write((chat ? frame('') : '') + frame('Once') + next.slice(0, 20));
      await sleep(30);
      res.write(next.slice(20));
    } else if (chat) send({ ...base, object, choices: [choice('', null)] });
    if (opts.stall) return; // headers and a role frame, then nothing: the stalled origin
    const thinks = chat && opts.think !== 'off' && body.thinking?.type === 'enabled';
    if (thinks && opts.think === 'raw')
      for (const text of THINK_RAW) send({ ...base, object, choices: [choice(text, null)] });
    if (thinks && opts.think === 'field')
      for (const reasoning_content of THINK_TEXT.split(' ').map((w, i) => (i ? ` ${w}` : w)))
        send({
          ...base,
          object,
          choices: [
            { index: 0, delta: { reasoning_content }, logprobs: null, finish_reason: null },
          ],
        });
    for (let i = 0; i < max && !gone; i++) {
      if (tokenMs > 0) await sleep(tokenMs);
      send({ ...base, object, choices: [choice(piece(i), null)] });
    }
    if (gone) return;
    send({
      ...base,
      object,
      choices: [{ ...choice('', 'length'), ...(chat ? { delta: {} } : {}) }],
    });
    const extra = thinks ? (opts.think === 'raw' ? THINK_RAW : THINK_TEXT.split(' ')).length : 0;
    if (body.stream_options?.include_usage)
      send({ ...base, object, choices: [], usage: usage(max + extra) });
    send('[DONE]');
    res.end();
  } finally {
    stats.inflight--;
  }
}

/** Half an entries answer, then a reset: the Worker must not take any of it. */
async function cutHandoff(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = JSON.parse(await read(req)) as Record<string, any>;
  stats.requests++;
  stats.bodies.push({ path: '/internal/prefill-entries', tokens: body.prompt_ids?.length });
  stats.requestIds.push(String(req.headers['x-request-id'] ?? ''));
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write('{"tokens":' + String(body.prompt_ids?.length) + ',"codec":"f32","entries":[{"key":"');
  await sleep(20);
  res.socket?.destroy();
}

const server = createServer((req, res) => {
  if (opts.hang) return; // never a byte back
  const path = (req.url ?? '/').split('?')[0];
  const fail = (err: unknown) => {
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        error: { message: String(err), type: 'server_error', param: null, code: null },
      }),
    );
  };
  if (req.method === 'POST' && path === '/v1/chat/completions')
    return void generate(req, res, true).catch(fail);
  if (req.method === 'POST' && path === '/v1/completions')
    return void generate(req, res, false).catch(fail);
  if (req.method === 'POST' && path === '/internal/prefill-entries' && opts['cut-handoff'])
    return void cutHandoff(req, res).catch(fail);
  res.setHeader('content-type', 'application/json');
  if (path === '/health')
    return void res.end(
      JSON.stringify({ status: 'ok', queue_depth: Math.max(0, stats.inflight - maxConcurrency) }),
    );
  if (path === '/stats') return void res.end(JSON.stringify(stats));
  if (path.startsWith('/v1/relay-ends/')) {
    const key = path.slice('/v1/relay-ends/'.length);
    const end = ends.get(key);
    ends.delete(key);
    if (end) return void end.then((frames) => res.end(JSON.stringify({ frames })));
  }
  res.writeHead(404).end(
    JSON.stringify({
      error: { message: 'not found', type: 'not_found_error', param: null, code: null },
    }),
  );
});
server.keepAliveTimeout = 60_000;
server.listen(Number(opts.port), '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : opts.port}`);
});
