/**
 * Identifies the weights and biases of recorded integrate-and-fire neurons from their spikes
 * by linear programming (`docs/identify.md`): one linear program per neuron, solved by HiGHS
 * (WebAssembly) in parallel workers.
 *
 * @example
 * ```ts
 * import { identify } from "./identify.ts";
 * import { randomNetwork, recordNetwork } from "./synthetic.ts";
 * const truth = randomNetwork({ neurons: 2, inputs: 5, recurrent: false, seed: 3 });
 * const rec = recordNetwork(truth, { trials: 2, steps: 100, rate: 0.2 });
 * const { neurons } = await identify(rec, truth.model, { workers: 1 });
 * if (neurons.some((r) => !(r.margin > 0))) throw new Error("not reproduced");
 * ```
 * @module
 */

import { buildFeatures, type LpResult } from "./_lp.ts";
import type { WorkerSetup } from "./_worker.ts";
import { featureCount, type NeuronModel, type Recording } from "./network.ts";
import type { Network } from "./simulate.ts";

/** Options of {@link identify}. */
export interface IdentifyOptions {
  /** Parallel workers (default: the machine's cores, at most the number of neurons). */
  workers?: number;
  /** Margin (in threshold units) asked of every step when naming unmet steps (default 1e-6). */
  marginTol?: number;
  /** Called as each neuron is done. */
  onNeuron?: (neuron: number, done: number) => void;
}

/** A step of a recording. */
export interface Step {
  trial: number;
  step: number;
}

/** One identified neuron. */
export interface NeuronFit {
  /**
   * The margin in threshold units: every recorded step clears the threshold by at least
   * margin x threshold. 0 when some steps cannot be met.
   */
  margin: number;
  /** The steps whose spike (or silence) no weights reproduce; empty when all are met. */
  unmet: Step[];
  /** Steps whose inequality the final program held (the others held without being imposed). */
  rows: number;
}

/** What {@link identify} returns. */
export interface Identification {
  /** The identified network (weights N x K, biases). */
  network: Network;
  /** Per neuron: margin and unmet steps. */
  neurons: NeuronFit[];
  /** Features (input, delay pairs) never active in the recording: their weights are set to 0. */
  inactiveFeatures: number[];
}

interface WorkerReply {
  ready?: boolean;
  neuron?: number;
  result?: LpResult;
  error?: { name: string; message: string };
}

/**
 * Identifies every recorded neuron.
 * @param rec the recording (trials from rest)
 * @param model the neuron model
 * @param options workers, tolerance, progress callback
 * @returns the identified network and each neuron's margin and unmet steps
 */
export async function identify(
  rec: Recording,
  model: NeuronModel,
  options: IdentifyOptions = {},
): Promise<Identification> {
  const n = rec.neurons, k = featureCount(model, rec.inputs, n, rec.recurrent);
  const cores = navigator.hardwareConcurrency || 1;
  const count = Math.max(1, Math.min(options.workers ?? cores, n));
  const setup: WorkerSetup = { model, recording: rec, marginTol: options.marginTol ?? 1e-6 };
  const results: LpResult[] = new Array(n);
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let next = 0, done = 0;
      const give = (w: Worker) => {
        if (next < n) w.postMessage(next++);
      };
      for (let q = 0; q < count; q++) {
        const w = new Worker(new URL("./_worker.ts", import.meta.url), { type: "module" });
        workers.push(w);
        w.onerror = (e) => {
          e.preventDefault();
          const err = new Error(`identification worker failed: ${e.message}`);
          // a worker that cannot load its module lacks a permission (read access to it)
          if (/Requires .* access/.test(e.message)) err.name = "NotCapable";
          reject(err);
        };
        w.onmessage = (e: MessageEvent<WorkerReply>) => {
          const r = e.data;
          if (r.error) {
            const err = new Error(r.error.message);
            err.name = r.error.name;
            return reject(err);
          }
          if (r.result !== undefined) {
            results[r.neuron!] = r.result;
            done++;
            options.onNeuron?.(r.neuron!, done);
            if (done === n) return resolve();
          }
          give(w);
        };
        w.postMessage(setup);
      }
    });
  } finally {
    for (const w of workers) w.terminate();
  }
  const weights = new Float64Array(n * k), biases = new Float64Array(n);
  results.forEach((r, i) => {
    weights.set(r.weights, i * k);
    biases[i] = r.bias;
  });
  const where: Step[] = rec.trials.flatMap((t, trial) =>
    Array.from({ length: t.steps }, (_, step) => ({ trial, step }))
  );
  const { active } = buildFeatures(model, rec, k);
  return {
    network: { model, inputs: rec.inputs, neurons: n, recurrent: rec.recurrent, weights, biases },
    neurons: results.map((r) => ({
      margin: r.margin,
      unmet: r.unmet.map((g) => where[g]),
      rows: r.rows,
    })),
    inactiveFeatures: [...active.keys()].filter((c) => !active[c]),
  };
}
