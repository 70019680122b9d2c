// The Worker's bindings (wrangler.toml) and the typed per-request variables passed by middleware.
import type { AuthedKey } from '../billing/keys';
import type { Meter } from '../billing/meter';
import type { RateLimiter } from '../billing/rate-limiter-object';
import type { LatencyClock } from '../protocol/latency';

export interface Env {
  /** Model files: `<model-id>/model.json` plus the files it names. */
  MODELS: R2Bucket;
  DEFAULT_MODEL?: string;
  /** Prompt cache (dispatch/prompt-cache.ts): one entry per 64-token block of KV state; unbound means off. */
  PROMPT_CACHE?: KVNamespace;
  /** f32 | f16 | int8 | fp8 | int8-head | int4 | kv4 | off (default int8). */
  PROMPT_CACHE_CODEC?: string;
  /** Seconds an entry lives in KV (default 86400, at least 60). */
  PROMPT_CACHE_TTL_SECONDS?: string;
  /** Accounts, keys (SHA-256 hashes), the request ledger, top-ups (migrations/). */
  DB: D1Database;
  /** One rate limiter per API key (requests/min, tokens/min, concurrency). */
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  /** Bearer secret of the admin API; empty turns the admin API off. */
  ADMIN_SECRET?: string;
  /** Which model runs where (dispatch/registry.ts): JSON text, or a TOML table; unset means edge models only. */
  MODEL_REGISTRY?: string | Record<string, unknown>;
}

export interface Vars {
  requestId: string;
  /** Set by the auth middleware. */
  key: AuthedKey;
  /** Set by the metering middleware on generation routes. */
  meter: Meter;
  /** Set by the timing middleware: started as the request arrived, marked at each output token. */
  latency: LatencyClock;
}

export type AppEnv = { Bindings: Env; Variables: Vars };
