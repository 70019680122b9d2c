// The Anthropic route's stream: the chat pipeline's SSE chunks, read as they come, re-sent as
// Anthropic's events (protocol/anthropic/stream.ts). A client that goes away cancels the chat
// stream, which stops decoding and bills what was produced; a mid-stream error is an `error` event.
import { anthropicErrorBody, apiErrorOf } from '../protocol/anthropic/errors';
import {
  AnthropicStream,
  eventFrame,
  type ChatChunk,
  type StreamStart,
} from '../protocol/anthropic/stream';
import { sseResponse } from '../protocol/sse';

/** The `data:` payloads of an SSE body, one by one. */
async function* sseData(reader: ReadableStreamDefaultReader<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = frame
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart())
        .join('\n');
      if (data) yield data;
    }
    if (done) return;
  }
}

export function anthropicStream(
  chat: Response,
  headers: Record<string, string>,
  start: StreamStart,
): Response {
  const reader = chat.body!.getReader();
  const events = new AnthropicStream(start);
  async function* frames(): AsyncGenerator<string> {
    yield events.start().map(eventFrame).join('');
    for await (const data of sseData(reader)) {
      if (data === '[DONE]') break;
      const chunk = JSON.parse(data) as ChatChunk & { error?: unknown };
      if (chunk.error) {
        const body = anthropicErrorBody(apiErrorOf(500, chunk), start.requestId);
        yield events.error(body).map(eventFrame).join('');
        return;
      }
      const out = events.chunk(chunk);
      if (out.length) yield out.map(eventFrame).join('');
    }
    yield events.end().map(eventFrame).join('');
  }
  const source = frames();
  return sseResponse(source, headers, async () => {
    await reader.cancel();
    await source.return(undefined);
  });
}
