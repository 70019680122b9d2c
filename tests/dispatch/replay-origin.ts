// An origin that replays recorded vLLM and SGLang answers (tests/fixtures/upstream/*.http): the
// status line, headers and body of a transcript, the body byte for byte, a stream one event per
// write as a real server flushes them. The request picks its transcript by its text: the last
// chat message's content, or the prompt, names it; `stream` picks `<name>.sse.http` over
// `<name>.json.http` (an error transcript answers either). Runs as its own process:
// `node tests/dispatch/replay-origin.ts --port 0`; prints `listening <port>`. `GET /stats` lists
// the request bodies it received.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: { port: { type: 'string', default: '0' }, dir: { type: 'string' } },
});
const dir = opts.dir ?? join(import.meta.dirname, '../fixtures/upstream');
const bodies: unknown[] = [];

interface Transcript {
  status: number;
  headers: [string, string][];
  body: string;
}

/** A transcript file: `HTTP/1.1 <status> <reason>`, header lines, a blank line, the body. */
export function readTranscript(path: string): Transcript {
  const text = readFileSync(path, 'utf8');
  const end = text.indexOf('\r\n\r\n');
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  return {
    status: Number(statusLine.split(' ')[1]),
    headers: lines.map((l) => {
      const i = l.indexOf(':');
      return [l.slice(0, i), l.slice(i + 1).trim()] as [string, string];
    }),
    body: text.slice(end + 4),
  };
}

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (text += d));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

function nameOf(body: Record<string, unknown>): string {
  const messages = body.messages as { content?: unknown }[] | undefined;
  const text = messages ? messages.at(-1)?.content : body.prompt;
  return String(Array.isArray(text) ? text[0] : text).trim();
}

async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = JSON.parse(await read(req)) as Record<string, unknown>;
  bodies.push(body);
  const name = nameOf(body);
  const candidates = body.stream
    ? [`${name}.sse.http`, `${name}.json.http`]
    : [`${name}.json.http`];
  const file = candidates
    .map((f) => join(dir, f))
    .find((f) => /^[\w.-]+$/.test(name) && existsSync(f));
  if (!file) {
    res.writeHead(404, { 'content-type': 'application/json' });
    return void res.end(JSON.stringify({ object: 'error', message: `no transcript ${name}` }));
  }
  const t = readTranscript(file);
  // Node frames the body itself (chunked or with its length): those two headers are its to write.
  const headers = t.headers.filter(([k]) => !/^(transfer-encoding|content-length)$/i.test(k));
  res.writeHead(t.status, Object.fromEntries(headers));
  if (!t.headers.some(([k, v]) => k === 'content-type' && v.startsWith('text/event-stream')))
    return void res.end(t.body);
  for (const event of t.body.split(/(?<=\n\n)/)) {
    res.write(event);
    await new Promise((r) => setTimeout(r, 2));
  }
  res.end();
}

const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (req.method === 'GET' && path === '/health') return void res.end();
  if (req.method === 'GET' && path === '/stats') return void res.end(JSON.stringify({ bodies }));
  if (req.method === 'POST' && (path === '/v1/chat/completions' || path === '/v1/completions'))
    return void answer(req, res).catch((err: Error) => {
      res.writeHead(500);
      res.end(String(err));
    });
  res.writeHead(404);
  res.end();
});
server.listen(Number(opts.port), '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : opts.port}`);
});
