/**
 * Ranking helpers shared by the optimizers.
 *
 * @module
 */

/**
 * Positions of the `k` smallest values, smallest first; ties keep the earlier position.
 * @param values the values
 * @param k how many to keep
 * @returns positions into `values`
 * @example
 * ```ts
 * import { smallest } from "./_rank.ts";
 * if (smallest(Float64Array.of(3, 1, 2, 1), 2).join() !== "1,3") throw new Error();
 * ```
 */
export function smallest(values: ArrayLike<number>, k: number): number[] {
  const order = Array.from({ length: values.length }, (_, i) => i);
  order.sort((a, b) => values[a] - values[b] || a - b);
  return order.slice(0, k);
}
