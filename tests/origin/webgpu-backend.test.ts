// The origin on --backend webgpu: greedy output through the whole origin (HTTP app, scheduler,
// continuous batching, prefix cache) equals the cpu backend's, token for token, on the tiny synthetic
// model. Weight-only FP8 (--gemm dequantized: FP8 weights, f32 activations on the GPU) is the pairing
// whose greedy tokens match the reference's float64 arithmetic (and the cpu backend's f32); W8A8 can break activation
// rounding ties differently (tests/kernels-gpu/deepseek-backend.test.ts). Runs on lavapipe in CI; on a
// machine without an adapter it is skipped with the reason printed. Also: the real `npm run origin`
// process on WebGPU (concurrent SSE streams), what --backend auto picks, and the startup error without
// a driver.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../kernels-gpu/device';
import { selectBackend, StartupError } from '../../origin/backend/select';
import type { KvRows } from '../../origin/backend/step-backend';
import { parseOriginArgs } from '../../origin/options';
import { PrefixCache } from '../../origin/scheduler/prefix-cache';
import { createOrigin, type Origin } from '../../origin/start';
import type { ChatCompletion, ChatCompletionChunk } from '../../protocol/responses';
import { probeGpu } from '../kernels-gpu/gpu';
import { readSse, startOrigin } from './helpers';
import { chatIds, referenceGreedyText, syntheticWeights } from './reference-text';

const { gpu } = await probeGpu();

const fakeGpu = (isFallbackAdapter: boolean) => async () =>
  ({ adapter: { isFallbackAdapter, description: 'test adapter' } }) as unknown as Gpu;
const noGpu = async (): Promise<Gpu> => {
  throw new Error('WebGPU: no adapter');
};

describe('--backend selection', () => {
  it('auto takes WebGPU on a hardware adapter, the CPU backend on a software one or none', async () => {
    expect((await selectBackend('auto', fakeGpu(false))).kind).toBe('webgpu');
    expect(await selectBackend('auto', fakeGpu(true))).toMatchObject({
      kind: 'cpu',
      note: expect.stringContaining('software fallback'),
    });
    expect(await selectBackend('auto', noGpu)).toMatchObject({
      kind: 'cpu',
      note: expect.stringContaining('no adapter'),
    });
    expect(
      (await selectBackend('webgpu', fakeGpu(true))).kind,
      'webgpu was asked for: a software adapter will do',
    ).toBe('webgpu');
    expect((await selectBackend('cpu', noGpu)).kind).toBe('cpu');
    const backendOf = (b: string) => parseOriginArgs(['--model', 'x', '--backend', b]).backend;
    expect(backendOf('reference'), "the CPU backend's old name, an alias").toBe('cpu');
    expect(() => backendOf('gpu')).toThrow(/--backend must be auto, cpu or webgpu/);
  });

  it('webgpu without an adapter is a startup error that says why and what to do', async () => {
    const err = await selectBackend('webgpu', noGpu).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as Error).message).toBe(
      '--backend webgpu: WebGPU: no adapter. Without a WebGPU adapter, use --backend cpu.',
    );
  });

  // No Vulkan driver at all: the private lavapipe pointed nowhere, the loader's driver list replaced, and
  // the ICD this test process may have added (kernels-gpu/driver.ts) not inherited.
  const none = '/nonexistent/none.json';
  const noDriver = {
    LAVAPIPE_DIR: '/nonexistent',
    VK_DRIVER_FILES: none,
    VK_ICD_FILENAMES: none,
    VK_ADD_DRIVER_FILES: none,
  };

  it('the real process: --backend webgpu with no driver exits 1 with one line saying why', async () => {
    const err = await startOrigin(
      ['--model', 'synthetic:tiny', '--backend', 'webgpu'],
      60_000,
      noDriver,
    ).catch((e: unknown) => e);
    expect(String(err)).toContain('origin exited with 1 before listening');
    expect(String(err)).toMatch(
      /\norigin: --backend webgpu: WebGPU: no adapter .*use --backend cpu\.\n/,
    );
  });

  it('the real process: --backend auto with no driver serves on the CPU backend and says why', async () => {
    const origin = await startOrigin(
      ['--model', 'synthetic:tiny', '--max-seqs', '1'],
      60_000,
      noDriver,
    );
    try {
      expect(await (await fetch(`${origin.url}/health`)).json()).toMatchObject({
        backend: 'cpu',
      });
      expect(origin.output()).toMatch(/backend cpu \(fp8; auto: no WebGPU adapter: /);
    } finally {
      await origin.stop();
    }
  });
});

describe('prefix cache and GPU-held rows', () => {
  it('releases rows it evicts or refuses, never ones it keeps', () => {
    const released: string[] = [];
    const rows = (name: string, bytes: number): KvRows => ({
      tokens: 64,
      bytes,
      release: () => released.push(name),
    });
    const cache = new PrefixCache(100);
    cache.insert('a', rows('a', 60));
    cache.insert('b', rows('b', 60)); // evicts a
    cache.insert('c', rows('c', 200)); // larger than the whole cache
    cache.insert('b', rows('b again', 60)); // already cached
    expect(released).toEqual(['a', 'c', 'b again']);
    expect(cache.lookup(['b'])).toHaveLength(1);
  });
});

const SEQS = 3;
const args = (backend: string) =>
  parseOriginArgs([
    '--model',
    'synthetic:tiny',
    '--backend',
    backend,
    '--gemm',
    'dequantized',
    '--max-seqs',
    String(SEQS),
    '--max-seq-len',
    '256',
  ]);

