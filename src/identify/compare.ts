/**
 * Identified against true weights: per neuron the correlation and the relative error of the
 * weight vectors, over the weights the recording can determine (features that were active).
 *
 * @example
 * ```ts
 * import { compareWeights } from "./compare.ts";
 * const c = compareWeights(Float64Array.of(1, 2, 2, 4), Float64Array.of(1, 2, 1, 2), 2, 2);
 * if (c.neurons[0].relativeError !== 0 || c.neurons[1].relativeError !== 1) throw new Error();
 * ```
 * @module
 */

/** One neuron's comparison. */
export interface NeuronComparison {
  /** Pearson correlation of identified and true weights (NaN if either is constant). */
  correlation: number;
  /** ||w - w_true|| / ||w_true|| (Euclidean). */
  relativeError: number;
}

/** What {@link compareWeights} returns. */
export interface WeightComparison {
  /** Per neuron. */
  neurons: NeuronComparison[];
  /** Over all weights of all neurons together. */
  correlation: number;
  /** ||W - W_true|| / ||W_true|| over all neurons. */
  relativeError: number;
  /** Median of the neurons' relative errors. */
  medianRelativeError: number;
}

function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] / n;
    mb += b[i] / n;
  }
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

function relative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    e += (a[i] - b[i]) ** 2;
    nb += b[i] ** 2;
  }
  return Math.sqrt(e / nb);
}

/**
 * Compares identified with true weights.
 * @param identified weights, N x K row-major
 * @param truth true weights, N x K
 * @param neurons N
 * @param k weights per neuron K
 * @param active the features to compare (default all)
 * @returns per-neuron and overall correlation and relative error
 */
export function compareWeights(
  identified: Float64Array,
  truth: ArrayLike<number>,
  neurons: number,
  k: number,
  active?: readonly number[],
): WeightComparison {
  const cols = active ?? Array.from({ length: k }, (_, c) => c);
  const pick = (w: ArrayLike<number>, i: number) => cols.map((c) => w[i * k + c]);
  const per = Array.from({ length: neurons }, (_, i) => {
    const a = pick(identified, i), b = pick(truth, i);
    return { correlation: pearson(a, b), relativeError: relative(a, b) };
  });
  const all = (w: ArrayLike<number>) =>
    Array.from({ length: neurons }, (_, i) => pick(w, i)).flat();
  const errors = per.map((p) => p.relativeError).sort((x, y) => x - y);
  const mid = errors.length >> 1;
  return {
    neurons: per,
    correlation: pearson(all(identified), all(truth)),
    relativeError: relative(all(identified), all(truth)),
    medianRelativeError: errors.length % 2 ? errors[mid] : (errors[mid - 1] + errors[mid]) / 2,
  };
}
