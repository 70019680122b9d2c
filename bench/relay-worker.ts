// The relay benchmark's Worker (bench/relay.ts bundles it and runs it in workerd through Miniflare):
// the dispatcher's own path — openUpstream, then relayResponse — in front of one origin, UPSTREAM.
import { HealthBoard } from '../dispatch/health';
import { relayResponse } from '../dispatch/relay';
import { ModelRegistry, type OriginPool } from '../dispatch/registry';
import { openUpstream } from '../dispatch/upstream';

const health = new HealthBoard();
let pool: OriginPool | null = null;
let n = 0;

export default {
  async fetch(request: Request, env: { UPSTREAM: string }): Promise<Response> {
    pool ??= ModelRegistry.parse({
      models: { tiny: { placement: 'origin', origins: [{ url: env.UPSTREAM }] } },
    }).get('tiny') as OriginPool;
    const body = (await request.json()) as Record<string, unknown>;
    const requestId = `bench-${++n}`;
    const up = await openUpstream(
      pool.origins,
      {
        pool,
        path: '/v1/chat/completions',
        body,
        requestId,
        salt: 'bench',
        signal: request.signal,
      },
      health,
    );
    const ctx = {
      id: `chatcmpl-${requestId}`,
      model: 'tiny',
      created: Math.floor(Date.now() / 1000),
      object: 'chat.completion.chunk' as const,
      includeUsage: true,
      promptEstimate: 0,
      settle: async () => undefined,
    };
    return relayResponse(up, ctx, (err) => ({ error: { message: String(err) } }), {});
  },
};
