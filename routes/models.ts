// GET /v1/models and /v1/models/:id, and the resolver the generation routes use to find a model.
import { Hono, type Context } from 'hono';
import type { EdgeModel, EdgeRegistry } from '../dispatch/edge-registry';
import type { EdgeManifest } from '../dispatch/edge-manifest';
import { modelNotFound } from '../protocol/errors';
import type { ModelCard, ModelList } from '../protocol/responses';
import type { AppEnv } from './env';

export type ModelResolver = (c: Context<AppEnv>, id: string) => Promise<EdgeModel>;

export function modelResolver(registry: EdgeRegistry): ModelResolver {
  return (c, id) => registry.get(c.env.MODELS, id);
}

const card = (m: EdgeManifest): ModelCard => ({
  id: m.id,
  object: 'model',
  created: m.created,
  owned_by: m.owned_by,
  placement: 'edge',
  ...(m.description ? { description: m.description } : {}),
});

export function models(registry: EdgeRegistry) {
  const app = new Hono<AppEnv>();
  app.get('/', async (c) => {
    const list: ModelList = { object: 'list', data: (await registry.list(c.env.MODELS)).map(card) };
    return c.json(list);
  });
  app.get('/:id{.+}', async (c) => {
    const id = c.req.param('id');
    const found = (await registry.list(c.env.MODELS)).find((m) => m.id === id);
    if (!found) throw modelNotFound(id);
    return c.json(card(found));
  });
  return app;
}
