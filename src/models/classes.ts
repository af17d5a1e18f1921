/**
 * Class probabilities from logits, in one place: the softmax that `--unit probability`
 * maximizes and the class of each MEI that the report records.
 *
 * @example
 * ```ts
 * import { classOf, softmax } from "./classes.ts";
 * const p = softmax([0, Math.log(3)]);
 * if (Math.abs(p[1] - 0.75) > 1e-12) throw new Error();
 * const c = classOf([0, Math.log(3)]);
 * if (c.predicted !== 1 || Math.abs(c.probability - 0.75) > 1e-12) throw new Error();
 * ```
 * @module
 */

/**
 * The softmax of a row of logits (shifted by its maximum, so large logits do not overflow).
 * @param logits the logits
 * @returns probabilities summing to 1
 */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const p = new Float64Array(logits.length);
  let z = 0;
  for (let i = 0; i < p.length; i++) z += p[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < p.length; i++) p[i] /= z;
  return p;
}

/** The class a network gives an image. */
export interface ClassInfo {
  /** The most probable class. */
  predicted: number;
  /** Its probability. */
  probability: number;
  /** Entropy of the class probabilities over log(classes): 0 certain, 1 uniform. */
  entropy: number;
}

/**
 * The predicted class, its probability and the normalized entropy of a row of logits.
 * @param logits the logits
 * @returns the class summary
 */
export function classOf(logits: ArrayLike<number>): ClassInfo {
  const p = softmax(logits);
  let predicted = 0, entropy = 0;
  p.forEach((v, i) => {
    if (v > p[predicted]) predicted = i;
    if (v > 0) entropy -= v * Math.log(v);
  });
  return { predicted, probability: p[predicted], entropy: entropy / Math.log(p.length) };
}