// Five prompts for three slots: two wait and join a running batch; the long one spans a 64-token block.
const long = `A prompt long enough to fill one whole prefix-cache block of sixty-four tokens, and then some more. ${'Once more. '.repeat(20)}`;
const prompts = [
  long,
  'Hi',
  'Continuous batching on the GPU',
  'x',
  'Prefill chunks and decode rows share a step.',
];

interface Answer {
  tokens: number[][]; // each token's bytes
  cached: number;
}

async function ask(o: Origin, content: string): Promise<Answer> {
  const res = await o.app.request('/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'synthetic-tiny',
      messages: [{ role: 'user', content }],
      max_tokens: 12,
      temperature: 0,
      ignore_eos: true,
      logprobs: true,
    }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as ChatCompletion;
  return {
    tokens: body.choices[0].logprobs!.content!.map((e) => e.bytes!),
    cached: body.usage.prompt_tokens_details?.cached_tokens ?? 0,
  };
}

describe.skipIf(!gpu)('origin --backend webgpu', () => {
  const origins: Record<'webgpu' | 'cpu', Origin> = {} as never;
  beforeAll(async () => {
    origins.webgpu = await createOrigin(args('webgpu'));
    origins.cpu = await createOrigin(args('cpu'));
  });
  afterAll(() => (origins.webgpu?.backend as { destroy?: () => void } | undefined)?.destroy?.());

  it('answers concurrent greedy requests with the cpu backend tokens', async () => {
    expect(origins.webgpu.backend.name).toBe('webgpu');
    const [gpuAnswers, cpuAnswers] = await Promise.all([
      Promise.all(prompts.map((p) => ask(origins.webgpu, p))),
      Promise.all(prompts.map((p) => ask(origins.cpu, p))),
    ]);
    gpuAnswers.forEach((a, i) => {
      expect(a.tokens, `prompt ${i}`).toHaveLength(12);
      expect(a.tokens, `prompt ${i}`).toEqual(cpuAnswers[i].tokens);
    });
  });

  it('a prefix-cache hit restores the GPU rows and continues with the same tokens', async () => {
    const cold = await ask(origins.cpu, long);
    const hit = await ask(origins.webgpu, long); // the first test computed and saved its first block
    expect(hit.cached).toBeGreaterThanOrEqual(64);
    expect(hit.tokens).toEqual(cold.tokens);
  });

  it("echo with logprobs scores the prompt on the GPU: every entry is the cpu backend's", async () => {
    // longer than the rows of logits one step returns, so the scoring takes several steps
    const prompt = long;
    type Lp = { tokens: string[]; token_logprobs: (number | null)[]; top_logprobs: object[] };
    const score = async (o: Origin) => {
      const res = await o.app.request('/v1/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'synthetic-tiny',
          prompt,
          echo: true,
          logprobs: 2,
          max_tokens: 3,
          temperature: 0,
        }),
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { choices: { logprobs: Lp }[] }).choices[0].logprobs;
    };
    const [gpuLp, cpuLp] = await Promise.all([score(origins.webgpu), score(origins.cpu)]);
    const rows = origins.webgpu.backend.maxLogitRows!;
    expect(gpuLp.tokens.length).toBeGreaterThan(rows + 3);
    expect(gpuLp.tokens).toEqual(cpuLp.tokens);
    gpuLp.token_logprobs.forEach((v, i) => {
      if (cpuLp.token_logprobs[i] === null) expect(v, `entry ${i}`).toBeNull();
      else expect(v, `entry ${i}`).toBeCloseTo(cpuLp.token_logprobs[i]!, 3);
    });
    expect(gpuLp.top_logprobs.map((t) => Object.keys(t ?? {}))).toEqual(
      cpuLp.top_logprobs.map((t) => Object.keys(t ?? {})),
    );
  });
});

describe.skipIf(!gpu)('origin process --backend webgpu', () => {
  it('streams concurrent requests to completion; greedy text equals the reference model (dequantized)', async () => {
    const origin = await startOrigin([
      '--model',
      'synthetic:tiny',
      '--backend',
      'webgpu',
      '--gemm',
      'dequantized',
      '--max-seqs',
      '4',
      '--max-seq-len',
      '256',
    ]);
    try {
      expect(await (await fetch(`${origin.url}/health`)).json()).toMatchObject({
        backend: 'webgpu',
      });
      const N = 10,
        weights = syntheticWeights('tiny', 'dequantized');
      const prompts = Array.from(
        { length: 6 },
        (_, i) => `GPU stream ${i}: ${'once upon a time'.slice(0, 3 * i)}`,
      );
      const streams = await Promise.all(
        prompts.map(async (content) => {
          const res = await fetch(`${origin.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              model: 'synthetic-tiny',
              messages: [{ role: 'user', content }],
              max_tokens: N,
              temperature: 0,
              ignore_eos: true,
              stream: true,
              stream_options: { include_usage: true },
            }),
          });
          expect(res.status).toBe(200);
          return readSse(res);
        }),
      );
      streams.forEach((frames, i) => {
        expect(frames.at(-1)).toBe('[DONE]');
        const chunks = frames.slice(0, -1) as ChatCompletionChunk[];
        expect(chunks.at(-1)!.usage).toMatchObject({ completion_tokens: N });
        expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), `stream ${i}`).toBe(
          referenceGreedyText(
            weights,
            chatIds(weights, [{ role: 'user', content: prompts[i] }]),
            N,
          ),
        );
      });
    } finally {
      await origin.stop();
    }
  });
});
