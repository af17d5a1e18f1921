/**
 * `cma-diag`: separable CMA-ES (diagonal covariance, c_1 and c_mu times (n + 2)/3 as in Ros
 * and Hansen, PPSN 2008), O(d) per sample, so it adapts much faster in high dimension. Same
 * spaces, parameters and genotype map as `cma`.
 *
 * @example
 * ```ts
 * import { optimize } from "./optimize.ts";
 * import "./cma_diag.ts";
 * const sphere = (b: Float64Array[]) => b.map((x) => x.reduce((s, v) => s + v * v, 0));
 * const r = await optimize<Float64Array>("cma-diag", sphere, {
 *   space: { d: 4 }, budget: 1500, seed: 1, params: { x0: 1, sigma0: 0.5 },
 * });
 * if (!(r.value < 1e-8)) throw new Error(`cma-diag reached ${r.value}`);
 * ```
 * @module
 */

import { registerMethod } from "./registry.ts";
import { checkX0 } from "./_encoding.ts";
import { CmaMinimizer, cmaParams } from "./_cma.ts";

registerMethod({
  name: "cma-diag",
  description: "separable CMA-ES (diagonal covariance), Hansen's defaults",
  spaces: ["grid", "box"],
  params: cmaParams,
  check: checkX0,
  create: (ctx) => new CmaMinimizer(ctx, true),
});
