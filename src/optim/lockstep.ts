/**
 * Several searches in lockstep over one batched objective that measures every unit at once,
 * as an imaging experiment records many neurons per stimulus: each step, every search asks its
 * batch, all candidates are evaluated in one call, and each search is told its own unit's
 * values for its own candidates. In shared mode each search is also told its unit's responses
 * to the other searches' candidates (`AskTell.inform`), at no extra cost in images shown.
 *
 * @example
 * ```ts
 * import { optimizeLockstep } from "./lockstep.ts";
 * import "./methods.ts";
 * // Two "units": unit 0 likes ones, unit 1 likes zeros; values come back as [B * 2].
 * const r = await optimizeLockstep("tt-b", async (batch) => {
 *   const out = new Float64Array(batch.length * 2);
 *   batch.forEach((i, b) => {
 *     const ones = i.reduce((a, v) => a + v, 0);
 *     out[2 * b] = ones;
 *     out[2 * b + 1] = i.length - ones;
 *   });
 *   return out;
 * }, { space: { d: 6, n: 2 }, budget: 400, seed: 0, maximize: true, searches: 2, shared: true });
 * if (r.results[0].value !== 6 || r.results[1].value !== 6) throw new Error();
 * ```
 * @module
 */

import { createOptimizer, type OptimizeOptions, type OptimizeResult } from "./optimize.ts";
import type { Point } from "./types.ts";
import { rememberTop } from "./_top.ts";

/**
 * A batched objective over many units: `values[b * units + u]`. `owners[b]` is the search that
 * asked candidate b (for per-search response noise, see `Pipeline`); the lockstep search always
 * passes it, other callers (benches, a page's re-evaluation) may leave it out.
 */
export type MultiObjective<P extends Point = Int32Array> = (
  batch: P[],
  owners?: Int32Array,
) => Promise<Float64Array>;

/** Progress after each step. */
export interface LockstepProgress<P extends Point = Int32Array> {
  /** Images shown so far (all searches together). */
  images: number;
  /** Evaluations told to each search so far (own candidates). */
  evaluations: number;
  /** Best value of each search. */
  best: number[];
  /** Best point of each search. */
  points: P[];
}

/** Options: those of `optimize` (budget per search) plus the lockstep settings. */
export interface LockstepOptions<P extends Point = Int32Array>
  extends Omit<OptimizeOptions, "onProgress"> {
  /** Number of searches, one per unit. Search u uses seed + u, unless `seeds` is given. */
  searches: number;
  /** One seed per search (overrides seed + u), e.g. derived from each search's own key. */
  seeds?: readonly number[];
  /** Tell every search the responses of its unit to all candidates of a step. */
  shared?: boolean;
  /** Keep this many best distinct candidates per search (default 8). */
  keepTop?: number;
  /** Stops the searches between steps (the results so far are returned). */
  signal?: AbortSignal;
  onProgress?: (p: LockstepProgress<P>) => void;
}

/** A point that improved a search's best, with the images shown at that moment. */
export interface Improvement<P> {
  images: number;
  value: number;
  point: P;
}

/** The outcome of a lockstep run. */
export interface LockstepResult<P extends Point = Int32Array> {
  /** One result per search. */
  results: OptimizeResult<P>[];
  /** Every improvement of each search's best. */
  improvements: Improvement<P>[][];
  /** The best distinct candidates of each search, best first. */
  top: { point: P; value: number }[][];
  /** Best value of each search after each step, against the images shown. */
  curves: { images: number; best: number }[][];
  /** Images shown in all. */
  images: number;
  /** Whether the signal stopped the run before the budget was spent. */
  interrupted: boolean;
  /** Seconds spent in the optimizers (ask, tell, inform), not in the objective. */
  optimizerSeconds: number;
}

/**
 * Run one search per unit in lockstep (see the module doc).
 * @param method registry name of the optimizer
 * @param f objective returning every unit's value for every candidate
 * @param opts space, budget per search, seed, direction, parameters, number of searches, mode
 * @returns per-search results, improvements, top candidates and images-shown curves
 */
