// `npm start`: seed local R2 with edge models, host the Worker in Miniflare (tools/worker-host.ts),
// print its URL. The model is stories260K from ../shared/models when present, else a generated
// random-weight demo; beside it a DeepSeek-V3-architecture edge model (MLA + MoE + MTP on kernels-wasm):
// the project's own from models/<name>/ (config.json model_type deepseek_v3) when there is one, else
// deepseek-v3-edge-random. A local origin serves the trained model too (`<name>-origin`, DeepSeek's
// names point at it) and is the edge model's prefill tier: long prompts are prefilled at the origin and
// decoded at the edge (docs/prompt-cache.md).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepSeekConfig } from '../engine/deepseek/edge-load';
import { syntheticDeepSeekEdgeDir } from '../engine/deepseek/edge-synthetic';
import { syntheticLlama2cCheckpoint, syntheticLlama2cTokenizer } from '../engine/llama/synthetic';
import { startOrigin, type RunningOrigin } from '../origin/launch';
import { prefillTier, startPrefillOrigin } from './start-prefill';
import { runCli, UsageError } from './cli';
import { DEV_API_KEY, migrateLocal, provisionDevKey } from './dev-key';
import { findStories260k, repoRoot } from './paths';
import { uploadModelDir } from './model-upload';
import { uploadModel } from './upload-model';
import { startWorkerHost } from './worker-host';

const port = Number(process.env.PORT ?? 8787);
const host = process.env.HOST ?? '127.0.0.1';
/** Local state folder (Miniflare R2/KV/D1); default wrangler's `.wrangler/state`. */
const persistTo = process.env.PERSIST_TO;

function seedModel(): string {
  const stories = findStories260k();
  if (stories) {
    uploadModel({
      id: 'stories260k',
      checkpoint: stories.checkpoint,
      tokenizer: stories.tokenizer,
      description: 'llama2.c stories260K (tinyllamas, MIT)',
      persistTo,
    });
    return 'stories260k';
  }
  return seedDemoModel();
}

/** A random-weight model of the stories260K shape: it babbles, and its id says so. */
function seedDemoModel(): string {
  const dir = join(repoRoot, '.wrangler/demo-model');
  mkdirSync(dir, { recursive: true });
  const shape = {
    dim: 64,
    hiddenDim: 172,
    nLayers: 5,
    nHeads: 8,
    nKvHeads: 4,
    vocabSize: 512,
    seqLen: 512,
  };
  writeFileSync(join(dir, 'model.bin'), syntheticLlama2cCheckpoint(shape, 1));
  writeFileSync(join(dir, 'tokenizer.bin'), syntheticLlama2cTokenizer(shape.vocabSize));
  uploadModel({
    id: 'random-demo',
    checkpoint: join(dir, 'model.bin'),
    tokenizer: join(dir, 'tokenizer.bin'),
    description: 'random weights (no ../shared/models here): it babbles',
    persistTo,
  });
  return 'random-demo';
}

interface DeepSeekEdge {
  id: string;
  dir: string;
  /** The project's own model (models/<name>/), not the random-weight stand-in. */
  trained: boolean;
  /** Its positions (config.json max_position_embeddings), listed by /v1/models. */
  context: number | undefined;
}

/** models/<name>/ holding a DeepSeek-V3-architecture directory (a trained checkpoint), first by name. */
function trainedDeepSeekDir(): string | null {
  const root = join(repoRoot, 'models');
  if (!existsSync(root)) return null;
  for (const name of readdirSync(root).sort()) {
    const config = join(root, name, 'config.json');
    if (!existsSync(config) || !existsSync(join(root, name, 'tokenizer.json'))) continue;
    if (isDeepSeekConfig(JSON.parse(readFileSync(config, 'utf8')))) return join(root, name);
  }
  return null;
}

/**
 * The DeepSeek-V3-architecture edge model: models/<name>/ uploaded as <name> when present, else a
 * random-weight one of the synthetic `small` shape with one MTP layer and a byte-level tokenizer
 * (engine/deepseek/edge-synthetic.ts: DeepSeek's own 129,280-id vocabulary does not fit an isolate).
 */
function seedDeepSeekEdgeModel(): DeepSeekEdge {
  const trained = trainedDeepSeekDir();
  if (trained) {
    const config = JSON.parse(readFileSync(join(trained, 'config.json'), 'utf8'));
    const manifest = uploadModelDir(trained, {
      context: config.max_position_embeddings,
      description: `DeepSeek-V3 architecture, the project's own (${trained}; its manifest says how far it was trained)`,
      persistTo,
      log: () => {},
    });
    return {
      id: manifest.id,
      dir: trained,
      trained: true,
      context: config.max_position_embeddings,
    };
  }
  const dir = join(repoRoot, '.wrangler/deepseek-v3-edge-random');
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(syntheticDeepSeekEdgeDir({ seed: 1 })))
    writeFileSync(join(dir, name), bytes);
  const id = uploadModelDir(dir, {
    id: 'deepseek-v3-edge-random',
    description:
      'DeepSeek-V3 architecture (MLA, MoE, FP8, MTP) at the edge, random weights and a byte tokenizer: it babbles',
    persistTo,
    log: () => {},
  }).id;
  return { id, dir, trained: false, context: undefined };
}

interface LocalOrigins {
  origins: RunningOrigin[];
  /** MODEL_REGISTRY's JSON and the other Worker vars it needs. */
  registry: string;
  vars: Record<string, string>;
  originId: string;
  prefillUrl: string;
}

/** The origin model's id when the origin runs a synthetic DeepSeek-V3-shaped model (random weights). */
const SYNTHETIC_ORIGIN_MODEL = 'deepseek-v3-synthetic';

