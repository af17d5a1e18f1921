/**
 * Benchmarks: the analytic suite of the PROTES paper with a seeded knapsack
 * (`functions.ts`), and the optimizer comparison behind `scripts/baselines.ts`
 * (`compare.ts`).
 *
 * @example
 * ```ts
 * import { benchmark, runTask } from "./mod.ts";
 * const b = benchmark("alpine", { d: 3, n: 8 });
 * const r = await runTask({ method: "de", problem: "alpine", seed: 0, noise: 0, budget: 100, d: 3, n: 8 });
 * if (!(r.final >= b.optimum!)) throw new Error();
 * ```
 * @module
 */

export * from "./functions.ts";
export * from "./compare.ts";
