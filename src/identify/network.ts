/**
 * The discrete-time integrate-and-fire networks that `src/identify/` identifies: the neuron
 * model (the project's LIF, or the generalized integrate-and-fire of Cessac and Vieville with
 * reset to zero and synaptic delays), recordings made of trials that each start from rest, and
 * the presynaptic "features" every weight multiplies (`docs/identify.md`, "The model").
 *
 * Neuron i of a network with weights w_ik and bias b_i follows, in every trial, from U_i[-1] = 0:
 *
 *   U_i[t] = a_i[t] U_i[t-1] + sum_k w_ik f_k[t] + b_i + r_i[t],   S_i[t] = [U_i[t] >= theta]
 *
 * with a_i[t] = leak and r_i[t] = -theta S_i[t-1] for reset by subtraction, or
 * a_i[t] = leak (1 - S_i[t-1]) and r_i[t] = 0 for reset to zero. Feature k is one
 * (source, delay) pair: external input j delayed by d in 0..maxDelay (x_j[t-d]), and, for a
 * recurrent network, recorded neuron j's spike delayed by d + 1 (S_j[t-1-d]); values before
 * the trial's start are 0.
 *
 * @example
 * ```ts
 * import { featureCount, LIF_MODEL } from "./network.ts";
 * // 3 external inputs and 2 recurrent neurons, delays 0 and 1: (3 + 2) x 2 features
 * if (featureCount({ ...LIF_MODEL, maxDelay: 1 }, 3, 2, true) !== 10) throw new Error();
 * ```
 * @module
 */

/** A neuron model (shared by all neurons of a network). */
export interface NeuronModel {
  /** Leak factor per step (the potential is multiplied by it), in [0, 1]. */
  leak: number;
  /** Firing threshold (spike iff U >= threshold), > 0. */
  threshold: number;
  /** After a spike: subtract the threshold (LIF) or set the potential to zero (GIF). */
  reset: "subtract" | "zero";
  /** Largest synaptic delay D in steps (0: an input acts in the step it arrives). */
  maxDelay: number;
}

/** The LIF of the shipped networks: leak 0.9, threshold 1, reset by subtraction, no delays. */
export const LIF_MODEL: NeuronModel = { leak: 0.9, threshold: 1, reset: "subtract", maxDelay: 0 };

/** One trial: every array row-major, time first; the network starts from rest. */
export interface Trial {
  /** Number of time steps T. */
  steps: number;
  /** Spikes of the N recorded neurons, T x N, 0 or 1. */
  spikes: Uint8Array;
  /** External inputs (spikes or currents), T x M. */
  inputs: Float64Array;
}

/** A recording: trials of the same neurons and inputs. */
export interface Recording {
  /** Number of recorded neurons N. */
  neurons: number;
  /** Number of external inputs M. */
  inputs: number;
  /** Whether the recorded neurons are also inputs of each other (one step later). */
  recurrent: boolean;
  /** The trials. */
  trials: Trial[];
}

/**
 * Number of weights per neuron.
 * @param model the neuron model (its `maxDelay`)
 * @param inputs external inputs M
 * @param neurons recorded neurons N
 * @param recurrent whether the neurons feed each other
 * @returns (M + N if recurrent) x (maxDelay + 1)
 */
export function featureCount(
  model: NeuronModel,
  inputs: number,
  neurons: number,
  recurrent: boolean,
): number {
  return (inputs + (recurrent ? neurons : 0)) * (model.maxDelay + 1);
}

/**
 * The feature vector f[t] of one step (see the module doc): feature index
 * `source * (maxDelay + 1) + d`, sources being the M inputs, then the N neurons if recurrent.
 * @param model the neuron model
 * @param rec shapes of the recording (`inputs`, `neurons`, `recurrent`)
 * @param inputs the trial's inputs, T x M
 * @param spikes the trial's spikes, T x N (read only before step t)
 * @param t the step
 * @param out receives the features (length {@link featureCount})
 */
export function fillFeatures(
  model: NeuronModel,
  rec: Pick<Recording, "inputs" | "neurons" | "recurrent">,
  inputs: Float64Array,
  spikes: Uint8Array,
  t: number,
  out: Float64Array,
): void {
  const nd = model.maxDelay + 1, m = rec.inputs, n = rec.neurons;
  for (let d = 0; d < nd; d++) {
    const s = t - d;
    for (let j = 0; j < m; j++) out[j * nd + d] = s >= 0 ? inputs[s * m + j] : 0;
    if (!rec.recurrent) continue;
    for (let j = 0; j < n; j++) out[(m + j) * nd + d] = s >= 1 ? spikes[(s - 1) * n + j] : 0;
  }
}

/**
 * The coefficients of the potential recursion at step t for one neuron:
 * U[t] = leakTerm U[t-1] + w.f[t] + b + resetTerm (see the module doc).
 * @param model the neuron model
 * @param spikedBefore whether the neuron spiked at t - 1 (false at t = 0)
 * @returns the factor of U[t-1] and the constant added
 */
export function recursion(
  model: NeuronModel,
  spikedBefore: boolean,
): { leakTerm: number; resetTerm: number } {
  if (model.reset === "subtract") {
    return { leakTerm: model.leak, resetTerm: spikedBefore ? -model.threshold : 0 };
  }
  return { leakTerm: spikedBefore ? 0 : model.leak, resetTerm: 0 };
}
