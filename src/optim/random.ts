/**
 * `random`: random search. Each candidate is the genotype N(x0, sigma0^2 I) of
 * `_encoding.ts` decoded to the space; with the defaults (x0 the middle, sigma0 = 1) this is
 * exactly uniform over a grid (index = floor(n Phi(u)), Phi(u) uniform) and over the bounded
 * coordinates of a box, and N(0, 1) on unbounded ones. `batch` candidates per ask.
 *
 * @example
 * ```ts
 * import { optimize } from "./optimize.ts";
 * import "./random.ts";
 * const r = await optimize("random", (b) => b.map((i) => i[0] + i[1]), {
 *   space: { d: 2, n: 4 }, budget: 200, seed: 3,
 * });
 * if (r.value !== 0) throw new Error();
 * ```
 * @module
 */

import { registerMethod } from "./registry.ts";
import { checkX0, Encoding, startParams } from "./_encoding.ts";

registerMethod({
  name: "random",
  description: "random search, uniform over a grid or a bounded box",
  spaces: ["grid", "box"],
  params: {
    ...startParams,
    batch: { default: 100, type: "integer", min: 1, doc: "candidates per ask" },
  },
  check: checkX0,
  create: ({ space, rng, params }) => {
    const enc = new Encoding(space);
    const mean = enc.mean0(params.x0), sigma = params.sigma0 as number;
    return {
      ask: () =>
        Array.from(
          { length: params.batch as number },
          () => enc.decode(enc.sample(rng, mean, sigma)),
        ),
      tell() {},
    };
  },
});
