/**
 * Class selectivity of neurons across training (docs/study.md, "Analyses"): per neuron and
 * checkpoint, whether its MEI is strong (activation criterion) and which class, if any, meets
 * the composite criterion (activation, confidence and stability over the tensor-train methods);
 * then each neuron's label over the checkpoints: non-selective, stable or labile.
 *
 * @example
 * ```ts
 * import { neuronLabel } from "./selectivity.ts";
 * if (neuronLabel([null, 3, 3]) !== "stable" || neuronLabel([2, null, 5]) !== "labile") {
 *   throw new Error();
 * }
 * ```
 * @module
 */

import type { SweepRecord } from "./sweep.ts";
import { normalizedEntropy } from "./stats.ts";
import { groupBy } from "./_group.ts";

/** The activation criterion: MEI activation >= 0.75 of the maximum possible. */
export const STRONG = 0.75;
/** The confidence criterion: the predicted class's probability >= 0.75. */
export const CONFIDENT = 0.75;

/** A neuron's label over the checkpoints. */
export type Label = "non-selective" | "stable" | "labile";

/**
 * Whether a method is a tensor-train method (the stability criterion compares their MEIs):
 * the presets `tt`, `tt-*`, and `ttopt`, `protes`.
 * @param method a method name
 * @returns true for tensor-train methods
 * @example
 * ```ts
 * import { isTensorTrain } from "./selectivity.ts";
 * if (!isTensorTrain("tt-b") || isTensorTrain("portfolio")) throw new Error();
 * ```
 */
export function isTensorTrain(method: string): boolean {
  return method === "tt" || method.startsWith("tt-") || method === "ttopt" ||
    method === "protes";
}

/**
 * A checkpoint's name in reports: its epoch, or the target string for a non-shipped model.
 * @param r a record
 * @returns "8", or "my_net" for an .onnx file
 * @example
 * ```ts
 * import { checkpointOf } from "./selectivity.ts";
 * if (checkpointOf({ epoch: 4, target: "sresnet18@4" }) !== "4") throw new Error();
 * ```
 */
export function checkpointOf(r: Pick<SweepRecord, "epoch" | "target">): string {
  return r.epoch === null ? r.target : String(r.epoch);
}

/** The verdict on one neuron at one checkpoint. */
export interface CheckpointVerdict {
  checkpoint: string;
  epoch: number | null;
  /** The neuron's MEI activation: the highest clean activation over the methods. */
  activation: number;
  /** Activation criterion alone. */
  strong: boolean;
  /** The class meeting the composite criterion, else null. */
  selectiveClass: number | null;
  /** Mean normalized class entropy of the tensor-train MEIs (NaN without logits). */
  entropy: number;
}

/**
 * The verdict on one neuron at one checkpoint from its noise-free records (every method, every
 * seed). The composite criterion holds for class k when the highest MEI activation is at least
 * `STRONG * maxActivation`, and every tensor-train MEI is predicted as k with probability at
 * least `CONFIDENT`.
 * @param records the neuron's records at this checkpoint (noise 0)
 * @param maxActivation the largest activation possible (1 for firing rates)
 * @returns the verdict
 * @example
 * ```ts
 * import { checkpointVerdict } from "./selectivity.ts";
 * const r = (method: string, p: number[]) => ({
 *   method, epoch: 2, target: "x@2", clean_activation: 0.8, class_probs: p,
 * });
 * const v = checkpointVerdict([r("tt", [0.9, 0.1]), r("tt-b", [0.8, 0.2])], 1);
 * if (v.selectiveClass !== 0 || !v.strong) throw new Error();
 * ```
 */
