// Prometheus metrics in the text exposition format (version 0.0.4): counters, gauges read at scrape
// time, histograms. Small on purpose: one process, one registry, no client library.

import type { ExpertStats } from './ep/expert-stats';

type Labels = Record<string, string>;

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labelText = (l: Labels) => {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escape(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};
const num = (v: number) =>
  Number.isFinite(v) ? String(v) : v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN';

interface Metric {
  render(): string[];
}

export class Counter implements Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    const entry = this.values.get(key) ?? { labels, value: 0 };
    entry.value += by;
    this.values.set(key, entry);
  }

  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels))?.value ?? 0;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.values.size === 0) lines.push(`${this.name} 0`);
    for (const { labels, value } of this.values.values())
      lines.push(`${this.name}${labelText(labels)} ${num(value)}`);
    return lines;
  }
}

export class Gauge implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => number,
  ) {}

  render(): string[] {
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} gauge`,
      `${this.name} ${num(this.read())}`,
    ];
  }
}

/** A family of samples computed at scrape time (per-expert counters read from origin/ep/expert-stats.ts). */
export class Collected implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge',
    private readonly read: () => { labels: Labels; value: number }[],
  ) {}

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    for (const { labels, value } of this.read())
      lines.push(`${this.name}${labelText(labels)} ${num(value)}`);
    return lines;
  }
}

export class Histogram implements Metric {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {
    this.counts = buckets.map(() => 0);
  }

  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]) this.counts[i]++;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    this.buckets.forEach((b, i) =>
      lines.push(`${this.name}_bucket{le="${num(b)}"} ${this.counts[i]}`),
    );
    lines.push(
      `${this.name}_bucket{le="+Inf"} ${this.count}`,
      `${this.name}_sum ${num(this.sum)}`,
      `${this.name}_count ${this.count}`,
    );
    return lines;
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];

  add<M extends Metric>(m: M): M {
    this.metrics.push(m);
    return m;
  }

  render(): string {
    return this.metrics.flatMap((m) => m.render()).join('\n') + '\n';
  }
}

// vLLM's buckets for its request-latency histograms (vllm/v1/metrics/loggers.py).
const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80,
  160, 640, 2560,
];
const ITL_BUCKETS = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80,
];
const REQUEST_BUCKETS = [
  0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680,
];

/** Per-request latencies under vLLM's metric names (dashboards built for vLLM read them as they are). */
function latencyMetrics(registry: Registry) {
  return {
    timeToFirstToken: registry.add(
      new Histogram(
        'vllm:time_to_first_token_seconds',
        'Time from arrival to the first generated token.',
        TTFT_BUCKETS,
      ),
    ),
    interTokenLatency: registry.add(
      new Histogram(
        'vllm:inter_token_latency_seconds',
        'Time between consecutive generated tokens of one request.',
        ITL_BUCKETS,
      ),
    ),
    e2eLatency: registry.add(
      new Histogram(
        'vllm:e2e_request_latency_seconds',
        'Time from arrival to the last token of a finished request.',
        REQUEST_BUCKETS,
      ),
    ),
    queueTime: registry.add(
      new Histogram(
        'vllm:request_queue_time_seconds',
        'Time a request waited for a sequence slot.',
        REQUEST_BUCKETS,
      ),
    ),
  };
}

/** Expert load (origin/ep/expert-stats.ts): lifetime tokens per expert, the window's imbalance per layer. */
export function expertMetrics(registry: Registry, stats: ExpertStats): void {
  registry.add(
    new Collected(
      'origin_moe_expert_tokens_total',
      'Tokens routed to each routed expert, by MoE layer and expert.',
      'counter',
      () =>
        stats.layers.flatMap((layer, i) =>
          Array.from(stats.total[i], (value, e) => ({
            labels: { layer: String(layer), expert: String(e) },
            value,
          })),
        ),
    ),
  );
  registry.add(
    new Collected(
      'origin_moe_expert_imbalance',
      'Max / mean tokens per expert of one MoE layer over the current window (0: nothing routed).',
      'gauge',
      () =>
        stats.snapshot().map((l) => ({ labels: { layer: String(l.layer) }, value: l.imbalance })),
    ),
  );
}

/** Everything the origin reports at /metrics. Gauges read the scheduler at scrape time. */
export function originMetrics(live: {
  queueDepth(): number;
  active(): number;
  cacheBlocks(): number;
  cacheBytes(): number;
}) {
  const registry = new Registry();
  return {
    ...latencyMetrics(registry),
    registry,
    requests: registry.add(
      new Counter('origin_requests_total', 'Requests answered, by endpoint and HTTP status.'),
    ),
    clientReadyStreams: registry.add(
      new Counter(
        'origin_client_ready_streams_total',
        'Streams written client-ready, for the Worker to pipe on unread (relay-ends.ts).',
      ),
    ),
    promptTokens: registry.add(
      new Counter('origin_prompt_tokens_total', 'Prompt tokens of finished generations.'),
    ),
    completionTokens: registry.add(
      new Counter('origin_completion_tokens_total', 'Tokens generated.'),
    ),
    cacheHitTokens: registry.add(
      new Counter(
        'origin_prefix_cache_hit_tokens_total',
        'Prompt tokens restored from the prefix cache.',
      ),
    ),
    // vLLM's names: drafts the main model checked, and how many it kept.
    specDraftTokens: registry.add(
      new Counter(
        'spec_decode_num_draft_tokens_total',
        'Draft tokens (MTP) checked by the main model.',
      ),
    ),
    specAcceptedTokens: registry.add(
      new Counter(
        'spec_decode_num_accepted_tokens_total',
        'Draft tokens (MTP) the main model accepted.',
      ),
    ),
    queueDepth: registry.add(
      new Gauge('origin_queue_depth', 'Requests waiting for a sequence slot.', live.queueDepth),
    ),
    active: registry.add(
      new Gauge('origin_active_sequences', 'Sequences in the running batch.', live.active),
    ),
    cacheBlocks: registry.add(
      new Gauge('origin_prefix_cache_blocks', 'Blocks held by the prefix cache.', live.cacheBlocks),
    ),
    cacheBytes: registry.add(
      new Gauge('origin_prefix_cache_bytes', 'Bytes held by the prefix cache.', live.cacheBytes),
    ),
    batchSize: registry.add(
      new Histogram(
        'origin_batch_size',
        'Sequences in one forward step.',
        [1, 2, 4, 8, 16, 32, 64, 128],
      ),
    ),
    stepTokens: registry.add(
      new Histogram(
        'origin_step_tokens',
        'Tokens in one forward step (decodes plus prefill chunks).',
        [1, 4, 16, 64, 256, 1024],
      ),
    ),
    stepSeconds: registry.add(
      new Histogram(
        'origin_step_seconds',
        'Latency of one forward step.',
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      ),
    ),
  };
}

export type OriginMetrics = ReturnType<typeof originMetrics>;
