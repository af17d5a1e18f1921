/**
 * A Web Worker that identifies neurons (`identify.ts`): it receives the recording once, then
 * one neuron index per message, and posts each neuron's solution back.
 *
 * @module
 */
/// <reference lib="deno.worker" />

import { highs } from "./_highs.ts";
import { buildFeatures, type FeatureMatrix, solveNeuron } from "./_lp.ts";
import { featureCount, type NeuronModel, type Recording } from "./network.ts";

/** The first message: the problem. */
export interface WorkerSetup {
  model: NeuronModel;
  recording: Recording;
  marginTol: number;
}

let setup: WorkerSetup | null = null;
let features: FeatureMatrix | null = null;

self.onmessage = async (e: MessageEvent<WorkerSetup | number>) => {
  try {
    if (typeof e.data !== "number") {
      setup = e.data;
      const { model, recording: rec } = setup;
      features = buildFeatures(
        model,
        rec,
        featureCount(model, rec.inputs, rec.neurons, rec.recurrent),
      );
      self.postMessage({ ready: true });
      return;
    }
    const i = e.data, { model, recording: rec, marginTol } = setup!;
    const spikes = new Uint8Array(features!.steps);
    let g = 0;
    for (const trial of rec.trials) {
      for (let t = 0; t < trial.steps; t++) spikes[g++] = trial.spikes[t * rec.neurons + i];
    }
    const result = solveNeuron(await highs(), model, features!, spikes, marginTol);
    self.postMessage({ neuron: i, result });
  } catch (err) {
    self.postMessage({
      error: { name: (err as Error).name, message: (err as Error).message ?? String(err) },
    });
  }
};
