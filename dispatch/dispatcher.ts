// One per isolate: the registry (parsed once) and what this isolate knows of each origin's health.
// Picks a request's target and the order of origins to try, and keeps the active probes going:
// a Worker has no timers between requests, so each request starts the probes that are due.
import { HealthBoard, probeOrigin } from './health';
import { chooseOrigins, prefixKey, type Choice } from './policy';
import {
  registryLoader,
  type ChoosablePool,
  type ModelRegistry,
  type OriginPool,
} from './registry';
import { authOf } from './upstream';

export interface DispatchEnv {
  MODEL_REGISTRY?: unknown;
}

export type Target = { kind: 'edge'; id: string } | { kind: 'origin'; pool: OriginPool };

export interface DispatcherOptions {
  /** A registry JSON file; wins over the MODEL_REGISTRY var. */
  registry?: unknown;
  health?: HealthBoard;
  /** Bounded-load factor: an origin over this × the mean load yields to the next choice. */
  loadFactor?: number;
}

export class Dispatcher {
  readonly health: HealthBoard;
  private readonly load: (env: DispatchEnv) => ModelRegistry;
  private readonly loadFactor: number;

  constructor(options: DispatcherOptions = {}) {
    this.health = options.health ?? new HealthBoard();
    this.load = registryLoader(options.registry);
    this.loadFactor = options.loadFactor ?? 1.25;
  }

  registry(env: DispatchEnv): ModelRegistry {
    return this.load(env);
  }

  /** Where `id` runs: its origin pool, or the edge (registry edge entries and models only in R2). */
  target(env: DispatchEnv, id: string): Target {
    const entry = this.registry(env).get(id);
    return entry?.placement === 'origin' ? { kind: 'origin', pool: entry } : { kind: 'edge', id };
  }

  /** The origins to try for `prompt`, in order; starts the probes that are due (kept alive by waitUntil). */
  choose(
    pool: ChoosablePool,
    prompt: string,
    probe: { waitUntil(p: Promise<unknown>): void; secret?: string },
  ): Choice {
    const urls = pool.origins.map((o) => o.url);
    const due = this.health.dueProbes(urls);
    if (due.length)
      probe.waitUntil(Promise.all(due.map((url) => this.probe(pool, url, probe.secret))));
    return chooseOrigins(
      pool.origins,
      prefixKey(prompt, pool.affinity_chars),
      (url) => this.health.snapshot(url),
      {
        maxConcurrency: pool.max_concurrency,
        maxQueue: pool.max_queue,
        loadFactor: this.loadFactor,
        minLoadBound: pool.affinity_min_load,
        slowFirstTokenMs: pool.timeouts.first_token_ms / 2,
        now: Date.now(),
      },
    );
  }

  private async probe(pool: ChoosablePool, url: string, secret?: string): Promise<void> {
    const found = await probeOrigin(
      url,
      pool.health_path,
      this.health.options.probeTimeoutMs,
      authOf({ pool, secret }),
    );
    this.health.onProbe(url, found.ok, found.queue);
  }
}
