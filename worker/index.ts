// The Worker entry: builds the app from its bindings and exports it (and the Durable Object
// classes its bindings name). Nothing else lives here.
// The relaxed-SIMD build (kernels-wasm/build.mjs): workerd's V8 runs it, and its Q8_0 matvec is faster there.
import kernels from '../kernels-wasm/build/kernels-relaxed.wasm';
import { sweepStale } from '../billing/ledger';
import { LEASE_TTL_MS } from '../billing/rate-limit';
import { createApp } from '../routes/app';
import type { Env } from '../routes/env';

export { RateLimiter } from '../billing/rate-limiter-object';

const app = createApp({ kernels });

export default {
  fetch: app.fetch,
  // The cron in wrangler.toml: refund reservations whose isolate died before settling them.
  scheduled: (_controller, env, ctx) =>
    ctx.waitUntil(sweepStale(env.DB, Date.now() - LEASE_TTL_MS)),
} satisfies ExportedHandler<Env>;
