// The origin's command line: `npm run origin -- --model <dir | synthetic:preset> [--port N] [...]`.
import { parseArgs } from 'node:util';
import { UsageError } from '../tools/cli';
import type { BackendChoice } from './backend/select';
import { PREFIX_CACHE_CODECS, type PrefixCacheCodec } from './scheduler/latent-blocks';

export interface OriginOptions {
  model: string;
  modelId?: string;
  host: string;
  /** 0: any free port (the startup line prints the one taken). */
  port: number;
  backend: BackendChoice;
  gemm: 'fp8' | 'dequantized';
  seed: number;
  maxSeqs: number;
  maxQueue: number;
  maxSeqLen?: number;
  maxStepTokens: number;
  prefillChunk: number;
  requestTimeoutS: number;
  prefixCacheMb: number;
  prefixCacheCodec: PrefixCacheCodec;
  /** Speculative decoding: 'mtp' drafts with the checkpoint's MTP module; absent: mtp when it has one. */
  spec?: 'mtp' | 'off';
}

export const USAGE = `usage: npm run origin -- --model <dir | synthetic:tiny|small|medium> [options]
  --port N               listen port (default 8000; 0 = any free port)
  --host H               listen address (default 127.0.0.1)
  --backend B            auto (default: webgpu on a hardware GPU, else cpu) | cpu (WASM-SIMD kernels;
                         'reference' is an alias) | webgpu (WGSL kernels; also runs on a software
                         adapter such as lavapipe)
  --model-id ID          the id clients send as "model" (default: directory name, or synthetic-<preset>)
  --gemm G               fp8 (FP8 weights stay FP8, default; cpu: f32 activations; webgpu: W8A8) |
                         dequantized (cpu: f32 weights at load; webgpu: FP8 weights, f32 activations)
  --seed N               seed of a synthetic model (default 1)
  --max-seqs N           concurrent sequences in the batch (default 16)
  --max-queue N          requests that may wait for a slot; one more gets 503 (default 64)
  --max-seq-len N        positions per sequence (default: min(max_position_embeddings, 4096))
  --max-step-tokens N    tokens per forward step, decodes + prefill chunks (default 256)
  --prefill-chunk N      prompt tokens of one sequence per step (default 128)
  --request-timeout S    seconds from arrival to the last token (default 300)
  --prefix-cache-mb N    memory of the prefix cache (default 256)
  --prefix-cache-codec C how the cpu backend's prefix cache holds blocks: exact (f32 rows, default) |
                         f32 | f16 | int8 | fp8 (latent entries, deflated: more blocks in the same memory;
                         int8/fp8 with per-position scales). The webgpu backend keeps its rows exact
  --spec S               speculative decoding: mtp (the checkpoint's MTP module drafts one token per
                         sequence and step; default when the checkpoint has MTP weights, cpu backend) |
                         off`;

/** A bad command line: one line on stderr and exit 2 (tools/cli.ts, shared by every CLI). */
export { UsageError } from '../tools/cli';

function int(name: string, v: string | undefined, fallback: number, min = 1): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`--${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

function seconds(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!(n > 0)) throw new UsageError(`--${name} must be a positive number of seconds, got '${v}'`);
  return n;
}

export function parseOriginArgs(argv: string[]): OriginOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      'model-id': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      backend: { type: 'string' },
      gemm: { type: 'string' },
      seed: { type: 'string' },
      'max-seqs': { type: 'string' },
      'max-queue': { type: 'string' },
      'max-seq-len': { type: 'string' },
      'max-step-tokens': { type: 'string' },
      'prefill-chunk': { type: 'string' },
      'request-timeout': { type: 'string' },
      'prefix-cache-mb': { type: 'string' },
      'prefix-cache-codec': { type: 'string' },
      spec: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (!values.model) throw new UsageError('missing --model');
  // 'reference': the CPU backend's name until it ran kernels-wasm's f32 ops; kept so old command lines work.
  const backend = values.backend === 'reference' ? 'cpu' : (values.backend ?? 'auto');
  if (backend !== 'auto' && backend !== 'cpu' && backend !== 'webgpu') {
    throw new UsageError(`--backend must be auto, cpu or webgpu, got '${backend}'`);
  }
  const gemm = values.gemm ?? 'fp8';
  if (gemm !== 'fp8' && gemm !== 'dequantized')
    throw new UsageError(`--gemm must be fp8 or dequantized, got '${gemm}'`);
  const maxSeqs = int('max-seqs', values['max-seqs'], 16);
  const prefixCacheCodec = (values['prefix-cache-codec'] ?? 'exact') as PrefixCacheCodec;
  if (!PREFIX_CACHE_CODECS.includes(prefixCacheCodec)) {
    throw new UsageError(
      `--prefix-cache-codec must be ${PREFIX_CACHE_CODECS.join(', ')}, got '${prefixCacheCodec}'`,
    );
  }
  const spec = values.spec;
  if (spec !== undefined && spec !== 'mtp' && spec !== 'off')
    throw new UsageError(`--spec must be mtp or off, got '${spec}'`);
  return {
    model: values.model,
    modelId: values['model-id'],
    host: values.host ?? '127.0.0.1',
    port: int('port', values.port, 8000, 0),
    backend,
    gemm,
    seed: int('seed', values.seed, 1, 0),
    maxSeqs,
    maxQueue: int('max-queue', values['max-queue'], 64, 0),
    maxSeqLen:
      values['max-seq-len'] === undefined
        ? undefined
        : int('max-seq-len', values['max-seq-len'], 0),
    maxStepTokens: Math.max(maxSeqs, int('max-step-tokens', values['max-step-tokens'], 256)),
    prefillChunk: int('prefill-chunk', values['prefill-chunk'], 128),
    requestTimeoutS: seconds('request-timeout', values['request-timeout'], 300),
    prefixCacheMb: int('prefix-cache-mb', values['prefix-cache-mb'], 256, 0),
    prefixCacheCodec,
    ...(spec ? { spec } : {}),
  };
}
