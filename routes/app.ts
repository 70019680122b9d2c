// The Hono app: request id → auth → metering → routes, one onError. Built once per isolate.
import { Hono, type Context } from 'hono';
import { Dispatcher } from '../dispatch/dispatcher';
import { EdgeRegistry } from '../dispatch/edge-registry';
import { errorResponse } from '../protocol/error-response';
import { ApiError } from '../protocol/errors';
import { requestId } from '../protocol/request-id';
import { admin } from './admin';
import { anthropic } from './anthropic';
import { adminCache } from './admin-cache';
import { chatCompletions } from './chat-completions';
import { completions } from './completions';
import { dashboard } from './dashboard';
import type { AppEnv } from './env';
import { auth } from './middleware/auth/index';
import { apiCors } from './middleware/cors/index';
import { metering } from './middleware/metering/index';
import { timing } from './middleware/timing/index';
import { allowedMethods, methodNotAllowed } from './methods';
import { modelResolver, models } from './models';
import { openapi } from './openapi';
import { balance, usage } from './usage';

export interface AppDeps {
  /** The compiled WASM-SIMD kernels (`kernels-wasm/build/kernels.wasm`). */
  kernels: WebAssembly.Module;
  /** A model registry (dispatch/registry.ts) as data, e.g. an imported JSON file; else the MODEL_REGISTRY var. */
  modelRegistry?: unknown;
}

/** Where the generation and model routes answer: OpenAI's /v1, DeepSeek's root and its /beta. */
export const API_BASES = ['/v1', '', '/beta'] as const;

/** Where a request needs a key (the Anthropic routes call back into these). */
const KEYED_PATHS = [
  '/v1/*',
  '/beta/*',
  '/chat/completions',
  '/completions',
  '/models',
  '/models/*',
  '/user/*',
];

/** The execution context, absent under app.request() (tests). */
function ctxOf(c: Context<AppEnv>): ExecutionContext | undefined {
  try {
    return c.executionCtx as ExecutionContext;
  } catch {
    return undefined;
  }
}

export function createApp(deps: AppDeps) {
  const registry = new EdgeRegistry(deps.kernels);
  const resolve = modelResolver(registry);
  // Origin pools, their health and the routing policy: one per isolate, like the edge registry.
  const dispatcher = new Dispatcher({ registry: deps.modelRegistry });
  const app = new Hono<AppEnv>();

  app.use('*', requestId());
  // Before auth: a browser's preflight carries no key. Not on /admin, /dashboard or /openapi.json.
  for (const path of [...KEYED_PATHS, '/anthropic/*']) app.use(path, apiCors());
  // First, so that a time to first token counts auth and admission too.
  for (const base of API_BASES) {
    app.use(`${base}/chat/completions`, timing());
    app.use(`${base}/completions`, timing());
  }
  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.route('/openapi.json', openapi());
  app.route('/dashboard', dashboard());
  app.route('/admin/prompt-cache', adminCache());
  app.route('/admin', admin());
  // Like OpenAI, everything under /v1 (models included) needs a key; /health and /dashboard do not.
  // DeepSeek's base URL has no /v1 and its beta features (FIM, chat prefix) live under /beta: the
  // same routers answer at each of the three prefixes, with the same auth and metering.
  for (const path of KEYED_PATHS) app.use(path, auth());
  for (const base of API_BASES) {
    app.use(`${base}/chat/completions`, metering());
    app.use(`${base}/completions`, metering());
  }
  app.route('/v1/usage', usage());
  // DeepSeek's path, and under /v1 for an OpenAI-style base URL (the `openai` client's default shape)
  app.route('/user', balance());
  app.route('/v1/user', balance());
  for (const base of API_BASES) {
    app.route(`${base}/models`, models(registry, dispatcher));
    app.route(`${base}/chat/completions`, chatCompletions(resolve, dispatcher));
    app.route(`${base}/completions`, completions(resolve, dispatcher));
  }
  // Anthropic's Messages API: translated onto the chat route above, run through this same app.
  app.route(
    '/anthropic',
    anthropic(resolve, dispatcher, async (req, c) => app.fetch(req, c.env, ctxOf(c))),
  );

  app.notFound((c) => {
    const path = new URL(c.req.url).pathname;
    const allowed = allowedMethods(app, path);
    if (allowed.length && !allowed.includes(c.req.method)) {
      c.header('allow', allowed.join(', '));
      return errorResponse(c, methodNotAllowed(c.req.method, path, allowed));
    }
    return errorResponse(
      c,
      new ApiError(
        404,
        `Unknown endpoint: ${c.req.method} ${path}`,
        'not_found_error',
        'unknown_url',
      ),
    );
  });
  app.onError((err, c) => errorResponse(c, err));
  return app;
}
