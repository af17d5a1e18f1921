/**
 * Optimizer comparisons on the benchmark suite, the engine of `scripts/baselines.ts`: run one
 * (method, problem, seed, noise) task, summarize the runs (median and interquartile range of
 * the final value, median evaluations to a target), print markdown tables and build the
 * convergence figure (median best-so-far with an interquartile band against evaluations).
 *
 * Noise is multiplicative response noise, r * max(0, 1 + sigma N(0, 1))
 * (`docs/algorithms.md`, "The analyses"), on a response that behaves like a firing rate: the
 * benchmarks are minimized and take values of either sign, so the noise multiplies
 * r = max(0, U - f) >= 0, U the largest value of f over 10^4 seeded random grid points, and the
 * optimizer sees U - r max(0, 1 + sigma N(0, 1)). A zero draw is then a bad response, as for a
 * neuron (noise on f itself would make a zero draw the best value of a positive function). A
 * run is scored by the clean value of its final best point, and its history records the clean
 * value of the incumbent at every change.
 *
 * @example
 * ```ts
 * import { runTask, summarize, markdownTables } from "./compare.ts";
 * const base = { problem: "ackley", seed: 0, noise: 0, budget: 200, d: 3, n: 8 } as const;
 * const runs = [await runTask({ ...base, method: "random" }), await runTask({ ...base, method: "de" })];
 * const table = markdownTables(summarize(runs));
 * if (!table.includes("| random |")) throw new Error(table);
 * ```
 * @module
 */

import { Rng } from "../core/rng.ts";
import { createOptimizer } from "../optim/optimize.ts";
import type { Chart, Figure } from "../io/plot.ts";
import { benchmark, type BenchmarkName } from "./functions.ts";
import "../optim/methods.ts";

/** One run of the comparison. */
export interface Task {
  /** Registry name of the optimizer. */
  method: string;
  /** A benchmark name for `runTask`; any label for `runOn`. */
  problem: string;
  /** Seed of the optimizer (and of the noise stream, with the problem and sigma). */
  seed: number;
  /** sigma of the multiplicative noise (0: clean). */
  noise: number;
  /** Evaluations of the run. */
  budget: number;
  /** Grid of the analytic functions (the knapsack has its own size, `knapsackD`). */
  d: number;
  /** Values per coordinate of the analytic grid. */
  n: number;
  /** Grid kind of the analytic functions (default "chebyshev"). */
  grid?: "chebyshev" | "uniform";
  /** Items of the knapsack (default 50). */
  knapsackD?: number;
  /** Re-evaluations of each new incumbent (`OptimizeOptions.reevaluate`, default 0). */
  reevaluate?: number;
  /** Method parameters. */
  params?: Record<string, unknown>;
  /**
   * Start point of the methods that evaluate their `x0` first (`POINT_START_METHODS`):
   * "centre" (their default, the middle of the grid, which is the optimum or next to it for the
   * symmetric functions of the suite) or "random" (a uniform grid point drawn from the seed, the
   * same for every such method). Population methods keep their default start either way: it
   * spreads their first population uniformly over the grid. Default "centre".
   */
  start?: "centre" | "random";
}

/** The outcome of a task. */
export interface RunResult extends Task {
  /** Clean value of the final best point. */
  final: number;
  /** The value the optimizer reported (noisy when noise > 0). */
  reported: number;
  /** Evaluations spent. */
  evaluations: number;
  /** [evaluations, clean value of the incumbent] at every change of the incumbent. */
  history: [number, number][];
  /** Clean value of the first evaluated point. */
  first: number;
  /** Wall time of the run. */
  seconds: number;
  /** The grid optimum of the problem, where known. */
  optimum?: number;
  /** Set when the method failed (the run is left out of summaries). */
  error?: string;
}

/** Methods whose first evaluation is their start point x0 (see `Task.start`). */
export const POINT_START_METHODS: readonly string[] = ["oneplusone", "spsa"];

/**
 * The response ceiling U of a problem for the noise model: the largest value over 10^4 grid
 * points drawn from a fixed seed.
 */
