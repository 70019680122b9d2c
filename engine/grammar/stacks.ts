// Grammar room: call stacks as a persistent tree of interned frames (XGrammar's persistent
// stack): a stack is one integer, pushing shares the parent, and equal stacks are equal ids.
// Local stacks (automaton.ts) sit on a "hole", an unknown caller with a bounded headroom.

export const EMPTY_STACK = -1;

export class CallStacks {
  /** Per stack id: the node its top frame returns to (-1 for a hole), and the stack below. */
  readonly ret: number[] = [];
  readonly parent: number[] = [];
  /** Counted frames (calls of recursive rules) from the root, or from the hole for local stacks. */
  readonly depth: number[] = [];
  /** Counted calls allowed above the hole for local stacks; -1 for real stacks. */
  readonly headroom: number[] = [];
  private readonly ids = new Map<number, number>();
  private readonly holes: number[] = [];

  /** Interns a frame returning to `ret` on `parent`; `counted` frames add to the depth. */
  push(ret: number, parent: number, counted: boolean): number {
    const key = ret * 0x4000000 + (parent + 1);
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.add(ret, parent, parent === EMPTY_STACK ? -1 : this.headroom[parent]);
      this.ids.set(key, id);
      this.depth[id] = (parent === EMPTY_STACK ? 0 : this.depth[parent]) + (counted ? 1 : 0);
    }
    return id;
  }

  /** The bottom of local stacks: an unknown caller, with `headroom` counted calls allowed above. */
  hole(headroom: number): number {
    let id = this.holes[headroom];
    if (id === undefined) {
      id = this.add(-1, EMPTY_STACK, headroom);
      this.depth[id] = 0;
      this.holes[headroom] = id;
    }
    return id;
  }

  private add(ret: number, parent: number, headroom: number): number {
    this.ret.push(ret);
    this.parent.push(parent);
    this.headroom.push(headroom);
    return this.ret.length - 1;
  }
}
