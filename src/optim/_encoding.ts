/**
 * The continuous genotype shared by the continuous optimizers (CMA-ES, DE, PSO, ...), and its
 * map to the points of a space.
 *
 * Every continuous method searches an unbounded genotype u in R^d and the user's point is the
 * phenotype decoded from it:
 * - grid coordinate of size n (an ordered choice, as nevergrad's TransitionChoice): through
 *   the standard-normal CDF, index = min(n - 1, floor(n Phi(u))). The N(0, 1) genotype is
 *   exactly uniform over the indices, and neighbouring genotypes give neighbouring indices.
 * - box coordinate bounded on both sides: x = lower + (upper - lower) Phi(u) (a smooth
 *   bounded transform, so no repair is needed and no point leaves the box).
 * - box coordinate bounded on one side: reflection at the bound, x = lower + |u - lower|
 *   (or upper - |u - upper|).
 * - unbounded box coordinate: x = u.
 *
 * `x0` is given in the space's own units (grid: index units, where (n - 1)/2 is the middle)
 * and mapped to the genotype through the inverse of the same transform; `sigma0` is in
 * genotype units: standard-normal units on grids and bounded coordinates, the box's own units
 * on unbounded ones (default 1 either way). An x0 on or next to a bound lies far in the tail of
 * Phi, where steps barely move the point: start inside.
 *
 * @module
 */

import { normalQuantile } from "../space/grids.ts";
import type { Rng } from "../core/rng.ts";
import type { ParamSpec, Point, ResolvedSpace } from "./types.ts";

/**
 * The standard-normal CDF Phi(x), through erfc (Numerical Recipes' Chebyshev fit, relative
 * error below 1.2e-7 everywhere).
 */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const erfc = t * Math.exp(
    -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
                  t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
                                  t * (-0.82215223 + t * 0.17087277)))))))),
  );
  return x >= 0 ? 1 - 0.5 * erfc : 0.5 * erfc;
}

const EPS = 1e-12;
function quantile(p: number): number {
  return normalQuantile(Math.min(1 - EPS, Math.max(EPS, p)));
}

/** The genotype <-> point map of a resolved space. */
export class Encoding {
  readonly d: number;
  readonly space: ResolvedSpace;

  constructor(space: ResolvedSpace) {
    this.space = space;
    this.d = space.d;
  }

  /** Decode a genotype to the user's point (Int32Array on a grid, Float64Array on a box). */
  decode(u: Float64Array): Point {
    const s = this.space;
    if (s.kind === "grid") {
      const out = new Int32Array(s.d);
      for (let k = 0; k < s.d; k++) {
        out[k] = Math.min(s.n[k] - 1, Math.max(0, Math.floor(s.n[k] * normalCdf(u[k]))));
      }
      return out;
    }
    const out = new Float64Array(s.d);
    for (let k = 0; k < s.d; k++) {
      const lo = s.lower[k], hi = s.upper[k];
      const fl = Number.isFinite(lo), fh = Number.isFinite(hi);
      if (fl && fh) out[k] = Math.min(hi, Math.max(lo, lo + (hi - lo) * normalCdf(u[k])));
      else if (fl) out[k] = lo + Math.abs(u[k] - lo);
      else if (fh) out[k] = hi - Math.abs(u[k] - hi);
      else out[k] = u[k];
    }
    return out;
  }

  /**
   * A genotype that decodes to a point (the centre of a grid cell in probability; the point
   * itself on a box).
   */
  encode(p: ArrayLike<number>, gridCentre = true): Float64Array {
    const s = this.space;
    const u = new Float64Array(s.d);
    for (let k = 0; k < s.d; k++) {
      if (s.kind === "grid") {
        u[k] = quantile((p[k] + (gridCentre ? 0.5 : 0)) / s.n[k]);
        continue;
      }
      const lo = s.lower[k], hi = s.upper[k];
      if (Number.isFinite(lo) && Number.isFinite(hi)) u[k] = quantile((p[k] - lo) / (hi - lo));
      else u[k] = p[k];
    }
    return u;
  }

  /**
   * The initial mean of a method: `x0` in the space's units (grid: index units, so a grid x0
   * of (n - 1)/2 is the middle), or the middle of the space (0 on unbounded coordinates).
   */
  mean0(x0: unknown): Float64Array {
    const s = this.space;
    if (x0 === undefined) {
      const u = new Float64Array(s.d);
      if (s.kind === "box") {
        for (let k = 0; k < s.d; k++) {
          const lo = s.lower[k], hi = s.upper[k];
          if (Number.isFinite(lo) && !Number.isFinite(hi)) u[k] = lo;
          else if (!Number.isFinite(lo) && Number.isFinite(hi)) u[k] = hi;
        }
      }
      return u;
    }
    const v = typeof x0 === "number" ? new Array(s.d).fill(x0) : x0 as number[];
    // On a grid, x0 in index units: the genotype whose CDF hits index x0 + 0.5 of n.
    return this.encode(v);
  }

  /** A genotype drawn from N(mean, sigma^2 I). */
  sample(rng: Rng, mean: Float64Array, sigma: number): Float64Array {
    const u = new Float64Array(this.d);
    for (let k = 0; k < this.d; k++) u[k] = mean[k] + sigma * rng.normal();
    return u;
  }
}

/** The parameters every continuous method takes: x0 and sigma0. */
export const startParams: Record<string, ParamSpec> = {
  x0: {
    default: undefined,
    type: "numbers",
    doc: "initial mean or point, a number or one per coordinate, in the space's units " +
      "(grid: index units); default the middle of the space",
  },
  sigma0: {
    default: 1,
    min: 0,
    exclusiveMin: true,
    doc: "initial step in genotype units (standard-normal units on grids and bounded " +
      "coordinates, the box's units on unbounded ones)",
  },
};

/**
 * Check that an array `x0` has one entry per coordinate (a `check` for descriptors).
 * @param params the resolved parameters
 * @param ctx the space
 * @returns an error message or undefined
 */
export function checkX0(
  params: Record<string, unknown>,
  ctx: { space: ResolvedSpace },
): string | undefined {
  const x0 = params.x0;
  if (Array.isArray(x0) && x0.length !== ctx.space.d) {
    return `params.x0 must be a number or an array of d = ${ctx.space.d} numbers, got ${x0.length}`;
  }
  return undefined;
}
