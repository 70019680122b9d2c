// The Hono app: request id → routes, with one onError. Built once per isolate from its dependencies.
import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import { EdgeRegistry } from '../dispatch/edge-registry';
import { ApiError } from '../protocol/errors';
import { chatCompletions } from './chat-completions';
import { completions } from './completions';
import type { AppEnv } from './env';
import { errorResponse } from './errors';
import { modelResolver, models } from './models';
import { openapi } from './openapi';

export interface AppDeps {
  /** The compiled WASM-SIMD kernels (`kernels-wasm/build/kernels.wasm`). */
  kernels: WebAssembly.Module;
}

export function createApp(deps: AppDeps) {
  const registry = new EdgeRegistry(deps.kernels);
  const resolve = modelResolver(registry);
  const app = new Hono<AppEnv>();

  app.use('*', requestId({ headerName: 'x-request-id', limitLength: 128 }));
  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.route('/openapi.json', openapi());
  app.route('/v1/models', models(registry));
  app.route('/v1/chat/completions', chatCompletions(resolve));
  app.route('/v1/completions', completions(resolve));

  app.notFound((c) =>
    errorResponse(c, new ApiError(404, `Unknown endpoint: ${c.req.method} ${new URL(c.req.url).pathname}`, 'not_found_error', 'unknown_url')),
  );
  app.onError((err, c) => errorResponse(c, err));
  return app;
}
