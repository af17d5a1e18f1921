/**
 * Diversity of the MEIs that different methods find for the same neuron: Euclidean and cosine
 * distances between their latent vectors (docs/study.md, "Analyses").
 *
 * @example
 * ```ts
 * import { cosineDistance, euclidean } from "./diversity.ts";
 * if (euclidean([0, 0], [3, 4]) !== 5 || cosineDistance([1, 0], [0, 2]) !== 1) throw new Error();
 * ```
 * @module
 */

import type { SweepRecord } from "./sweep.ts";
import { groupBy } from "./_group.ts";
import { checkpointOf } from "./selectivity.ts";

/**
 * The Euclidean distance of two vectors.
 * @param a a vector
 * @param b a vector of the same length
 * @returns ||a - b||
 * @example
 * ```ts
 * import { euclidean } from "./diversity.ts";
 * if (euclidean([1, 1, 1, 1], [0, 0, 0, 0]) !== 2) throw new Error();
 * ```
 */
export function euclidean(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

/**
 * The cosine distance 1 - a.b / (|a| |b|) of two vectors (0: same direction, 1: orthogonal,
 * 2: opposite); NaN when one is zero.
 * @param a a vector
 * @param b a vector of the same length
 * @returns the distance in [0, 2]
 * @example
 * ```ts
 * import { cosineDistance } from "./diversity.ts";
 * if (cosineDistance([1, 2], [-1, -2]) !== 2) throw new Error();
 * ```
 */
export function cosineDistance(a: readonly number[], b: readonly number[]): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) (ab += a[i] * b[i], aa += a[i] * a[i], bb += b[i] * b[i]);
  return aa === 0 || bb === 0 ? NaN : 1 - ab / Math.sqrt(aa * bb);
}

/** The mean distances between the MEIs of different methods for one neuron at one checkpoint. */
export interface NeuronDistances {
  arch: string;
  layer: string;
  neuron: number;
  checkpoint: string;
  epoch: number | null;
  /** Method pairs compared (over every seed). */
  pairs: number;
  euclidean: number;
  cosine: number;
}

/**
 * Mean pairwise distances between the latents of different methods' MEIs, per neuron and
 * checkpoint, over noise-free records of the same seed; neurons with one method are left out.
 * @param records sweep records
 * @returns one entry per (arch, layer, neuron, checkpoint) with two methods or more
 * @example
 * ```ts
 * import { methodDistances } from "./diversity.ts";
 * const r = (method: string, latent: number[]) => ({
 *   arch: "a", layer: "l", neuron: 0, epoch: 0, target: "a@0", seed: 0, noise: 0, method, latent,
 * });
 * const [d] = methodDistances([r("tt", [0, 0]), r("tt-b", [3, 4])]);
 * if (d.euclidean !== 5 || d.pairs !== 1) throw new Error();
 * ```
 */
export function methodDistances(
  records: readonly Pick<
    SweepRecord,
    "arch" | "layer" | "neuron" | "epoch" | "target" | "seed" | "noise" | "method" | "latent"
  >[],
): NeuronDistances[] {
  const clean = records.filter((r) => r.noise === 0);
  const out: NeuronDistances[] = [];
  const key = (r: (typeof clean)[number]) => `${r.arch}|${r.layer}|${r.neuron}|${checkpointOf(r)}`;
  for (const group of groupBy(clean, key).values()) {
    let pairs = 0, eu = 0, co = 0;
    for (const bySeed of groupBy(group, (r) => String(r.seed)).values()) {
      for (let i = 0; i < bySeed.length; i++) {
        for (let j = i + 1; j < bySeed.length; j++) {
          if (bySeed[i].method === bySeed[j].method) continue;
          pairs++;
          eu += euclidean(bySeed[i].latent, bySeed[j].latent);
          co += cosineDistance(bySeed[i].latent, bySeed[j].latent);
        }
      }
    }
    if (pairs === 0) continue;
    const r = group[0];
    out.push({
      arch: r.arch,
      layer: r.layer,
      neuron: r.neuron,
      checkpoint: checkpointOf(r),
      epoch: r.epoch,
      pairs,
      euclidean: eu / pairs,
      cosine: co / pairs,
    });
  }
  return out;
}