async function responseCeiling(problem: GridProblem): Promise<number> {
  const rng = new Rng(20240607), { d, n } = problem.space;
  const batch = Array.from(
    { length: 10_000 },
    () => Int32Array.from({ length: d }, () => rng.int(n)),
  );
  return Math.max(...Array.from(await problem.f(batch)));
}

/** A seed for the noise stream of a task, the same for every method. */
function noiseSeed(task: Task): number {
  let h = 2166136261;
  for (const ch of `${task.problem}/${task.seed}/${task.noise}`) {
    h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  }
  return h;
}

/**
 * A minimized objective on a grid for `runOn`: a benchmark, or any other (a neuron's negated
 * activation, say).
 */
export interface GridProblem {
  /** The batched clean objective. */
  f: (batch: Int32Array[]) => ArrayLike<number> | Promise<ArrayLike<number>>;
  /** The grid. */
  space: { d: number; n: number };
  /** The minimum over the grid, where known (reported in the tables). */
  optimum?: number;
  /** Response ceiling U of the noise model (default: the largest f over 10^4 seeded points). */
  ceiling?: number;
}

/**
 * Run one task on a benchmark of the suite (`task.problem` names it; see `runOn`).
 * @param task method, problem, seed, noise, budget and grid
 * @returns the final clean value, the history and timings
 * @example
 * ```ts
 * import { runTask } from "./compare.ts";
 * const r = await runTask({ method: "de", problem: "rastrigin", seed: 1, noise: 0.2, budget: 300, d: 3, n: 11, grid: "uniform" });
 * if (r.evaluations !== 300 || r.history[0][0] !== 1) throw new Error();
 * ```
 */
export function runTask(task: Task): Promise<RunResult> {
  const name = task.problem as BenchmarkName;
  return runOn(
    name === "knapsack"
      ? benchmark("knapsack", { d: task.knapsackD ?? 50 })
      : benchmark(name, { d: task.d, n: task.n, grid: task.grid ?? "chebyshev" }),
    task,
  );
}

/**
 * Run one task on any grid problem: the method searches `problem.space` for `task.budget`
 * evaluations, with noise, start and re-evaluation as the task says (`task.problem` is only
 * a label here, and `task.d`, `task.n` are not used).
 * @param problem the clean objective and its grid
 * @param task method, seed, noise, budget
 * @returns the final clean value, the history and timings
 * @example
 * ```ts
 * import { runOn } from "./compare.ts";
 * const f = (b: Int32Array[]) => b.map((i) => (i[0] - 3) ** 2 + (i[1] - 1) ** 2);
 * const task = { method: "de", problem: "toy", seed: 0, noise: 0, budget: 300, d: 2, n: 5 };
 * const r = await runOn({ f, space: { d: 2, n: 5 }, optimum: 0 }, task);
 * if (r.final !== 0) throw new Error();
 * ```
 */
