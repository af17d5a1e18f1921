/**
 * `twopointsde`: nevergrad's TwoPointsDE: DE with two-points crossover. One generation (a population of children) per ask; a child replaces its
 * parent when at least as good. Spaces: grids and boxes through the genotype of
 * `_encoding.ts` (grid index = floor(n Phi(u)); bounded box coordinates through
 * lower + (upper - lower) Phi(u), so no repair is needed).
 *
 * @example
 * ```ts
 * import { optimize } from "./optimize.ts";
 * import "./twopointsde.ts";
 * const r = await optimize("twopointsde", (b) => b.map((i) => i.reduce((s, v) => s + (v - 3) ** 2, 0)), {
 *   space: { d: 5, n: 8 }, budget: 3000, seed: 0,
 * });
 * if (r.value !== 0) throw new Error(`found ${r.value}`);
 * ```
 * @module
 */

import { registerMethod } from "./registry.ts";
import { checkX0 } from "./_encoding.ts";
import { DeMinimizer, deParams } from "./_de.ts";

registerMethod({
  name: "twopointsde",
  description: "nevergrad's TwoPointsDE: DE with two-points crossover",
  spaces: ["grid", "box"],
  params: deParams,
  check: checkX0,
  create: (ctx) => new DeMinimizer(ctx, "twopoints"),
});
