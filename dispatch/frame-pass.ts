// The relay's fast path over one upstream SSE frame: a content frame is passed through as text, its
// head (id, created, model, system_fingerprint) and its `usage` rewritten in place, never parsed. What it cannot vouch
// for (a finish, an error, a usage chunk, a layout it does not know) goes to the slow path, which
// parses it. JSON strings escape their quotes, so `"finish_reason":"` or `,"usage":` found in the
// text are real keys, never a model's output.

/**
 * The leading keys of a chunk as vLLM, SGLang and our origin serialize them (compact JSON); ours
 * follows the model with its fingerprint, vLLM's chunks have none.
 */
const HEAD =
  /^\{"id":"[^"\\]*",("object":"[^"\\]*",)?"created":\d+,"model":"[^"\\]*"(?:,"system_fingerprint":(?:null|"[^"\\]*"))?/;

/** A usage value alone: `null` or `{…}` holding flat objects at most (a key after it fails). */
const USAGE = /^(?:null|\{[^{}[\]]*(?:\{[^{}[\]]*\}[^{}[\]]*)*\})$/;

export interface PassTarget {
  /** Our id, model and fingerprint as JSON text (built once per stream), and our `created`. */
  id: string;
  model: string;
  fingerprint: string;
  created: number;
  /** The client asked for a usage chunk: every other chunk says `usage: null`. */
  includeUsage: boolean;
  /** The origin's head as last seen and ours in its place: one origin repeats it on every chunk. */
  seen: string | null;
  ours: string;
}

export interface Passed {
  /** The frame as the client gets it (without `data: `). */
  text: string;
  /** The frame's usage object as text (continuous usage stats), for billing: parsed only if needed. */
  usage: string | null;
}

const NULL_TAIL = ',"usage":null}';

/** The frame rewritten for the client, or null when it must take the slow path. */
export function passFrame(data: string, t: PassTarget): Passed | null {
  if (data.indexOf('"finish_reason":"') >= 0 || data.indexOf('"choices":[{') < 0) return null;
  // the head as the last frame had it: a prefix compare instead of the regex
  if (t.seen === null || !data.startsWith(t.seen)) {
    const m = HEAD.exec(data);
    if (!m) return null;
    t.seen = m[0];
    t.ours = `{"id":${t.id},${m[1] ?? ''}"created":${t.created},"model":${t.model},"system_fingerprint":${t.fingerprint}`;
  }
  let body: string;
  let usage: string | null = null;
  if (data.endsWith(NULL_TAIL)) {
    // the usual chunk of a stream that ends with a usage chunk: nothing to read
    body = t.includeUsage
      ? data.slice(t.seen.length)
      : data.slice(t.seen.length, -NULL_TAIL.length) + '}';
    return { text: t.ours + body, usage };
  }
  body = data.slice(t.seen.length);
  const u = body.lastIndexOf(',"usage":');
  if (u >= 0) {
    const value = body.slice(u + 9, -1);
    // Usage must be the chunk's last key: null, or an object of numbers and flat detail objects.
    if (body.charCodeAt(body.length - 1) !== 125 || !USAGE.test(value)) return null;
    if (value !== 'null') usage = value;
    body = body.slice(0, u) + (t.includeUsage ? NULL_TAIL : '}');
  } else if (t.includeUsage) {
    if (body.charCodeAt(body.length - 1) !== 125) return null;
    body = body.slice(0, -1) + NULL_TAIL;
  }
  return { text: t.ours + body, usage };
}

export const passTarget = (
  id: string,
  model: string,
  created: number,
  includeUsage: boolean,
  fingerprint: string,
): PassTarget => ({
  id: JSON.stringify(id),
  model: JSON.stringify(model),
  fingerprint: JSON.stringify(fingerprint),
  created,
  includeUsage,
  seen: null,
  ours: '',
});
