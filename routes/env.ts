// The Worker's bindings (wrangler.toml) and the typed per-request variables passed by middleware.
import type { AuthedKey } from '../billing/keys';
import type { Meter } from '../billing/meter';
import type { RateLimiter } from '../billing/rate-limiter-object';

export interface Env {
  /** Model files: `<model-id>/model.json` plus the files it names. */
  MODELS: R2Bucket;
  DEFAULT_MODEL?: string;
  /** Accounts, keys (SHA-256 hashes), the request ledger, top-ups (migrations/). */
  DB: D1Database;
  /** One rate limiter per API key (requests/min, tokens/min, concurrency). */
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  /** Bearer secret of the admin API; empty turns the admin API off. */
  ADMIN_SECRET?: string;
}

export interface Vars {
  requestId: string;
  /** Set by the auth middleware. */
  key: AuthedKey;
  /** Set by the metering middleware on generation routes. */
  meter: Meter;
}

export type AppEnv = { Bindings: Env; Variables: Vars };
