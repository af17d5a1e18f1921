/**
 * `cma`: CMA-ES with full covariance and Hansen's default parameters (active weights), the
 * update rules of N. Hansen, "The CMA Evolution Strategy: A Tutorial" (2016), as in pycma.
 * One population (lambda = 4 + floor(3 ln d)) per ask.
 *
 * Spaces: grids, through the genotype of `_encoding.ts` (index = floor(n Phi(u))), and boxes
 * (bounded coordinates through lower + (upper - lower) Phi(u); unbounded ones as is). `x0`
 * (space units) and `sigma0` (genotype units) set the initial mean and step; on a box the
 * defaults are the middle and 1. Foreign points told by a portfolio are injected with their
 * Mahalanobis length clipped (pycma's rule for injected solutions).
 *
 * @example
 * ```ts
 * import { optimize } from "./optimize.ts";
 * import "./cma.ts";
 * const sphere = (b: Float64Array[]) => b.map((x) => x.reduce((s, v) => s + v * v, 0));
 * const r = await optimize<Float64Array>("cma", sphere, {
 *   space: { d: 4 }, budget: 1500, seed: 1, params: { x0: 1, sigma0: 0.5 },
 * });
 * if (!(r.value < 1e-8)) throw new Error(`cma reached ${r.value}`);
 * ```
 * @module
 */

import { registerMethod } from "./registry.ts";
import { checkX0 } from "./_encoding.ts";
import { CmaMinimizer, cmaParams } from "./_cma.ts";

registerMethod({
  name: "cma",
  description: "CMA-ES, full covariance, Hansen's defaults (active weights)",
  spaces: ["grid", "box"],
  params: cmaParams,
  check: checkX0,
  create: (ctx) => new CmaMinimizer(ctx, false),
});
