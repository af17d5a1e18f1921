/**
 * Re-evaluation of the incumbent for noisy objectives (`reevaluate` of `createOptimizer`):
 * a point whose first (minimized) value beats the confirmed incumbent's mean becomes a
 * challenger and is re-evaluated `r` more times (ahead of the method's next batch, counted
 * against the budget); the reported best is the point with the best mean over at least
 * 1 + r evaluations (before any is confirmed: the best mean so far). So a lucky draw is not
 * reported as the best unless its repeats agree.
 *
 * @module
 */

import type { Point } from "./types.ts";

interface Candidate<P> {
  point: P;
  sum: number;
  count: number;
}

const mean = <P>(c: Candidate<P>) => c.sum / c.count;

/** The candidates for the best point and their running means (minimized values). */
export class NoisyIncumbent<P extends Point> {
  readonly #r: number;
  readonly #keep: number;
  #candidates: Candidate<P>[] = [];
  #requested: Candidate<P>[] = [];

  /**
   * @param r re-evaluations of each challenger
   * @param keep how many candidates to remember (the best by mean)
   */
  constructor(r: number, keep = 16) {
    this.#r = r;
    this.#keep = keep;
  }

  /** The reported best: best mean among confirmed candidates, else among all. */
  get best(): { point: P; value: number; count: number } | undefined {
    const confirmed = this.#candidates.filter((c) => c.count > this.#r);
    const pool = confirmed.length > 0 ? confirmed : this.#candidates;
    let best: Candidate<P> | undefined;
    for (const c of pool) if (!best || mean(c) < mean(best)) best = c;
    return best && { point: best.point, value: mean(best), count: best.count };
  }

  /**
   * Copies of challengers to re-evaluate, best first, at most `room`.
   * @param room evaluations available
   * @returns the points to evaluate
   */
  requests(room: number): P[] {
    const confirmed = this.#candidates.filter((c) => c.count > this.#r);
    const bar = Math.min(Infinity, ...confirmed.map(mean));
    const challengers = this.#candidates.filter((c) => c.count <= this.#r && mean(c) < bar)
      .sort((a, b) => mean(a) - mean(b));
    this.#requested = [];
    for (const c of challengers) {
      for (let k = c.count; k <= this.#r && this.#requested.length < room; k++) {
        this.#requested.push(c);
      }
    }
    return this.#requested.map((c) => c.point.slice() as P);
  }

  /**
   * Record values: first the re-evaluations (a prefix of the last `requests`), then new points.
   * @param repeats values of the re-evaluations, in order
   * @param points new points
   * @param values their minimized values
   */
  record(repeats: ArrayLike<number>, points: P[], values: ArrayLike<number>): void {
    for (let i = 0; i < repeats.length; i++) {
      this.#requested[i].sum += repeats[i];
      this.#requested[i].count++;
    }
    points.forEach((p, i) =>
      this.#candidates.push({ point: p.slice() as P, sum: values[i], count: 1 })
    );
    this.#candidates.sort((a, b) => mean(a) - mean(b));
    const incumbent = this.best;
    // Keep the best by mean, and the incumbent whatever happens.
    this.#candidates = this.#candidates.filter((c, i) =>
      i < this.#keep || (incumbent !== undefined && c.point === incumbent.point)
    );
  }
}
