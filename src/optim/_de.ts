/**
 * Differential evolution as nevergrad defines it (`DE` and `TwoPointsDE`), shared by
 * `de.ts` and `twopointsde.ts`. Per generation, for each member x (a population per ask):
 *   donor = x + F1 (a - b) + F2 (best - x)      (current-to-best; a, b distinct others)
 *   child = crossover(x, donor)                  (binomial CR, or two points)
 *   x <- child if f(child) <= f(x)
 * Defaults: population 30, CR 0.5, F1 = F2 = 0.8 (nevergrad's DifferentialEvolution).
 * The initial population is N(x0, sigma0^2) in the genotype of `_encoding.ts`, which is
 * uniform over a grid or a bounded box with the default x0 and sigma0.
 *
 * @module
 */

import type { Rng } from "../core/rng.ts";
import { Encoding, startParams } from "./_encoding.ts";
import { smallest } from "./_rank.ts";
import type { MinimizerContext, ParamSpec, Point } from "./types.ts";

/** Which coordinates a child takes from the donor. */
export type CrossoverKind = "binomial" | "twopoints";

/**
 * The current-to-best donor x + F1 (a - b) + F2 (best - x).
 * @param x the parent
 * @param a first random member
 * @param b second random member
 * @param best the best member
 * @param f1 differential weight
 * @param f2 weight towards the best
 * @returns the donor
 */
export function deDonor(
  x: Float64Array,
  a: Float64Array,
  b: Float64Array,
  best: Float64Array,
  f1: number,
  f2: number,
): Float64Array {
  return x.map((xk, k) => xk + f1 * (a[k] - b[k]) + f2 * (best[k] - xk));
}

/**
 * Draw a crossover mask (true = from the donor). Binomial: each coordinate with probability
 * cr, one random coordinate forced. Two points: cut points i < j in 0..d; either the block
 * [i, j) or the two outer blocks come from the parent, the rest from the donor, and at least
 * one coordinate comes from the donor.
 * @param rng the generator
 * @param d dimension
 * @param kind binomial or twopoints
 * @param cr crossover rate (binomial)
 * @returns the mask
 */
export function crossoverMask(rng: Rng, d: number, kind: CrossoverKind, cr: number): boolean[] {
  const mask = new Array<boolean>(d).fill(false);
  if (kind === "binomial" || d < 2) {
    for (let k = 0; k < d; k++) mask[k] = rng.uniform() < cr;
    mask[rng.int(d)] = true;
    return mask;
  }
  const i = rng.int(d + 1);
  let j = rng.int(d);
  if (j >= i) j++;
  const [lo, hi] = i < j ? [i, j] : [j, i];
  const parentInside = rng.uniform() < 0.5;
  for (let k = 0; k < d; k++) mask[k] = (k >= lo && k < hi) !== parentInside;
  if (!mask.includes(true)) mask.fill(true); // the parent took everything: flip to the donor
  return mask;
}

/**
 * A child: donor coordinates where the mask is set, parent coordinates elsewhere.
 * @param parent the parent
 * @param donor the donor
 * @param mask true where the donor is taken
 * @returns the child
 */
export function crossover(
  parent: Float64Array,
  donor: Float64Array,
  mask: boolean[],
): Float64Array {
  return parent.map((p, k) => mask[k] ? donor[k] : p);
}

/** The parameters of both DE variants. */
export const deParams: Record<string, ParamSpec> = {
  ...startParams,
  popsize: { default: 30, type: "integer", min: 4, doc: "population size (nevergrad: 30)" },
  cr: { default: 0.5, min: 0, max: 1, doc: "crossover rate (nevergrad: 0.5)" },
  f1: { default: 0.8, min: 0, doc: "differential weight F1 (nevergrad: 0.8)" },
  f2: { default: 0.8, min: 0, doc: "weight towards the best, F2 (nevergrad: 0.8)" },
};

/** DE behind the ask/tell interface. */
export class DeMinimizer {
  readonly #enc: Encoding;
  readonly #rng: Rng;
  readonly #kind: CrossoverKind;
  readonly #popsize: number;
  readonly #cr: number;
  readonly #f1: number;
  readonly #f2: number;
  readonly #mean0: Float64Array;
  readonly #sigma0: number;
  /** Population genotypes and values (Infinity until evaluated). */
  readonly population: Float64Array[] = [];
  readonly values: number[] = [];
  #pending: { x: Float64Array; parent: number }[] = [];

  constructor(ctx: MinimizerContext, kind: CrossoverKind) {
    this.#enc = new Encoding(ctx.space);
    this.#rng = ctx.rng;
    this.#kind = kind;
    this.#popsize = ctx.params.popsize as number;
    this.#cr = ctx.params.cr as number;
    this.#f1 = ctx.params.f1 as number;
    this.#f2 = ctx.params.f2 as number;
    this.#mean0 = this.#enc.mean0(ctx.params.x0);
    this.#sigma0 = ctx.params.sigma0 as number;
  }

  ask(): Point[] {
    const rng = this.#rng, n = this.population.length;
    if (n < this.#popsize) {
      this.#pending = Array.from({ length: this.#popsize - n }, () => ({
        x: this.#enc.sample(rng, this.#mean0, this.#sigma0),
        parent: -1,
      }));
    } else {
      const best = this.population[smallest(this.values, 1)[0]];
      this.#pending = this.population.map((x, i) => {
        let a = rng.int(n - 1);
        if (a >= i) a++;
        let b = rng.int(n - 2);
        for (const taken of [Math.min(i, a), Math.max(i, a)]) if (b >= taken) b++;
        const donor = deDonor(x, this.population[a], this.population[b], best, this.#f1, this.#f2);
        const mask = crossoverMask(rng, x.length, this.#kind, this.#cr);
        return { x: crossover(x, donor, mask), parent: i };
      });
    }
    return this.#pending.map((c) => this.#enc.decode(c.x));
  }

  tell(points: Point[], values: Float64Array): void {
    for (let i = 0; i < points.length; i++) {
      const { x, parent } = this.#pending[i];
      if (parent < 0) {
        this.population.push(x);
        this.values.push(values[i]);
      } else if (values[i] <= this.values[parent]) {
        this.population[parent] = x;
        this.values[parent] = values[i];
      }
    }
  }

  /** A foreign point better than the worst member takes its place (nevergrad's DE). */
  inform(points: Point[], values: Float64Array): void {
    for (let i = 0; i < points.length; i++) {
      if (this.population.length < this.#popsize) {
        this.population.push(this.#enc.encode(points[i]));
        this.values.push(values[i]);
        continue;
      }
      const worst = smallest(this.values, this.values.length)[this.values.length - 1];
      if (values[i] < this.values[worst]) {
        this.population[worst] = this.#enc.encode(points[i]);
        this.values[worst] = values[i];
      }
    }
  }
}
