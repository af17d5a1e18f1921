/**
 * Synthetic ground truth for identification: a random integrate-and-fire network with known
 * weights, driven by Poisson (Bernoulli per step) input spikes, and its recorded spikes.
 *
 * @example
 * ```ts
 * import { randomNetwork, recordNetwork } from "./synthetic.ts";
 * const net = randomNetwork({ neurons: 5, inputs: 10, seed: 1 });
 * const rec = recordNetwork(net, { trials: 2, steps: 50, rate: 0.1, seed: 2 });
 * if (rec.trials.length !== 2 || rec.trials[0].spikes.length !== 250) throw new Error();
 * ```
 * @module
 */

import { Rng } from "../core/rng.ts";
import { featureCount, LIF_MODEL, type NeuronModel, type Recording } from "./network.ts";
import { type Network, simulateTrial } from "./simulate.ts";

/** Options of {@link randomNetwork}. */
export interface RandomNetworkOptions {
  /** Neurons N. */
  neurons: number;
  /** External inputs M. */
  inputs: number;
  /** Neuron model (default the LIF). */
  model?: NeuronModel;
  /** Neurons feed each other one step later (default true); no neuron feeds itself. */
  recurrent?: boolean;
  /** Input weights ~ N(inputMean, inputStd^2) (defaults 0.03 and 0.15). */
  inputMean?: number;
  inputStd?: number;
  /** Recurrent weights ~ N(0, (recurrentStd / sqrt N)^2) (default 0.5). */
  recurrentStd?: number;
  /** Biases ~ U(-biasRange, biasRange) (default 0.05). */
  biasRange?: number;
  /** Seed (default 0). */
  seed?: number;
}

function normal(rng: Rng): number {
  const u = 1 - rng.uniform(), v = rng.uniform();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * Draws a random network (weights of every delay drawn alike).
 * @param o sizes, scales and seed
 * @returns the network
 */
export function randomNetwork(o: RandomNetworkOptions): Network {
  const model = o.model ?? LIF_MODEL, recurrent = o.recurrent ?? true;
  const n = o.neurons, m = o.inputs, nd = model.maxDelay + 1;
  const k = featureCount(model, m, n, recurrent);
  const rng = new Rng(o.seed ?? 0);
  const weights = new Float64Array(n * k), biases = new Float64Array(n);
  const inMean = o.inputMean ?? 0.03, inStd = o.inputStd ?? 0.15;
  const recStd = (o.recurrentStd ?? 0.5) / Math.sqrt(n), biasRange = o.biasRange ?? 0.05;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k / nd; j++) {
      for (let d = 0; d < nd; d++) {
        const own = j === m + i;
        weights[i * k + j * nd + d] = j < m
          ? (inMean + inStd * normal(rng)) / nd
          : own
          ? 0
          : recStd * normal(rng) / nd;
      }
    }
    biases[i] = biasRange * (2 * rng.uniform() - 1);
  }
  return { model, inputs: m, neurons: n, recurrent, weights, biases };
}

/** Options of {@link recordNetwork}. */
export interface RecordOptions {
  /** Trials, each from rest. */
  trials: number;
  /** Steps per trial. */
  steps: number;
  /** Probability of an input spike per input and step. */
  rate: number;
  /** Seed of the input spikes (default 0). */
  seed?: number;
}

/**
 * Drives a network with independent Bernoulli input spikes and records its spikes.
 * @param net the network
 * @param o trials, steps, input rate, seed
 * @returns the recording
 */
export function recordNetwork(net: Network, o: RecordOptions): Recording {
  const rng = new Rng(o.seed ?? 0);
  const trials = [];
  for (let r = 0; r < o.trials; r++) {
    const inputs = new Float64Array(o.steps * net.inputs);
    for (let q = 0; q < inputs.length; q++) inputs[q] = rng.uniform() < o.rate ? 1 : 0;
    trials.push({ steps: o.steps, inputs, spikes: simulateTrial(net, o.steps, inputs).spikes });
  }
  return { neurons: net.neurons, inputs: net.inputs, recurrent: net.recurrent, trials };
}
