/**
 * Analytic benchmark functions on grids, as in the PROTES paper's benchmark (A. Batsheva et
 * al., "PROTES: Probabilistic Optimization with Tensor Sampling", NeurIPS 2023, Table 1,
 * functions from the teneva library, with their usual domains), a seeded 0/1 knapsack, and
 * the continuous sphere and Rosenbrock functions.
 *
 * Every grid benchmark is batched over multi-indices: index j of a coordinate maps to the
 * j-th value of a Chebyshev (default; index 0 is the upper bound) or uniform grid on the
 * function's domain (`src/space/grids.ts`). `optimum` is the exact minimum over the grid where
 * it can be computed cheaply (separable sums, a symmetric function by multisets, a chain by
 * dynamic programming, the knapsack by dynamic programming).
 *
 * @example
 * ```ts
 * import { benchmark } from "./functions.ts";
 * const ackley = benchmark("ackley", { d: 7, n: 16, grid: "chebyshev" });
 * const [y] = ackley.f([new Int32Array(7).fill(7)]);
 * if (Math.abs(y - ackley.optimum!) > 1e-12) throw new Error(`${y} vs ${ackley.optimum}`);
 * ```
 * @module
 */

import { Rng } from "../core/rng.ts";
import { gridValues } from "../space/grids.ts";

/** The analytic functions of the suite (the PROTES benchmark without Piston). */
export const ANALYTIC_FUNCTIONS = [
  "ackley",
  "alpine",
  "exponential",
  "griewank",
  "michalewicz",
  "qing",
  "rastrigin",
  "schaffer",
  "schwefel",
] as const;

/** Names accepted by `benchmark`. */
export type BenchmarkName = typeof ANALYTIC_FUNCTIONS[number] | "knapsack";

/** Options of `benchmark`. */
export interface BenchmarkOptions {
  /** Number of coordinates (default 7 for analytic functions, 50 items for the knapsack). */
  d?: number;
  /** Grid size per coordinate (default 16; the knapsack is always binary). */
  n?: number;
  /** Grid kind on the function's domain (default "chebyshev", as the PROTES benchmark). */
  grid?: "chebyshev" | "uniform";
  /** Seed of the knapsack instance (default 0). */
  seed?: number;
}

/** A benchmark problem on a grid, minimized. */
export interface Benchmark {
  /** Its name. */
  name: BenchmarkName;
  /** The batched objective over multi-indices. */
  f: (batch: Int32Array[]) => Float64Array;
  /** The grid space, for `optimize`. */
  space: { d: number; n: number };
  /** The minimum over the grid, where known. */
  optimum?: number;
  /** Grid values per coordinate (the same for every coordinate). */
  values: Float64Array;
  /** The continuous function (analytic functions only). */
  fx?: (x: Float64Array) => number;
}

interface Analytic {
  lower: number;
  upper: number;
  fx: (x: Float64Array) => number;
  /** The exact grid minimum, when cheap. */
  gridMinimum?: (values: Float64Array, d: number) => number | undefined;
}

/** Minimum of sum_k term(x_k, k) over a grid, coordinate by coordinate. */
function separableMinimum(term: (x: number, k: number) => number) {
  return (values: Float64Array, d: number) => {
    let total = 0;
    for (let k = 0; k < d; k++) total += Math.min(...Array.from(values, (v) => term(v, k)));
    return total;
  };
}

/**
 * Minimum of a function symmetric under permutations of coordinates: enumerate the multisets
 * of distinct grid values (C(m + d - 1, d) of them), when there are at most 2e6.
 */
function symmetricMinimum(fx: (x: Float64Array) => number) {
  return (values: Float64Array, d: number) => {
    const distinct = [...new Set(values)];
    const m = distinct.length;
    let count = 1;
    for (let i = 1; i <= d; i++) count = count * (m - 1 + i) / i;
    if (count > 2e6) return undefined;
    const x = new Float64Array(d);
    let best = Infinity;
    const rec = (k: number, from: number) => {
      if (k === d) return void (best = Math.min(best, fx(x)));
      for (let j = from; j < m; j++) (x[k] = distinct[j], rec(k + 1, j));
    };
    rec(0, 0);
    return best;
  };
}

