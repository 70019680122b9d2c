// The model registry: which model runs where. Typed data (the `MODEL_REGISTRY` var in wrangler.toml,
// or a JSON file handed to createApp), validated once: a bad registry fails loudly instead of
// misrouting. Each model is `edge` (weights in R2) or an origin pool; either may list fallbacks.
// Aliases give a model a second name (DeepSeek's `deepseek-chat`, `deepseek-reasoner`) with its own
// flags: a reasoning alias of a plain model, an alias that must never fall back.
import { z } from 'zod';
import { LATENT_CODEC_NAMES } from '../engine/prompt-cache/latent-payload';

const modelId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/, 'model id: letters, digits, . _ : / -');
const ms = z.number().int().positive();

const origin = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, '')),
  /** Share of new prefixes this origin gets relative to the pool (weighted rendezvous hashing). */
  weight: z.number().positive().default(1),
  /** Shown in `x-served-by`; defaults to the URL's host. */
  name: z.string().min(1).optional(),
});

const timeouts = z.strictObject({
  /**
   * Until the origin shows it is reachable: its response headers, or (when it holds them until its
   * first token, as ours does) an answer from its health path. A dead or unroutable host fails here.
   */
  connect_ms: ms.default(2_000),
  /** Until the first generated token; before it the request may still go to another origin. */
  first_token_ms: ms.default(30_000),
  /** The whole generation. */
  total_ms: ms.default(600_000),
});

const auth = z.strictObject({
  header: z.string().min(1).default('authorization'),
  /** Prepended to the secret, e.g. "Bearer". */
  scheme: z.string().optional(),
  /** Name of the Worker secret (`wrangler secret put NAME`) that holds the credential. */
  secret: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'a secret name such as ORIGIN_TOKEN'),
});

const common = {
  fallbacks: z.array(modelId).default([]),
  /** false: never answer with a fallback; the client gets a 503 with retry-after instead. */
  fallback: z.boolean().default(true),
  /** A reasoning model: its answer opens with a `<think>` block, sent as `reasoning_content`. */
  reasoning: z.boolean().default(false),
  description: z.string().optional(),
  owned_by: z.string().optional(),
  context_length: z.number().int().positive().optional(),
};

/**
 * An edge model's prefill tier (docs/prompt-cache.md, "Prefill at an origin"): origins serving the same
 * checkpoint (`--internal-secret`, the CPU backend) compute a long prompt; their latent blocks are
 * written to the prompt cache in Workers KV and the edge decodes from them.
 */
const edgePrefill = z.strictObject({
  origins: z.array(origin).min(1),
  /** The origins' `--internal-secret`, as a Worker secret: the entries endpoint is internal. */
  auth: auth.default({ header: 'authorization', scheme: 'Bearer', secret: 'PREFILL_SECRET' }),
  /** Prompt tokens not already cached from which the prompt is prefilled at an origin. */
  min_prompt_tokens: z.number().int().positive().default(512),
  /** The entries' latent codec: f32 is exact (the edge decodes as from its own prefill). */
  codec: z.enum(LATENT_CODEC_NAMES).default('f32'),
  /** connect_ms as for a pool; first_token_ms bounds the whole hand-off (the entries are its output). */
  timeouts: timeouts.default({ connect_ms: 2_000, first_token_ms: 30_000, total_ms: 600_000 }),
  max_concurrency: z.number().int().positive().default(32),
  max_queue: z.number().int().nonnegative().default(64),
  affinity_chars: z.number().int().positive().default(512),
  affinity_min_load: z.number().int().positive().default(4),
  health_path: z.string().startsWith('/').default('/health'),
});

const edgeModel = z.strictObject({
  placement: z.literal('edge'),
  ...common,
  prefill: edgePrefill.optional(),
});

