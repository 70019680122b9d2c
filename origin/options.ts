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
  /** Expert parallelism: routed experts on this many worker threads (0: off). */
  ep: number;
  /** Redundant expert slots per EP rank (EPLB replicates the heaviest experts into them). */
  epRedundant: number;
  /** Seconds between EPLB placements from the measured load (0: never; the even placement stays). */
  epRebalanceS: number;
  /** Bearer token of /admin/* (--admin-token or ORIGIN_ADMIN_TOKEN); absent: admin routes are off. */
  adminToken?: string;
  /** Prefill/decode separation (docs/origin.md): what this origin computes. */
  role: OriginRole;
  /** Shared secret of the origin-to-origin endpoints (POST /internal/prefill); none: they are off. */
  internalSecret?: string;
  /** A decode origin's prefill origins, in the order tried when dispatch names none (x-prefill-origin). */
  prefillOrigins: string[];
  /** A decode origin prefills prompts shorter than this itself (a hand-off costs more than they do). */
  handoffMinTokens: number;
  /** Least ms between an SSE response's writes after its first output: fewer, larger writes. */
  streamIntervalMs: number;
}

export type OriginRole = 'prefill' | 'decode' | 'both';

/**
 * Every write costs a relay in front (the Worker) a per-chunk price that dwarfs its per-byte one
 * (bench/relay.ts, bench/RESULTS.md): 20 ms caps a stream at 50 writes a second, the rate a screen
 * redraws at, so a fast stream arrives a few tokens a write and a slow one (≤ 50 tok/s) as before.
 */
export const DEFAULT_STREAM_INTERVAL_MS = 20;

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
  --stream-interval-ms T least ms between a stream's writes after its first token, which is never held;
                         the frames made meanwhile go in one write (default ${DEFAULT_STREAM_INTERVAL_MS}; 0: a write
                         per scheduler step)
  --prefix-cache-mb N    memory of the prefix cache (default 256)
  --prefix-cache-codec C how the cpu backend's prefix cache holds blocks: exact (f32 rows, default) |
                         f32 | f16 | int8 | fp8 (latent entries, deflated: more blocks in the same memory;
                         int8/fp8 with per-position scales). The webgpu backend keeps its rows exact
  --spec S               speculative decoding: mtp (the checkpoint's MTP module drafts one token per
                         sequence and step; default when the checkpoint has MTP weights, cpu backend) |
                         off
  --ep N                 expert parallelism (cpu backend): routed experts on N worker threads, each with
                         its own WASM instance holding only its experts (default 0: off)
  --ep-redundant K       redundant expert slots per EP rank: EPLB replicates the heaviest experts (default 0)
  --ep-rebalance-s S     seconds between EPLB placements from the measured expert load (default 60; 0: never)
  --admin-token T        bearer token of GET /admin/experts and POST /admin/experts/reset
                         (default: env ORIGIN_ADMIN_TOKEN; unset: the admin routes answer 404)
  --role R               both (default: prefill and decode here) | prefill (also serves
                         POST /internal/prefill: prompts' latent KV rows and last logits) | decode
                         (pulls each prompt's rows from a prefill origin, then decodes; docs/origin.md)
  --internal-secret S    shared secret of /internal/* between origins (or ORIGIN_INTERNAL_SECRET);
                         required by --role prefill and decode
  --prefill-origins U,.. a decode origin's prefill origins (URLs); x-prefill-origin picks among them
  --handoff-min-tokens N a decode origin prefills prompts shorter than N itself (default 64)`;

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

function nonNegative(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!(n >= 0)) throw new UsageError(`--${name} must be a number >= 0, got '${v}'`);
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
      'stream-interval-ms': { type: 'string' },
      'prefix-cache-mb': { type: 'string' },
      'prefix-cache-codec': { type: 'string' },
      spec: { type: 'string' },
      ep: { type: 'string' },
      'ep-redundant': { type: 'string' },
      'ep-rebalance-s': { type: 'string' },
      'admin-token': { type: 'string' },
      role: { type: 'string' },
      'internal-secret': { type: 'string' },
      'prefill-origins': { type: 'string' },
      'handoff-min-tokens': { type: 'string' },
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
  const adminToken = values['admin-token'] ?? process.env.ORIGIN_ADMIN_TOKEN;
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
    streamIntervalMs: nonNegative(
      'stream-interval-ms',
      values['stream-interval-ms'],
      DEFAULT_STREAM_INTERVAL_MS,
    ),
    prefixCacheMb: int('prefix-cache-mb', values['prefix-cache-mb'], 256, 0),
    prefixCacheCodec,
    ...(spec ? { spec } : {}),
    ep: int('ep', values.ep, 0, 0),
    epRedundant: int('ep-redundant', values['ep-redundant'], 0, 0),
    epRebalanceS: nonNegative('ep-rebalance-s', values['ep-rebalance-s'], 60),
    ...(adminToken ? { adminToken } : {}),
    ...roleOptions(values),
  };
}

/** --role and what it needs: a secret for the internal endpoint, prefill origins for a decode origin. */
function roleOptions(
  values: Record<string, string | boolean | undefined>,
): Pick<OriginOptions, 'role' | 'internalSecret' | 'prefillOrigins' | 'handoffMinTokens'> {
  const role = (values.role ?? 'both') as OriginRole;
  if (role !== 'prefill' && role !== 'decode' && role !== 'both')
    throw new UsageError(`--role must be prefill, decode or both, got '${String(role)}'`);
  const internalSecret =
    (values['internal-secret'] as string | undefined) ?? process.env.ORIGIN_INTERNAL_SECRET;
  if (role !== 'both' && !internalSecret)
    throw new UsageError(`--role ${role} needs --internal-secret (or ORIGIN_INTERNAL_SECRET)`);
  const prefillOrigins = ((values['prefill-origins'] as string | undefined) ?? '')
    .split(',')
    .map((u) => u.trim().replace(/\/+$/, ''))
    .filter((u) => u !== '');
  for (const u of prefillOrigins)
    if (!/^https?:\/\/[^/]+/.test(u))
      throw new UsageError(`--prefill-origins: '${u}' is not an http(s) URL`);
  if (role === 'decode' && prefillOrigins.length === 0)
    throw new UsageError('--role decode needs --prefill-origins');
  const min = values['handoff-min-tokens'] as string | undefined;
  return {
    role,
    ...(internalSecret ? { internalSecret } : {}),
    prefillOrigins,
    handoffMinTokens: int('handoff-min-tokens', min, 64, 0),
  };
}
