// Turns a token's bytes into text deltas a client may see: only complete UTF-8 characters, and
// never text that could still turn out to be the start of a stop string.

export class TextStream {
  private readonly decoder = new TextDecoder('utf-8');
  private readonly stops: string[];
  /** Decoded text not emitted yet: a possible stop-string prefix. */
  private pending = '';
  private hitStop = false;

  constructor(stops: readonly string[] = []) {
    this.stops = stops.filter((s) => s.length > 0);
  }

  /** True once a stop string appeared; nothing more should be pushed. */
  get stopped(): boolean {
    return this.hitStop;
  }

  /** Adds one token's bytes and returns the text that is now safe to emit. */
  push(bytes: Uint8Array): string {
    this.pending += this.decoder.decode(bytes, { stream: true });
    let cut = -1;
    for (const stop of this.stops) {
      const at = this.pending.indexOf(stop);
      if (at !== -1 && (cut === -1 || at < cut)) cut = at;
    }
    if (cut !== -1) {
      this.hitStop = true;
      const text = this.pending.slice(0, cut);
      this.pending = '';
      return text;
    }
    const keep = this.heldSuffixLength();
    const text = this.pending.slice(0, this.pending.length - keep);
    this.pending = this.pending.slice(this.pending.length - keep);
    return text;
  }

  /** At the end: the held-back text. Bytes of an unfinished UTF-8 character are dropped. */
  flush(): string {
    const text = this.pending;
    this.pending = '';
    return text;
  }

  /** Length of the longest tail of `pending` that is a proper prefix of some stop string. */
  private heldSuffixLength(): number {
    let longest = 0;
    for (const stop of this.stops) {
      for (let n = Math.min(stop.length - 1, this.pending.length); n > longest; n--) {
        if (this.pending.endsWith(stop.slice(0, n))) {
          longest = n;
          break;
        }
      }
    }
    return longest;
  }
}