const originModel = z.strictObject({
  placement: z.literal('origin'),
  ...common,
  origins: z.array(origin).min(1),
  /** Requests in flight per origin (from this isolate) before it counts as saturated. */
  max_concurrency: z.number().int().positive().default(32),
  /** Queue depth reported by an origin's /health above which it counts as saturated. */
  max_queue: z.number().int().nonnegative().default(64),
  timeouts: timeouts.default({ connect_ms: 2_000, first_token_ms: 30_000, total_ms: 600_000 }),
  auth: auth.optional(),
  /** The model name the origin knows (vLLM's served model name); defaults to the registry id. */
  upstream_model: z.string().min(1).optional(),
  /** Sent when the client names no max_tokens, and the most a request is reserved for. Unset, the origin's own default applies (one that fits its context) and 4096 is reserved. */
  max_output_tokens: z.number().int().positive().optional(),
  /** Characters of the prompt whose hash picks the origin (prefix affinity). */
  affinity_chars: z.number().int().positive().default(512),
  /** Requests in flight below which an origin keeps every prefix it owns (bounded load only above it). */
  affinity_min_load: z.number().int().positive().default(4),
  /** Kept for old registries: the tenant salt is now always sent as the body field `cache_salt` (vLLM's prefix-cache isolation). */
  cache_salt_in_body: z.boolean().default(false),
  health_path: z.string().startsWith('/').default('/health'),
  /**
   * Prefill/decode separation (docs/origin.md, "Roles"): origins started with `--role prefill`, which
   * compute prompts for the decode origins; the one the prompt's prefix hashes to is named to the
   * decode origin in `x-prefill-origin` (it keeps that prefix in its cache).
   */
  prefill: z.array(origin).default([]),
  /** Origins started with `--role decode`: requests go to them first, then to `origins` (colocated). */
  decode: z.array(origin).default([]),
});

/** Another name for `model`; its flags, when given, win over the model's. */
const alias = z.strictObject({
  model: modelId,
  reasoning: z.boolean().optional(),
  fallback: z.boolean().optional(),
  owned_by: z.string().optional(),
  description: z.string().optional(),
});

const registryFile = z
  .strictObject({
    comment: z.string().optional(),
    models: z.record(modelId, z.discriminatedUnion('placement', [edgeModel, originModel])),
    aliases: z
      .record(modelId, z.union([modelId.transform((model) => ({ model })), alias]))
      .default({}),
  })
  .superRefine((file, ctx) => {
    for (const [id, a] of Object.entries(file.aliases)) {
      if (id in file.models)
        ctx.addIssue({ code: 'custom', path: ['aliases', id], message: 'a model has this id' });
      if (a.model in file.aliases)
        ctx.addIssue({
          code: 'custom',
          path: ['aliases', id, 'model'],
          message: 'an alias names a model, not another alias',
        });
    }
    for (const [id, m] of Object.entries(file.models)) {
      m.fallbacks.forEach((f, i) => {
        if (f === id)
          ctx.addIssue({
            code: 'custom',
            path: ['models', id, 'fallbacks', i],
            message: 'a model cannot fall back to itself',
          });
      });
      if (m.placement !== 'origin') continue;
      const maxOut = m.max_output_tokens;
      if (m.context_length !== undefined && maxOut !== undefined && maxOut >= m.context_length) {
        ctx.addIssue({
          code: 'custom',
          path: ['models', id, 'max_output_tokens'],
          message: `must be below context_length (${m.context_length}): it is sent when a request names no max_tokens`,
        });
      }
      const urls = m.origins.map((o) => o.url);
      if (new Set(urls).size !== urls.length)
        ctx.addIssue({
          code: 'custom',
          path: ['models', id, 'origins'],
          message: 'origin URLs must be distinct',
        });
      checkRoles(m, ['models', id], ctx);
    }
  });

/** Prefill origins need decode origins to pull from them; no URL serves two roles. */
function checkRoles(
  m: { origins: { url: string }[]; prefill: { url: string }[]; decode: { url: string }[] },
  path: string[],
  ctx: z.RefinementCtx,
): void {
  if (m.prefill.length > 0 && m.decode.length === 0)
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'prefill'],
      message: 'prefill origins need decode origins (--role decode) that pull from them',
    });
  const all = [...m.prefill, ...m.decode].map((o) => o.url);
  const seen = new Set(m.origins.map((o) => o.url));
  for (const url of all) {
    if (seen.has(url))
      ctx.addIssue({
        code: 'custom',
        path,
        message: `origin ${url} is listed twice (origins, prefill and decode are distinct)`,
      });
    seen.add(url);
  }
}

export type EdgeEntry = z.infer<typeof edgeModel> & { id: string };
export type PrefillTier = z.infer<typeof edgePrefill>;
/** What choosing among origins and probing them needs of a pool (an origin pool or a prefill tier). */
export type ChoosablePool = Pick<
  OriginPool,
  | 'origins'
  | 'affinity_chars'
  | 'max_concurrency'
  | 'max_queue'
  | 'affinity_min_load'
  | 'timeouts'
  | 'health_path'
  | 'auth'
