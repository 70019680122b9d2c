/// <reference types="@cloudflare/vitest-plugin/types" />
declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import('../../worker/index');
  }
  interface Env {
    MODELS: R2Bucket;
    DEFAULT_MODEL?: string;
    FIXTURES: Fetcher;
    CI: string;
  }
}
