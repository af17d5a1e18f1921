/**
 * A prior-shaped start for PROTES (`docs/tensor_train.md`, "Prior-shaped start"): instead of
 * i.i.d. uniform cores, the tensor train starts as (nearly) the product over coordinates of a
 * given distribution of one coordinate's values, such as a generator's standard-normal prior
 * on the latent grid.
 *
 * One coordinate's digits are fitted once: a small train over its digits is trained by Adam on
 * the maximum-likelihood loss of a deterministic sample of the distribution (each value
 * repeated in proportion to its weight). The small train is then copied into every coordinate's
 * block of the full train through bond index 0 between coordinates; every other entry of the
 * boundary cores is a small positive number (`EPS` times the core's largest entry), so the
 * start is a product of the fitted marginals up to O(EPS) and the model can still learn
 * couplings between coordinates.
 *
 * @example
 * ```ts
 * import { priorCores } from "./_prior_start.ts";
 * import { QuantizedSpace } from "../space/quantize.ts";
 * import { TensorTrain } from "../core/tt.ts";
 * import { Rng } from "../core/rng.ts";
 * const q = new QuantizedSpace([8, 8], 2, "gray");
 * const tt = new TensorTrain(q.digitN, 3, new Rng(0));
 * tt.cores = priorCores(q, 3, [0.05, 0.05, 0.1, 0.3, 0.3, 0.1, 0.05, 0.05], new Rng(1));
 * ```
 * @module
 */

import { TensorTrain } from "../core/tt.ts";
import { Rng } from "../core/rng.ts";
import { ttLayout } from "../core/tt_reference.ts";
import type { QuantizedSpace } from "../space/quantize.ts";

const EPS = 1e-3;
const SAMPLE = 4096, STEPS = 1000;
const fits = new Map<string, Float64Array>(); // fitted small trains, by digits, rank and weights

/** Indices 0..n-1, each repeated in proportion to its weight (largest remainders), sum `m`. */
function proportional(weights: number[], m: number): number[] {
  const z = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (w / z) * m), counts = exact.map(Math.floor);
  const order = exact.map((_, i) => i).sort((a, b) =>
    (exact[b] - counts[b]) - (exact[a] - counts[a]) || a - b
  );
  for (let j = 0, left = m - counts.reduce((a, b) => a + b, 0); j < left; j++) {
    counts[order[j]]++;
  }
  return counts.flatMap((c, i) => new Array(c).fill(i));
}

/**
 * Cores of a tensor train over the digits of `q` whose distribution is, up to O(EPS), the
 * product over coordinates of `weights` (the same distribution for every coordinate).
 * @param q the quantized space (every coordinate of size `weights.length`)
 * @param r the train's inner rank
 * @param weights non-negative weights of a coordinate's values 0..n-1
 * @param rng generator for the small entries
 * @returns the cores in the layout of `ttLayout(q.digitN, r)`
 */
export function priorCores(
  q: QuantizedSpace,
  r: number,
  weights: number[],
  rng: Rng,
): Float64Array {
  // Every coordinate has the same digits: fit those of coordinate 0.
  const L = q.offsets[1], sizes = q.digitN.subarray(0, L);
  const key = `${sizes}|${q.code}|${r}|${weights}`;
  let fitted = fits.get(key);
  if (!fitted) {
    // The fit is deterministic (its own seed), so it is done once per process.
    const small = new TensorTrain(sizes, r, new Rng(0));
    const sample = proportional(weights, SAMPLE);
    const digits = new Int32Array(sample.length * L);
    sample.forEach((v, s) => {
      digits.set(q.toDigits(new Int32Array(q.n.length).fill(v)).subarray(0, L), s * L);
    });
    // Adam with the learning rate decayed from 0.05 to 0.005.
    for (let step = 0; step < STEPS; step++) small.adamStep(digits, 0.05 * 0.1 ** (step / STEPS));
    fits.set(key, fitted = small.cores);
  }
  const sl = ttLayout(sizes, r);
  const layout = ttLayout(q.digitN, r), out = new Float64Array(layout.size);
  for (let k = 0; k < q.n.length; k++) {
    for (let j = 0; j < L; j++) {
      const core = q.offsets[k] + j;
      const rl = layout.ranks[core], nk = layout.n[core], rr = layout.ranks[core + 1];
      const srl = sl.ranks[j], srr = sl.ranks[j + 1];
      let big = 0;
      for (let t = sl.coreOffset[j]; t < sl.coreOffset[j + 1]; t++) {
        big = Math.max(big, Math.abs(fitted[t]));
      }
      for (let a = 0; a < rl; a++) {
        for (let i = 0; i < nk; i++) {
          for (let b = 0; b < rr; b++) {
            // Inner bonds of the coordinate match the small train's; the bonds between
            // coordinates carry the small train through index 0 only.
            const inside = a < srl && b < srr;
            out[layout.coreOffset[core] + (a * nk + i) * rr + b] = inside
              ? fitted[sl.coreOffset[j] + (a * nk + i) * srr + b]
              : EPS * big * rng.uniform();
          }
        }
      }
    }
  }
  return out;
}
