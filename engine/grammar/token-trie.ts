// Grammar room: all tokens' bytes in one trie, stored in preorder in flat arrays, so a mask walks
// each shared prefix once and skips a whole subtree when its prefix is rejected.

export class TokenTrie {
  /** Per trie node (preorder): its byte, its depth (1 = first byte), the index after its subtree. */
  readonly byte: Uint8Array;
  readonly depth: Uint16Array;
  readonly skip: Uint32Array;
  /** Tokens ending at node i: ids[tokStart[i] .. tokStart[i + 1]). */
  readonly tokStart: Uint32Array;
  readonly ids: Uint32Array;
  readonly maxDepth: number;

  constructor(tokens: readonly Uint8Array[]) {
    const order = [...tokens.keys()].filter((id) => tokens[id].length > 0);
    order.sort((a, b) => compareBytes(tokens[a], tokens[b]));
    let nodes = 0;
    for (let k = 0; k < order.length; k++) {
      const cur = tokens[order[k]];
      nodes += cur.length - (k ? commonPrefix(tokens[order[k - 1]], cur) : 0);
    }
    this.byte = new Uint8Array(nodes);
    this.depth = new Uint16Array(nodes);
    this.skip = new Uint32Array(nodes);
    this.tokStart = new Uint32Array(nodes + 1);
    this.ids = Uint32Array.from(order);
    const endNode = new Uint32Array(order.length); // nondecreasing: tokens are sorted
    const path: number[] = []; // node index at each depth of the current branch
    let n = 0;
    let maxDepth = 0;
    for (let k = 0; k < order.length; k++) {
      const cur = tokens[order[k]];
      const keep = k ? commonPrefix(tokens[order[k - 1]], cur) : 0;
      while (path.length > keep) this.skip[path.pop()!] = n;
      for (let d = keep; d < cur.length; d++) {
        this.byte[n] = cur[d];
        this.depth[n] = d + 1;
        path.push(n++);
      }
      endNode[k] = path[path.length - 1];
      maxDepth = Math.max(maxDepth, cur.length);
    }
    while (path.length) this.skip[path.pop()!] = n;
    for (let i = 0, k = 0; i <= nodes; i++) {
      while (k < order.length && endNode[k] < i) k++;
      this.tokStart[i] = k;
    }
    this.maxDepth = maxDepth;
  }

  get nodeCount(): number {
    return this.byte.length;
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function commonPrefix(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}
