// protocol/sampling.ts: the max_tokens, stop and sampling-option rules the Worker's and the origin's
// plans share, with their wire errors (message, param, code) as both have always sent them.
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../protocol/errors';
import {
  chatChunk,
  chatUsageChunk,
  completionChunk,
  completionUsageChunk,
} from '../../protocol/frames';
import {
  includeUsageOf,
  normalizeStops,
  resolveMaxTokens,
  samplingOptionsOf,
} from '../../protocol/sampling';
import { makeUsage } from '../../protocol/usage';

/** The error `fn` throws, as the wire sends it. */
function wireError(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return { status: (err as ApiError).status, ...(err as ApiError).toJSON().error };
  }
  throw new Error('expected an ApiError');
}

describe('resolveMaxTokens', () => {
  it('takes max_tokens, or the default capped at the room left', () => {
    expect(resolveMaxTokens(100, 10, { max_tokens: 90 }, 16, 'prompt')).toBe(90);
    expect(resolveMaxTokens(100, 10, {}, 16, 'prompt')).toBe(16);
    expect(resolveMaxTokens(100, 95, { max_tokens: null }, 16, 'prompt')).toBe(5);
    expect(resolveMaxTokens(100, 10, {}, 'context', 'messages')).toBe(90);
  });

  it('rejects a prompt that fills the context under the prompt param', () => {
    expect(wireError(() => resolveMaxTokens(100, 100, {}, 16, 'messages'))).toEqual({
      status: 400,
      message:
        "This model's maximum context length is 100 tokens. However, you requested 100 tokens. Please reduce the length of the messages or max_tokens.",
      type: 'invalid_request_error',
      param: 'messages',
      code: 'context_length_exceeded',
    });
    expect(
      wireError(() => resolveMaxTokens(100, 120, { max_tokens: 1 }, 16, 'prompt')),
    ).toMatchObject({ param: 'prompt', code: 'context_length_exceeded' });
  });

  it('rejects max_tokens beyond the room under max_tokens, counting prompt + max_tokens', () => {
    expect(wireError(() => resolveMaxTokens(100, 10, { max_tokens: 91 }, 16, 'prompt'))).toEqual({
      status: 400,
      message:
        "This model's maximum context length is 100 tokens. However, you requested 101 tokens. Please reduce the length of the messages or max_tokens.",
      type: 'invalid_request_error',
      param: 'max_tokens',
      code: 'context_length_exceeded',
    });
  });
});

describe('normalizeStops', () => {
  it('makes a list of none, one or many', () => {
    expect(normalizeStops(undefined)).toEqual([]);
    expect(normalizeStops(null)).toEqual([]);
    expect(normalizeStops('\n')).toEqual(['\n']);
    expect(normalizeStops(['a', 'b'])).toEqual(['a', 'b']);
    expect(normalizeStops('x'.repeat(256))).toEqual(['x'.repeat(256)]);
  });

  it('rejects a stop string over 256 characters', () => {
    expect(wireError(() => normalizeStops(['ok', 'x'.repeat(257)]))).toEqual({
      status: 400,
      message: 'Each stop sequence must be at most 256 characters.',
      type: 'invalid_request_error',
      param: 'stop',
      code: 'invalid_request',
    });
  });
});

