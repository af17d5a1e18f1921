/**
 * Query efficiency of the methods on neurons (docs/study.md, "Analyses"): best activation
 * against evaluations (median and 95% interval over neurons and seeds), the final MEI's clean
 * activation relative to Portfolio's on the same problem, and the evaluations each method needs
 * to reach Portfolio's final value. A problem is (target, layer, neuron, seed) at one noise
 * level; every aggregate has a bootstrap interval resampling neurons.
 *
 * @example
 * ```ts
 * import { bestAt, evaluationsToReach } from "./efficiency.ts";
 * const history: [number, number][] = [[1, 0.1], [10, 0.5], [300, 0.9]];
 * if (bestAt(history, 50) !== 0.5 || evaluationsToReach(history, 0.6) !== 300) throw new Error();
 * ```
 * @module
 */

import type { SweepRecord } from "./sweep.ts";
import { groupBy } from "./_group.ts";
import { bootstrapCi, median, quantile } from "./stats.ts";

/** The reference method of the comparison. */
export const REFERENCE = "portfolio";

/**
 * The best value found after a number of evaluations, from a history of improvements.
 * @param history [evaluations, best] at every improvement, in order
 * @param evaluations the evaluation count
 * @returns the best so far, NaN before the first evaluation
 * @example
 * ```ts
 * import { bestAt } from "./efficiency.ts";
 * if (!Number.isNaN(bestAt([[5, 1]], 4))) throw new Error();
 * ```
 */
export function bestAt(history: readonly [number, number][], evaluations: number): number {
  let best = NaN;
  for (const [e, v] of history) {
    if (e > evaluations) break;
    best = v;
  }
  return best;
}

/**
 * The first evaluation count at which the best so far reaches a value.
 * @param history [evaluations, best] at every improvement, in order
 * @param value the value to reach
 * @returns the evaluation count, Infinity if never reached
 * @example
 * ```ts
 * import { evaluationsToReach } from "./efficiency.ts";
 * if (evaluationsToReach([[1, 0.2]], 0.5) !== Infinity) throw new Error();
 * ```
 */
export function evaluationsToReach(history: readonly [number, number][], value: number): number {
  for (const [e, v] of history) if (v >= value) return e;
  return Infinity;
}

/**
 * Evaluation counts 1, 2, 5, 10, 20, 50, ... up to the budget, and the budget.
 * @param budget the largest count
 * @returns the counts, increasing
 * @example
 * ```ts
 * import { evaluationGrid } from "./efficiency.ts";
 * if (evaluationGrid(300).join() !== "1,2,5,10,20,50,100,200,300") throw new Error();
 * ```
 */
export function evaluationGrid(budget: number): number[] {
  const out: number[] = [];
  for (let p = 1; p <= budget; p *= 10) {
    for (const m of [1, 2, 5]) if (m * p <= budget) out.push(m * p);
  }
  if (out.at(-1) !== budget) out.push(budget);
  return out;
}

/** A method's curve at one noise level: best activation against evaluations. */
export interface EfficiencyCurve {
  method: string;
  noise: number;
  problems: number;
  evaluations: number[];
  median: number[];
  /** 2.5% and 97.5% quantiles over problems. */
  lower: number[];
  upper: number[];
  /** 95% bootstrap interval of the median (500 resamples of neurons). */
  ciLow: number[];
  ciHigh: number[];
}

/** A method's headline numbers at one noise level. */
export interface MethodSummary {
  method: string;
  noise: number;
  /** Problems with this method (and, for the ratios, with Portfolio). */
  problems: number;
  /** Median clean activation of the final MEIs, and its interval. */
  median_final: number;
  median_final_ci: [number, number];
  /** Median over problems of final clean activation / Portfolio's (problems where Portfolio > 0). */
  median_final_vs_portfolio: number | null;
  ci: [number, number] | null;
  /** Median evaluations to reach Portfolio's final value (noise 0 only; null if never, median-wise). */
  median_evals_to_portfolio: number | null;
  evals_ci: [number | null, number | null] | null;
  /** Fraction of problems where the method reached Portfolio's final value (noise 0). */
  fraction_reaching_portfolio: number | null;
}

