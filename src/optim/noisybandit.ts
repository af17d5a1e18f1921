/**
 * `noisybandit`: nevergrad's NoisyBandit, an upper-confidence bandit without the log term on
 * an unbounded set of arms. For each candidate: with t asks so far and an archive of m arms,
 * if 20 t >= m^3 a new arm N(x0, sigma0^2 I) (genotype of `_encoding.ts`) is drawn; otherwise,
 * with probability 1/2, a uniformly chosen archived arm is re-evaluated, else the optimistic
 * best, argmin of mean - 0.1 sqrt(var / (1 + count)) where var is the running variance of the
 * arm's values (1e6 while it has a single value), as nevergrad's MultiValue. `batch`
 * candidates per ask. Arms are keyed by their decoded point, so on a grid every evaluation of
 * a cell counts towards one arm.
 *
 * @example
 * ```ts
 * import { optimize } from "./optimize.ts";
 * import "./noisybandit.ts";
 * const r = await optimize("noisybandit", (b) => b.map((i) => i[0] + i[1]), {
 *   space: { d: 2, n: 4 }, budget: 300, seed: 1,
 * });
 * if (r.value > 1) throw new Error(`${r.value}`);
 * ```
 * @module
 */

import { registerMethod } from "./registry.ts";
import { checkX0, Encoding, startParams } from "./_encoding.ts";
import type { Point } from "./types.ts";

interface Arm {
  point: Point;
  count: number;
  mean: number;
  square: number;
}

function optimisticBound(arm: Arm): number {
  const variance = arm.count > 1 ? Math.max(0, arm.square - arm.mean ** 2) : 1e6; // nevergrad
  return arm.mean - 0.1 * Math.sqrt(variance / (1 + arm.count));
}

registerMethod({
  name: "noisybandit",
  description: "nevergrad's NoisyBandit: new arm when 20 asks >= arms^3, else re-evaluate",
  spaces: ["grid", "box"],
  params: {
    ...startParams,
    batch: { default: 10, type: "integer", min: 1, doc: "candidates per ask" },
  },
  check: checkX0,
  create: ({ space, rng, params }) => {
    const enc = new Encoding(space);
    const mean0 = enc.mean0(params.x0), sigma0 = params.sigma0 as number;
    const arms = new Map<string, Arm>();
    const keyOf = (p: Point) => Array.from(p).join(",");
    let asks = 0;
    return {
      ask(): Point[] {
        const batch: Point[] = [];
        const armList = [...arms.values()];
        let newArms = 0;
        for (let b = 0; b < (params.batch as number); b++, asks++) {
          if (20 * asks >= (armList.length + newArms) ** 3 || armList.length === 0) {
            batch.push(enc.decode(enc.sample(rng, mean0, sigma0)));
            newArms++;
          } else if (rng.uniform() < 0.5) {
            batch.push(armList[rng.int(armList.length)].point.slice());
          } else {
            let best = armList[0];
            for (const arm of armList) if (optimisticBound(arm) < optimisticBound(best)) best = arm;
            batch.push(best.point.slice());
          }
        }
        return batch;
      },
      tell(points: Point[], values: Float64Array): void {
        points.forEach((p, i) => {
          const key = keyOf(p), y = values[i];
          const arm = arms.get(key);
          if (!arm) {
            arms.set(key, { point: p.slice(), count: 1, mean: y, square: y * y });
            return;
          }
          arm.count++;
          arm.mean += (y - arm.mean) / arm.count;
          arm.square += (y * y - arm.square) / arm.count;
        });
      },
    };
  },
});
