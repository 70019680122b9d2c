// A service binding (ORIGINS) that runs in Node beside workerd: it starts and kills real origin
// processes for the dispatch tests (the project's origin server; the stalled one is the mini origin), each on a loopback port fixed when the config loads, so the
// Worker's MODEL_REGISTRY (a miniflare binding) can name them. Nothing runs until a test asks.
import { createServer } from 'node:net';
import {
  killProcess,
  startOrigin,
  type OriginOptions,
  type OriginProcess,
} from '../../dispatch/spawn-origin.ts';

type Handler = (request: Request) => Promise<Response>;

/** The test origins and how each behaves. */
const specs: Record<string, OriginOptions> = {
  a: { kind: 'real' },
  b: { kind: 'real' },
  c: { kind: 'real' },
  d: { kind: 'real' },
  e: { kind: 'real' },
  f: { kind: 'real' },
  stall: { stall: true },
  replay: { kind: 'replay' },
  think: { think: 'raw' },
  thinkf: { think: 'field' },
  // Prefill/decode separation (pd-dispatch.test.ts): two prefill origins, one decode origin pulling from them.
  pf1: { kind: 'real', args: ['--role', 'prefill', '--internal-secret', 'pd-secret'] },
  pf2: { kind: 'real', args: ['--role', 'prefill', '--internal-secret', 'pd-secret'] },
  dec: { kind: 'real' }, // its args name the prefill origins' ports, known below
  // Prefill at an origin, decode at the edge (edge-handoff.test.ts): our trained model at the origin (the
  // same files the test puts in R2 for the edge), and an origin that dies mid-hand-off.
  pyo: {
    kind: 'real',
    args: [
      ...['--model', 'models/pystd-mla-moe', '--model-id', 'pystd'],
      ...['--internal-secret', 'edge-prefill-secret'],
    ],
  },
  cut: { cutHandoff: true },
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const ports: Record<string, number> = {};
for (const name of Object.keys(specs)) ports[name] = await freePort();
const url = (name: string) => `http://127.0.0.1:${ports[name]}`;
specs.dec.args = [
  ...['--role', 'decode', '--internal-secret', 'pd-secret', '--handoff-min-tokens', '1'],
  ...['--prefill-origins', `${url('pf1')},${url('pf2')}`],
];
// A first token may wait behind others' prefill on these CPU origins: generous, but well under the test
// timeout. A busy origin answers /health between steps only, and a step (16 sequences through
// DeepSeek-V3's 129,280-row lm_head on the CPU) can take a second on a loaded machine: connect_ms leaves
// room for that (a dead origin refuses the connection at once, whatever it is).
const fast = { connect_ms: 5_000, first_token_ms: 15_000, total_ms: 60_000 };

/** The Worker's registry in these tests: origin pools over the processes above; `tiny-edge` is seeded in R2 by the tests. */
export const dispatchTestRegistry = JSON.stringify({
  models: {
    'pool-ab': {
      placement: 'origin',
      origins: [
        { url: url('a'), name: 'origin-a' },
        { url: url('b'), name: 'origin-b' },
      ],
      timeouts: fast,
      upstream_model: 'tiny',
      max_output_tokens: 1600,
      description: 'two origins, no fallback',
    },
    'pool-cd': {
      placement: 'origin',
      origins: [
        { url: url('c'), name: 'origin-c' },
        { url: url('d'), name: 'origin-d' },
      ],
      timeouts: fast,
      upstream_model: 'tiny',
      fallbacks: ['tiny-edge'],
      context_length: 2048,
      max_output_tokens: 64,
    },
    'pool-stall': {
      placement: 'origin',
      origins: [{ url: url('stall'), name: 'origin-stall' }],
      timeouts: { ...fast, first_token_ms: 800 },
    },
    'pool-stall-fb': {
      placement: 'origin',
      origins: [{ url: url('stall'), name: 'origin-stall' }],
      timeouts: { ...fast, first_token_ms: 800 },
      fallbacks: ['pool-nowhere', 'tiny-edge'],
    },
    'pool-nowhere': {
      placement: 'origin',
      origins: [{ url: 'http://127.0.0.1:9', name: 'discard' }],
      timeouts: fast,
    },
    // Origin e is relay-origin.test.ts's own (the others' tests kill and restart a..d).
    'pool-e': {
      placement: 'origin',
      origins: [{ url: url('e'), name: 'origin-e' }],
      timeouts: fast,
      upstream_model: 'tiny',
      max_output_tokens: 1600,
    },
    // Origin f is relay-piped.test.ts's own (it kills it mid-stream).
    'pool-f': {
      placement: 'origin',
      origins: [{ url: url('f'), name: 'origin-f' }],
      timeouts: fast,
      upstream_model: 'tiny',
      max_output_tokens: 1600,
    },
    'pool-default': {
      placement: 'origin',
      origins: [{ url: url('e'), name: 'origin-e' }],
      timeouts: fast,
      upstream_model: 'tiny',
      description: 'no max_output_tokens: the origin picks a default that fits its context',
    },
    // Recorded vLLM and SGLang answers (tests/fixtures/upstream): the prompt names the transcript.
    'pool-vllm': {
      placement: 'origin',
      origins: [{ url: url('replay'), name: 'vllm' }],
      timeouts: fast,
      upstream_model: 'Qwen/Qwen3-8B',
    },
    'pool-sglang': {
      placement: 'origin',
      origins: [{ url: url('replay'), name: 'sglang' }],
      timeouts: fast,
      upstream_model: 'deepseek-ai/DeepSeek-V3',
    },
    'pool-pd': {
      placement: 'origin',
      origins: [{ url: url('a'), name: 'origin-a' }],
      prefill: [
        { url: url('pf1'), name: 'origin-pf1' },
        { url: url('pf2'), name: 'origin-pf2' },
      ],
      decode: [{ url: url('dec'), name: 'origin-dec' }],
      timeouts: fast,
      upstream_model: 'tiny',
      max_output_tokens: 64,
      description:
        'prefill/decode separation: a decode origin, two prefill origins, a colocated one',
    },
    'tiny-edge': { placement: 'edge', description: 'random-weight edge model, the fallback' },
    // Our trained model at both tiers (edge-handoff.test.ts seeds it in R2): long prompts are prefilled at
    // an origin, decoded at the edge; `pystd-origin` is the same model served whole by the origin.
    'pystd-pd': {
      placement: 'edge',
      prefill: {
        origins: [
          { url: url('cut'), name: 'origin-cut', weight: 1000 }, // asked first: it dies mid-answer
          { url: url('pyo'), name: 'origin-pyo' },
        ],
        min_prompt_tokens: 128,
        timeouts: fast,
      },
    },
    'pystd-origin': {
      placement: 'origin',
      origins: [{ url: url('pyo'), name: 'origin-pyo' }],
      timeouts: fast,
      upstream_model: 'pystd',
    },
    // DeepSeek drop-in (tests/worker/compat/deepseek*.test.ts): a pool that is down, with a fallback
    // the client may refuse, and one whose registry entry refuses it.
    'pool-down': {
      placement: 'origin',
      origins: [{ url: 'http://127.0.0.1:9', name: 'discard' }],
      timeouts: fast,
      fallbacks: ['tiny-edge'],
    },
    'pool-down-strict': {
      placement: 'origin',
      origins: [{ url: 'http://127.0.0.1:9', name: 'discard' }],
      timeouts: fast,
      fallbacks: ['tiny-edge'],
      fallback: false,
    },
    'pool-think': {
      placement: 'origin',
      origins: [{ url: url('think'), name: 'origin-think' }],
      timeouts: fast,
      reasoning: true,
    },
    'pool-thinkf': {
      placement: 'origin',
      origins: [{ url: url('thinkf'), name: 'origin-thinkf' }],
      timeouts: fast,
      reasoning: true,
    },
  },
  aliases: {
    'deepseek-chat': { model: 'tiny-fim', owned_by: 'deepseek' },
    'deepseek-reasoner': { model: 'pool-think', owned_by: 'deepseek' },
    'deepseek-think-edge': { model: 'tiny-fim', reasoning: true },
    // our real origin as a reasoning model (relay-piped.test.ts): the origin splits the think block
    'pool-f-think': { model: 'pool-f', reasoning: true },
  },
});

const running = new Map<string, OriginProcess>();
/** Starts run one at a time: the first real origin in a clean checkout compiles the kernels the others reuse. */
let starting: Promise<unknown> = Promise.resolve();
process.once('exit', () => {
  for (const o of running.values()) o.child.kill('SIGKILL');
});

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

export const originsService: Handler = async (request) => {
  const [, action, name] = new URL(request.url).pathname.split('/');
  if (!(name in specs)) return json({ error: `no origin named ${name}` }, 404);
  const current = running.get(name);
  const alive = current && current.child.exitCode === null && current.child.signalCode === null;
  switch (action) {
    case 'start':
      if (!alive) {
        const started = starting.then(() =>
          startOrigin({ ...specs[name], name, port: ports[name] }),
        );
        starting = started.catch(() => {});
        running.set(name, await started);
      }
      return json({ name, url: url(name) });
    case 'kill':
      if (current) await killProcess(current.child);
      return json({ name, killed: true });
    case 'stats':
      return alive ? json(await current.stats()) : json({ error: `${name} is not running` }, 409);
    default:
      return json({ error: `unknown action ${action}` }, 404);
  }
};
