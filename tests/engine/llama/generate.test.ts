// LlamaModel.generate(): stop strings, UTF-8 over byte tokens, abort, length, sessions, seeds.
// Scripted models make the greedy output exact; synthetic random models cover sampling.
import { describe, expect, it } from 'vitest';
import {
  LlamaModel,
  syntheticLlama2cCheckpoint,
  syntheticLlama2cTokenizer,
  type GenerateOptions,
  type SyntheticShape,
} from '../../../engine/index';
import { createNodeKernels } from '../../../kernels-wasm/node';
import { collect, scriptedModel, scriptedPieces, turnsDuring } from '../helpers';

const greedy = (over: Partial<GenerateOptions> = {}): GenerateOptions => ({
  maxTokens: 50,
  temperature: 0,
  topP: 1,
  ...over,
});

/** "Hello world!" as Hel|lo| wor|ld|!, then "€" as three byte tokens, then " ok". */
async function helloModel(opts: { seqLen?: number } = {}) {
  const pieces = scriptedPieces(['Hel', 'lo', ' wor', 'ld', '!', ' ok']);
  const id = (p: string) => pieces.indexOf(p);
  const euro = [0xe2, 0x82, 0xac].map((b) => b + 3);
  const script = [1, id('Hel'), id('lo'), id(' wor'), id('ld'), id('!'), ...euro, id(' ok')];
  return scriptedModel(await createNodeKernels(), pieces, script, opts);
}

describe('scripted generation', () => {
  it('streams the scripted text and stops at EOS', async () => {
    const model = await helloModel();
    const { tokens, result, text } = await collect(model.generate([1], greedy()));
    expect(text).toBe('Hello world!€ ok');
    expect(tokens.at(-1)).toEqual({ id: 2, text: '' });
    expect(result).toEqual({ finishReason: 'stop', promptTokens: 1, completionTokens: 10 });
  });

  it('never emits part of a UTF-8 character split over byte tokens', async () => {
    const { tokens } = await collect((await helloModel()).generate([1], greedy()));
    expect(tokens.slice(5, 9).map((t) => t.text)).toEqual(['', '', '€', ' ok']);
    for (const t of tokens) expect(t.text).not.toContain('\uFFFD');
  });

  it('drops an unfinished UTF-8 character at the end', async () => {
    const { text, result } = await collect(
      (await helloModel()).generate([1], greedy({ maxTokens: 7 })),
    );
    expect(text).toBe('Hello world!');
    expect(result.finishReason).toBe('length');
  });

  it('ends before a stop string that spans tokens, holding back its possible start', async () => {
    const { tokens, result, text } = await collect(
      (await helloModel()).generate([1], greedy({ stop: ['lo w'] })),
    );
    expect(text).toBe('Hel');
    expect(tokens.map((t) => t.text)).toEqual(['He', 'l', '']);
    expect(result).toEqual({ finishReason: 'stop', promptTokens: 1, completionTokens: 3 });
  });

  it('releases held-back text that does not become a stop string', async () => {
    const { tokens, text, result } = await collect(
      (await helloModel()).generate([1], greedy({ stop: ['lo!', 'xyz'] })),
    );
    expect(text).toBe('Hello world!€ ok');
    expect(tokens.slice(0, 3).map((t) => t.text)).toEqual(['He', 'l', 'lo wor']);
    expect(result.finishReason).toBe('stop'); // EOS
  });

  it('stops on a stop string inside one token, and on a multi-byte one', async () => {
    expect((await collect((await helloModel()).generate([1], greedy({ stop: ['or'] })))).text).toBe(
      'Hello w',
    );
    expect((await collect((await helloModel()).generate([1], greedy({ stop: ['€'] })))).text).toBe(
      'Hello world!',
    );
  });

  it('flushes a held-back prefix when the length runs out', async () => {
    const { text, result } = await collect(
      (await helloModel()).generate([1], greedy({ maxTokens: 1, stop: ['lo'] })),
    );
    expect(text).toBe('Hel');
    expect(result).toEqual({ finishReason: 'length', promptTokens: 1, completionTokens: 1 });
  });

  it('keeps going past EOS when stopAtEos is false', async () => {
    const { tokens, result } = await collect(
      (await helloModel()).generate([1], greedy({ maxTokens: 12, stopAtEos: false })),
    );
    expect(tokens.length).toBe(12);
    expect(result.finishReason).toBe('length');
  });

  it('ends with length when the context is full', async () => {
    const model = await helloModel({ seqLen: 4 });
    const { tokens, result } = await collect(model.generate([1, 262], greedy()));
    expect(tokens.length).toBe(3); // positions 0..3: two prompt tokens, then 3 sampled (the last is never fed)
    expect(result).toEqual({ finishReason: 'length', promptTokens: 2, completionTokens: 3 });
    await expect(collect(model.generate([1, 1, 1, 1, 1], greedy()))).rejects.toThrow(
      /context of 4/,
    );
  });

  it('rejects prompts that are empty or outside the vocabulary', async () => {
    const model = await helloModel();
    await expect(collect(model.generate([], greedy()))).rejects.toThrow(/at least one token/);
    await expect(collect(model.generate([1, 9999], greedy()))).rejects.toThrow(
      /outside the vocabulary/,
    );
  });
});

