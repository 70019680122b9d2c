// GET /v1/models and /v1/models/:id, and the resolver the generation routes use to find a model.
// Aliases (`deepseek-chat`) are listed as DeepSeek lists its models, with our extension fields
// (placement, pricing, `alias_of`) taken from the model each runs.
import { Hono, type Context } from 'hono';
import type { EdgeModel, EdgeRegistry } from '../dispatch/edge-registry';
import type { EdgeManifest } from '../dispatch/edge-manifest';
import type { Dispatcher } from '../dispatch/dispatcher';
import type { AliasEntry, OriginPool } from '../dispatch/registry';
import { formatAmount } from '../billing/money';
import { prices } from '../billing/prices';
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
  ...('context_length' in m && m.context_length ? { context_length: m.context_length } : {}),
  ...(m.description ? { description: m.description } : {}),
});

const originCard = (m: OriginPool): ModelCard => ({
  id: m.id,
  object: 'model',
  created: 0,
  owned_by: m.owned_by ?? 'edge-inference',
  placement: 'origin',
  ...(m.context_length ? { context_length: m.context_length } : {}),
  ...(m.description ? { description: m.description } : {}),
});

/** Extension fields: what the model costs (billing/prices.json, per 1M tokens) and what answers when it cannot. */
function priced(card: ModelCard, fallbacks: string[]) {
  const p = prices.file.models[card.id] ?? prices.file.defaults[card.placement ?? 'edge'];
  const perMillion = (micros: number) => formatAmount(micros * 1000, 0); // micro-units → exact decimal text
  const pricing = {
    currency: prices.currency,
    per: '1M tokens',
    input_cache_hit: perMillion(p.input_cache_hit),
    input_cache_miss: perMillion(p.input_cache_miss),
    output: perMillion(p.output),
  };
  return { ...card, pricing, ...(fallbacks.length ? { fallbacks } : {}) };
}

type PricedCard = ReturnType<typeof priced>;

/** An alias's card: the model it runs, under the alias's name and owner (an alias of an absent model is not listed). */
const aliasCard = (a: AliasEntry, target: PricedCard | undefined): PricedCard[] =>
  target
    ? [
        {
          ...target,
          id: a.id,
          owned_by: a.owned_by ?? target.owned_by,
          alias_of: target.id,
          ...(a.description ? { description: a.description } : {}),
          ...(a.reasoning !== undefined ? { reasoning: a.reasoning } : {}),
        },
      ]
    : [];

/** Origin models from the registry, then the edge models in R2 (the registry may add their fallbacks), then aliases. */
async function listAll(c: Context<AppEnv>, registry: EdgeRegistry, dispatcher: Dispatcher) {
  const models = dispatcher.registry(c.env);
  const flagged = (card: PricedCard) =>
    models.get(card.id)?.reasoning ? { ...card, reasoning: true } : card;
  const origins = models
    .list()
    .flatMap((m) =>
      m.placement === 'origin' ? [flagged(priced(originCard(m), m.fallbacks))] : [],
    );
  const edge = (await registry.list(c.env.MODELS)).map((m) =>
    flagged(priced(card(m), models.get(m.id)?.fallbacks ?? [])),
  );
  const all = [...origins, ...edge.filter((e) => !origins.some((o) => o.id === e.id))];
  const aliases = models.aliases().flatMap((a) =>
    aliasCard(
      a,
      all.find((m) => m.id === a.model),
    ),
  );
  return [...all, ...aliases];
}

export function models(registry: EdgeRegistry, dispatcher: Dispatcher) {
  const app = new Hono<AppEnv>();
  app.get('/', async (c) => {
    const list: ModelList = { object: 'list', data: await listAll(c, registry, dispatcher) };
    return c.json(list);
  });
  app.get('/:id{.+}', async (c) => {
    const id = c.req.param('id');
    const found = (await listAll(c, registry, dispatcher)).find((m) => m.id === id);
    if (!found) throw modelNotFound(id);
    return c.json(found);
  });
  return app;
}
