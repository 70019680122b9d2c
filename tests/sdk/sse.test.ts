// SSE decoding: frames split at every byte, CRLF split across chunks, multi-byte characters split,
// comments, multi-line data, a last event without its blank line.
import { describe, expect, it } from 'vitest';
import { iterSSE, LineDecoder, type ServerSentEvent } from '../../sdk/index';
import { sseResponse } from './helpers';

async function events(text: string, cuts: number[] = []): Promise<ServerSentEvent[]> {
  const out: ServerSentEvent[] = [];
  for await (const e of iterSSE(sseResponse(text, { cuts }).body!)) out.push(e);
  return out;
}

describe('SSE decoding', () => {
  const text =
    'data: {"a":"héllo 🌍"}\n\n: keep-alive comment\n\nevent: error\ndata: {"error":{"message":"x"}}\n\ndata: [DONE]\n\n';
  const expected = [
    { event: null, data: '{"a":"héllo 🌍"}', id: null },
    { event: 'error', data: '{"error":{"message":"x"}}', id: null },
    { event: null, data: '[DONE]', id: null },
  ];

  it('decodes whole frames', async () => {
    expect(await events(text)).toEqual(expected);
  });

  it('gives the same events however the bytes are split', async () => {
    const length = new TextEncoder().encode(text).length;
    for (let cut = 1; cut < length; cut++) expect(await events(text, [cut])).toEqual(expected);
    expect(
      await events(
        text,
        Array.from({ length: length - 1 }, (_, i) => i + 1),
      ),
    ).toEqual(expected); // one byte a chunk
  });

  it('accepts CRLF and CR line ends, a CRLF split across chunks included', async () => {
    const crlf = 'data: one\r\n\r\ndata: two\r\rdata: three\n\n';
    const want = ['one', 'two', 'three'];
    expect((await events(crlf)).map((e) => e.data)).toEqual(want);
    const at = crlf.indexOf('\r\n') + 1; // between \r and \n
    expect((await events(crlf, [at])).map((e) => e.data)).toEqual(want);
    expect((await events(crlf, [at + 2])).map((e) => e.data)).toEqual(want);
  });

  it('joins multi-line data, keeps ids, strips one leading space only', async () => {
    const got = await events('id: 7\ndata:  a\ndata:b\n\n');
    expect(got).toEqual([{ event: null, data: ' a\nb', id: '7' }]);
  });

  it('yields a last event that lacks its blank line', async () => {
    expect((await events('data: x\n\ndata: tail')).map((e) => e.data)).toEqual(['x', 'tail']);
  });

  it('LineDecoder keeps a partial line for the next chunk', () => {
    const d = new LineDecoder();
    expect(d.push('ab')).toEqual([]);
    expect(d.push('c\nde\r')).toEqual(['abc', 'de']);
    expect(d.push('\nf')).toEqual([]);
    expect(d.flush()).toEqual(['f']);
  });
});
