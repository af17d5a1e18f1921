/**
 * `ga`: the genetic algorithm of XDream (Xiao and Kreiman, PLoS Comput Biol 2020; the
 * `Genetic` optimizer of their code), with its defaults: population 20, mutation_rate 0.5,
 * mutation_size 0.5, selectivity 2, heritability 0.5, n_conserve 1. Each generation (one
 * batch; the whole population is evaluated, the conserved elite again, as XDream re-shows it):
 *   scores s = -values (XDream maximizes), clipped at their 95th percentile;
 *   fitness = exp((s - max s) / kT), kT = std(s) / selectivity  (uniform when kT = 0);
 *   keep the n_conserve best; each other child takes every gene from parent 1 with
 *   probability heritability, else from parent 2 (both drawn by roulette on fitness), then
 *   each gene mutates with probability mutation_rate by N(0, mutation_size^2).
 * Genes are the genotype of `_encoding.ts` (grid index = floor(n Phi(u)), bounded box
 * coordinates through lower + (upper - lower) Phi(u)): standard-normal units, like the
 * latent codes XDream evolves. The first population is N(x0, sigma0^2 I).
 *
 * @example
 * ```ts
 * import { optimize } from "./optimize.ts";
 * import "./ga.ts";
 * const r = await optimize("ga", (b) => b.map((i) => i.reduce((s, v) => s + (v - 5) ** 2, 0)), {
 *   space: { d: 4, n: 8 }, budget: 2000, seed: 0,
 * });
 * if (r.value > 1) throw new Error(`${r.value}`);
 * ```
 * @module
 */

import { registerMethod } from "./registry.ts";
import { checkX0, Encoding, startParams } from "./_encoding.ts";
import { smallest } from "./_rank.ts";
import type { Point } from "./types.ts";

/**
 * XDream's selection probabilities from scores (higher is better).
 * @param scores the scores of the population
 * @param selectivity kT = std / selectivity
 * @returns probabilities summing to 1
 * @example
 * ```ts
 * import { fitnessProbabilities } from "./ga.ts";
 * const p = fitnessProbabilities([0, 1, 2, 3], 2);
 * if (!(p[3] > p[2] && p[2] > p[0]) || Math.abs(p.reduce((a, b) => a + b) - 1) > 1e-12) throw new Error();
 * ```
 */
export function fitnessProbabilities(scores: ArrayLike<number>, selectivity: number): Float64Array {
  const sorted = Float64Array.from(scores).sort();
  const pos = 0.95 * (sorted.length - 1), lo = Math.floor(pos); // linear-interpolated percentile
  const p95 = sorted[lo] + (pos - lo) * ((sorted[lo + 1] ?? sorted[lo]) - sorted[lo]);
  const s = Float64Array.from(scores, (v) => Math.min(v, p95));
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  const std = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / s.length);
  const kT = std / selectivity, max = Math.max(...s);
  const fitness = s.map((v) => kT > 0 ? Math.exp((v - max) / kT) : 1);
  const total = fitness.reduce((a, b) => a + b, 0);
  return fitness.map((f) => f / total);
}

registerMethod({
  name: "ga",
  description: "XDream's genetic algorithm (population 20, mutation 0.5/0.5, selectivity 2)",
  spaces: ["grid", "box"],
  params: {
    ...startParams,
    popsize: { default: 20, type: "integer", min: 2, doc: "population (XDream: 20)" },
    mutation_rate: {
      default: 0.5,
      min: 0,
      max: 1,
      doc: "per-gene mutation probability (XDream: 0.5)",
    },
    mutation_size: { default: 0.5, min: 0, doc: "mutation standard deviation (XDream: 0.5)" },
    selectivity: {
      default: 2,
      min: 0,
      exclusiveMin: true,
      doc: "kT = std/selectivity (XDream: 2)",
    },
    heritability: {
      default: 0.5,
      min: 0,
      max: 1,
      doc: "share of genes from parent 1 (XDream: 0.5)",
    },
    n_conserve: { default: 1, type: "integer", min: 0, doc: "elites kept (XDream: 1)" },
  },
  check: (params, ctx) =>
    checkX0(params, ctx) ??
      ((params.n_conserve as number) >= (params.popsize as number)
        ? "n_conserve must be smaller than popsize"
        : undefined),
  create: ({ space, rng, params }) => {
    const enc = new Encoding(space);
    const popsize = params.popsize as number, nConserve = params.n_conserve as number;
    const rate = params.mutation_rate as number, size = params.mutation_size as number;
    const heritability = params.heritability as number;
    const mean0 = enc.mean0(params.x0), sigma0 = params.sigma0 as number;
    let population = Array.from({ length: popsize }, () => enc.sample(rng, mean0, sigma0));
    const roulette = (p: Float64Array) => {
      let u = rng.uniform(), i = 0;
      while (i < p.length - 1 && u >= p[i]) u -= p[i++];
      return i;
    };
    return {
      ask: (): Point[] => population.map((u) => enc.decode(u)),
      tell(points: Point[], values: Float64Array): void {
        if (points.length < popsize) return; // the last batch, cut by the budget
        const scores = values.map((v) => -v);
        const order = smallest(values, values.length);
        const p = fitnessProbabilities(scores, params.selectivity as number);
        const next = order.slice(0, nConserve).map((i) => population[i]);
        while (next.length < popsize) {
          const a = population[roulette(p)], b = population[roulette(p)];
          next.push(a.map((ga, k) => {
            const gene = rng.uniform() < heritability ? ga : b[k];
            return rng.uniform() < rate ? gene + size * rng.normal() : gene;
          }));
        }
        population = next;
      },
    };
  },
});
