// The bindings prompt-cache tests use, merged into the Worker tests' Env.
declare namespace Cloudflare {
  interface Env {
    PROMPT_CACHE: KVNamespace;
  }
}
