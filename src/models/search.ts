/**
 * The search stage of an MEI run: one optimizer per neuron in lockstep over a problem's grid
 * (`optimizeLockstep`), timed. The problem is anything with a space, a batched objective over
 * its neurons and the neurons: an opened target network (`openProblem`) or responses measured
 * elsewhere.
 *
 * @example
 * ```ts
 * import { searchProblem } from "./search.ts";
 * // Two "neurons" over 3 binary digits: the first likes ones, the second zeros.
 * const problem = {
 *   space: { d: 3, n: 2 },
 *   neurons: [0, 1],
 *   objective: async (batch: Int32Array[]) =>
 *     Float64Array.from(batch.flatMap((p) => {
 *       const ones = p.reduce((a, b) => a + b, 0);
 *       return [ones, 3 - ones];
 *     })),
 * };
 * const { result } = await searchProblem(problem, { method: "random", budget: 40, seed: 0, shared: false });
 * if (result.results[0].value !== 3 || result.results[1].value !== 3) throw new Error();
 * ```
 * @module
 */

import {
  type LockstepProgress,
  type LockstepResult,
  type MultiObjective,
  optimizeLockstep,
} from "../optim/lockstep.ts";
import type { MeiSettings } from "./settings.ts";
import "../optim/methods.ts";

/** What a search needs of a problem. */
export interface SearchableProblem {
  /** d coordinates of n grid points each. */
  space: { d: number; n: number };
  /** The neurons searched (one search each). */
  neurons: readonly number[];
  /** Every neuron's response to every point of a batch: `values[b * neurons + j]`. */
  objective: MultiObjective;
}

/** The settings a search uses. */
export type SearchSettings = Pick<MeiSettings, "method" | "budget" | "seed" | "params" | "shared">;

/** Options of {@link searchProblem}. */
export interface SearchOptions {
  /** One seed per neuron's search, instead of seed + j (a sweep derives each from its key). */
  seeds?: readonly number[];
  /** Stops the searches between steps (the results so far are returned). */
  signal?: AbortSignal;
  /** Called after each step. */
  onProgress?: (p: LockstepProgress) => void;
}

/**
 * Search a problem: maximize each neuron's response with the settings' method and budget.
 * @param problem space, neurons and objective
 * @param settings method, parameters, budget per neuron, seed (neuron j uses seed + j), sharing
 * @param opts per-search seeds, a stop signal and a progress callback
 * @returns the lockstep result and the seconds the search took
 */
export async function searchProblem(
  problem: SearchableProblem,
  settings: SearchSettings,
  opts: SearchOptions = {},
): Promise<{ result: LockstepResult; searchSeconds: number }> {
  const t = performance.now();
  const result = await optimizeLockstep(settings.method, problem.objective, {
    space: problem.space,
    budget: settings.budget,
    seed: settings.seed,
    seeds: opts.seeds,
    maximize: true,
    params: settings.params,
    searches: problem.neurons.length,
    shared: settings.shared,
    signal: opts.signal,
    onProgress: opts.onProgress,
  });
  return { result, searchSeconds: (performance.now() - t) / 1000 };
}