export async function optimizeLockstep<P extends Point = Int32Array>(
  method: string,
  f: MultiObjective<P>,
  opts: LockstepOptions<P>,
): Promise<LockstepResult<P>> {
  const u = opts.searches;
  if (!Number.isInteger(u) || u < 1) {
    throw new RangeError(`searches must be an integer >= 1, got ${u}`);
  }
  if (opts.seeds && opts.seeds.length !== u) {
    throw new RangeError(`expected ${u} seeds (one per search), got ${opts.seeds.length}`);
  }
  const seed = opts.seed ?? 0, keepTop = opts.keepTop ?? 8, sign = opts.maximize ? -1 : 1;
  const { space, budget, maximize, params, reevaluate } = opts;
  const opt = Array.from({ length: u }, (_, j) =>
    createOptimizer<P>(method, {
      space,
      budget,
      maximize,
      params,
      reevaluate,
      seed: opts.seeds?.[j] ?? seed + j,
    }));
  const improvements: Improvement<P>[][] = opt.map(() => []);
  const top: { point: P; value: number }[][] = opt.map(() => []);
  const curves: { images: number; best: number }[][] = opt.map(() => []);
  let images = 0, optimizerMs = 0;
  const remember = (j: number, point: P, value: number) =>
    rememberTop(top[j], point, value, keepTop, sign);
  let yielded = performance.now();
  while (opt.some((o) => !o.done)) {
    // An objective that resolves through microtasks alone would starve the event loop (signal
    // handlers, timers): yield a macrotask at least every 50 ms, then look at the signal.
    if (performance.now() - yielded > 50) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      yielded = performance.now();
    }
    if (opts.signal?.aborted) break;
    let t0 = performance.now();
    const asked = opt.map((o) => o.done ? [] : o.ask());
    optimizerMs += performance.now() - t0;
    const batch = asked.flat();
    if (batch.length === 0) break;
    const owners = new Int32Array(batch.length);
    let at = 0;
    asked.forEach((a, j) => owners.fill(j, at, at += a.length));
    const values = await f(batch, owners);
    if (values.length !== batch.length * u) {
      throw new RangeError(
        `the objective returned ${values.length} values for ${batch.length} candidates x ${u} units`,
      );
    }
    const column = (j: number, from: number, count: number) =>
      Float64Array.from({ length: count }, (_, b) => values[(from + b) * u + j]);
    let offset = 0;
    const offsets = asked.map((a) => (offset += a.length) - a.length);
    images += batch.length;
    t0 = performance.now();
    opt.forEach((o, j) => {
      const before = o.best?.value;
      if (opts.shared) {
        const others = asked.flatMap((a, k) => k === j ? [] : a);
        const otherValues = asked.flatMap((a, k) =>
          k === j ? [] : Array.from(column(j, offsets[k], a.length))
        );
        o.inform(others, otherValues);
      }
      if (asked[j].length) o.tell(asked[j], column(j, offsets[j], asked[j].length));
      const candidates = opts.shared ? batch : asked[j];
      const from = opts.shared ? 0 : offsets[j];
      candidates.forEach((p, b) => remember(j, p, values[(from + b) * u + j]));
      if (o.best && o.best.value !== before) {
        improvements[j].push({ images, value: o.best.value, point: o.best.point });
      }
      curves[j].push({ images, best: o.best!.value });
    });
    optimizerMs += performance.now() - t0;
    opts.onProgress?.({
      images,
      evaluations: opt[0].evaluations,
      best: opt.map((o) => o.best!.value),
      points: opt.map((o) => o.best!.point),
    });
  }
  return {
    results: opt.map((o) => ({
      best: o.best!.point,
      value: o.best!.value,
      evaluations: o.evaluations,
      history: o.history,
    })),
    improvements,
    top,
    curves,
    images,
    interrupted: opt.some((o) => !o.done),
    optimizerSeconds: optimizerMs / 1000,
  };
}
