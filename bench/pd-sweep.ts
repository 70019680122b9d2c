// bench/pd-goodput.ts's rate search: the highest arrival rate whose trial attains the SLOs for ≥ 90% of
// its requests. Doubles (or halves) from a start until the outcome flips, then bisects geometrically
// until the passing and failing rates are within 20%. Each trial is a fixed count of requests, 30 s of
// arrivals' worth between 10 (one miss in ten still passes) and 20.

export interface Trial {
  rate: number;
  requests: number;
  attainment: number;
  ttftP50: number;
  ttftP90: number;
  tpotP50: number;
  tpotP90: number;
}

export const ATTAINMENT = 0.9;
/** Below this the set-up is called 0 req/s rather than searched further. */
const FLOOR = 0.05;

export const requestsAt = (rate: number) => Math.min(20, Math.max(10, Math.round(30 * rate)));

export async function sweepRate(
  start: number,
  run: (rate: number, requests: number) => Promise<Trial>,
  onTrial: (t: Trial) => void = () => {},
  maxTrials = Number(process.env.PD_GOODPUT_TRIALS ?? 6),
): Promise<{ goodput: number; trials: Trial[] }> {
  const trials: Trial[] = [];
  let pass = 0, // the highest passing rate
    fail = Infinity, // the lowest failing one
    rate = start;
  while (trials.length < maxTrials && rate >= FLOOR) {
    const t = await run(rate, requestsAt(rate));
    trials.push(t);
    onTrial(t);
    if (t.attainment >= ATTAINMENT) pass = Math.max(pass, rate);
    else fail = Math.min(fail, rate);
    if (fail === Infinity) rate *= 2;
    else if (pass === 0) rate /= 2;
    else if (fail / pass <= 1.2) break;
    else rate = Math.sqrt(pass * fail);
  }
  return { goodput: pass, trials };
}
