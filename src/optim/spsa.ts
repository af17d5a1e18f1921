/**
 * `spsa`: simultaneous-perturbation stochastic approximation as nevergrad's SPSA. At
 * iteration k (a pair of evaluations per ask) with delta in {-1, +1}^d:
 *   y- = f(t - c_k delta),  y+ = f(t + c_k delta)
 *   t <- t - a_k (y+ - y-) / (2 c_k) delta,   avg <- running mean of the iterates t
 *   a_k = a / (k + 1 + A)^0.602,  c_k = c / (k + 1)^0.101
 * with a = 1e-5, c = 0.1, A = max(10, budget / 20) (nevergrad's constants; with a = 1e-5 it
 * barely moves: a weak baseline by default). nevergrad recommends the running average
 * `recommendation`; the driver reports the best point evaluated. Spaces: grids and boxes
 * through the genotype of `_encoding.ts`.
 *
 * @example
 * ```ts
 * import { optimize } from "./optimize.ts";
 * import "./spsa.ts";
 * const f = (b: Float64Array[]) => b.map((x) => x[0] ** 2 + x[1] ** 2);
 * const opts = { space: { d: 2 }, budget: 100, seed: 0 };
 * const weak = await optimize<Float64Array>("spsa", f, { ...opts, params: { x0: 1 } });
 * const strong = await optimize<Float64Array>("spsa", f, { ...opts, params: { x0: 1, a: 0.1 } });
 * if (!(strong.value < 0.1 && weak.value > 1)) throw new Error(`${strong.value} ${weak.value}`);
 * ```
 * @module
 */

import { registerMethod } from "./registry.ts";
import { checkX0, Encoding, startParams } from "./_encoding.ts";
import type { Point } from "./types.ts";

registerMethod({
  name: "spsa",
  description: "SPSA with nevergrad's gains (a = 1e-5, c = 0.1, A = max(10, budget/20))",
  spaces: ["grid", "box"],
  params: {
    x0: startParams.x0,
    a: { default: 1e-5, min: 0, exclusiveMin: true, doc: "gain a (nevergrad: 1e-5)" },
    c: { default: 0.1, min: 0, exclusiveMin: true, doc: "perturbation c (nevergrad: 0.1)" },
    A: {
      default: ({ budget }: { budget: number }) => Math.max(10, Math.floor(budget / 20)),
      min: 0,
      doc: "stability constant A (nevergrad: max(10, budget/20))",
    },
  },
  check: checkX0,
  create: ({ space, rng, params }) => {
    const enc = new Encoding(space);
    const a = params.a as number, c = params.c as number, A = params.A as number;
    const t = enc.mean0(params.x0), avg = t.slice();
    let k = 0, delta = new Float64Array(space.d);
    const ck = () => c / (k + 1) ** 0.101, ak = () => a / (k + 1 + A) ** 0.602; // Spall's exponents
    return {
      recommendation: avg,
      ask(): Point[] {
        delta = delta.map(() => rng.uniform() < 0.5 ? -1 : 1);
        const step = ck();
        return [-1, 1].map((s) => enc.decode(t.map((v, j) => v + s * step * delta[j])));
      },
      tell(points: Point[], values: Float64Array): void {
        if (points.length < 2) return;
        const g = ak() * (values[1] - values[0]) / (2 * ck());
        for (let j = 0; j < t.length; j++) {
          t[j] -= g * delta[j];
          avg[j] += (t[j] - avg[j]) / (k + 2);
        }
        k++;
      },
    };
  },
});
