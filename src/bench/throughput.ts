/**
 * Images per second of an MEI problem's objective (grid points -> generator -> target up to the
 * layer), timed the same way under Deno (`scripts/bench_web.ts`) and in the web page's worker:
 * random grid points in batches, a warm-up (V8 tiers up WebAssembly in the background, which
 * takes seconds on a loaded machine), then the best of a few rounds (other jobs on a shared
 * machine only ever slow a round down).
 *
 * @example
 * ```ts
 * import { imagesPerSecond } from "./throughput.ts";
 * const problem = {
 *   space: { d: 4, n: 8 },
 *   neurons: [0],
 *   objective: (batch: Int32Array[]) => Promise.resolve(new Float64Array(batch.length)),
 * };
 * const r = await imagesPerSecond(problem, { batch: 10, seconds: 0.05, warmup: 0.01 });
 * if (!(r.imagesPerSecond > 0)) throw new Error();
 * ```
 * @module
 */

import { Rng } from "../core/rng.ts";
import type { SearchableProblem } from "../models/search.ts";

/** Options of {@link imagesPerSecond}. */
export interface ThroughputOptions {
  /** Images per objective call. */
  batch: number;
  /** Seconds per round. */
  seconds: number;
  /** Seconds of warm-up (default 3). */
  warmup?: number;
  /** Rounds; the best counts (default 3). */
  rounds?: number;
  /** Seed of the random grid points (default 0). */
  seed?: number;
}

/**
 * Time a problem's objective on random grid points.
 * @param problem the space and the objective
 * @param opts batch size, seconds per round, warm-up, rounds, seed
 * @returns the best round's images per second and milliseconds per batch
 */
export async function imagesPerSecond(
  problem: Pick<SearchableProblem, "space" | "objective">,
  opts: ThroughputOptions,
): Promise<{ imagesPerSecond: number; msPerBatch: number }> {
  const rng = new Rng(opts.seed ?? 0), { d, n } = problem.space;
  const batch = Array.from(
    { length: opts.batch },
    () => Int32Array.from({ length: d }, () => rng.int(n)),
  );
  const w0 = performance.now();
  do await problem.objective(batch); while (performance.now() - w0 < (opts.warmup ?? 3) * 1000);
  let best = Infinity;
  for (let round = 0; round < (opts.rounds ?? 3); round++) {
    let runs = 0;
    const t0 = performance.now();
    while (runs === 0 || performance.now() - t0 < opts.seconds * 1000) {
      await problem.objective(batch);
      runs++;
    }
    best = Math.min(best, (performance.now() - t0) / runs);
  }
  return { imagesPerSecond: opts.batch / (best / 1000), msPerBatch: best };
}