export function checkpointVerdict(
  records: readonly Pick<
    SweepRecord,
    "method" | "epoch" | "target" | "clean_activation" | "class_probs"
  >[],
  maxActivation: number,
): CheckpointVerdict {
  const activation = Math.max(...records.map((r) => r.clean_activation));
  const strong = activation >= STRONG * maxActivation;
  const tt = records.filter((r) => isTensorTrain(r.method));
  const probs = tt.map((r) => r.class_probs).filter((p): p is number[] => p !== null);
  const classes = probs.map((p) => p.indexOf(Math.max(...p)));
  const agreed = probs.length > 0 && probs.length === tt.length &&
    classes.every((c) => c === classes[0]) &&
    probs.every((p, i) => p[classes[i]] >= CONFIDENT);
  const entropies = probs.map(normalizedEntropy);
  return {
    checkpoint: checkpointOf(records[0]),
    epoch: records[0].epoch,
    activation,
    strong,
    selectiveClass: strong && agreed ? classes[0] : null,
    entropy: entropies.length ? entropies.reduce((a, b) => a + b, 0) / entropies.length : NaN,
  };
}

/**
 * A neuron's label from its selective class at each checkpoint (in training order).
 * @param selective the class meeting the composite criterion per checkpoint, or null
 * @returns non-selective (never), stable (always the same class) or labile (different classes)
 * @example
 * ```ts
 * import { neuronLabel } from "./selectivity.ts";
 * if (neuronLabel([null, null]) !== "non-selective") throw new Error();
 * ```
 */
export function neuronLabel(selective: readonly (number | null)[]): Label {
  const classes = new Set(selective.filter((c) => c !== null));
  return classes.size === 0 ? "non-selective" : classes.size === 1 ? "stable" : "labile";
}

/** A neuron over the checkpoints. */
export interface NeuronSelectivity {
  arch: string;
  layer: string;
  neuron: number;
  /** One verdict per checkpoint, in training order. */
  checkpoints: CheckpointVerdict[];
  label: Label;
  /** The first epoch whose MEI is strong, else null. */
  firstStrongEpoch: number | null;
}

/** Training order of checkpoints: by epoch, non-shipped models last by name. */
export function compareCheckpoints(
  a: Pick<SweepRecord, "epoch" | "target">,
  b: Pick<SweepRecord, "epoch" | "target">,
): number {
  if (a.epoch !== null && b.epoch !== null) return a.epoch - b.epoch;
  if (a.epoch !== null) return -1;
  if (b.epoch !== null) return 1;
  return a.target < b.target ? -1 : a.target > b.target ? 1 : 0;
}

/**
 * Selectivity of every neuron in the records (noise-free records only).
 * @param records sweep records
 * @param maxActivation the largest activation possible in a layer: 1 for firing rates
 * @returns one entry per (arch, layer, neuron), in record order
 * @example
 * ```ts
 * import { selectivity } from "./selectivity.ts";
 * const rec = (epoch: number, p: number[]) => ({
 *   arch: "a", layer: "l", neuron: 0, method: "tt", seed: 0, noise: 0, epoch,
 *   target: `a@${epoch}`, clean_activation: 0.9, class_probs: p,
 * });
 * const [n] = selectivity([rec(0, [0.9, 0.1]), rec(1, [0.1, 0.9])], () => 1);
 * if (n.label !== "labile" || n.firstStrongEpoch !== 0) throw new Error();
 * ```
 */
export function selectivity(
  records: readonly Pick<
    SweepRecord,
    | "arch"
    | "layer"
    | "neuron"
    | "method"
    | "noise"
    | "epoch"
    | "target"
    | "clean_activation"
    | "class_probs"
  >[],
  maxActivation: (arch: string, layer: string) => number,
): NeuronSelectivity[] {
  const clean = records.filter((r) => r.noise === 0);
  const out: NeuronSelectivity[] = [];
  for (const group of groupBy(clean, (r) => `${r.arch}|${r.layer}|${r.neuron}`).values()) {
    const { arch, layer, neuron } = group[0];
    const byCheckpoint = [...groupBy(group, checkpointOf).values()]
      .sort((a, b) => compareCheckpoints(a[0], b[0]));
    const checkpoints = byCheckpoint.map((rs) => checkpointVerdict(rs, maxActivation(arch, layer)));
    out.push({
      arch,
      layer,
      neuron,
      checkpoints,
      label: neuronLabel(checkpoints.map((c) => c.selectiveClass)),
      firstStrongEpoch: checkpoints.find((c) => c.strong && c.epoch !== null)?.epoch ?? null,
    });
  }
  return out;
}