const small: SyntheticShape = {
  dim: 32,
  hiddenDim: 64,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  vocabSize: 400,
  seqLen: 64,
};

async function randomModel(maxSessions?: number) {
  return LlamaModel.fromLlama2c(
    await createNodeKernels(),
    syntheticLlama2cCheckpoint(small, 5),
    syntheticLlama2cTokenizer(400),
    { maxSessions },
  );
}

describe('sampling, abort and sessions', () => {
  const sampled = (seed?: number): GenerateOptions => ({
    maxTokens: 30,
    temperature: 1,
    topP: 0.9,
    seed,
    stopAtEos: false,
  });
  const ids = async (model: LlamaModel, opts: GenerateOptions) =>
    (await collect(model.generate([1, 300, 301], opts))).tokens.map((t) => t.id);

  it('gives the same tokens for the same seed, and different ones for another', async () => {
    const model = await randomModel();
    const a = await ids(model, sampled(42));
    expect(await ids(model, sampled(42))).toEqual(a);
    expect(await ids(model, sampled(43))).not.toEqual(a);
    expect(await ids(model, sampled())).not.toEqual(await ids(model, sampled()));
  });

  it('stops between tokens when the signal aborts, and bills what was produced', async () => {
    const model = await randomModel();
    const abort = new AbortController();
    const gen = model.generate([1, 300], { ...sampled(1), signal: abort.signal });
    let n = 0;
    for (;;) {
      const step = await gen.next();
      if (step.done) {
        expect(step.value).toEqual({ finishReason: 'abort', promptTokens: 2, completionTokens: 3 });
        break;
      }
      if (++n === 3) abort.abort();
    }
    const pre = new AbortController();
    pre.abort();
    expect(
      (await collect(model.generate([1], { ...sampled(1), signal: pre.signal }))).result
        .finishReason,
    ).toBe('abort');
  });

  it('reuses sessions, and makes requests beyond the cap wait (or abort while waiting)', async () => {
    const model = await randomModel(1);
    const [a, b] = await Promise.all([ids(model, sampled(7)), ids(model, sampled(7))]);
    expect(a).toEqual(b);
    expect(model.sessionCount).toBe(1);

    const first = model.generate([1], sampled(7));
    await first.next(); // holds the only session
    const abort = new AbortController();
    const waiting = collect(model.generate([1], { ...sampled(7), signal: abort.signal }));
    abort.abort();
    expect((await waiting).result).toEqual({
      finishReason: 'abort',
      promptTokens: 1,
      completionTokens: 0,
    });
    await first.return(undefined as never); // a consumer that stops early releases its session
    expect((await collect(model.generate([1], sampled(7)))).tokens.length).toBe(30);
    expect(model.sessionCount).toBe(1);
  });

  it('lets other work run between tokens', async () => {
    const model = await randomModel();
    // Work queued on the event loop (setImmediate, as Node runs I/O callbacks) runs during generation: the
    // pacer takes a turn after the first step and then every few. (A 1 ms interval timer was flaky: 60
    // tokens of this model can finish inside the first turn's millisecond and the 50 ms cycle bound.)
    const { turns } = await turnsDuring(() =>
      collect(model.generate([1], { ...sampled(1), maxTokens: 60 })),
    );
    expect(turns).toBeGreaterThan(0);
  });
});
