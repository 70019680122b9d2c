// The bindings dispatch tests use, merged into the Worker tests' Env.
declare namespace Cloudflare {
  interface Env {
    /** Starts/kills the real origin processes (tests/worker/dispatch/origins-service.ts). */
    ORIGINS: Fetcher;
    MODEL_REGISTRY: string;
  }
}
