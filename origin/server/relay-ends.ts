// Client-ready streams (docs/origin.md, "Client-ready frames"). The Worker's relay costs a few µs of
// JS per chunk it reads; a stream it hands to workerd untouched costs it nothing per token. So the
// Worker may ask, in `x-relay-head`, for frames its client can take as they are: its id, model,
// `created` and `system_fingerprint` in every chunk, `usage: null` only when its client asked for a usage chunk. The origin
// then writes every chunk but the stream's end — the finish frames, an error frame, the usage chunk —
// and holds those for the Worker, which fetches them once the body is over (GET /v1/relay-ends/:key),
// bills the usage and writes the end itself with the cost. A key is the Worker's random token, never
// the client's request id: it names one stream.
import { z } from 'zod';

const relayHead = z.strictObject({
  key: z.string().min(16).max(64),
  id: z.string().min(1).max(200),
  model: z.string().min(1).max(200),
  created: z.number().int().nonnegative(),
  /** The Worker's fingerprint for the pool (protocol/fingerprint.ts): its JSON answers carry it too. */
  system_fingerprint: z.string().min(1).max(64).optional(),
  include_usage: z.boolean(),
});

export type RelayHead = z.infer<typeof relayHead>;

/** The header's request, or null when absent or malformed (then the stream is an ordinary one). */
export function relayHeadOf(header: string | undefined): RelayHead | null {
  if (!header) return null;
  try {
    const head = relayHead.safeParse(JSON.parse(header));
    return head.success ? head.data : null;
  } catch {
    return null;
  }
}

/** How long a stream's end waits for the Worker to fetch it. */
const KEEP_MS = 60_000;

interface End {
  frames: Promise<string[]>;
  resolve(frames: string[]): void;
  timer?: ReturnType<typeof setTimeout>;
}

/** The held ends of client-ready streams, by key, until fetched or KEEP_MS after the stream ended. */
export class RelayEnds {
  private readonly ends = new Map<string, End>();

  /** Opens a stream's end; the returned function settles it with the held frames (SSE data). */
  open(key: string): (frames: string[]) => void {
    let resolve!: (frames: string[]) => void;
    const frames = new Promise<string[]>((r) => (resolve = r));
    const end: End = { frames, resolve };
    this.ends.set(key, end);
    return (held) => {
      end.resolve(held);
      end.timer = setTimeout(() => this.ends.get(key) === end && this.ends.delete(key), KEEP_MS);
      end.timer.unref?.();
    };
  }

  /** The stream's held frames once it ends (each end is taken once); null for an unknown key. */
  async take(key: string, signal?: AbortSignal): Promise<string[] | null> {
    const end = this.ends.get(key);
    if (!end) return null;
    const aborted = new Promise<null>((resolve) =>
      signal?.addEventListener('abort', () => resolve(null), { once: true }),
    );
    const frames = await Promise.race([end.frames, aborted]);
    if (frames && this.ends.get(key) === end) {
      this.ends.delete(key);
      clearTimeout(end.timer);
    }
    return frames;
  }

  get size(): number {
    return this.ends.size;
  }
}
