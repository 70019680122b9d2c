// Builds a running origin from options: model, backend, prefix cache, scheduler, metrics, HTTP app.
// main.ts serves it; tests and benches may start one in-process the same way.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { ReferenceBackend } from './backend/reference-backend';
import type { StepBackend } from './backend/step-backend';
import { originMetrics } from './metrics';
import { loadOriginModel } from './model/load';
import { UsageError, type OriginOptions } from './options';
import { PrefixCache } from './scheduler/prefix-cache';
import { Scheduler } from './scheduler/scheduler';
import { originApp, type OriginContext } from './server/app';

export interface Origin {
  app: Hono<any>;
  context: OriginContext;
  backend: StepBackend;
  /** One line for the log: what runs, from where. */
  summary: string;
}

export async function createOrigin(o: OriginOptions): Promise<Origin> {
  if (o.backend === 'webgpu') {
    throw new UsageError('--backend webgpu: the WebGPU DeepSeek backend (kernels-gpu/) is not built yet; use --backend reference');
  }
  const model = loadOriginModel(o.model, { gemm: o.gemm, seed: o.seed });
  const backend = await ReferenceBackend.create(model.weights, { maxSlots: o.maxSeqs, maxSeqLen: o.maxSeqLen, maxStepTokens: o.maxStepTokens });
  const cache = new PrefixCache(o.prefixCacheMb * 2 ** 20);
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
  };
  const tokenizerNote = !o.model.startsWith('synthetic:') && existsSync(join(o.model, 'tokenizer.json'))
    ? ' (tokenizer.json is not read yet: byte-level fallback)'
    : '';
  const summary = `model ${context.modelId} from ${model.source}, backend ${backend.name} (${o.gemm}), tokenizer ${model.tokenizer.name}${tokenizerNote}, ` +
    `${backend.maxSlots} sequences x ${backend.maxSeqLen} positions`;
  return { app: originApp(context), context, backend, summary };
}
