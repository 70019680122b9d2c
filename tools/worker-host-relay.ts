// The disconnect relay of tools/worker-host.ts. workerd does not notice a client that closes its
// socket while a Worker computes a JSON answer (it reads nothing more from the socket and writes
// only at the end), so request.signal never aborts for a client of workerd's HTTP listener, and
// the same holds for `wrangler dev`. A service-binding fetch whose signal aborts does cancel the
// callee (request.signal fires). So: a Node listener takes each request and forwards it to a relay
// Worker with a request body held open; when the client goes away Node drops that upstream
// connection, the relay's pending body read fails, and it aborts its fetch to the real Worker.
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';

/** The relay Worker (in the same workerd as the real one, bound to it as USER). */
export const RELAY_SCRIPT = `export default {
  async fetch(req, env) {
    const length = Number(req.headers.get('x-host-length'));
    const reader = req.body.getReader();
    const body = new Uint8Array(length);
    for (let got = 0; got < length; ) {
      const { value, done } = await reader.read();
      if (done) return new Response('short body', { status: 400 });
      body.set(value.subarray(0, length - got), got);
      got += value.length;
    }
    // Until the answer starts, the held-open body is the client's presence; a streamed answer
    // is cancelled by workerd itself when a write to a closed socket fails.
    const abort = new AbortController();
    let answered = false;
    reader.read().then(null, () => answered || abort.abort());
    const headers = new Headers(req.headers);
    for (const h of ['x-host-length', 'x-host-method', 'x-host-url']) headers.delete(h);
    const method = req.headers.get('x-host-method');
    const res = await env.USER.fetch(req.headers.get('x-host-url'), {
      method, headers, body: method === 'GET' || method === 'HEAD' ? null : body, cf: req.cf,
      signal: abort.signal,
    });
    answered = true;
    return res;
  },
};`;

const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'host',
  'expect',
];

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A Node listener on host:port that forwards every request through the relay at `relay`. */
export function startFrontListener(host: string, port: number, relay: URL): Promise<Server> {
  const server = createServer(async (req, res) => {
    const body = await readAll(req).catch(() => null);
    if (body === null) return;
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined && !HOP_BY_HOP.includes(k)) headers[k] = v;
    const up = httpRequest(
      {
        host: relay.hostname,
        port: relay.port,
        method: 'POST',
        path: req.url,
        // a connection per request: workerd closes one whose held-open body it stopped reading
        agent: false,
        headers: {
          ...headers,
          'transfer-encoding': 'chunked',
          'x-host-length': String(body.length),
          'x-host-method': req.method ?? 'GET',
          'x-host-url': `http://${req.headers.host ?? `${host}:${port}`}${req.url}`,
        },
      },
      (answer) => {
        const raw = answer.rawHeaders;
        const kept: string[] = [];
        for (let i = 0; i < raw.length; i += 2)
          if (!['connection', 'keep-alive'].includes(raw[i].toLowerCase()))
            kept.push(raw[i], raw[i + 1]);
        res.writeHead(answer.statusCode ?? 502, kept);
        answer.pipe(res);
        answer.on('end', () => up.end());
      },
    );
    let clientGone = false;
    up.on('error', (err) => {
      if (clientGone) return; // our own drop, below
      console.error(`worker host: ${req.method} ${req.url}: ${err.message}`);
      if (res.headersSent) res.destroy();
      else res.writeHead(502).end();
    });
    // The client left before the answer ended: drop the upstream connection (the relay aborts).
    res.on('close', () => {
      if (res.writableFinished) return;
      clientGone = true;
      up.destroy();
    });
    up.write(body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