export async function runOn(problem: GridProblem, task: Task): Promise<RunResult> {
  const rng = new Rng(noiseSeed(task));
  const ceiling = task.noise > 0 ? problem.ceiling ?? await responseCeiling(problem) : 0;
  const clean = async (batch: Int32Array[]) => Float64Array.from(await problem.f(batch));
  const params = { ...task.params };
  if (task.start === "random" && POINT_START_METHODS.includes(task.method) && !("x0" in params)) {
    const { d, n } = problem.space, startRng = new Rng(1000003 * (task.seed + 1));
    params.x0 = Array.from({ length: d }, () => startRng.int(n));
  }
  const t0 = performance.now();
  const base = { ...task, optimum: problem.optimum };
  try {
    const opt = createOptimizer(task.method, {
      space: problem.space,
      budget: task.budget,
      seed: task.seed,
      params,
      reevaluate: task.reevaluate,
    });
    const history: [number, number][] = [];
    let first = NaN, seen = 0;
    while (!opt.done) {
      const batch = opt.ask();
      if (batch.length === 0) break;
      const ys = await clean(batch);
      if (Number.isNaN(first)) first = ys[0];
      const values = task.noise > 0
        ? ys.map((y) =>
          ceiling - Math.max(0, ceiling - y) * Math.max(0, 1 + task.noise * rng.normal())
        )
        : ys;
      opt.tell(batch, values);
      if (opt.history.length > seen && task.noise === 0) {
        for (const h of opt.history.slice(seen)) history.push([h.evaluations, h.value]);
      } else if (opt.history.length > seen) {
        // Under noise only the incumbent at the end of the batch is known: its clean value,
        // from the batch's first change of incumbent on.
        history.push([opt.history[seen].evaluations, (await clean([opt.best!.point]))[0]]);
      }
      seen = opt.history.length;
    }
    await Promise.resolve(); // keep a worker's event loop responsive between tasks
    const best = opt.best!;
    return {
      ...base,
      final: (await clean([best.point]))[0],
      reported: best.value,
      evaluations: opt.evaluations,
      history,
      first,
      seconds: (performance.now() - t0) / 1000,
    };
  } catch (e) {
    return {
      ...base,
      final: NaN,
      reported: NaN,
      evaluations: 0,
      history: [],
      first: NaN,
      seconds: (performance.now() - t0) / 1000,
      error: e instanceof Error ? e.message : String(e),
    };
  }
}

/**
 * The q-quantile of sorted numbers (linear interpolation).
 * @param sorted ascending numbers
 * @param q in [0, 1]
 * @returns the quantile (NaN when empty)
 * @example
 * ```ts
 * import { quantile } from "./compare.ts";
 * if (quantile([1, 2, 3, 4], 0.5) !== 2.5) throw new Error();
 * ```
 */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = q * (sorted.length - 1), lo = Math.floor(pos);
  if (pos === lo || lo + 1 >= sorted.length) return sorted[lo];
  const a = sorted[lo], b = sorted[lo + 1];
  return a === b ? a : a + (pos - lo) * (b - a); // also keeps Infinity - Infinity out
}

/** Summary of the runs of one method on one problem at one noise level. */
export interface Summary {
  /** Problem label. */
  problem: string;
  /** Noise sigma. */
  noise: number;
  /** Registry name of the optimizer. */
  method: string;
  /** Runs that finished. */
  runs: number;
  /** Median of the final clean values. */
  median: number;
  /** First quartile of the final clean values. */
  q25: number;
  /** Third quartile of the final clean values. */
  q75: number;
  /** Median over runs of the evaluations to reach the target (Infinity if most never did). */
  evaluationsToTarget: number;
  /** Runs that reached the target. */
  reached: number;
  /** The target: best + 0.01 |best| (or 1% of the way from the reference), see `summarize`. */
  target: number;
  /** The best clean value any run found. */
  bestFound: number;
  /** The grid optimum, where known. */
  optimum?: number;
  /** Runs that failed (left out). */
  failures: number;
}

/** Best-so-far value of a history at an evaluation count (NaN before its first entry). */
function valueAt(history: [number, number][], evaluations: number): number {
  let v = NaN;
  for (const [e, y] of history) {
    if (e > evaluations) break;
    v = y;
  }
  return v;
}

/**
 * Summarize runs per (problem, noise, method). The target of "evaluations to reach 99% of the
 * best value" is, for minimization with values of any sign, best + 0.01 |best|, best being the
 * lowest clean value any method found (within 1% of it; for a maximized positive objective,
 * minimized as -y, this is y >= 0.99 y_best). When best is 0 it is best + 0.01 (reference - best),
 * reference the median value of the first evaluated points.
 * @param results the runs
 * @returns one summary per (problem, noise, method), in the order first seen
 * @example
 * ```ts
 * import { summarize } from "./compare.ts";
 * const run = (method: string, final: number) => ({
 *   method, problem: "ackley" as const, seed: 0, noise: 0, budget: 10, d: 2, n: 4, final,
 *   reported: final, evaluations: 10, first: 10, seconds: 0, history: [[1, 10], [5, final]] as [number, number][],
 * });
 * const [a, b] = summarize([run("a", 1), run("b", 0)]);
 * if (a.median !== 1 || b.evaluationsToTarget !== 5 || a.evaluationsToTarget !== Infinity) throw new Error();
 * ```
 */