/**
 * Starts the local origin and returns the registry that routes to it, with DeepSeek's two names:
 * `deepseek-chat`, and `deepseek-reasoner` (flagged as reasoning; it never falls back). By default the
 * origin serves the trained model's own directory as `<id>-origin`, falls back to the same weights at
 * the edge, and prefills the edge model's long prompts (one process, `--internal-secret`): the model
 * is served at both tiers and dispatch places it at either. ORIGIN_MODEL (a `--model` value) serves
 * another model there, with a second origin as the edge model's prefill tier; `off`, none.
 */
async function startLocalOrigin(
  edgeModel: string,
  deepSeekEdge: DeepSeekEdge,
): Promise<LocalOrigins | null> {
  const model =
    process.env.ORIGIN_MODEL ?? (deepSeekEdge.trained ? deepSeekEdge.dir : 'synthetic:small');
  if (model === 'off') return null;
  const shared = model === deepSeekEdge.dir;
  const originId = shared ? `${deepSeekEdge.id}-origin` : SYNTHETIC_ORIGIN_MODEL;
  const secret = randomBytes(16).toString('hex');
  const [origin, prefill] = await Promise.all([
    startOrigin(
      ['--model', model, '--model-id', originId, ...(shared ? ['--internal-secret', secret] : [])],
      180_000,
    ),
    shared ? null : startPrefillOrigin(deepSeekEdge.dir, secret),
  ]);
  const prefillOrigin = prefill ?? origin;
  const registry = {
    models: {
      [originId]: {
        placement: 'origin',
        description: shared
          ? `${deepSeekEdge.id} (the project's own DeepSeek-V3-architecture model) on a local origin; falls back to the same weights at the edge`
          : `DeepSeek-V3 architecture (MLA, MoE, FP8), random weights, on a local origin (${model})`,
        origins: [{ url: origin.url, name: 'local-origin' }],
        ...(shared && deepSeekEdge.context ? { context_length: deepSeekEdge.context } : {}),
        fallbacks: [shared ? deepSeekEdge.id : edgeModel],
      },
      [edgeModel]: { placement: 'edge' },
      [deepSeekEdge.id]: { placement: 'edge', prefill: prefillTier(prefillOrigin) },
    },
    aliases: {
      'deepseek-chat': { model: originId, owned_by: 'deepseek' },
      'deepseek-reasoner': {
        model: originId,
        owned_by: 'deepseek',
        reasoning: true,
        fallback: false,
      },
    },
  };
  return {
    origins: prefill ? [origin, prefill] : [origin],
    registry: JSON.stringify(registry),
    vars: { PREFILL_SECRET: secret },
    originId,
    prefillUrl: prefillOrigin.url,
  };
}

const USAGE = `usage: npm start  (no arguments; set these in the environment)
  PORT=8787            the Worker's port; HOST=127.0.0.1 its address
  DEV_API_KEY=sk-local-dev   the local API key provisioned with a test balance
  ADMIN_SECRET=…       the admin secret (default: a fresh random one each start)
  ORIGIN_MODEL=DIR     the local origin's --model (synthetic:tiny|small|medium, a directory), or off;
                       default the trained model in models/<name>/ (else synthetic:small)
  PERSIST_TO=DIR       local state (R2, KV, D1) instead of .wrangler/state
  Seeds local R2 with stories260k (../shared/models) or a random-weight demo model and a DeepSeek-V3
  edge model (models/<name>/ when a deepseek_v3 directory is there, else deepseek-v3-edge-random), starts an
  origin serving the same model as <name>-origin (deepseek-chat, deepseek-reasoner) and prefilling the edge
  model's long prompts (with ORIGIN_MODEL set: that model, and a second origin as the prefill tier), then
  the Worker, and prints its URL, key and admin secret.`;

async function main(argv: string[]): Promise<void> {
  if (argv.length) throw new UsageError(`takes no arguments, got '${argv[0]}'`);
  const modelId = seedModel();
  const deepSeekEdge = seedDeepSeekEdgeModel();
  const local = await startLocalOrigin(modelId, deepSeekEdge);
  migrateLocal(persistTo);
  // The admin API needs a secret; locally a fresh one each start unless ADMIN_SECRET is set.
  const adminSecret = process.env.ADMIN_SECRET || `admin-${randomBytes(16).toString('hex')}`;
  const worker = await startWorkerHost({
    host,
    port,
    persistTo,
    vars: {
      ADMIN_SECRET: adminSecret,
      ...(local ? { MODEL_REGISTRY: local.registry, ...local.vars } : {}),
    },
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, async () => {
      await Promise.all([worker.dispose(), ...(local?.origins ?? []).map((o) => o.stop())]);
      process.exit(0);
    });
  }
  const url = `http://${host}:${port}`;
  const balance = await provisionDevKey(url, adminSecret);
  console.log(
    `\nReady: ${url}/v1  (edge models: ${modelId}, ${deepSeekEdge.id}${local ? ` (long prompts prefilled on ${local.prefillUrl}); origin model: ${local.originId} on ${local.origins[0].url}` : ''})`,
  );
  console.log(
    `  API key: ${DEV_API_KEY}  (balance ${balance} USD; set DEV_API_KEY to choose it)   admin secret: ${adminSecret}`,
  );
  console.log(`  usage dashboard: ${url}/dashboard#key=${DEV_API_KEY}`);
  console.log(
    `  curl ${url}/v1/chat/completions -H 'content-type: application/json' -H 'authorization: Bearer ${DEV_API_KEY}' \\`,
  );
  console.log(
    `    -d '{"model":"${modelId}","messages":[{"role":"user","content":"Once upon a time"}],"max_tokens":64}'\n`,
  );
}

runCli('start', USAGE, main);
