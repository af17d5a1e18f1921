/**
 * `pso`: particle swarm as nevergrad's PSO, with the SPSO-2011 constants that nevergrad uses:
 * inertia omega = 1/(2 ln 2), cognitive and social weights phi_p = phi_g = 1/2 + ln 2, a
 * swarm of 40. Each ask moves every particle once (the swarm is one batch):
 *   v <- omega v + phi_p r_p (p_best - x) + phi_g r_g (g_best - x),  x <- x + v
 * with r_p, r_g uniform in [0, 1) per coordinate. Positions start at N(x0, sigma0^2 I) and
 * speeds uniform in [-sigma0, sigma0] in the genotype of `_encoding.ts`, whose map to grids
 * (index = floor(n Phi(u))) and bounded boxes (lower + (upper - lower) Phi(u)) needs no
 * repair at the bounds.
 *
 * @example
 * ```ts
 * import { optimize } from "./optimize.ts";
 * import "./pso.ts";
 * const r = await optimize("pso", (b) => b.map((i) => i.reduce((s, v) => s + (v - 5) ** 2, 0)), {
 *   space: { d: 4, n: 8 }, budget: 2000, seed: 0,
 * });
 * if (r.value !== 0) throw new Error(`${r.value}`);
 * ```
 * @module
 */

import { registerMethod } from "./registry.ts";
import { checkX0, Encoding, startParams } from "./_encoding.ts";
import type { Point } from "./types.ts";

registerMethod({
  name: "pso",
  description: "particle swarm, SPSO-2011 constants as nevergrad's PSO, swarm of 40",
  spaces: ["grid", "box"],
  params: {
    ...startParams,
    popsize: { default: 40, type: "integer", min: 2, doc: "swarm size (nevergrad: 40)" },
    omega: { default: 0.5 / Math.LN2, doc: "inertia (SPSO 2011: 1/(2 ln 2))" },
    phip: { default: 0.5 + Math.LN2, doc: "cognitive weight (SPSO 2011: 1/2 + ln 2)" },
    phig: { default: 0.5 + Math.LN2, doc: "social weight (SPSO 2011: 1/2 + ln 2)" },
  },
  check: checkX0,
  create: ({ space, rng, params }) => {
    const enc = new Encoding(space);
    const d = space.d, popsize = params.popsize as number, sigma0 = params.sigma0 as number;
    const omega = params.omega as number, phip = params.phip as number;
    const phig = params.phig as number;
    const mean0 = enc.mean0(params.x0);
    const x = Array.from({ length: popsize }, () => enc.sample(rng, mean0, sigma0));
    const v = Array.from(
      { length: popsize },
      () => Float64Array.from({ length: d }, () => sigma0 * (2 * rng.uniform() - 1)),
    );
    const pBest = x.map((xi) => xi.slice()), pValue = new Float64Array(popsize).fill(Infinity);
    let gBest = x[0].slice(), gValue = Infinity, started = false;
    return {
      ask(): Point[] {
        if (started) {
          for (let i = 0; i < popsize; i++) {
            for (let k = 0; k < d; k++) {
              v[i][k] = omega * v[i][k] + phip * rng.uniform() * (pBest[i][k] - x[i][k]) +
                phig * rng.uniform() * (gBest[k] - x[i][k]);
              x[i][k] += v[i][k];
            }
          }
        }
        started = true;
        return x.map((xi) => enc.decode(xi));
      },
      tell(points: Point[], values: Float64Array): void {
        for (let i = 0; i < points.length; i++) {
          if (values[i] <= pValue[i]) (pValue[i] = values[i], pBest[i] = x[i].slice());
          if (values[i] <= gValue) (gValue = values[i], gBest = x[i].slice());
        }
      },
    };
  },
});
