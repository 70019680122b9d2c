// Starts the request's latency clock (protocol/latency.ts) as the request arrives, before auth, so
// a time to first token is what the client waits; generation (routes/generation.ts) and the relay
// (dispatch/) mark it. On the way out a JSON answer says its timing in Server-Timing, beside the
// prompt cache's pc-* entries; a stream's headers leave before its first token, so its timing
// rides in the last chunk's usage instead.
import type { MiddlewareHandler } from 'hono';
import { LatencyClock, serverTiming } from '../../../protocol/latency';
import type { AppEnv } from '../../env';

export function timing(): MiddlewareHandler<AppEnv> {
  return async function timing(c, next) {
    const clock = new LatencyClock();
    c.set('latency', clock);
    await next();
    const entries = clock.result ? serverTiming(clock.result) : '';
    // An answer's, not an error's (a generation that failed midway has a timing too, in the ledger).
    if (
      entries &&
      c.res.status === 200 &&
      c.res.headers.get('content-type')?.startsWith('application/json')
    )
      c.res.headers.append('server-timing', entries);
  };
}
