/**
 * `portfolio`: nevergrad's Portfolio (as of 2021 onwards): three members, `cma`,
 * `twopointsde` and scrambled Hammersley search (`hammersley`), each configured for a third
 * of the budget. Asks go round-robin by evaluations (the member with the fewest evaluations
 * asks its next batch: a CMA population, a DE generation or `lambda` Hammersley points), and
 * every result is told to every member: the asker by `tell`, the others by `inform` (CMA
 * injects the foreign points, DE fills its first population with them and later swaps a better
 * foreign point in for its worst member, Hammersley ignores them). `x0` and `sigma0` go to
 * every member.
 *
 * @example
 * ```ts
 * import { optimize } from "./optimize.ts";
 * import "./portfolio.ts";
 * const r = await optimize("portfolio", (b) => b.map((i) => i.reduce((s, v) => s + (v - 2) ** 2, 0)), {
 *   space: { d: 4, n: 8 }, budget: 1500, seed: 0,
 * });
 * if (r.value !== 0) throw new Error(`${r.value}`);
 * ```
 * @module
 */

import { Rng } from "../core/rng.ts";
import { getMethod, registerMethod, resolveParams } from "./registry.ts";
import { checkX0, startParams } from "./_encoding.ts";
import { cmaParameters } from "./_cma.ts";
import type { Minimizer, Point } from "./types.ts";
import "./cma.ts";
import "./twopointsde.ts";
import "./hammersley.ts";

/** The members of the portfolio, by registry name. */
export const PORTFOLIO_MEMBERS = ["cma", "twopointsde", "hammersley"] as const;

registerMethod({
  name: "portfolio",
  description: "nevergrad's Portfolio: CMA + TwoPointsDE + scrambled Hammersley, thirds",
  spaces: ["grid", "box"],
  params: startParams,
  check: checkX0,
  create: ({ space, budget, rng, params, maximize }) => {
    const third = Math.max(1, Math.ceil(budget / 3));
    const lambda = cmaParameters(space.d).lambda;
    const members: { opt: Minimizer; spent: number }[] = PORTFOLIO_MEMBERS.map((name) => {
      const method = getMethod(name);
      const given: Record<string, unknown> = { sigma0: params.sigma0 };
      if (params.x0 !== undefined) given.x0 = params.x0;
      if (name === "hammersley") given.batch = lambda;
      const p = resolveParams(method, given, { space, budget: third });
      const memberRng = new Rng(rng.nextU32() * 2 ** 21 + (rng.nextU32() >>> 11));
      return {
        opt: method.create({ space, budget: third, rng: memberRng, maximize, params: p }),
        spent: 0,
      };
    });
    let asker = 0;
    return {
      get done() {
        return members.every((m) => m.opt.done === true);
      },
      ask(): Point[] {
        asker = -1;
        members.forEach((m, i) => {
          if (m.opt.done !== true && (asker < 0 || m.spent < members[asker].spent)) asker = i;
        });
        return members[asker].opt.ask();
      },
      tell(points: Point[], values: Float64Array): void {
        members[asker].spent += points.length;
        members.forEach((m, i) => {
          if (i === asker) m.opt.tell(points, values);
          else m.opt.inform?.(points, values);
        });
      },
    };
  },
});
