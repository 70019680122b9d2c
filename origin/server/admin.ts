// The origin's admin routes (mounted by app.ts under /admin): expert load of the current window per MoE
// layer, its reset, and the EP placement when --ep is on. Bearer --admin-token (or ORIGIN_ADMIN_TOKEN)
// guards them: 401 without the token, and 404 when the origin runs without one (nothing to guard with).
import { Hono } from 'hono';
import { timingSafeEqual } from 'node:crypto';
import { ApiError } from '../../protocol/errors';
import type { ExpertRuntime } from '../ep/expert-hooks';
import { rankImbalance } from '../ep/eplb';

export interface AdminContext {
  token?: string;
  /** The CPU backend's expert runtime; absent on backends that do not count (webgpu). */
  experts?: ExpertRuntime;
}

const sameToken = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export function adminApp(ctx: AdminContext): Hono {
  const app = new Hono();
  app.use(async (c, next) => {
    if (!ctx.token)
      throw new ApiError(
        404,
        'Admin routes are off: start the origin with --admin-token.',
        'invalid_request_error',
        'not_found',
      );
    const auth = c.req.header('authorization') ?? '';
    const given = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    if (!sameToken(given, ctx.token))
      throw new ApiError(
        401,
        'A valid admin token is required (Authorization: Bearer <token>).',
        'authentication_error',
        'invalid_api_key',
      );
    await next();
  });

  const runtime = () => {
    if (!ctx.experts)
      throw new ApiError(
        404,
        'This backend does not count expert load (the cpu backend does).',
        'invalid_request_error',
        'not_found',
      );
    return ctx.experts;
  };

  app.get('/experts', (c) => {
    const { stats, pool, redundant } = runtime();
    const layers = stats.snapshot();
    const placement = pool
      ? pool.placements.map((p, i) => ({
          layer: layers[i].layer,
          slots: p.slots,
          expected_rank_imbalance: rankImbalance(p.rankLoad),
        }))
      : null;
    return c.json({
      window_start: new Date(stats.windowStart).toISOString(),
      window_s: (Date.now() - stats.windowStart) / 1000,
      experts: stats.experts,
      layers,
      ep: pool
        ? { ranks: pool.placements[0]?.ranks ?? 0, redundant_per_rank: redundant, placement }
        : null,
    });
  });

  app.post('/experts/reset', (c) => {
    runtime().stats.reset();
    return c.json({
      reset: true,
      window_start: new Date(runtime().stats.windowStart).toISOString(),
    });
  });
  return app;
}
