// The relay's fast path over one upstream SSE frame: a content frame is passed through as text, its
// head (id, created, model) and its `usage` rewritten in place, never parsed. What it cannot vouch
// for (a finish, an error, a usage chunk, a layout it does not know) goes to the slow path, which
// parses it. JSON strings escape their quotes, so `"finish_reason":"` or `,"usage":` found in the
// text are real keys, never a model's output.

/** The leading keys of a chunk as vLLM, SGLang and our origin serialize them (compact JSON). */
const HEAD = /^\{"id":"[^"\\]*",("object":"[^"\\]*",)?"created":\d+,"model":"[^"\\]*"/;

/** A usage value alone: `null` or `{…}` holding flat objects at most (a key after it fails). */
const USAGE = /^(?:null|\{[^{}[\]]*(?:\{[^{}[\]]*\}[^{}[\]]*)*\})$/;

export interface PassTarget {
  /** Our id and model as JSON text (built once per stream), and our `created`. */
  id: string;
  model: string;
  created: number;
  /** The client asked for a usage chunk: every other chunk says `usage: null`. */
  includeUsage: boolean;
}

export interface Passed {
  /** The frame as the client gets it (without `data: `). */
  text: string;
  /** The frame's usage object as text (continuous usage stats), for billing: parsed only if needed. */
  usage: string | null;
}

/** The frame rewritten for the client, or null when it must take the slow path. */
export function passFrame(data: string, t: PassTarget): Passed | null {
  if (data.indexOf('"finish_reason":"') >= 0 || data.indexOf('"choices":[{') < 0) return null;
  const m = HEAD.exec(data);
  if (!m) return null;
  let body = data.slice(m[0].length);
  let usage: string | null = null;
  const u = body.lastIndexOf(',"usage":');
  if (u >= 0) {
    const value = body.slice(u + 9, -1);
    // Usage must be the chunk's last key: null, or an object of numbers and flat detail objects.
    if (body.charCodeAt(body.length - 1) !== 125 || !USAGE.test(value)) return null;
    if (value !== 'null') usage = value;
    body = body.slice(0, u) + (t.includeUsage ? ',"usage":null}' : '}');
  } else if (t.includeUsage) {
    if (body.charCodeAt(body.length - 1) !== 125) return null;
    body = body.slice(0, -1) + ',"usage":null}';
  }
  const text = `{"id":${t.id},${m[1] ?? ''}"created":${t.created},"model":${t.model}${body}`;
  return { text, usage };
}

export const passTarget = (
  id: string,
  model: string,
  created: number,
  includeUsage: boolean,
): PassTarget => ({ id: JSON.stringify(id), model: JSON.stringify(model), created, includeUsage });
