// Grammar room: IR → byte NFA with call edges (a recursive transition network). Each rule is one
// Thompson fragment from its start node to its end node; a `ref` is a call edge that pushes the
// node to return to. Non-recursive structure is inlined; repeats of big items call a sub-rule
// instead of copying it, so `maxItems: 100` of an object costs 100 call edges, not 100 objects.
import type { GrammarIR, Node } from './ir';
import { GrammarError } from './errors';

export interface Nfa {
  /** Per node: flat [lo, hi, target, ...] byte edges. */
  readonly bytes: number[][];
  /** Per node: epsilon targets. */
  readonly eps: number[][];
  /** Per node: flat [rule, returnNode, ...] call edges. */
  readonly calls: number[][];
  /** Per node: the rule whose end it is, or -1. */
  readonly endOf: number[];
  readonly ruleStart: number[];
  readonly ruleNames: string[];
  /**
   * Per node: a name that is the same in every grammar, for nodes of the built-in rules (`~string`,
   * `~json…`, whose IR is fixed by their name) — rule name and creation index — else null.
   */
  readonly sharedName: (string | null)[];
  /**
   * Per rule: whether its calls count toward the recursion bound: schema rules (`$ref` targets)
   * on a cycle of calls. Helper rules (`~…`: object tails, repeats) are not counted — every cycle
   * passes through a `$ref` rule — so the bound falls on a `$ref`, where `anyOf [.., null]` or an
   * empty array still closes the value, never in the middle of an object.
   */
  readonly recursive: boolean[];
}

/** Built-in rules: their IR is a function of their name, and they call only built-in rules. */
export const isBuiltinRule = (name: string) =>
  name.startsWith('~string') || name.startsWith('~json');

/** Nodes beyond this mean a schema too big to serve (e.g. maxLength: 1e6). */
const MAX_NODES = 400_000;

export function buildNfa(ir: GrammarIR): Nfa {
  const nfa: Nfa = {
    bytes: [],
    eps: [],
    calls: [],
    endOf: [],
    ruleStart: [],
    ruleNames: [],
    sharedName: [],
    recursive: [],
  };
  let owner = ''; // the rule whose nodes are being made
  let ownerIndex = -1;
  const nodeRule: number[] = [];
  const made = new Map<string, number>();
  const ruleIndex = new Map<string, number>();
  const pending: number[] = [];
  // Sub-rules for repeated items live beside the IR's rules, never in it (the IR may be shared).
  const rules = new Map(ir.rules);
  const subRules = new WeakMap<Node, string>();
  let subRuleCount = 0;
  const node = () => {
    if (nfa.bytes.length >= MAX_NODES)
      throw new GrammarError(`grammar exceeds ${MAX_NODES} automaton nodes`, 'size', '#');
    nfa.bytes.push([]);
    nfa.eps.push([]);
    nfa.calls.push([]);
    nfa.endOf.push(-1);
    const k = made.get(owner) ?? 0;
    made.set(owner, k + 1);
    nfa.sharedName.push(isBuiltinRule(owner) ? `${owner}/${k}` : null);
    nodeRule.push(ownerIndex);
    return nfa.bytes.length - 1;
  };
  const ruleOf = (name: string): number => {
    let r = ruleIndex.get(name);
    if (r === undefined) {
      if (!rules.has(name)) throw new GrammarError(`unknown rule ${name}`, '$ref', name);
      r = nfa.ruleNames.length;
      ruleIndex.set(name, r);
      nfa.ruleNames.push(name);
      const [outer, outerIndex] = [owner, ownerIndex];
      [owner, ownerIndex] = [name, r];
      nfa.ruleStart.push(node());
      [owner, ownerIndex] = [outer, outerIndex];
      pending.push(r);
    }
    return r;
  };
  const compile = (n: Node, from: number): number => {
    switch (n.k) {
      case 'bytes': {
        const to = node();
        for (let i = 0; i < n.ranges.length; i += 2)
          nfa.bytes[from].push(n.ranges[i], n.ranges[i + 1], to);
        return to;
      }
      case 'seq':
        return n.items.reduce((at, item) => compile(item, at), from);
      case 'alt': {
        const end = node();
        for (const item of n.items) {
          const s = node();
          nfa.eps[from].push(s);
          nfa.eps[compile(item, s)].push(end);
        }
        return end;
      }
      case 'ref': {
        const end = node();
        nfa.calls[from].push(ruleOf(n.name), end);
        return end;
      }
      case 'rep':
        return compileRep(n, from);
    }
  };
  const compileRep = (n: Extract<Node, { k: 'rep' }>, from: number): number => {
    let item = n.item;
    if (item.k !== 'bytes' && item.k !== 'ref' && Math.min(n.max, n.min + 1) > 2) {
      let name = subRules.get(item);
      if (!name) {
        name = `~rep${subRuleCount++}`;
        rules.set(name, item);
        subRules.set(item, name);
      }
      item = { k: 'ref', name };
    }
    let at = from;
    for (let i = 0; i < n.min; i++) at = compile(item, at);
    if (n.max === Infinity) {
      const loop = node();
      nfa.eps[at].push(loop);
      nfa.eps[compile(item, loop)].push(loop);
      return loop;
    }
    const end = node();
    for (let i = n.min; i < n.max; i++) {
      nfa.eps[at].push(end);
      at = compile(item, at);
    }
    nfa.eps[at].push(end);
    return end;
  };
  ruleOf(ir.start);
  while (pending.length) {
    const r = pending.shift()!;
    [owner, ownerIndex] = [nfa.ruleNames[r], r];
    const end = compile(rules.get(owner)!, nfa.ruleStart[r]);
    nfa.endOf[end] = r;
  }
  markRecursive(nfa, nodeRule);
  return nfa;
}

function markRecursive(nfa: Nfa, nodeRule: number[]): void {
  const callees = nfa.ruleNames.map(() => new Set<number>());
  nfa.calls.forEach((calls, n) => {
    for (let i = 0; i < calls.length; i += 2) callees[nodeRule[n]].add(calls[i]);
  });
  const helper = (r: number) => nfa.ruleNames[r].startsWith('~');
  // A helper counts only on a cycle of helpers alone (none are built that way: a safety net).
  const onCycle = (r: number, within: (x: number) => boolean) => {
    const seen = new Set<number>();
    const work = [...callees[r]].filter(within);
    while (work.length && !seen.has(r)) {
      const x = work.pop()!;
      if (seen.has(x)) continue;
      seen.add(x);
      for (const y of callees[x]) if (within(y)) work.push(y);
    }
    return seen.has(r);
  };
  for (let r = 0; r < callees.length; r++) {
    nfa.recursive[r] = helper(r) ? onCycle(r, helper) : onCycle(r, () => true);
  }
}
