/**
 * Forward simulation of an integrate-and-fire network (`network.ts`) and the agreement between
 * simulated and recorded spikes, for the held-out check of an identified network and for
 * synthetic ground truth.
 *
 * @example
 * ```ts
 * import { simulateTrial } from "./simulate.ts";
 * import { LIF_MODEL } from "./network.ts";
 * // one neuron, one input of weight 0.6: U = 0.6, 1.14 (spike), 0.626, ...
 * const net = { model: LIF_MODEL, inputs: 1, neurons: 1, recurrent: false,
 *   weights: Float64Array.of(0.6), biases: Float64Array.of(0) };
 * const { spikes } = simulateTrial(net, 3, Float64Array.of(1, 1, 1));
 * if (spikes.join() !== "0,1,0") throw new Error();
 * ```
 * @module
 */

import {
  featureCount,
  fillFeatures,
  type NeuronModel,
  type Recording,
  recursion,
} from "./network.ts";

/** A network with its parameters. */
export interface Network {
  /** The neuron model. */
  model: NeuronModel;
  /** External inputs M. */
  inputs: number;
  /** Neurons N. */
  neurons: number;
  /** Whether the neurons feed each other (one step later). */
  recurrent: boolean;
  /** Weights, N x K row-major (K = featureCount). */
  weights: Float64Array;
  /** Biases, N. */
  biases: Float64Array;
}

/** What {@link simulateTrial} returns. */
export interface SimulatedTrial {
  /** Spikes, T x N. */
  spikes: Uint8Array;
  /** Membrane potentials U[t] (before the spike test), T x N. */
  potentials: Float64Array;
}

/**
 * Simulates one trial from rest.
 * @param net the network
 * @param steps number of steps T
 * @param inputs external inputs, T x M
 * @param recorded with recorded spikes (T x N), a recurrent network is driven by them instead
 *   of by its own spikes ("forced": each neuron predicted from the recorded past); each neuron
 *   still resets on its own simulated spikes
 * @returns the simulated spikes and potentials
 */
export function simulateTrial(
  net: Network,
  steps: number,
  inputs: Float64Array,
  recorded?: Uint8Array,
): SimulatedTrial {
  const { model, neurons: n } = net;
  const k = featureCount(model, net.inputs, n, net.recurrent);
  const spikes = new Uint8Array(steps * n), potentials = new Float64Array(steps * n);
  const f = new Float64Array(k), u = new Float64Array(n);
  const source = recorded ?? spikes;
  for (let t = 0; t < steps; t++) {
    fillFeatures(model, net, inputs, source, t, f);
    for (let i = 0; i < n; i++) {
      const before = t > 0 && spikes[(t - 1) * n + i] === 1;
      const { leakTerm, resetTerm } = recursion(model, before);
      let v = leakTerm * u[i] + net.biases[i] + resetTerm;
      const row = i * k;
      for (let c = 0; c < k; c++) v += net.weights[row + c] * f[c];
      u[i] = v;
      potentials[t * n + i] = v;
      spikes[t * n + i] = v >= model.threshold ? 1 : 0;
    }
  }
  return { spikes, potentials };
}

/** Agreement of simulated with recorded spikes. */
export interface Agreement {
  /** Recorded spikes (neuron-steps with a spike). */
  spikes: number;
  /** Recorded silences. */
  silences: number;
  /** Recorded spikes that the simulation also fires. */
  spikesReproduced: number;
  /** Recorded silences where the simulation is silent too. */
  silencesReproduced: number;
  /** Trials reproduced exactly (every neuron, every step). */
  trialsExact: number;
  /** Trials compared. */
  trials: number;
}

/**
 * Simulates a network on trials and counts the spikes and silences it reproduces.
 * @param net the network
 * @param rec the recording (its trials' inputs drive the network)
 * @param forced drive a recurrent network by the recorded spikes (see {@link simulateTrial})
 * @param neuronIndex restrict the count to these recorded neurons (default all)
 * @returns the counts
 */
export function agreement(
  net: Network,
  rec: Recording,
  forced = false,
  neuronIndex?: readonly number[],
): Agreement {
  const a: Agreement = {
    spikes: 0,
    silences: 0,
    spikesReproduced: 0,
    silencesReproduced: 0,
    trialsExact: 0,
    trials: rec.trials.length,
  };
  const n = rec.neurons;
  const which = neuronIndex ?? Array.from({ length: n }, (_, i) => i);
  for (const trial of rec.trials) {
    const sim =
      simulateTrial(net, trial.steps, trial.inputs, forced ? trial.spikes : undefined).spikes;
    let exact = true;
    for (let t = 0; t < trial.steps; t++) {
      for (const i of which) {
        const want = trial.spikes[t * n + i], got = sim[t * n + i];
        if (want) {
          a.spikes++;
          if (got) a.spikesReproduced++;
        } else {
          a.silences++;
          if (!got) a.silencesReproduced++;
        }
        if (want !== got) exact = false;
      }
    }
    if (exact) a.trialsExact++;
  }
  return a;
}
