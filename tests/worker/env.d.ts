/// <reference types="@cloudflare/vitest-plugin/types" />
declare namespace Cloudflare {
  interface Env {
    MODELS: R2Bucket;
    DEFAULT_MODEL?: string;
    FIXTURES: Fetcher;
    CI: string;
  }
}
