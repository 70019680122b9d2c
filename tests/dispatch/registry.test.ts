import { describe, expect, it } from 'vitest';
import { ModelRegistry, originName, registryLoader } from '../../dispatch/registry';

const pool = {
  placement: 'origin',
  origins: [
    { url: 'http://10.0.0.1:8000/' },
    { url: 'https://gpu-2.example.com', weight: 2, name: 'gpu-2' },
  ],
  fallbacks: ['stories260k'],
};

describe('model registry', () => {
  it('parses JSON text with defaults filled in', () => {
    const reg = ModelRegistry.parse(
      JSON.stringify({ models: { 'deepseek-v3': pool, stories260k: { placement: 'edge' } } }),
    );
    const m = reg.get('deepseek-v3');
    expect(m?.placement).toBe('origin');
    if (m?.placement !== 'origin') throw new Error('unreachable');
    expect(m.origins[0]).toEqual({ url: 'http://10.0.0.1:8000', weight: 1 });
    expect(m.timeouts).toEqual({ connect_ms: 2000, first_token_ms: 30000, total_ms: 600000 });
    expect(m).toMatchObject({
      id: 'deepseek-v3',
      max_concurrency: 32,
      affinity_chars: 512,
      health_path: '/health',
      fallbacks: ['stories260k'],
    });
    // Unset: the origin's own default applies (one that fits its context).
    expect(m.max_output_tokens).toBeUndefined();
    expect(reg.get('stories260k')).toMatchObject({
      id: 'stories260k',
      placement: 'edge',
      fallbacks: [],
    });
    expect(reg.list().map((e) => e.id)).toEqual(['deepseek-v3', 'stories260k']);
    expect(originName(m.origins[0])).toBe('10.0.0.1:8000');
    expect(originName(m.origins[1])).toBe('gpu-2');
  });

  it('accepts an object (a TOML table var) and an empty string', () => {
    expect(ModelRegistry.parse({ models: { a: pool } }).get('a')).toBeDefined();
    expect(ModelRegistry.parse('').list()).toEqual([]);
  });

  it('rejects bad registries with every issue named by its path', () => {
    const bad = {
      models: {
        a: { ...pool, origins: [{ url: 'ftp://x' }] },
        d: { placement: 'gpu' },
        e: { ...pool, timeouts: { connect_ms: -1 } },
        f: { ...pool, surprise: true },
      },
    };
    let message = '';
    try {
      ModelRegistry.parse(bad);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^invalid model registry:/);
    for (const path of [
      'models.a.origins.0.url',
      'models.d',
      'models.e.timeouts.connect_ms',
      'models.f',
    ]) {
      expect(message).toContain(path);
    }
    // Cross-field rules, checked once the shapes are right.
    const crossed = {
      models: {
        b: { ...pool, fallbacks: ['b'] },
        c: { ...pool, origins: [{ url: 'http://h:1' }, { url: 'http://h:1/' }] },
        e: { ...pool, context_length: 2048, max_output_tokens: 4096 },
      },
    };
    expect(() => ModelRegistry.parse(crossed)).toThrow(
      /models\.b\.fallbacks\.0: a model cannot fall back to itself[\s\S]*models\.c\.origins: origin URLs must be distinct[\s\S]*models\.e\.max_output_tokens: must be below context_length/,
    );
    expect(() => ModelRegistry.parse('{nope')).toThrow(/not JSON/);
  });

  it('checks at load that the secrets an origin pool names are set', () => {
    const withAuth = JSON.stringify({
      models: { a: { ...pool, auth: { secret: 'ORIGIN_TOKEN', scheme: 'Bearer' } } },
    });
    const load = registryLoader();
    expect(() => load({ MODEL_REGISTRY: withAuth })).toThrow(/secrets not set: ORIGIN_TOKEN/);
    expect(
      load({ MODEL_REGISTRY: withAuth, ORIGIN_TOKEN: 's3cret' } as never).get('a'),
    ).toBeDefined();
  });

  it('parses once per source, and a file given to createApp wins over the var', () => {
    const load = registryLoader();
    const env = { MODEL_REGISTRY: JSON.stringify({ models: { a: pool } }) };
    expect(load(env)).toBe(load(env));
    const fromFile = registryLoader({ models: { z: pool } });
    expect(fromFile(env).get('z')).toBeDefined();
    expect(fromFile(env).get('a')).toBeUndefined();
  });

  it("aliases: DeepSeek's names resolve to a model with their own flags; bad aliases are named", () => {
    const reg = ModelRegistry.parse({
      models: { 'deepseek-v3': { ...pool, reasoning: false }, stories260k: { placement: 'edge' } },
      aliases: {
        'deepseek-chat': 'deepseek-v3',
        'deepseek-reasoner': { model: 'deepseek-v3', reasoning: true, fallback: false },
      },
    });
    expect(reg.resolve('deepseek-chat')).toEqual({
      id: 'deepseek-v3',
      shownAs: 'deepseek-chat',
      reasoning: false,
      fallback: true,
    });
    expect(reg.resolve('deepseek-reasoner')).toEqual({
      id: 'deepseek-v3',
      shownAs: 'deepseek-reasoner',
      reasoning: true,
      fallback: false,
    });
    // a name that is no alias is itself, with its model's flags (or none, for a model only in R2)
    expect(reg.resolve('deepseek-v3')).toMatchObject({ id: 'deepseek-v3', fallback: true });
    expect(reg.resolve('only-in-r2')).toEqual({
      id: 'only-in-r2',
      shownAs: 'only-in-r2',
      reasoning: false,
      fallback: true,
    });
    expect(reg.aliases().map((a) => a.id)).toEqual(['deepseek-chat', 'deepseek-reasoner']);
    expect(() =>
      ModelRegistry.parse({
        models: { a: pool },
        aliases: { a: 'b', c: 'x', d: 'c' },
      }),
    ).toThrow(/aliases\.a: a model has this id[\s\S]*aliases\.d\.model: an alias names a model/);
  });

  it('an edge model may have a prefill tier: origins, defaults filled in, its secret checked at load', () => {
    const edge = (prefill: object) =>
      JSON.stringify({ models: { ds: { placement: 'edge', prefill } } });
    const load = registryLoader();
    const text = edge({ origins: [{ url: 'http://p:8001/' }] });
    expect(() => load({ MODEL_REGISTRY: text })).toThrow(/secrets not set: PREFILL_SECRET/);
    expect(load({ MODEL_REGISTRY: text, PREFILL_SECRET: 's' } as never).get('ds')).toMatchObject({
      prefill: {
        origins: [{ url: 'http://p:8001', weight: 1 }],
        min_prompt_tokens: 512,
        codec: 'f32',
        auth: { header: 'authorization', scheme: 'Bearer', secret: 'PREFILL_SECRET' },
      },
    });
    expect(() => ModelRegistry.parse(edge({ origins: [] }))).toThrow(/prefill\.origins/);
    expect(() =>
      ModelRegistry.parse(edge({ origins: [{ url: 'http://p:1' }], codec: 'int4' })),
    ).toThrow(/prefill\.codec/);
  });
});
