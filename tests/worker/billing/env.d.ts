// The bindings billing tests use, merged into the Worker tests' Env.
declare namespace Cloudflare {
  interface Env {
    DB: D1Database;
    RATE_LIMITER: DurableObjectNamespace<
      import('../../../billing/rate-limiter-object').RateLimiter
    >;
    ADMIN_SECRET: string;
    TEST_MIGRATIONS: import('cloudflare:test').D1Migration[];
  }
}