export function summarize(results: RunResult[]): Summary[] {
  const groups = new Map<string, RunResult[]>();
  for (const r of results) {
    const key = `${r.problem}\u0000${r.noise}\u0000${r.method}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const targets = new Map<string, { best: number; target: number }>();
  for (const r of results) {
    const key = `${r.problem}\u0000${r.noise}`;
    if (targets.has(key)) continue;
    const same = results.filter((s) => s.problem === r.problem && s.noise === r.noise && !s.error);
    const best = Math.min(...same.flatMap((s) => [s.final, ...s.history.map((h) => h[1])]));
    const reference = quantile(same.map((s) => s.first).sort((a, b) => a - b), 0.5);
    const slack = best !== 0 ? 0.01 * Math.abs(best) : 0.01 * Math.max(0, reference - best);
    targets.set(key, { best, target: best + slack });
  }
  return [...groups.values()].map((runs) => {
    const ok = runs.filter((r) => !r.error);
    const finals = ok.map((r) => r.final).sort((a, b) => a - b);
    const { best, target } = targets.get(`${runs[0].problem}\u0000${runs[0].noise}`)!;
    const hits = ok.map((r) => r.history.find((h) => h[1] <= target)?.[0] ?? Infinity)
      .sort((a, b) => a - b);
    return {
      problem: runs[0].problem,
      noise: runs[0].noise,
      method: runs[0].method,
      runs: ok.length,
      median: quantile(finals, 0.5),
      q25: quantile(finals, 0.25),
      q75: quantile(finals, 0.75),
      evaluationsToTarget: quantile(hits, 0.5),
      reached: hits.filter(Number.isFinite).length,
      target,
      bestFound: best,
      optimum: runs[0].optimum,
      failures: runs.length - ok.length,
    };
  });
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? "n/a" : "—";
  const a = Math.abs(v);
  if (v !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
  return String(Number(v.toPrecision(5)));
}

/**
 * Markdown tables, one pair per noise level: final value (median [q25, q75]) and median
 * evaluations to the target, methods as rows and problems as columns; the first row gives the
 * grid optimum where known.
 * @param summaries from `summarize`
 * @returns markdown
 * @example
 * ```ts
 * import { markdownTables } from "./compare.ts";
 * const md = markdownTables([{ problem: "p", noise: 0, method: "m", runs: 5, median: 1, q25: 0.5,
 *   q75: 2, evaluationsToTarget: 40, reached: 5, target: 1, bestFound: 0.9, failures: 0 }]);
 * if (!md.includes("| m | 1 [0.5, 2] |") || !md.includes("| m | 40 |")) throw new Error(md);
 * ```
 */
export function markdownTables(summaries: Summary[]): string {
  const noises = [...new Set(summaries.map((s) => s.noise))];
  const out: string[] = [];
  for (const noise of noises) {
    const rows = summaries.filter((s) => s.noise === noise);
    const problems = [...new Set(rows.map((s) => s.problem))];
    const methods = [...new Set(rows.map((s) => s.method))];
    const cell = (m: string, p: string) => rows.find((s) => s.method === m && s.problem === p);
    const header = `| method | ${problems.join(" | ")} |\n|---|${
      problems.map(() => "---").join("|")
    }|`;
    const optimumRow = `| *grid optimum* | ${
      problems.map((p) => fmt(rows.find((s) => s.problem === p)?.optimum ?? NaN)).join(" | ")
    } |`;
    out.push(
      `#### Final value, median [q25, q75] (noise sigma = ${noise})`,
      "",
      header,
      optimumRow,
      ...methods.map((m) =>
        `| ${m} | ${
          problems.map((p) => {
            const s = cell(m, p);
            if (!s || s.runs === 0) return "failed";
            return `${fmt(s.median)} [${fmt(s.q25)}, ${fmt(s.q75)}]`;
          }).join(" | ")
        } |`
      ),
      "",
      `#### Median evaluations to reach the target (noise sigma = ${noise}); — : fewer than half the runs reached it`,
      "",
      header,
      `| *target* | ${
        problems.map((p) => fmt(rows.find((s) => s.problem === p)!.target)).join(" | ")
      } |`,
      ...methods.map((m) =>
        `| ${m} | ${
          problems.map((p) => {
            const s = cell(m, p);
            return s && s.runs > 0 ? fmt(s.evaluationsToTarget) : "failed";
          }).join(" | ")
        } |`
      ),
      "",
    );
  }
  return out.join("\n");
}

