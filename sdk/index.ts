// The TypeScript client of the edge-inference API, laid out like openai-node:
// `new EdgeInference({ apiKey, baseURL })`, then `client.chat.completions.create(...)`.
import { EdgeInference } from './client';

export { EdgeInference };
export default EdgeInference;
export type { ClientOptions, Fetch, RequestOptions } from './client';
export { APIPromise, type WithResponse } from './core/api-promise';
export { Stream } from './core/stream';
export { LineDecoder, SSEDecoder, iterSSE, type ServerSentEvent } from './core/sse';
export { backoffDelayMs, retryDelayMs, serverRequestedDelayMs, shouldRetry } from './core/retry';
export * from './core/errors';
export type * from './types';