type EffRecord = Pick<
  SweepRecord,
  | "target"
  | "layer"
  | "neuron"
  | "seed"
  | "noise"
  | "method"
  | "budget"
  | "history"
  | "activation"
  | "clean_activation"
>;

const neuronOf = (r: EffRecord) => `${r.target}|${r.layer}|${r.neuron}`;
const problemOf = (r: EffRecord) => `${neuronOf(r)}|${r.seed}`;
const finite = (v: number) => (Number.isFinite(v) ? v : null);

/** Values grouped by neuron, for the bootstrap. */
function clusters<T extends EffRecord>(items: T[], value: (r: T) => number): number[][] {
  return [...groupBy(items, neuronOf).values()].map((g) => g.map(value));
}

/**
 * Curves and headline numbers of every method at every noise level in the records.
 * @param records sweep records
 * @param seed bootstrap seed
 * @returns the curves (history-based, so noisy runs show the noisy best) and the summaries
 * @example
 * ```ts
 * import { queryEfficiency } from "./efficiency.ts";
 * const r = (method: string, history: [number, number][]) => ({
 *   target: "t", layer: "l", neuron: 0, seed: 0, noise: 0, method, budget: 100, history,
 *   activation: history.at(-1)![1], clean_activation: history.at(-1)![1],
 * });
 * const { methods } = queryEfficiency([r("portfolio", [[1, 0.5], [90, 0.8]]), r("tt", [[1, 0.8]])], 0);
 * const tt = methods.find((m) => m.method === "tt")!;
 * if (tt.median_evals_to_portfolio !== 1) throw new Error();
 * ```
 */
export function queryEfficiency(
  records: readonly EffRecord[],
  seed: number,
): { curves: EfficiencyCurve[]; methods: MethodSummary[] } {
  const curves: EfficiencyCurve[] = [], methods: MethodSummary[] = [];
  for (const atNoise of groupBy(records, (r) => String(r.noise)).values()) {
    const noise = atNoise[0].noise;
    const reference = new Map(
      atNoise.filter((r) => r.method === REFERENCE).map((r) => [problemOf(r), r]),
    );
    for (const rs of groupBy(atNoise, (r) => r.method).values()) {
      const method = rs[0].method;
      const grid = evaluationGrid(Math.max(...rs.map((r) => r.budget)));
      const at = grid.map((e) =>
        clusters(rs, (r) => bestAt(r.history, e)).map((c) => c.filter((v) => !Number.isNaN(v)))
      );
      const cis = at.map((c) => bootstrapCi(c, median, { seed, resamples: 500 }));
      curves.push({
        method,
        noise,
        problems: rs.length,
        evaluations: grid,
        median: at.map((c) => median(c.flat())),
        lower: at.map((c) => quantile(c.flat(), 0.025)),
        upper: at.map((c) => quantile(c.flat(), 0.975)),
        ciLow: cis.map((c) => c[0]),
        ciHigh: cis.map((c) => c[1]),
      });
      const paired = rs.filter((r) => reference.get(problemOf(r))?.clean_activation! > 0);
      const ratio = (r: EffRecord) =>
        r.clean_activation / reference.get(problemOf(r))!.clean_activation;
      const toRef = (r: EffRecord) =>
        evaluationsToReach(r.history, reference.get(problemOf(r))!.activation);
      const withRef = rs.filter((r) => reference.has(problemOf(r)));
      const evals = noise === 0 && withRef.length > 0;
      const [elo, ehi] = evals
        ? bootstrapCi(clusters(withRef, toRef), median, { seed })
        : [NaN, NaN];
      methods.push({
        method,
        noise,
        problems: rs.length,
        median_final: median(rs.map((r) => r.clean_activation)),
        median_final_ci: bootstrapCi(clusters(rs, (r) => r.clean_activation), median, { seed }),
        median_final_vs_portfolio: paired.length ? median(paired.map(ratio)) : null,
        ci: paired.length ? bootstrapCi(clusters(paired, ratio), median, { seed }) : null,
        median_evals_to_portfolio: evals ? finite(median(withRef.map(toRef))) : null,
        evals_ci: evals ? [finite(elo), finite(ehi)] : null,
        fraction_reaching_portfolio: evals
          ? withRef.filter((r) => Number.isFinite(toRef(r))).length / withRef.length
          : null,
      });
    }
  }
  return { curves, methods };
}
