// bench/eplb.ts's placements and tables: per-expert load per set, the rank max/mean each placement gives
// on a window it was not fitted on, and the routed-expert times with --ep.
import { placeExperts, rankImbalance, rankLoadOf, type Placement } from '../origin/ep/eplb';
import { imbalance } from '../origin/ep/expert-stats';

/** A set's load in two windows of different documents: [MoE layer][expert] tokens. */
export interface Windows {
  fit: number[][];
  next: number[][];
}

/** The placements compared, per MoE layer, fitted on `fit`: the even one, then EPLB with 0–2 redundant/rank. */
export function placementsFor(fit: number[][], E: number, ranks: number): [string, Placement[]][] {
  const even = placeExperts(new Array<number>(E).fill(1), ranks, 0);
  return [
    ['even (no EPLB)', fit.map(() => even)],
    ...[0, 1, 2].map((red): [string, Placement[]] => [
      `EPLB, ${red} redundant/rank`,
      fit.map((l) => placeExperts(l, ranks, red)),
    ]),
  ];
}

/** Rank max/mean of per-layer placements on a load: mean over layers, and the worst layer. */
export function score(ps: Placement[], load: number[][]): { mean: number; worst: number } {
  const imb = ps.map((p, i) => rankImbalance(rankLoadOf(p, load[i])));
  return { mean: imb.reduce((a, b) => a + b, 0) / imb.length, worst: Math.max(...imb) };
}

const f2 = (x: number) => x.toFixed(2);
const f3 = (x: number) => x.toFixed(3);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Per set: max/mean over experts per MoE layer, and the skewed layer's loads relative to the mean. */
export function loadTable(loads: Map<string, Windows>): string {
  const rows = [...loads].map(([set, w]) => {
    const imb = w.fit.map((l) => imbalance(l));
    const worst = imb.indexOf(Math.max(...imb));
    const l = w.fit[worst],
      mean = sum(l) / l.length;
    return `| ${set} | ${sum(w.fit[0])} | ${imb.map(f2).join(' / ')} | ${worst + 1} | ${l.map((c) => (c / mean).toFixed(1)).join(' ')} |`;
  });
  return [
    'Per-expert load (first window; routed tokens per layer = tokens × top-k):',
    '',
    '| set | routed / layer | max/mean per MoE layer | most skewed (n-th MoE layer) | its experts 0..E-1, load / mean |',
    '|---|---:|---|---:|---|',
    ...rows,
  ].join('\n');
}

/** Rank max/mean (mean of layers / worst layer) of each placement fitted on a set's first window, on its second. */
export function placementTable(loads: Map<string, Windows>, E: number): string {
  const sets = [...loads.keys()];
  const all = [...loads.values()];
  const pooled = all[0].fit.map((_, i) =>
    all[0].fit[i].map((_, e) => sum(all.map((w) => w.fit[i][e]))),
  );
  const rows: string[] = [];
  for (const ranks of [2, 4]) {
    const names = placementsFor(all[0].fit, E, ranks).map(([n]) => n);
    names.forEach((name, k) => {
      const cells = all.map((w) => {
        const s = score(placementsFor(w.fit, E, ranks)[k][1], w.next);
        return `${f3(s.mean)} / ${f3(s.worst)}`;
      });
      rows.push(`| ${ranks} | ${name} | ${cells.join(' | ')} |`);
    });
    const own = all.map((w) => score(placementsFor(w.fit, E, ranks)[2][1], w.fit));
    rows.push(
      `| ${ranks} | EPLB, 1 redundant/rank, scored on the window it was fitted on | ${own.map((s) => `${f3(s.mean)} / ${f3(s.worst)}`).join(' | ')} |`,
    );
    const lifetime = placementsFor(pooled, E, ranks)[2][1];
    rows.push(
      `| ${ranks} | EPLB, 1 redundant/rank, fitted on all sets pooled | ${all.map((w) => ((s) => `${f3(s.mean)} / ${f3(s.worst)}`)(score(lifetime, w.next))).join(' | ')} |`,
    );
  }
  return [
    'Rank max/mean (mean of MoE layers / worst layer), placement fitted on the first window, scored on the second:',
    '',
    `| ranks | placement | ${sets.join(' | ')} |`,
    `|---:|---|${sets.map(() => '---:').join('|')}|`,
    ...rows,
  ].join('\n');
}

export function timeTable(
  ts: { ranks: number; name: string; prefill: number; decode: number; step: number }[],
): string {
  const even = new Map(ts.filter((t) => t.name.startsWith('even')).map((t) => [t.ranks, t]));
  return [
    '| ranks | placement | routed experts, prefill step (ms) | vs even | routed experts, decode step (ms) | decode step (ms) |',
    '|---:|---|---:|---:|---:|---:|',
    ...ts.map(
      (t) =>
        `| ${t.ranks} | ${t.name} | ${t.prefill.toFixed(1)} | ${(even.get(t.ranks)!.prefill / t.prefill).toFixed(2)}× | ${t.decode.toFixed(2)} | ${t.step.toFixed(2)} |`,
    ),
  ].join('\n');
}
