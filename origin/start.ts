// Builds a running origin from options: model, backend, prefix cache, scheduler, metrics, HTTP app.
// main.ts serves it; tests and benches may start one in-process the same way.
import * as zlib from 'node:zlib';
import type { Hono } from 'hono';
import { loadDeepSeekModel } from '../engine/deepseek/weights';
import { useNativeCrc32 } from '../engine/prompt-cache/crc32';
import { CpuBackend } from './backend/cpu-backend';
import { selectBackend, StartupError } from './backend/select';
import type { StepBackend } from './backend/step-backend';
import { WebGpuBackend } from './backend/webgpu-backend';
import { startRebalancer } from './ep/rebalancer';
import { expertMetrics, originMetrics } from './metrics';
import { loadOriginModel, type OriginModel } from './model/load';
import type { OriginOptions } from './options';
import { latentBlockCodec } from './scheduler/latent-blocks';
import { PrefixCache } from './scheduler/prefix-cache';
import { Scheduler } from './scheduler/scheduler';
import { adminApp } from './server/admin';
import { originApp, type OriginContext } from './server/app';
import { handoffClient } from './server/handoff-pull';
import { RelayEnds } from './server/relay-ends';

export interface Origin {
  app: Hono<any>;
  context: OriginContext;
  backend: StepBackend;
  /** One line for the log: what runs, from where. */
  summary: string;
}

