// Expert placement for expert parallelism, after DeepSeek's EPLB (github.com/deepseek-ai/EPLB, eplb.py,
// its global policy: one node): from a layer's per-expert load, (1) replicate the heaviest experts into
// the redundant slots — each new replica goes to the expert whose load per replica is largest now — then
// (2) pack the replicas onto ranks, exactly `slotsPerRank` each, heaviest first onto the lightest rank
// that still has room (balanced packing). A replica's load is its expert's load / its replica count.
// Our own TypeScript (no tensors: one layer at a time, E ≤ 256).

export interface Placement {
  ranks: number;
  /** slots per rank: ceil(E / ranks) + redundant. */
  slotsPerRank: number;
  /** [ranks][slotsPerRank] the logical expert each physical slot holds. */
  slots: number[][];
  /** [E] the ranks holding a replica of each expert (one entry per replica, ascending). */
  replicas: number[][];
  /** The expected load of each rank (sum of its replicas' shares). */
  rankLoad: number[];
}

/** Step 1: replica counts per expert for `physical` slots (≥ E): the heaviest load-per-replica gets the next. */
export function replicateExperts(load: readonly number[], physical: number): number[] {
  const E = load.length;
  if (physical < E) throw new Error(`${physical} slots cannot hold ${E} experts`);
  const count = new Array<number>(E).fill(1);
  for (let i = E; i < physical; i++) {
    let best = 0;
    for (let e = 1; e < E; e++) if (load[e] / count[e] > load[best] / count[best]) best = e;
    count[best]++;
  }
  return count;
}

/**
 * Step 2: packs weighted items into `packs` bins of exactly items/packs each, heaviest item first onto the
 * lightest bin with room (ties: the lower bin). Returns each item's bin.
 */
export function balancedPacking(weights: readonly number[], packs: number): number[] {
  const n = weights.length;
  if (n % packs !== 0) throw new Error(`${n} items do not split evenly into ${packs} packs`);
  const per = n / packs;
  const order = weights.map((_, i) => i).sort((a, b) => weights[b] - weights[a] || a - b);
  const packWeight = new Array<number>(packs).fill(0),
    packItems = new Array<number>(packs).fill(0),
    bin = new Array<number>(n).fill(-1);
  for (const item of order) {
    let best = -1;
    for (let p = 0; p < packs; p++)
      if (packItems[p] < per && (best < 0 || packWeight[p] < packWeight[best])) best = p;
    bin[item] = best;
    packWeight[best] += weights[item];
    packItems[best]++;
  }
  return bin;
}

/** EPLB for one layer: `ranks` ranks of ceil(E / ranks) + `redundant` slots each. */
export function placeExperts(load: readonly number[], ranks: number, redundant: number): Placement {
  const E = load.length;
  const slotsPerRank = Math.ceil(E / ranks) + redundant;
  const count = replicateExperts(load, ranks * slotsPerRank);
  const phy: number[] = []; // physical replica → logical expert
  count.forEach((c, e) => {
    for (let r = 0; r < c; r++) phy.push(e);
  });
  const share = phy.map((e) => load[e] / count[e]);
  const bin = balancedPacking(share, ranks);
  const slots = Array.from({ length: ranks }, () => [] as number[]);
  const replicas = Array.from({ length: E }, () => [] as number[]);
  const rankLoad = new Array<number>(ranks).fill(0);
  phy.forEach((e, i) => {
    slots[bin[i]].push(e);
    replicas[e].push(bin[i]);
    rankLoad[bin[i]] += share[i];
  });
  for (const r of replicas) r.sort((a, b) => a - b);
  return { ranks, slotsPerRank, slots, replicas, rankLoad };
}

/** The placement without statistics: EPLB on an even load (each expert once, left-over slots to the lowest ids). */
export function roundRobinPlacement(E: number, ranks: number, redundant: number): Placement {
  return placeExperts(
    Array.from({ length: E }, () => 1),
    ranks,
    redundant,
  );
}

/** max / mean of the ranks' loads (1: perfectly balanced). */
export function rankImbalance(rankLoad: readonly number[]): number {
  const sum = rankLoad.reduce((a, b) => a + b, 0);
  return sum === 0 ? 1 : Math.max(...rankLoad) / (sum / rankLoad.length);
}

/** Each rank's load under `p` for a measured per-expert load (an expert's replicas share it evenly). */
export function rankLoadOf(p: Placement, load: readonly number[]): number[] {
  const out = new Array<number>(p.ranks).fill(0);
  p.replicas.forEach((ranks, e) => ranks.forEach((r) => (out[r] += load[e] / ranks.length)));
  return out;
}
