/**
 * Back-engineering spiking networks: the weights and biases of discrete-time integrate-and-fire
 * neurons from their recorded spikes (a linear program per neuron, `identify`), or from their
 * recorded potentials (a linear system, `fitPotentials`), with the simulator that checks the
 * result on held-out trials and synthetic ground truth (`docs/identify.md`).
 *
 * @example
 * ```ts
 * import { agreement, identify, randomNetwork, recordNetwork } from "./mod.ts";
 * const truth = randomNetwork({ neurons: 3, inputs: 6, seed: 1 });
 * const rec = recordNetwork(truth, { trials: 3, steps: 150, rate: 0.2 });
 * const { network } = await identify(rec, truth.model, { workers: 1 });
 * const a = agreement(network, rec);
 * if (a.spikesReproduced !== a.spikes || a.silencesReproduced !== a.silences) throw new Error();
 * ```
 * @module
 */

export * from "./network.ts";
export * from "./simulate.ts";
export * from "./identify.ts";
export * from "./potentials.ts";
export * from "./recording.ts";
export * from "./compare.ts";
export * from "./synthetic.ts";