/** The model and the backend --backend selects, with a note for the startup line. */
async function createBackend(
  o: OriginOptions,
): Promise<{ model: OriginModel; backend: StepBackend; note: string }> {
  const selected = await selectBackend(o.backend);
  const sizes = { maxSlots: o.maxSeqs, maxSeqLen: o.maxSeqLen, maxStepTokens: o.maxStepTokens };
  const model = loadOriginModel(o.model, { seed: o.seed });
  if (selected.kind === 'cpu') {
    const backend = await CpuBackend.create(model.files, {
      ...sizes,
      gemm: o.gemm,
      mtp: o.spec !== 'off',
      ep: o.ep,
      epRedundant: o.epRedundant,
    });
    return {
      model,
      backend,
      note: `(${o.gemm}${selected.note ? `; auto: ${selected.note}` : ''})`,
    };
  }
  if (o.ep > 0)
    throw new StartupError('--ep runs routed experts on CPU worker threads: use --backend cpu');
  // The GPU keeps weights FP8 whatever --gemm says; --gemm picks how activations meet them.
  const weights = loadDeepSeekModel(model.files, { gemm: 'fp8' });
  try {
    const backend = await WebGpuBackend.create(weights, {
      gpu: selected.gpu,
      gemm: o.gemm,
      ...sizes,
    });
    const mode = o.gemm === 'fp8' ? 'W8A8' : 'FP8 weights, f32 activations';
    return {
      model,
      backend,
      note: `(${mode}) on ${backend.device}, ${(backend.gpuBytes / 2 ** 20).toFixed(0)} MiB`,
    };
  } catch (err) {
    throw new StartupError(`--backend webgpu: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Encoded blocks where the backend's rows can leave it as latents; the WebGPU backend keeps GPU rows exact. */
function createPrefixCache(o: OriginOptions, backend: StepBackend): PrefixCache {
  const codec =
    o.prefixCacheCodec !== 'exact' && backend.latents
      ? latentBlockCodec(backend.latents, o.prefixCacheCodec)
      : undefined;
  return new PrefixCache(o.prefixCacheMb * 2 ** 20, codec);
}

/** What the startup line says about speculative decoding, and why it is off when it is. */
function specNote(o: OriginOptions, backend: StepBackend, scheduler: Scheduler): string {
  if (scheduler.speculative) return `speculative decoding ${scheduler.specMethod} (1 draft token)`;
  if (o.spec === 'off') return 'speculative decoding off (--spec off)';
  if (backend.name !== 'cpu')
    return `speculative decoding off (the ${backend.name} backend runs without speculation)`;
  return 'speculative decoding off (the checkpoint has no MTP weights)';
}

export async function createOrigin(o: OriginOptions): Promise<Origin> {
  // every prompt-cache entry and hand-off block is checksummed: Node 22's native CRC where there is one
  if (typeof zlib.crc32 === 'function') useNativeCrc32(zlib.crc32);
  const { model, backend, note } = await createBackend(o);
  const cache = createPrefixCache(o, backend);
  let scheduler: Scheduler | undefined;
  const metrics = originMetrics({
    queueDepth: () => scheduler?.queueDepth ?? 0,
    active: () => scheduler?.activeCount ?? 0,
    cacheBlocks: () => cache.blocks,
    cacheBytes: () => cache.bytes,
  });
  scheduler = new Scheduler(backend, cache, model.tokenizer, metrics, {
    maxQueue: o.maxQueue,
    prefillChunk: o.prefillChunk,
    requestTimeoutMs: o.requestTimeoutS * 1000,
    retryAfterS: 1,
    speculative: o.spec !== 'off',
  });
  const context: OriginContext = {
    modelId: o.modelId ?? model.id,
    weightsDigest: model.weightsDigest,
    vocabSize: backend.vocabSize,
    backendName: backend.name,
    maxSeqLen: backend.maxSeqLen,
    maxSeqs: backend.maxSlots,
    tokenizer: model.tokenizer,
    scheduler,
    cache,
    metrics,
    startedAt: Date.now(),
    streamIntervalMs: o.streamIntervalMs,
    relayEnds: new RelayEnds(),
    scoresPrompts: backend.maxLogitRows !== undefined,
    ...roleContext(o, backend, scheduler, model.weightsDigest),
  };
  const codecNote =
    cache.codecName === o.prefixCacheCodec
      ? ''
      : ` (--prefix-cache-codec ${o.prefixCacheCodec}: the ${backend.name} backend keeps its rows exact)`;
  const summary =
    `model ${context.modelId} from ${model.source}, backend ${backend.name} ${note}, tokenizer ${model.tokenizer.description}, ` +
    `${backend.maxSlots} sequences x ${backend.maxSeqLen} positions, prefix cache ${o.prefixCacheMb} MiB ${cache.codecName}${codecNote}, ` +
    specNote(o, backend, scheduler) +
    (o.role === 'both' ? '' : `, role ${o.role}`);
  const experts = backend instanceof CpuBackend ? backend.experts : undefined;
  if (experts) {
    expertMetrics(metrics.registry, experts.stats);
    startRebalancer(experts, o.epRebalanceS);
  }
  const app = originApp(context);
  app.route('/admin', adminApp({ token: o.adminToken, experts }));
  const epNote = experts?.pool
    ? `, expert parallelism ${o.ep} ranks + ${o.epRedundant} redundant slots each`
    : '';
  return { app, context, backend, summary: summary + epNote };
}

/** --role: a decode origin pulls prompts from its prefill origins; one with a secret prefills for others. */
function roleContext(
  o: OriginOptions,
  backend: StepBackend,
  scheduler: Scheduler,
  weightsDigest: string,
): Pick<OriginContext, 'role' | 'handoff' | 'internal'> {
  if (o.role === 'both' && !o.internalSecret) return {};
  if (!backend.latents)
    throw new StartupError(`--role ${o.role}: the ${backend.name} backend cannot hand rows over`);
  const secret = o.internalSecret!;
  const common = { vocabSize: backend.vocabSize, latents: backend.latents };
  return {
    role: o.role,
    ...(o.role === 'decode'
      ? {
          handoff: handoffClient({
            ...common,
            origins: o.prefillOrigins,
            secret,
            maxSeqLen: backend.maxSeqLen,
            minTokens: o.handoffMinTokens,
            timeoutMs: o.requestTimeoutS * 1000,
          }),
        }
      : {
          internal: { ...common, secret, scheduler, maxSeqLen: backend.maxSeqLen, weightsDigest },
        }),
  };
}
