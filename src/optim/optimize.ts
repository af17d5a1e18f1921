/**
 * The public driver: `createOptimizer` wraps any registered method in an ask/tell object that
 * keeps the budget, the best point and the history, and `optimize` runs it over a batched
 * (possibly asynchronous) objective.
 *
 * @example
 * ```ts
 * import { optimize } from "./optimize.ts";
 * import "./methods.ts";
 * // Maximize the number of ones in a binary string of length 8.
 * const r = await optimize("protes", (batch) => batch.map((i) => i.reduce((a, b) => a + b, 0)), {
 *   space: { d: 8, n: 2 }, budget: 2000, seed: 1, maximize: true,
 * });
 * if (r.value !== 8) throw new Error(`found ${r.value}`);
 * ```
 * @module
 */

import { Rng } from "../core/rng.ts";
import { getMethod, resolveParams, resolveSpace } from "./registry.ts";
import type { Point, Space } from "./types.ts";
import { NoisyIncumbent } from "./_incumbent.ts";

/** A batched objective: one value per candidate, in order. */
export type Objective<P extends Point = Int32Array> = (
  batch: P[],
) => ArrayLike<number> | Promise<ArrayLike<number>>;

/** Progress of a run, reported after every batch. */
export interface Progress {
  /** Evaluations so far. */
  evaluations: number;
  /** Best value so far (in the user's sense: highest when maximizing). */
  best: number;
  /** The budget. */
  budget: number;
}

/** Options of `createOptimizer` and `optimize`. */
export interface OptimizeOptions {
  /** The search space: a grid `{ d, n }` or a box `{ d, lower?, upper? }`. */
  space: Space;
  /** Maximum number of objective evaluations, never exceeded. */
  budget: number;
  /** Seed of the method's generator (default 0). */
  seed?: number;
  /** Maximize instead of minimize. */
  maximize?: boolean;
  /** Method parameters (see each method's descriptor). */
  params?: Record<string, unknown>;
  /** Called after every batch. */
  onProgress?: (p: Progress) => void;
  /**
   * For noisy objectives: re-evaluate each new best candidate this many more times (counted
   * against the budget, asked ahead of the method's next batch) and report the point with the
   * best mean over 1 + reevaluate evaluations, its value being that mean. Default 0: the first
   * value of every point is final.
   */
  reevaluate?: number;
}

/** One entry of the history: the best value after this many evaluations. */
export interface HistoryEntry {
  evaluations: number;
  value: number;
}

/** The outcome of a run. */
export interface OptimizeResult<P extends Point = Int32Array> {
  /** The best candidate found. */
  best: P;
  /** Its value. */
  value: number;
  /** Evaluations spent. */
  evaluations: number;
  /** The best value at each improvement. */
  history: HistoryEntry[];
}

/** An optimizer in ask/tell form, counting the budget and keeping the best. */
export interface AskTell<P extends Point = Int32Array> {
  /** The next batch; empty once the optimizer is done. Never more than the budget left. */
  ask(): P[];
  /** Report the values of a batch from `ask` (a prefix of it is allowed). */
  tell(points: P[], values: ArrayLike<number>): void;
  /**
   * Report values of points this optimizer did not ask (for example other searches' images,
   * measured on the same neuron). They update the best (without counting against the budget)
   * and are passed to methods that can learn from foreign points (`Minimizer.inform`).
   */
  inform(points: P[], values: ArrayLike<number>): void;
  /** Set once the budget is spent or the method has finished. */
  readonly done: boolean;
  /** The best point and value so far. */
  readonly best: { point: P; value: number } | undefined;
  /** Evaluations told so far. */
  readonly evaluations: number;
  /** The best value at each improvement. */
  readonly history: HistoryEntry[];
}

/** Values checked to be finite (one per point), times `sign` (the inner methods minimize). */
function signedValues(points: Point[], values: ArrayLike<number>, sign: number): Float64Array {
  if (values.length !== points.length) {
    throw new RangeError(
      `the objective returned ${values.length} values for a batch of ${points.length}`,
    );
  }
  const out = new Float64Array(points.length);
  for (let i = 0; i < points.length; i++) {
    const v = values[i];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new RangeError(
        `the objective returned ${v} (not a finite number) at ${formatPoint(points[i])}`,
      );
    }
    out[i] = sign * v;
  }
  return out;
}

function formatPoint(p: Point): string {
  const shown = Array.from(p.subarray(0, 16)).join(", ");
  return `[${shown}${p.length > 16 ? `, ... (${p.length} coordinates)` : ""}]`;
}

/**
 * Create an ask/tell optimizer for a registered method.
 * @param method registry name, e.g. "protes", "tt-b", "ttopt"
 * @param opts space, budget, seed, direction and parameters
 * @returns the ask/tell object
 * @throws Error naming an invalid option and what would be valid
 * @example
 * ```ts
 * import { createOptimizer } from "./optimize.ts";
 * import "./methods.ts";
 * const opt = createOptimizer("protes", { space: { d: 3, n: 4 }, budget: 50, seed: 2 });
 * while (!opt.done) {
 *   const batch = opt.ask();
 *   opt.tell(batch, batch.map((i) => i[0] + i[1] + i[2]));
 * }
 * if (opt.evaluations !== 50) throw new Error();
 * ```
 */
