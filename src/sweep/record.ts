/**
 * One line of a sweep's records.jsonl: everything about one finished search, with its fields in
 * a fixed order so that the same search gives the same bytes (apart from `wall_seconds`).
 *
 * @example
 * ```ts
 * import { curve, reached } from "./record.ts";
 * const history: [number, number][] = [[1, 0.2], [150, 0.5], [900, 1]];
 * if (JSON.stringify(reached(history)) !== '{"50":150,"90":900,"100":900}') throw new Error();
 * if (JSON.stringify(curve(history, 1000)) !== "[[100,0.2],[200,0.5],[500,0.5],[1000,1]]") throw new Error();
 * ```
 * @module
 */

import { classOf, softmax } from "../models/classes.ts";

/** A record (see the README's sweep section for each field). */
export interface SweepRecord {
  key: string;
  target: string;
  arch: string;
  epoch: number | null;
  layer: string;
  neuron: number;
  method: string;
  seed: number;
  noise: number;
  budget: number;
  evaluations: number;
  best_index: number[];
  latent: number[];
  activation: number;
  clean_activation: number;
  class_probs: number[] | null;
  predicted_class: number | null;
  class_probability: number | null;
  class_entropy: number | null;
  reached: Record<string, number | null>;
  curve: [number, number][];
  history: [number, number][];
  image: string;
  image_sha256: string;
  wall_seconds: number;
}

/**
 * The first evaluation count at which the best so far reached 50%, 90% and 100% of the final
 * value (null when it never did, as for a negative final value below its fractions).
 * @param history every improvement as [evaluations, best], the last being the final value
 * @returns the counts by percentage
 */
export function reached(history: [number, number][]): Record<string, number | null> {
  const final = history[history.length - 1][1];
  const at = (p: number) => history.find(([, v]) => v >= p * final)?.[0] ?? null;
  return { "50": at(0.5), "90": at(0.9), "100": at(1) };
}

/**
 * The best so far at 100, 200, 500, 1000, 2000, 5000, 10000, ... evaluations up to the budget,
 * and at the budget.
 * @param history every improvement as [evaluations, best]
 * @param budget the search's budget
 * @returns [evaluations, best] pairs (points before the first evaluation are left out)
 */
export function curve(history: [number, number][], budget: number): [number, number][] {
  const marks: number[] = [];
  for (let scale = 100; scale < budget; scale *= 10) {
    for (const m of [1, 2, 5]) if (m * scale < budget) marks.push(m * scale);
  }
  marks.push(budget);
  const out: [number, number][] = [];
  for (const m of marks) {
    const last = history.filter(([e]) => e <= m).at(-1);
    if (last) out.push([m, last[1]]);
  }
  return out;
}

/**
 * The class fields of a record from the target's logits on the MEI (`src/models/classes.ts`).
 * @param logits the logits, or null for a target without logits
 * @returns the softmax of the logits, the predicted class, its probability and the entropy over
 *   log(classes)
 */
export function classFields(logits: ArrayLike<number> | null): {
  class_probs: number[] | null;
  predicted_class: number | null;
  class_probability: number | null;
  class_entropy: number | null;
} {
  if (!logits) {
    return {
      class_probs: null,
      predicted_class: null,
      class_probability: null,
      class_entropy: null,
    };
  }
  const c = classOf(logits);
  return {
    class_probs: Array.from(softmax(logits)),
    predicted_class: c.predicted,
    class_probability: c.probability,
    class_entropy: c.entropy,
  };
}
