/**
 * Per-coordinate grids that map an index j in 0..n-1 to a real value
 * (`docs/algorithms.md`, "Grids"): uniform on [a, b], standard-normal quantiles, and
 * Chebyshev points on [a, b] (index 0 maps to b).
 *
 * @example
 * ```ts
 * import { gridValues } from "./grids.ts";
 * const g = gridValues({ kind: "uniform", n: 5, lower: -4, upper: 4 });
 * if (g[0] !== -4 || g[4] !== 4 || g[2] !== 0) throw new Error();
 * ```
 * @module
 */

/** A grid description. */
export type Grid =
  | { kind: "uniform"; n: number; lower: number; upper: number }
  | { kind: "chebyshev"; n: number; lower: number; upper: number }
  | { kind: "gaussian"; n: number };

/**
 * The standard-normal quantile function Phi^-1(p) (Acklam's rational approximation, relative
 * error below 1.2e-9 over (0, 1)).
 * @param p a probability in (0, 1)
 * @returns x with Phi(x) = p
 * @example
 * ```ts
 * import { normalQuantile } from "./grids.ts";
 * if (Math.abs(normalQuantile(0.975) - 1.959963984540054) > 1e-8) throw new Error();
 * ```
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile needs 0 < p < 1, got ${p}`);
  const a = [
    -39.69683028665376,
    220.9460984245205,
    -275.9285104469687,
    138.357751867269,
    -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406,
    161.5858368580409,
    -155.6989798598866,
    66.80131188771972,
    -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293,
    -0.3223964580411365,
    -2.400758277161838,
    -2.549732539343734,
    4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * The values of a grid, index 0..n-1.
 * @param grid the grid description
 * @returns n values
 * @throws RangeError on n < 2 or an empty interval
 * @example
 * ```ts
 * import { gridValues } from "./grids.ts";
 * const c = gridValues({ kind: "chebyshev", n: 3, lower: -1, upper: 1 });
 * if (c[0] !== 1 || Math.abs(c[1]) > 1e-15 || c[2] !== -1) throw new Error();
 * ```
 */
export function gridValues(grid: Grid): Float64Array {
  const { n } = grid;
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`grid size n must be >= 2, got ${n}`);
  const x = new Float64Array(n);
  if (grid.kind === "gaussian") {
    for (let j = 0; j < n; j++) x[j] = normalQuantile((j + 0.5) / n);
    return x;
  }
  const { lower: a, upper: b } = grid;
  if (!(a < b)) throw new RangeError(`grid bounds must satisfy lower < upper, got [${a}, ${b}]`);
  for (let j = 0; j < n; j++) {
    x[j] = grid.kind === "uniform"
      ? a + j * (b - a) / (n - 1)
      : (a + b) / 2 + (b - a) / 2 * Math.cos(Math.PI * j / (n - 1));
  }
  if (grid.kind === "chebyshev") {
    x[0] = b; // cos(0) = 1 exactly; keep the ends exact despite rounding of (a+b)/2 + (b-a)/2
    x[n - 1] = a;
  }
  return x;
}

/**
 * Map a batch of multi-indices to real vectors through per-coordinate grid values.
 * @param batch multi-indices, each of length d
 * @param values grid values (one array for all coordinates)
 * @returns one Float64Array per index
 * @example
 * ```ts
 * import { indicesToValues } from "./grids.ts";
 * const [x] = indicesToValues([Int32Array.of(0, 2)], Float64Array.of(-1, 0, 1));
 * if (x[0] !== -1 || x[1] !== 1) throw new Error();
 * ```
 */
export function indicesToValues(batch: Int32Array[], values: Float64Array): Float64Array[] {
  return batch.map((i) => Float64Array.from(i, (j) => values[j]));
}
