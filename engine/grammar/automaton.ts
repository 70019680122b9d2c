// Grammar room: the byte-level pushdown automaton, determinized lazily. A configuration is an NFA
// node plus a call stack; stacks are interned in a persistent tree (XGrammar's persistent stack),
// so a configuration is one integer. A DFA state is the set of configurations that can read a
// byte (after epsilon moves, calls and returns), interned; its byte transitions are computed on
// first use and kept (Outlines' FSM index, built lazily because a recursive grammar's states are
// not enumerable). Calls of recursive rules beyond `maxDepth` of them are dropped (nfa.ts).
//
// XGrammar's adaptive mask cache, in this setting: `local(state)` is the same state with every
// call stack cut to a "hole" (an unknown caller). Many states share one local state (every JSON
// string's content, a recursive rule at any depth), so its trie walk is done once; a token is
// "certain" when it is read without returning into the hole, "uncertain" when only a run through
// the hole keeps it alive (the matcher then checks it against the real state), else rejected.
// Running into the hole, or into the headroom left under maxDepth, makes a state "wild": it
// may read anything next.
import type { Nfa } from './nfa';
import { CallStacks, EMPTY_STACK } from './stacks';

export const DEAD = -1;
export const UNKNOWN = -2;
const ACCEPTING = 1;
const WILD = 2;
/** Local states allow at most this many calls within one token before turning wild. */
const HEADROOM_CAP = 8;

export class Automaton {
  readonly start: number;
  private readonly stacks = new CallStacks();
  private readonly cfgNode: number[] = [];
  private readonly cfgStack: number[] = [];
  private readonly cfgIds = new Map<number, number>();
  /** Per state: the configurations that read a byte, sorted. */
  private readonly kernels: Int32Array[] = [];
  private readonly accepting: boolean[] = [];
  private readonly wild: boolean[] = [];
  private readonly locals: number[] = [];
  private readonly shared: (string | null)[] = [];
  /** Kernel hash → states with that hash. */
  private readonly stateIds = new Map<number, number[]>();
  private readonly cfgClosure: (Int32Array | undefined)[] = [];
  private readonly cfgFlags: number[] = [];
  private mark = new Int32Array(1024);
  private stamp = 0;
  /** [state * 256 + byte] → next state, DEAD, or UNKNOWN (not computed yet). */
  trans = new Int32Array(256 * 64).fill(UNKNOWN);
  /**
   * Bytes no edge range tells apart share a class (JSON grammars have a few dozen), so a
   * transition is computed once per class and filled in for all its bytes.
   */
  private readonly byteClass = new Uint8Array(256);
  private readonly classBytes: number[][] = [];

  constructor(
    private readonly nfa: Nfa,
    private readonly maxDepth: number,
  ) {
    const cut = new Uint8Array(257);
    for (const edges of nfa.bytes) {
      for (let i = 0; i < edges.length; i += 3) cut[edges[i]] = cut[edges[i + 1] + 1] = 1;
    }
    for (let b = 0, c = -1; b < 256; b++) {
      if (b === 0 || cut[b]) this.classBytes[++c] = [];
      this.byteClass[b] = c;
      this.classBytes[c].push(b);
    }
    this.start = this.close([this.config(nfa.ruleStart[0], EMPTY_STACK)], false);
  }

  get stateCount(): number {
    return this.kernels.length;
  }

  isAccepting(state: number): boolean {
    return this.accepting[state];
  }

  /** Whether the state can read any byte at all (else only the end of output is allowed). */
  canContinue(state: number): boolean {
    return this.kernels[state].length > 0;
  }

  step(state: number, byte: number): number {
    const t = this.trans[state * 256 + byte];
    return t !== UNKNOWN ? t : this.computeStep(state, byte);
  }

  computeStep(state: number, byte: number): number {
    const seeds: number[] = [];
    for (const c of this.kernels[state]) {
      const edges = this.nfa.bytes[this.cfgNode[c]];
      for (let i = 0; i < edges.length; i += 3) {
        if (edges[i] <= byte && byte <= edges[i + 1])
          seeds.push(this.config(edges[i + 2], this.cfgStack[c]));
      }
    }
    const next = seeds.length || this.wild[state] ? this.close(seeds, this.wild[state]) : DEAD;
    for (const b of this.classBytes[this.byteClass[byte]]) this.trans[state * 256 + b] = next;
    return next;
  }

  /** Some configuration of the state is alive with a known stack (for local states). */
  isGrounded(state: number): boolean {
    return this.kernels[state].length > 0 || this.accepting[state];
  }

  /** The state with its call stacks cut to holes (itself when all its stacks are empty). */
  local(state: number): number {
    let l = this.locals[state];
    if (l !== undefined) return l;
    const kernel = this.kernels[state];
    let deepest = -1;
    for (const c of kernel) {
      const st = this.cfgStack[c];
      if (st !== EMPTY_STACK) deepest = Math.max(deepest, this.stacks.depth[st]);
    }
    if (deepest < 0 || this.stacks.headroom[this.cfgStack[kernel[0]]] >= 0) l = state;
    else {
      const hole = this.stacks.hole(Math.min(HEADROOM_CAP, this.maxDepth - deepest));
      const seeds = Array.from(kernel, (c) =>
        this.cfgStack[c] === EMPTY_STACK ? c : this.config(this.cfgNode[c], hole),
      );
      l = this.close(seeds, false);
    }
    this.locals[state] = l;
    return l;
  }

