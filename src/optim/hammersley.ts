/**
 * `hammersley`: scrambled Hammersley search (nevergrad's ScrHammersleySearch). Point i of
 * N = budget has coordinates u_1 = (i + 1/2) / N and u_k = the radical inverse of i in the
 * (k-1)-th prime base with the digits 1..p-1 randomly permuted per base (0 stays 0, so the
 * inverse is exact), mapped to the genotype x0 + sigma0 Phi^-1(u) of `_encoding.ts` (as
 * nevergrad maps low-discrepancy points to N(0, 1)). With the defaults a grid index is
 * floor(n u_k): the points stratify the grid. `batch` points per ask.
 *
 * @example
 * ```ts
 * import { createOptimizer } from "./optimize.ts";
 * import "./hammersley.ts";
 * const opt = createOptimizer("hammersley", { space: { d: 1, n: 4 }, budget: 4, seed: 0 });
 * const b = opt.ask();
 * if (b.map((i) => i[0]).join() !== "0,1,2,3") throw new Error();
 * ```
 * @module
 */

import { normalQuantile } from "../space/grids.ts";
import { registerMethod } from "./registry.ts";
import { checkX0, Encoding, startParams } from "./_encoding.ts";
import type { Point } from "./types.ts";

/**
 * The first m primes.
 * @param m how many
 * @returns the primes
 * @example
 * ```ts
 * import { primes } from "./hammersley.ts";
 * if (primes(5).join() !== "2,3,5,7,11") throw new Error();
 * ```
 */
export function primes(m: number): number[] {
  const out: number[] = [];
  for (let c = 2; out.length < m; c++) if (out.every((p) => c % p !== 0)) out.push(c);
  return out;
}

/**
 * The radical inverse of i in base p with a digit permutation (perm[0] must be 0).
 * @param i index
 * @param p base
 * @param perm digit permutation
 * @returns a number in [0, 1)
 * @example
 * ```ts
 * import { radicalInverse } from "./hammersley.ts";
 * // 6 = 110 in base 2 -> 0.011 = 0.375; with digits 0 and 1 kept
 * if (radicalInverse(6, 2, [0, 1]) !== 0.375) throw new Error();
 * ```
 */
export function radicalInverse(i: number, p: number, perm: ArrayLike<number>): number {
  let out = 0, scale = 1 / p;
  for (; i > 0; i = Math.floor(i / p), scale /= p) out += perm[i % p] * scale;
  return out;
}

registerMethod({
  name: "hammersley",
  description: "scrambled Hammersley search (nevergrad's ScrHammersleySearch)",
  spaces: ["grid", "box"],
  params: {
    ...startParams,
    batch: { default: 100, type: "integer", min: 1, doc: "points per ask" },
  },
  check: checkX0,
  create: ({ space, rng, params, budget }) => {
    const enc = new Encoding(space);
    const mean0 = enc.mean0(params.x0), sigma0 = params.sigma0 as number;
    const bases = primes(space.d - 1);
    const perms = bases.map((
      p,
    ) => [0, ...rng.shuffle(Array.from({ length: p - 1 }, (_, j) => j + 1))]);
    // Keep u away from 0 and 1 by half a cell of the finest stratum (N points).
    const clamp = (u: number) => Math.min(1 - 0.5 / budget, Math.max(0.5 / budget, u));
    let i = 0;
    return {
      get done() {
        return i >= budget;
      },
      ask(): Point[] {
        const batch: Point[] = [];
        for (let b = 0; b < (params.batch as number) && i < budget; b++, i++) {
          const u = new Float64Array(space.d);
          for (let k = 0; k < space.d; k++) {
            const q = k === 0
              ? (i + 0.5) / budget
              : clamp(radicalInverse(i, bases[k - 1], perms[k - 1]));
            u[k] = mean0[k] + sigma0 * normalQuantile(q);
          }
          batch.push(enc.decode(u));
        }
        return batch;
      },
      tell() {},
    };
  },
});