export function createOptimizer<P extends Point = Int32Array>(
  method: string,
  opts: OptimizeOptions,
): AskTell<P> {
  const descriptor = getMethod(method);
  const space = resolveSpace(opts.space);
  const { budget } = opts;
  if (!Number.isInteger(budget) || budget < 1) {
    throw new RangeError(`budget must be an integer >= 1, got ${budget}`);
  }
  if (!descriptor.spaces.includes(space.kind)) {
    throw new RangeError(
      `"${method}" searches ${descriptor.spaces.join(" or ")} spaces, not a ${space.kind}`,
    );
  }
  const params = resolveParams(descriptor, opts.params, { space, budget });
  const inner = descriptor.create({
    space,
    budget,
    rng: new Rng(opts.seed ?? 0),
    maximize: opts.maximize === true,
    params,
  });
  const sign = opts.maximize ? -1 : 1;
  const reevaluate = opts.reevaluate ?? 0;
  if (!Number.isInteger(reevaluate) || reevaluate < 0) {
    throw new RangeError(`reevaluate must be an integer >= 0, got ${reevaluate}`);
  }
  const noisy = reevaluate > 0 ? new NoisyIncumbent<P>(reevaluate) : undefined;
  let repeats = 0; // re-evaluations at the head of the pending batch
  let evaluations = 0;
  let best: { point: P; value: number } | undefined;
  const history: HistoryEntry[] = [];
  let pending: P[] | undefined;

  return {
    ask(): P[] {
      if (this.done) return [];
      const head = noisy?.requests(budget - evaluations) ?? [];
      repeats = head.length;
      if (evaluations + repeats >= budget) return pending = head;
      const batch = inner.ask() as P[];
      if (batch.length === 0) throw new Error(`"${method}" asked an empty batch`);
      pending = head.concat(batch.slice(0, budget - evaluations - repeats));
      return pending;
    },
    tell(points: P[], values: ArrayLike<number>): void {
      if (!pending || points.length > pending.length || points.some((p, i) => p !== pending![i])) {
        throw new Error("tell() takes the batch from the last ask() (or a prefix of it)");
      }
      const minimized = signedValues(points, values, sign);
      for (let i = 0; i < points.length; i++) {
        const v = values[i];
        if (noisy) continue;
        if (!best || sign * v < sign * best.value) {
          best = { point: points[i].slice() as P, value: v };
          history.push({ evaluations: evaluations + i + 1, value: v });
        }
      }
      if (noisy) {
        const k = Math.min(repeats, points.length);
        noisy.record(minimized.subarray(0, k), points.slice(k), minimized.subarray(k));
        const now = noisy.best!;
        if (!best || now.point !== best.point || sign * now.value !== sign * best.value) {
          best = { point: now.point, value: sign * now.value };
          history.push({ evaluations: evaluations + points.length, value: best.value });
        }
        const askedInner = pending.length > repeats;
        evaluations += points.length;
        pending = undefined;
        if (askedInner) inner.tell(points.slice(k), minimized.slice(k));
        return;
      }
      evaluations += points.length;
      pending = undefined;
      inner.tell(points, minimized);
    },
    inform(points: P[], values: ArrayLike<number>): void {
      if (points.length === 0) return;
      const minimized = signedValues(points, values, sign);
      if (!noisy) {
        let improved = false;
        minimized.forEach((m, i) => {
          if (!best || m < sign * best.value) {
            best = { point: points[i].slice() as P, value: values[i] };
            improved = true;
          }
        });
        if (improved) history.push({ evaluations, value: best!.value });
      }
      inner.inform?.(points, minimized);
    },
    get done() {
      return evaluations >= budget || inner.done === true;
    },
    get best() {
      return best;
    },
    get evaluations() {
      return evaluations;
    },
    history,
  };
}

/**
 * Run a registered optimizer over a batched objective until the budget is spent.
 * @param method registry name
 * @param f the objective; receives whole batches, returns one value per candidate
 * @param opts space, budget, seed, direction, parameters and a progress callback
 * @returns the best candidate, its value, the evaluations spent and the history
 * @example
 * ```ts
 * import { optimize } from "./optimize.ts";
 * import "./methods.ts";
 * const t = [3, 1, 4, 1];
 * const r = await optimize("protes", (b) => b.map((i) => i.reduce((s, v, k) => s + (v - t[k]) ** 2, 0)), {
 *   space: { d: 4, n: 8 }, budget: 3000, seed: 0,
 * });
 * if (r.value !== 0) throw new Error();
 * ```
 */
export async function optimize<P extends Point = Int32Array>(
  method: string,
  f: Objective<P>,
  opts: OptimizeOptions,
): Promise<OptimizeResult<P>> {
  const opt = createOptimizer<P>(method, opts);
  while (!opt.done) {
    const batch = opt.ask();
    if (batch.length === 0) break;
    opt.tell(batch, await f(batch));
    opts.onProgress?.({ evaluations: opt.evaluations, best: opt.best!.value, budget: opts.budget });
  }
  const best = opt.best!;
  return {
    best: best.point,
    value: best.value,
    evaluations: opt.evaluations,
    history: opt.history,
  };
}