  /** The union of the seeds' closures, interned as a state (DEAD when nothing is alive). */
  private close(seeds: number[], wildIn: boolean): number {
    let flags = wildIn ? WILD : 0;
    const kernel: number[] = [];
    const stamp = ++this.stamp;
    for (const seed of seeds) {
      const closure = this.closureOf(seed);
      flags |= this.cfgFlags[seed];
      if (this.mark.length < this.cfgNode.length) this.growMark();
      for (const c of closure) {
        if (this.mark[c] !== stamp) {
          this.mark[c] = stamp;
          kernel.push(c);
        }
      }
    }
    if (!kernel.length && !flags) return DEAD;
    kernel.sort((a, b) => a - b);
    let hash = flags;
    for (const c of kernel) hash = Math.imul(hash ^ c, 0x9e3779b1) ^ (hash >>> 15);
    const bucket = this.stateIds.get(hash);
    if (bucket) {
      for (const id of bucket) if (this.sameState(id, kernel, flags)) return id;
    }
    const id = this.kernels.length;
    if (bucket) bucket.push(id);
    else this.stateIds.set(hash, [id]);
    this.kernels.push(Int32Array.from(kernel));
    this.accepting.push((flags & ACCEPTING) !== 0);
    this.wild.push((flags & WILD) !== 0);
    if (this.trans.length < (id + 1) * 256) {
      const grown = new Int32Array(this.trans.length * 2).fill(UNKNOWN);
      grown.set(this.trans);
      this.trans = grown;
    }
    return id;
  }

  private sameState(id: number, kernel: number[], flags: number): boolean {
    const k = this.kernels[id];
    if (k.length !== kernel.length || this.accepting[id] !== ((flags & ACCEPTING) !== 0))
      return false;
    if (this.wild[id] !== ((flags & WILD) !== 0)) return false;
    for (let i = 0; i < k.length; i++) if (k[i] !== kernel[i]) return false;
    return true;
  }

  private growMark(): void {
    const grown = new Int32Array(Math.max(1024, this.cfgNode.length * 2));
    grown.set(this.mark);
    this.mark = grown;
  }

  /**
   * The configurations that read a byte reachable from `seed` by epsilon moves, calls and
   * returns, and whether the end of the grammar (ACCEPTING) or the hole (WILD) is reachable.
   * Memoized per configuration: many states share configurations.
   */
  private closureOf(seed: number): Int32Array {
    const known = this.cfgClosure[seed];
    if (known) return known;
    const seen = new Set<number>([seed]);
    const work = [seed];
    const kernel: number[] = [];
    let flags = 0;
    const visit = (node: number, stack: number) => {
      const c = this.config(node, stack);
      if (!seen.has(c)) {
        seen.add(c);
        work.push(c);
      }
    };
    while (work.length) {
      const c = work.pop()!;
      const node = this.cfgNode[c];
      const stack = this.cfgStack[c];
      if (this.nfa.bytes[node].length) kernel.push(c);
      for (const t of this.nfa.eps[node]) visit(t, stack);
      const calls = this.nfa.calls[node];
      const local = stack !== EMPTY_STACK && this.stacks.headroom[stack] >= 0;
      const room = local ? this.stacks.headroom[stack] : this.maxDepth;
      for (let i = 0; i < calls.length; i += 2) {
        const counted = this.nfa.recursive[calls[i]];
        if (counted && stack !== EMPTY_STACK && this.stacks.depth[stack] >= room) {
          if (local) flags |= WILD; // a real stack might have had room
          continue;
        }
        visit(this.nfa.ruleStart[calls[i]], this.stacks.push(calls[i + 1], stack, counted));
      }
      if (this.nfa.endOf[node] >= 0) {
        if (stack === EMPTY_STACK) flags |= ACCEPTING;
        else if (this.stacks.ret[stack] < 0)
          flags |= WILD; // returned into the hole
        else visit(this.stacks.ret[stack], this.stacks.parent[stack]);
      }
    }
    const closure = Int32Array.from(kernel);
    this.cfgClosure[seed] = closure;
    this.cfgFlags[seed] = flags;
    return closure;
  }

  /**
   * A key naming a local state the same way in every grammar, when all its configurations (nodes
   * and stack frames down to the hole) lie in built-in rules; else null. Masks of such states
   * (every JSON string's content, free-form values) are then shared across grammars.
   */
  sharedKey(local: number): string | null {
    let key = this.shared[local];
    if (key !== undefined) return key;
    const parts: string[] = [];
    key = null;
    for (const c of this.kernels[local]) {
      let part = this.nfa.sharedName[this.cfgNode[c]];
      let st = this.cfgStack[c];
      while (part !== null && st !== EMPTY_STACK && this.stacks.ret[st] >= 0) {
        const frame = this.nfa.sharedName[this.stacks.ret[st]];
        part = frame === null ? null : `${part}<${frame}`;
        st = this.stacks.parent[st];
      }
      if (part === null || st === EMPTY_STACK) {
        parts.length = 0;
        break;
      }
      parts.push(`${part}<h${this.stacks.headroom[st]}`);
    }
    if (parts.length) key = `${this.wild[local] ? 'w' : ''}${parts.sort().join(' ')}`;
    this.shared[local] = key;
    return key;
  }

  private config(node: number, stack: number): number {
    const key = node * 0x4000000 + (stack + 1);
    let id = this.cfgIds.get(key);
    if (id === undefined) {
      id = this.cfgNode.length;
      this.cfgIds.set(key, id);
      this.cfgNode.push(node);
      this.cfgStack.push(stack);
    }
    return id;
  }
}