/** Minimum of sum_k pair(x_k, x_{k+1}) by dynamic programming along the chain. */
function chainMinimum(pair: (a: number, b: number) => number) {
  return (values: Float64Array, d: number) => {
    let cost = new Float64Array(values.length); // best cost of a prefix ending in value j
    for (let k = 1; k < d; k++) {
      cost = Float64Array.from(
        values,
        (b) => Math.min(...Array.from(values, (a, i) => cost[i] + pair(a, b))),
      );
    }
    return Math.min(...cost);
  };
}

const schafferPair = (a: number, b: number) => {
  const r2 = a * a + b * b;
  return 0.5 + (Math.sin(Math.sqrt(r2)) ** 2 - 0.5) / (1 + 0.001 * r2) ** 2;
};

// Domains are the usual ones (teneva, as used by the PROTES benchmark).
const ANALYTIC: Record<typeof ANALYTIC_FUNCTIONS[number], Analytic> = {
  ackley: {
    lower: -32.768,
    upper: 32.768,
    fx: (x) => {
      let s2 = 0, sc = 0;
      for (const v of x) (s2 += v * v, sc += Math.cos(2 * Math.PI * v));
      // A = 20, B = 0.2, C = 2 pi (the standard constants)
      return -20 * Math.exp(-0.2 * Math.sqrt(s2 / x.length)) - Math.exp(sc / x.length) + 20 +
        Math.E;
    },
    gridMinimum: (values, d) => symmetricMinimum(ANALYTIC.ackley.fx)(values, d),
  },
  alpine: {
    lower: -10,
    upper: 10,
    fx: (x) => x.reduce((s, v) => s + Math.abs(v * Math.sin(v) + 0.1 * v), 0),
    gridMinimum: separableMinimum((v) => Math.abs(v * Math.sin(v) + 0.1 * v)),
  },
  exponential: {
    lower: -1,
    upper: 1,
    fx: (x) => -Math.exp(-0.5 * x.reduce((s, v) => s + v * v, 0)),
    gridMinimum: (values, d) => -Math.exp(-0.5 * separableMinimum((v) => v * v)(values, d)),
  },
  griewank: {
    lower: -600,
    upper: 600,
    fx: (x) => {
      let s = 0, p = 1;
      x.forEach((v, k) => (s += v * v / 4000, p *= Math.cos(v / Math.sqrt(k + 1))));
      return s - p + 1;
    },
  },
  michalewicz: {
    lower: 0,
    upper: Math.PI,
    // m = 10 (the standard steepness)
    fx: (x) =>
      -x.reduce((s, v, k) => s + Math.sin(v) * Math.sin((k + 1) * v * v / Math.PI) ** 20, 0),
    gridMinimum: separableMinimum((v, k) =>
      -Math.sin(v) * Math.sin((k + 1) * v * v / Math.PI) ** 20
    ),
  },
  qing: {
    lower: 0,
    upper: 500,
    fx: (x) => x.reduce((s, v, k) => s + (v * v - (k + 1)) ** 2, 0),
    gridMinimum: separableMinimum((v, k) => (v * v - (k + 1)) ** 2),
  },
  rastrigin: {
    lower: -5.12,
    upper: 5.12,
    // A = 10 (the standard constant)
    fx: (x) => x.reduce((s, v) => s + v * v - 10 * Math.cos(2 * Math.PI * v), 10 * x.length),
    gridMinimum: separableMinimum((v) => 10 + v * v - 10 * Math.cos(2 * Math.PI * v)),
  },
  schaffer: {
    lower: -100,
    upper: 100,
    fx: (x) => {
      let s = 0;
      for (let k = 0; k + 1 < x.length; k++) s += schafferPair(x[k], x[k + 1]);
      return s;
    },
    gridMinimum: chainMinimum(schafferPair),
  },
  schwefel: {
    lower: -500,
    upper: 500,
    // 418.9829 d: the standard offset that puts the minimum near 0
    fx: (x) => x.reduce((s, v) => s - v * Math.sin(Math.sqrt(Math.abs(v))), 418.9829 * x.length),
    gridMinimum: separableMinimum((v) => 418.9829 - v * Math.sin(Math.sqrt(Math.abs(v)))),
  },
};

/** A seeded 0/1 knapsack instance: integer weights and values, capacity. */
export interface KnapsackInstance {
  /** Item weights. */
  weights: Int32Array;
  /** Item values. */
  values: Int32Array;
  /** The largest total weight allowed. */
  capacity: number;
}

