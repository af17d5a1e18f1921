/**
 * Statistics of the study: normalized class entropy, quantiles, and seeded bootstrap
 * confidence intervals that resample neurons (clusters), not single measurements.
 *
 * @example
 * ```ts
 * import { bootstrapCi, median, normalizedEntropy } from "./stats.ts";
 * if (Math.abs(normalizedEntropy([0.25, 0.25, 0.25, 0.25]) - 1) > 1e-12) throw new Error();
 * const [lo, hi] = bootstrapCi([[1], [2], [3], [4], [5]], median, { seed: 0 });
 * if (!(lo <= 3 && 3 <= hi)) throw new Error();
 * ```
 * @module
 */

import { Rng } from "../core/rng.ts";

/**
 * Shannon entropy of a probability vector divided by log(classes): 0 for one certain class,
 * 1 for the uniform distribution.
 * @param p probabilities (summing to 1)
 * @returns the normalized entropy in [0, 1]
 * @example
 * ```ts
 * import { normalizedEntropy } from "./stats.ts";
 * if (normalizedEntropy([1, 0, 0]) !== 0) throw new Error();
 * ```
 */
export function normalizedEntropy(p: readonly number[]): number {
  if (p.length < 2) return 0;
  let h = 0;
  for (const v of p) if (v > 0) h -= v * Math.log(v);
  return h / Math.log(p.length);
}

/**
 * The q-quantile of values (linear interpolation between order statistics, as numpy's default);
 * NaN for no values.
 * @param values the sample (any order)
 * @param q in [0, 1]
 * @returns the quantile
 * @example
 * ```ts
 * import { quantile } from "./stats.ts";
 * if (quantile([4, 1, 3, 2], 0.5) !== 2.5) throw new Error();
 * ```
 */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
  if (lo === hi || s[lo] === s[hi]) return s[lo];
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/**
 * The median of values (NaN for none).
 * @param values the sample
 * @returns the median
 * @example
 * ```ts
 * import { median } from "./stats.ts";
 * if (median([5, 1, 3]) !== 3) throw new Error();
 * ```
 */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/**
 * The arithmetic mean (NaN for none).
 * @param values the sample
 * @returns the mean
 * @example
 * ```ts
 * import { mean } from "./stats.ts";
 * if (mean([1, 2, 6]) !== 3) throw new Error();
 * ```
 */
export function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Options of {@link bootstrapCi}. */
export interface BootstrapOptions {
  /** Seed of the resampling (the same seed gives the same interval). */
  seed: number;
  /** Resamples (default 2000). */
  resamples?: number;
  /** Coverage (default 0.95). */
  level?: number;
}

/**
 * A percentile bootstrap confidence interval of a statistic, resampling clusters (one cluster
 * per neuron, holding that neuron's values: its seeds, epochs or methods) with replacement.
 * Resamples whose statistic is NaN are left out; [NaN, NaN] for no clusters.
 * @param clusters the values of each neuron
 * @param statistic the aggregate of the pooled values (median, mean, a fraction)
 * @param options seed, resamples and coverage
 * @returns [lower, upper]
 * @example
 * ```ts
 * import { bootstrapCi, mean } from "./stats.ts";
 * const [lo, hi] = bootstrapCi([[0], [1], [0], [1]], mean, { seed: 1 });
 * if (!(lo >= 0 && hi <= 1 && lo < hi)) throw new Error();
 * ```
 */
export function bootstrapCi(
  clusters: readonly (readonly number[])[],
  statistic: (values: number[]) => number,
  options: BootstrapOptions,
): [number, number] {
  const n = clusters.length;
  if (n === 0) return [NaN, NaN];
  const rng = new Rng(options.seed), level = options.level ?? 0.95;
  const stats: number[] = [];
  for (let r = 0; r < (options.resamples ?? 2000); r++) {
    const pooled: number[] = [];
    for (let i = 0; i < n; i++) pooled.push(...clusters[rng.int(n)]);
    const s = statistic(pooled);
    if (!Number.isNaN(s)) stats.push(s);
  }
  return [quantile(stats, (1 - level) / 2), quantile(stats, (1 + level) / 2)];
}

/**
 * A statistic with its bootstrap interval, in one object.
 * @param clusters the values of each neuron
 * @param statistic the aggregate
 * @param seed the resampling seed
 * @returns the statistic of all values and its 95% interval
 * @example
 * ```ts
 * import { estimate, median } from "./stats.ts";
 * const e = estimate([[1, 2], [3]], median, 0);
 * if (e.value !== 2) throw new Error();
 * ```
 */
export function estimate(
  clusters: readonly (readonly number[])[],
  statistic: (values: number[]) => number,
  seed: number,
): { value: number; ci: [number, number] } {
  return { value: statistic(clusters.flat()), ci: bootstrapCi(clusters, statistic, { seed }) };
}