/**
 * The convergence figure of one noise level: a panel per problem, for each method the median
 * best-so-far (clean) value against evaluations (log scale) with an interquartile band. The
 * y range runs from the best value found to the third quartile over methods of the medians
 * after 1% of the budget (log scale when that spans more than three decades).
 * @param results the runs
 * @param noise the noise level to draw
 * @param points evaluation counts per curve (log-spaced, default 60)
 * @returns a figure for `figureSvg` / `figurePng`
 * @example
 * ```ts
 * import { convergenceFigure, runTask } from "./compare.ts";
 * const r = await runTask({ method: "random", problem: "alpine", seed: 0, noise: 0, budget: 100, d: 2, n: 8 });
 * const fig = convergenceFigure([r], 0);
 * if (fig.charts.length !== 1 || fig.charts[0].series[0].name !== "random") throw new Error();
 * ```
 */
export function convergenceFigure(results: RunResult[], noise: number, points = 60): Figure {
  const runs = results.filter((r) => r.noise === noise && !r.error);
  const problems = [...new Set(runs.map((r) => r.problem))];
  const charts: Chart[] = problems.map((problem) => {
    const mine = runs.filter((r) => r.problem === problem);
    const budget = Math.max(...mine.map((r) => r.budget));
    const grid = [
      ...new Set(
        Array.from({ length: points }, (_, i) => Math.round(budget ** (i / (points - 1)))),
      ),
    ];
    const methods = [...new Set(mine.map((r) => r.method))];
    const tops: number[] = [];
    let bottom = Infinity;
    const series = methods.map((method) => {
      const hs = mine.filter((r) => r.method === method).map((r) => r.history);
      const stats = grid.map((e) => {
        const v = hs.map((h) => valueAt(h, e)).filter((x) => !Number.isNaN(x)).sort((a, b) =>
          a - b
        );
        return [quantile(v, 0.25), quantile(v, 0.5), quantile(v, 0.75)];
      });
      const atOnePercent = stats[grid.findIndex((e) => e >= budget / 100)]?.[1];
      if (Number.isFinite(atOnePercent)) tops.push(atOnePercent);
      for (const s of stats) if (Number.isFinite(s[0])) bottom = Math.min(bottom, s[0]);
      return {
        name: method,
        x: grid,
        y: stats.map((s) => s[1]),
        lower: stats.map((s) => s[0]),
        upper: stats.map((s) => s[2]),
      };
    });
    // Top: the third quartile over methods of their medians after 1% of the budget, so that
    // one very poor method does not flatten the others; log scale over wide positive ranges.
    const top = quantile(tops.sort((a, b) => a - b), 0.75);
    const logY = bottom > 0 && top / bottom > 1e3;
    const yRange: [number, number] | undefined = !(top > bottom)
      ? undefined
      : logY
      ? [bottom / 1.2, top * 1.2]
      : [bottom - 0.03 * (top - bottom), top + 0.03 * (top - bottom)];
    return {
      title: problem,
      xLabel: "evaluations",
      yLabel: "best value",
      logX: true,
      logY,
      xRange: [1, budget],
      yRange,
      series,
    };
  });
  return {
    title: `Best value found (median, interquartile band)${
      noise > 0 ? `, noise sigma ${noise}` : ""
    }`,
    charts,
    columns: Math.min(3, charts.length),
    panelWidth: 420,
    panelHeight: 300,
  };
}