describe('samplingOptionsOf', () => {
  it('defaults to temperature 1, top_p 1 and every extra off', () => {
    const o = samplingOptionsOf({}, 32);
    expect(o).toEqual({ temperature: 1, topP: 1 });
    // The keys are there (undefined), in this order, as both plans have always built them.
    expect(Object.keys(o)).toEqual([
      'temperature',
      'topP',
      'seed',
      'topK',
      'minP',
      'presencePenalty',
      'frequencyPenalty',
      'logitBias',
      'logprobs',
    ]);
  });

  it('maps every field', () => {
    expect(
      samplingOptionsOf(
        {
          temperature: 0,
          top_p: 0.9,
          seed: 7,
          top_k: 40,
          min_p: 0.05,
          presence_penalty: 0.5,
          frequency_penalty: -0.5,
          logit_bias: { '3': -100, '10': 5 },
          logprobs: true,
          top_logprobs: 2,
        },
        32,
      ),
    ).toEqual({
      temperature: 0,
      topP: 0.9,
      seed: 7,
      topK: 40,
      minP: 0.05,
      presencePenalty: 0.5,
      frequencyPenalty: -0.5,
      logitBias: { 3: -100, 10: 5 },
      logprobs: 2,
    });
    expect(samplingOptionsOf({ logprobs: true }, 32).logprobs).toBe(0);
    expect(samplingOptionsOf({ logprobs: 3 }, 32).logprobs).toBe(3);
    expect(samplingOptionsOf({ logprobs: false }, 32).logprobs).toBeUndefined();
    expect(samplingOptionsOf({ logit_bias: {} }, 32).logitBias).toBeUndefined();
  });

  it('rejects a logit_bias token outside the vocabulary', () => {
    expect(wireError(() => samplingOptionsOf({ logit_bias: { '31': 1, '32': 1 } }, 32))).toEqual({
      status: 400,
      message: 'logit_bias names token 32, outside the vocabulary (32).',
      type: 'invalid_request_error',
      param: 'logit_bias',
      code: 'invalid_request',
    });
  });

  it('rejects top_logprobs without logprobs: true', () => {
    for (const logprobs of [undefined, false, 2]) {
      expect(wireError(() => samplingOptionsOf({ logprobs, top_logprobs: 1 }, 32))).toEqual({
        status: 400,
        message: 'top_logprobs requires logprobs to be true.',
        type: 'invalid_request_error',
        param: 'top_logprobs',
        code: 'invalid_request',
      });
    }
  });
});

describe('includeUsageOf', () => {
  it('is true only for stream_options.include_usage: true', () => {
    expect(includeUsageOf({})).toBe(false);
    expect(includeUsageOf({ stream_options: null })).toBe(false);
    expect(includeUsageOf({ stream_options: { include_usage: null } })).toBe(false);
    expect(includeUsageOf({ stream_options: { include_usage: true } })).toBe(true);
  });
});

describe('protocol/frames', () => {
  const head = { id: 'chatcmpl-1', created: 1, model: 'm', system_fingerprint: 'fp' };
  const usage = makeUsage(3, 2, 0);

  it('builds chat chunks with usage: null only when a usage chunk follows', () => {
    expect(
      JSON.stringify(
        chatChunk(
          head,
          1,
          { content: 'hi' },
          null,
          [{ token: 'hi', logprob: -1, bytes: [104, 105], top_logprobs: [] }],
          true,
        ),
      ),
    ).toBe(
      '{"id":"chatcmpl-1","created":1,"model":"m","system_fingerprint":"fp","object":"chat.completion.chunk","choices":[{"index":1,"delta":{"content":"hi"},"logprobs":{"content":[{"token":"hi","logprob":-1,"bytes":[104,105],"top_logprobs":[]}],"refusal":null},"finish_reason":null}],"usage":null}',
    );
    expect(JSON.stringify(chatChunk(head, 0, {}, 'stop', undefined, false))).toBe(
      '{"id":"chatcmpl-1","created":1,"model":"m","system_fingerprint":"fp","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}',
    );
    expect(chatUsageChunk(head, usage)).toEqual({
      ...head,
      object: 'chat.completion.chunk',
      choices: [],
      usage,
    });
  });

  it('builds text-completion chunks the same way', () => {
    expect(JSON.stringify(completionChunk(head, 0, 'x', 'length', null, true))).toBe(
      '{"id":"chatcmpl-1","created":1,"model":"m","system_fingerprint":"fp","object":"text_completion","choices":[{"index":0,"text":"x","logprobs":null,"finish_reason":"length"}],"usage":null}',
    );
    expect(completionUsageChunk(head, usage)).toEqual({
      ...head,
      object: 'text_completion',
      choices: [],
      usage,
    });
  });
});