/**
 * The knapsack instance of a seed: weights uniform in 1..30, values uniform in 1..60, capacity
 * half the total weight (rounded down).
 * @param d number of items
 * @param seed the seed
 * @returns the instance
 * @example
 * ```ts
 * import { knapsackInstance } from "./functions.ts";
 * const k = knapsackInstance(50, 0);
 * if (k.weights.length !== 50 || k.capacity <= 0) throw new Error();
 * ```
 */
export function knapsackInstance(d: number, seed: number): KnapsackInstance {
  const rng = new Rng(seed);
  const weights = Int32Array.from({ length: d }, () => 1 + rng.int(30));
  const values = Int32Array.from({ length: d }, () => 1 + rng.int(60));
  const capacity = Math.floor(weights.reduce((a, b) => a + b, 0) / 2);
  return { weights, values, capacity };
}

function knapsackOptimum({ weights, values, capacity }: KnapsackInstance): number {
  const best = new Float64Array(capacity + 1); // best value within each capacity
  weights.forEach((w, i) => {
    for (let c = capacity; c >= w; c--) best[c] = Math.max(best[c], best[c - w] + values[i]);
  });
  return -best[capacity];
}

/**
 * A benchmark problem on a grid, minimized: an analytic function of the PROTES benchmark on a
 * Chebyshev or uniform grid over its domain, or the seeded knapsack (minus the packed value
 * when within capacity, 0 when over it, as the PROTES knapsack).
 * @param name the function
 * @param opts d, n, grid kind, knapsack seed
 * @returns the batched objective, its space and the grid optimum where known
 * @throws RangeError for an unknown name or bad sizes
 * @example
 * ```ts
 * import { benchmark } from "./functions.ts";
 * const b = benchmark("rastrigin", { d: 3, n: 11, grid: "uniform" });
 * const [y] = b.f([Int32Array.of(5, 5, 5)]); // the centre, x = 0
 * if (y !== 0 || b.optimum !== 0) throw new Error();
 * ```
 */
export function benchmark(name: BenchmarkName, opts: BenchmarkOptions = {}): Benchmark {
  if (name === "knapsack") {
    const d = opts.d ?? 50;
    const inst = knapsackInstance(d, opts.seed ?? 0);
    const f = (batch: Int32Array[]) =>
      Float64Array.from(batch, (i) => {
        let w = 0, v = 0;
        i.forEach((b, k) => b && (w += inst.weights[k], v += inst.values[k]));
        return w <= inst.capacity ? -v : 0;
      });
    return {
      name,
      f,
      space: { d, n: 2 },
      optimum: knapsackOptimum(inst),
      values: Float64Array.of(0, 1),
    };
  }
  const fn = ANALYTIC[name];
  if (!fn) {
    throw new RangeError(
      `unknown benchmark "${name}"; valid: ${[...ANALYTIC_FUNCTIONS, "knapsack"].join(", ")}`,
    );
  }
  const d = opts.d ?? 7, n = opts.n ?? 16;
  if (!Number.isInteger(d) || d < 1) throw new RangeError(`d must be an integer >= 1, got ${d}`);
  const values = gridValues({
    kind: opts.grid ?? "chebyshev",
    n,
    lower: fn.lower,
    upper: fn.upper,
  });
  const f = (batch: Int32Array[]) =>
    Float64Array.from(batch, (i) => fn.fx(Float64Array.from(i, (j) => values[j])));
  return { name, f, space: { d, n }, optimum: fn.gridMinimum?.(values, d), values, fx: fn.fx };
}

/**
 * The sphere function sum x^2 (minimum 0 at 0).
 * @param x a point
 * @returns its value
 * @example
 * ```ts
 * import { sphere } from "./functions.ts";
 * if (sphere(Float64Array.of(1, 2)) !== 5) throw new Error();
 * ```
 */
export function sphere(x: Float64Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return s;
}

/**
 * The Rosenbrock function sum 100 (x_{k+1} - x_k^2)^2 + (1 - x_k)^2 (minimum 0 at all ones).
 * @param x a point
 * @returns its value
 * @example
 * ```ts
 * import { rosenbrock } from "./functions.ts";
 * if (rosenbrock(Float64Array.of(1, 1, 1)) !== 0 || rosenbrock(Float64Array.of(0, 0)) !== 1) {
 *   throw new Error();
 * }
 * ```
 */
export function rosenbrock(x: Float64Array): number {
  let s = 0;
  for (let k = 0; k + 1 < x.length; k++) s += 100 * (x[k + 1] - x[k] ** 2) ** 2 + (1 - x[k]) ** 2;
  return s;
}
