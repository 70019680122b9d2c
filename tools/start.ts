// `npm start`: seed local R2 with edge models, host the Worker in Miniflare (tools/worker-host.ts),
// print its URL. The model is stories260K from ../shared/models when present, else a generated
// random-weight demo; beside it a DeepSeek-V3-architecture edge model (MLA + MoE + MTP on kernels-wasm):
// the project's own from models/<name>/ (config.json model_type deepseek_v3) when there is one, else
// deepseek-v3-edge-random; a second local origin serves the same files as its prefill tier, so its
// long prompts are prefilled at the origin and decoded at the edge (docs/prompt-cache.md).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepSeekConfig } from '../engine/deepseek/edge-load';
import { syntheticDeepSeekEdgeDir } from '../engine/deepseek/edge-synthetic';
import { syntheticLlama2cCheckpoint, syntheticLlama2cTokenizer } from '../engine/llama/synthetic';
import { startOrigin, type RunningOrigin } from '../origin/launch';
import { startPrefillOrigin } from './start-prefill';
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
function seedDeepSeekEdgeModel(): { id: string; dir: string } {
  const trained = trainedDeepSeekDir();
  if (trained) {
    const manifest = uploadModelDir(trained, {
      description: `DeepSeek-V3 architecture, the project's own (${trained}; its manifest says how far it was trained)`,
      persistTo,
      log: () => {},
    });
    return { id: manifest.id, dir: trained };
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
  return { id, dir };
}

/** The GPU-origin model `npm start` runs locally (a synthetic DeepSeek-V3-shaped model, random weights). */
const ORIGIN_MODEL = 'deepseek-v3-synthetic';

/**
 * Starts a local origin (ORIGIN_MODEL env: a `--model` value; `off` for none) and returns the
 * registry that routes ORIGIN_MODEL to it, falling back to the edge model when it is down, with
 * DeepSeek's two names for it: `deepseek-chat`, and `deepseek-reasoner` (flagged as reasoning; it
 * never falls back to the edge model, which cannot reason).
 */
async function startLocalOrigin(
  edgeModel: string,
  deepSeekEdge: { id: string; dir: string },
): Promise<{ origins: RunningOrigin[]; registry: string; vars: Record<string, string> } | null> {
  const model = process.env.ORIGIN_MODEL ?? 'synthetic:small';
  if (model === 'off') return null;
  const [origin, prefill] = await Promise.all([
    startOrigin(['--model', model, '--model-id', ORIGIN_MODEL], 180_000),
    startPrefillOrigin(deepSeekEdge.dir),
  ]);
  const registry = {
    models: {
      [ORIGIN_MODEL]: {
        placement: 'origin',
        description: `DeepSeek-V3 architecture (MLA, MoE, FP8), random weights, on a local origin (${model})`,
        origins: [{ url: origin.url, name: 'local-origin' }],
        fallbacks: [edgeModel],
      },
      [edgeModel]: { placement: 'edge' },
      [deepSeekEdge.id]: { placement: 'edge', prefill: prefill.tier },
    },
    aliases: {
      'deepseek-chat': { model: ORIGIN_MODEL, owned_by: 'deepseek' },
      'deepseek-reasoner': {
        model: ORIGIN_MODEL,
        owned_by: 'deepseek',
        reasoning: true,
        fallback: false,
      },
    },
  };
  return {
    origins: [origin, prefill.origin],
    registry: JSON.stringify(registry),
    vars: { PREFILL_SECRET: prefill.secret },
  };
}

const USAGE = `usage: npm start  (no arguments; set these in the environment)
  PORT=8787            the Worker's port; HOST=127.0.0.1 its address
  DEV_API_KEY=sk-local-dev   the local API key provisioned with a test balance
  ADMIN_SECRET=…       the admin secret (default: a fresh random one each start)
  ORIGIN_MODEL=synthetic:small   the local origin's --model (tiny|small|medium, a directory), or off
  PERSIST_TO=DIR       local state (R2, KV, D1) instead of .wrangler/state
  Seeds local R2 with stories260k (../shared/models) or a random-weight demo model and a DeepSeek-V3
  edge model (models/<name>/ when a deepseek_v3 directory is there, else deepseek-v3-edge-random), starts an origin
  serving deepseek-v3-synthetic and one serving the DeepSeek edge model's files (its prefill tier), then the
  Worker, and prints its URL, key and admin secret.`;

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
    `\nReady: ${url}/v1  (edge models: ${modelId}, ${deepSeekEdge.id}${local ? ` (long prompts prefilled on ${local.origins[1].url}); origin model: ${ORIGIN_MODEL} on ${local.origins[0].url}` : ''})`,
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
