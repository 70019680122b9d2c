// The shared memory of expert parallelism (one SharedArrayBuffer, main thread + N rank workers): a control
// block of i32 cells the threads wait on and notify (Atomics), each rank's task list, and the rows: the
// main thread writes each routed (token, expert) pair's input row at its place in the step's expert-sorted
// order (moe_plan's), a rank overwrites the rows of its tasks with the expert's outputs.

export interface EpLayout {
  ranks: number;
  /** Tasks a rank can take in one layer (its slots). */
  maxTasks: number;
  /** Routed rows of one step: maxBatch · topK. */
  maxRows: number;
  hidden: number;
  /** Routed experts per layer (task keys are layerSlot · experts + expert). */
  experts: number;
}

/** Control cells: the layer slot and placement version of the current dispatch, an error flag. */
export const CTL = { layer: 0, version: 1, error: 2 } as const;
const FIXED = 4;

/** A rank's cells: go (bumped by the main thread), done (set to go's value by the rank), its task count. */
export const rankCells = (r: number) => ({
  go: FIXED + 3 * r,
  done: FIXED + 3 * r + 1,
  tasks: FIXED + 3 * r + 2,
});

/** A task: three i32s (expert, first row, row count). */
export const TASK_INTS = 3;

export interface EpViews {
  ctl: Int32Array;
  /** [ranks][maxTasks][3] */
  tasks: Int32Array;
  /** [maxRows, hidden] */
  rows: Float32Array;
}

function sizes(l: EpLayout) {
  const ctl = FIXED + 3 * l.ranks,
    tasks = l.ranks * l.maxTasks * TASK_INTS;
  return { ctl, tasks, rows: l.maxRows * l.hidden };
}

export function createEpBuffer(l: EpLayout): SharedArrayBuffer {
  const s = sizes(l);
  return new SharedArrayBuffer(4 * (s.ctl + s.tasks + s.rows));
}

export function epViews(sab: SharedArrayBuffer, l: EpLayout): EpViews {
  const s = sizes(l);
  return {
    ctl: new Int32Array(sab, 0, s.ctl),
    tasks: new Int32Array(sab, 4 * s.ctl, s.tasks),
    rows: new Float32Array(sab, 4 * (s.ctl + s.tasks), s.rows),
  };
}