>;
export type OriginPool = z.infer<typeof originModel> & { id: string };
export type OriginConfig = z.infer<typeof origin>;
export type RegistryEntry = EdgeEntry | OriginPool;
export type AliasEntry = z.infer<typeof alias> & { id: string };

/** A model name as a client sent it, resolved: the model that runs, the name its answers show, its flags. */
export interface NamedModel {
  /** The model that runs (the alias's target, or the name itself). */
  id: string;
  /** The name the client used: answers carry it in `model`, as DeepSeek's do. */
  shownAs: string;
  reasoning: boolean;
  fallback: boolean;
}

export class ModelRegistry {
  private constructor(
    private readonly entries: Map<string, RegistryEntry>,
    private readonly aliasMap: Map<string, AliasEntry> = new Map(),
  ) {}

  static readonly empty = new ModelRegistry(new Map());

  /** Parses and validates a registry (JSON text or an already parsed object); throws a readable error. */
  static parse(input: unknown): ModelRegistry {
    let data = input;
    if (typeof input === 'string') {
      if (input.trim() === '') return ModelRegistry.empty;
      try {
        data = JSON.parse(input);
      } catch (err) {
        throw new Error(`invalid model registry: not JSON (${(err as Error).message})`, {
          cause: err,
        });
      }
    }
    const parsed = registryFile.safeParse(data);
    if (!parsed.success) {
      const issues = parsed.error.issues.map(
        (i) => `${i.path.join('.') || '(root)'}: ${i.message}`,
      );
      throw new Error(`invalid model registry:\n  ${issues.join('\n  ')}`);
    }
    const entries = new Map<string, RegistryEntry>();
    for (const [id, m] of Object.entries(parsed.data.models)) entries.set(id, { ...m, id });
    const aliases = new Map<string, AliasEntry>();
    for (const [id, a] of Object.entries(parsed.data.aliases)) aliases.set(id, { ...a, id });
    return new ModelRegistry(entries, aliases);
  }

  /** What a client's model name runs, and how (an edge model only in R2 is its own name, unflagged). */
  resolve(name: string): NamedModel {
    const a = this.aliasMap.get(name);
    const entry = this.entries.get(a?.model ?? name);
    return {
      id: a?.model ?? name,
      shownAs: name,
      reasoning: a?.reasoning ?? entry?.reasoning ?? false,
      fallback: a?.fallback ?? entry?.fallback ?? true,
    };
  }

  aliases(): AliasEntry[] {
    return [...this.aliasMap.values()];
  }

  get(id: string): RegistryEntry | undefined {
    return this.entries.get(id);
  }

  list(): RegistryEntry[] {
    return [...this.entries.values()];
  }

  /** Secrets an origin pool names that `env` lacks: checked at start, so a missing one is not a 401 per request. */
  missingSecrets(env: Record<string, unknown>): string[] {
    const names = this.list().flatMap((m) =>
      m.placement === 'origin'
        ? m.auth
          ? [m.auth.secret]
          : []
        : m.prefill
          ? [m.prefill.auth.secret]
          : [],
    );
    return [...new Set(names)].filter((n) => typeof env[n] !== 'string' || env[n] === '');
  }
}

/** The label an origin goes by in `x-served-by` and the ledger. */
export const originName = (o: OriginConfig): string => o.name ?? new URL(o.url).host;

/**
 * One parsed registry per distinct source, so each isolate validates it once (at its first request;
 * a Worker has no env before then). A JSON file given to createApp wins over the var.
 */
export function registryLoader(
  file?: unknown,
): (env: { MODEL_REGISTRY?: unknown }) => ModelRegistry {
  let cached: { source: unknown; registry: ModelRegistry } | null = null;
  return (env) => {
    const source = file ?? env.MODEL_REGISTRY ?? '';
    if (cached?.source !== source) {
      const registry = ModelRegistry.parse(source);
      const missing = registry.missingSecrets(env as Record<string, unknown>);
      if (missing.length)
        throw new Error(`invalid model registry: secrets not set: ${missing.join(', ')}`);
      cached = { source, registry };
    }
    return cached.registry;
  };
}
