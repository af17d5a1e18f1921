/**
 * Identification when the membrane potentials are recorded too: the recursion of `network.ts`
 * is then a linear system in the weights and biases,
 * U[t] - a[t] U[t-1] - r[t] = w.f[t] + b for every step, solved by least squares (Householder
 * QR of the feature matrix, shared by all neurons). Exact potentials give the weights to
 * rounding (`docs/identify.md`, "Potentials observed").
 *
 * @example
 * ```ts
 * import { fitPotentials } from "./potentials.ts";
 * import { simulateTrial } from "./simulate.ts";
 * import { randomNetwork, recordNetwork } from "./synthetic.ts";
 * const truth = randomNetwork({ neurons: 2, inputs: 4, recurrent: false, seed: 1 });
 * const rec = recordNetwork(truth, { trials: 1, steps: 60, rate: 0.3 });
 * const u = rec.trials.map((t) => simulateTrial(truth, t.steps, t.inputs).potentials);
 * const fit = fitPotentials(rec, truth.model, u);
 * if (Math.abs(fit.network.weights[0] - truth.weights[0]) > 1e-9) throw new Error();
 * ```
 * @module
 */

import { householderQ } from "../optim/_linalg.ts";
import { buildFeatures } from "./_lp.ts";
import { featureCount, type NeuronModel, type Recording, recursion } from "./network.ts";
import type { Network } from "./simulate.ts";
import { RecordingError } from "./recording.ts";

/** What {@link fitPotentials} returns. */
export interface PotentialFit {
  /** The identified network (weights of never-active features are 0). */
  network: Network;
  /** Root-mean-square residual of each neuron's equations (0 for exact potentials). */
  residual: Float64Array;
  /** Features never active in the recording: their weights are set to 0. */
  inactiveFeatures: number[];
}

/**
 * Solves for every neuron's weights and bias from recorded potentials.
 * @param rec the recording (spikes and inputs)
 * @param model the neuron model
 * @param potentials one array per trial, T x N, the potentials U[t] before the spike test
 * @returns the network and the residuals
 * @throws {RecordingError} if shapes disagree or the features are linearly dependent
 */
export function fitPotentials(
  rec: Recording,
  model: NeuronModel,
  potentials: Float64Array[],
): PotentialFit {
  const n = rec.neurons, k = featureCount(model, rec.inputs, n, rec.recurrent);
  rec.trials.forEach((t, r) => {
    if (potentials[r]?.length !== t.steps * n) {
      throw new RecordingError(
        `potentials of trial ${r}: ${potentials[r]?.length ?? 0} values, expected ` +
          `${t.steps} steps x ${n} neurons`,
      );
    }
  });
  const fm = buildFeatures(model, rec, k);
  const cols = [...fm.active.keys()].filter((c) => fm.active[c]);
  const p = cols.length + 1, rows = fm.steps; // + bias
  if (rows < p) {
    throw new RecordingError(
      `${rows} steps cannot determine ${p} unknowns per neuron; record at least ${p} steps`,
    );
  }
  const a = new Float64Array(rows * p), slot = new Int32Array(k).fill(-1);
  cols.forEach((c, q) => slot[c] = q);
  for (let g = 0; g < rows; g++) {
    for (let q = fm.starts[g]; q < fm.starts[g + 1]; q++) {
      a[g * p + slot[fm.index[q]]] = fm.value[q];
    }
    a[g * p + p - 1] = 1;
  }
  const qm = householderQ(a, rows, p);
  const r = new Float64Array(p * p); // R = Q^T A, upper triangular
  for (let i = 0; i < p; i++) {
    for (let j = i; j < p; j++) {
      let s = 0;
      for (let g = 0; g < rows; g++) s += qm[g * p + i] * a[g * p + j];
      r[i * p + j] = s;
    }
  }
  const diag = Math.max(...Array.from({ length: p }, (_, i) => Math.abs(r[i * p + i])));
  for (let i = 0; i < p; i++) {
    if (Math.abs(r[i * p + i]) <= 1e-10 * diag) {
      throw new RecordingError(
        "the recorded inputs are linearly dependent (some inputs always fire together): " +
          "their weights cannot be told apart; record more varied inputs",
      );
    }
  }
  const weights = new Float64Array(n * k), biases = new Float64Array(n);
  const residual = new Float64Array(n);
  const y = new Float64Array(rows), x = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    let g = 0;
    rec.trials.forEach((trial, tr) => {
      const u = potentials[tr];
      for (let t = 0; t < trial.steps; t++, g++) {
        const before = t > 0 && trial.spikes[(t - 1) * n + i] === 1;
        const { leakTerm, resetTerm } = recursion(model, before);
        y[g] = u[t * n + i] - (t > 0 ? leakTerm * u[(t - 1) * n + i] : 0) - resetTerm;
      }
    });
    for (let j = p - 1; j >= 0; j--) { // back-substitution of R x = Q^T y
      let s = 0;
      for (let gg = 0; gg < rows; gg++) s += qm[gg * p + j] * y[gg];
      for (let c = j + 1; c < p; c++) s -= r[j * p + c] * x[c];
      x[j] = s / r[j * p + j];
    }
    cols.forEach((c, q) => weights[i * k + c] = x[q]);
    biases[i] = x[p - 1];
    let ss = 0;
    for (let gg = 0; gg < rows; gg++) {
      let v = x[p - 1];
      for (let q = fm.starts[gg]; q < fm.starts[gg + 1]; q++) {
        v += x[slot[fm.index[q]]] * fm.value[q];
      }
      ss += (y[gg] - v) ** 2;
    }
    residual[i] = Math.sqrt(ss / rows);
  }
  return {
    network: { model, inputs: rec.inputs, neurons: n, recurrent: rec.recurrent, weights, biases },
    residual,
    inactiveFeatures: [...fm.active.keys()].filter((c) => !fm.active[c]),
  };
}
