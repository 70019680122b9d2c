// The relay benchmark's Worker (bench/relay.ts bundles it and runs it in workerd through Miniflare):
// the dispatcher's own path — openUpstream, then relayResponse — in front of one origin, UPSTREAM.
// The origin is asked for a client-ready stream, which the relay pipes without reading
// (dispatch/relay-piped.ts); MODE=read has it read every frame as for an origin that cannot.
// MODE names a floor to compare with: `native` hands the origin's body to workerd untouched (no
// JS per chunk), `identity` pipes it through an IdentityTransformStream (the piped relay's plumbing),
// `js` reads each chunk in JS and enqueues it unchanged (the least a relay that sees the frames can do).
import { HealthBoard } from '../dispatch/health';
import { relayResponse } from '../dispatch/relay';
import { ModelRegistry, type OriginPool } from '../dispatch/registry';
import { openUpstream } from '../dispatch/upstream';

const health = new HealthBoard();
let pool: OriginPool | null = null;
let n = 0;

export default {
  async fetch(
    request: Request,
    env: { UPSTREAM: string; MODE?: string },
    worker: { waitUntil(p: Promise<unknown>): void },
  ): Promise<Response> {
    pool ??= ModelRegistry.parse({
      models: { tiny: { placement: 'origin', origins: [{ url: env.UPSTREAM }] } },
    }).get('tiny') as OriginPool;
    const body = (await request.json()) as Record<string, unknown>;
    if (env.MODE === 'native' || env.MODE === 'js' || env.MODE === 'identity')
      return floor(env, body);
    const requestId = `bench-${++n}`;
    const created = Math.floor(Date.now() / 1000);
    // MODE=read: the relay reads every frame (the origin is not asked for a client-ready stream)
    const relayHead =
      env.MODE === 'read'
        ? undefined
        : {
            key: crypto.randomUUID(),
            id: `chatcmpl-${requestId}`,
            model: 'tiny',
            created,
            system_fingerprint: 'fp_bench',
            include_usage: true,
          };
    const up = await openUpstream(
      pool.origins,
      {
        pool,
        path: '/v1/chat/completions',
        body,
        requestId,
        salt: 'bench',
        signal: request.signal,
        ...(relayHead ? { relayHead } : {}),
      },
      health,
    );
    const ctx = {
      id: `chatcmpl-${requestId}`,
      model: 'tiny',
      created,
      fingerprint: 'fp_bench',
      object: 'chat.completion.chunk' as const,
      includeUsage: true,
      promptEstimate: 0,
      waitUntil: (p: Promise<unknown>) => worker.waitUntil(p),
      settle: async () => undefined,
    };
    return relayResponse(up, ctx, (err) => ({ error: { message: String(err) } }), {});
  },
};

async function floor(env: { UPSTREAM: string; MODE?: string }, body: object): Promise<Response> {
  const res = await fetch(`${env.UPSTREAM}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const headers = { 'content-type': 'text/event-stream' };
  if (env.MODE === 'native') return new Response(res.body, { headers });
  if (env.MODE === 'identity') {
    // the piped relay's plumbing alone: the body through an IdentityTransformStream
    const { readable, writable } = new IdentityTransformStream();
    void res.body!.pipeTo(writable);
    return new Response(readable, { headers });
  }

  const reader = res.body!.getReader();
  const pass = new ReadableStream<Uint8Array>({
    async pull(c) {
      const r = await reader.read();
      if (r.done) c.close();
      else c.enqueue(r.value);
    },
  });
  return new Response(pass, { headers });
}
