// The linear programs of one neuron (docs/identify.md, "The linear program"), built as sparse
// CSR matrices and solved by HiGHS.
//
// Phase 1 (scale-free margin): columns w (K), b, theta', m, U[g] per step, a_k >= |w_k| (K).
// Rows per step g: the recursion U[g] - leakTerm U[g-1] - w.f[g] - b + rho[g] theta' = 0 (rho = 1
// after a spike under reset by subtraction), and the threshold row U[g] - theta' - m >= 0 where
// the neuron spiked, U[g] - theta' + m <= 0 where it did not; then a_k -/+ w_k >= 0 and the
// normalization sum a_k <= 1. Maximize m; the answer is rescaled to theta' = theta.
//
// Phase 2 (only when phase 1's margin is not positive): theta' = theta and m = tol fixed, one
// slack s[g] >= 0 per threshold row, minimize sum s: the steps with s > 0 are the unmet ones.
import type { Highs, ModelData } from "highs";
import { fillFeatures, type NeuronModel, type Recording, recursion } from "./network.ts";

// Bounds on theta' and |b| in phase 1 (the weights' L1 norm is at most 1): reached only by a
// neuron whose spikes need no weights (never fires, or fires by its bias alone).
const CAP = 1e4;

/** The features of every step of a recording, sparse (CSR), steps of all trials in order. */
export interface FeatureMatrix {
  /** Total steps (rows). */
  steps: number;
  /** Features per step K. */
  k: number;
  /** Row starts into index/value (length steps + 1). */
  starts: Int32Array;
  /** Feature indices of the nonzeros. */
  index: Int32Array;
  /** Values of the nonzeros. */
  value: Float64Array;
  /** Whether step g is the first of its trial (the potential starts from rest). */
  first: Uint8Array;
  /** Whether feature k is nonzero in some step (else its weight is not identifiable). */
  active: Uint8Array;
}

/** Builds the sparse features of a recording (recurrent features from the recorded spikes). */
export function buildFeatures(model: NeuronModel, rec: Recording, k: number): FeatureMatrix {
  const steps = rec.trials.reduce((s, t) => s + t.steps, 0);
  const starts = new Int32Array(steps + 1), first = new Uint8Array(steps);
  const active = new Uint8Array(k), f = new Float64Array(k);
  const index: number[] = [], value: number[] = [];
  let g = 0;
  for (const trial of rec.trials) {
    for (let t = 0; t < trial.steps; t++, g++) {
      fillFeatures(model, rec, trial.inputs, trial.spikes, t, f);
      for (let c = 0; c < k; c++) {
        if (f[c] === 0) continue;
        index.push(c);
        value.push(f[c]);
        active[c] = 1;
      }
      starts[g + 1] = index.length;
      first[g] = t === 0 ? 1 : 0;
    }
  }
  return {
    steps,
    k,
    starts,
    index: Int32Array.from(index),
    value: Float64Array.from(value),
    first,
    active,
  };
}

/** One neuron's solution. */
export interface LpResult {
  /** Weights, K (0 for features never active). */
  weights: Float64Array;
  /** Bias. */
  bias: number;
  /**
   * Phase 1's margin in units of the threshold's potential: every recorded step clears the
   * threshold by at least margin x theta. Not positive: the spikes cannot be reproduced.
   */
  margin: number;
  /** Global steps whose inequality could not be met (phase 2), empty when margin > tol. */
  unmet: number[];
}

/** Thrown when HiGHS does not reach an optimum (a numerical failure, not infeasibility). */
export class SolverError extends Error {
  /** @param message what happened */
  constructor(message: string) {
    super(message);
    this.name = "SolverError";
  }
}

function solve(hs: Highs, data: ModelData): Float64Array | null {
  const lp = hs.createModel(data);
  try {
    lp.options.set({ output_flag: false });
    lp.run();
    const status = lp.getModelStatus(), codes = hs.constants.modelStatus;
    if (status === codes.infeasible) return null;
    if (status !== codes.optimal) {
      throw new SolverError(`HiGHS stopped with model status ${status}, not an optimum`);
    }
    return lp.getSolution().colValue;
  } finally {
    lp.dispose();
  }
}

/** Sparse rows being assembled. */
class Rows {
  starts: number[] = [0];
  index: number[] = [];
  value: number[] = [];
  lower: number[] = [];
  upper: number[] = [];
  /** Adds a coefficient to the current row. */
  put(c: number, v: number) {
    this.index.push(c);
    this.value.push(v);
  }
  /** Closes the current row with its bounds. */
  end(lo: number, hi: number) {
    this.lower.push(lo);
    this.upper.push(hi);
    this.starts.push(this.index.length);
  }
}

function program(
  hs: Highs,
  model: NeuronModel,
  fm: FeatureMatrix,
  spikes: Uint8Array,
  phase2: boolean,
  marginTol: number,
): { x: Float64Array | null; k: number; iT: number; iS: number } {
  const { steps, k } = fm;
  const iN = k, iB = 2 * k, iT = iB + 1, iV = iT + 1, iS = iV + steps;
  const numCols = iS + (phase2 ? steps : 0);
  const inf = hs.infinity, theta = model.threshold;
  const colCost = new Float64Array(numCols);
  const colLower = new Float64Array(numCols).fill(-inf),
    colUpper = new Float64Array(numCols)
      .fill(inf);
  for (let c = 0; c < k; c++) {
    colLower[c] = colLower[iN + c] = 0;
    if (!fm.active[c]) colUpper[c] = colUpper[iN + c] = 0;
    if (!phase2) colCost[c] = colCost[iN + c] = 1; // the weights' L1 norm
  }
  if (phase2) {
    colLower[iT] = colUpper[iT] = theta;
    for (let g = 0; g < steps; g++) {
      colLower[iS + g] = 0;
      colCost[iS + g] = 1;
    }
  } else {
    colLower[iT] = 0;
    colUpper[iT] = colUpper[iB] = CAP;
    colLower[iB] = -CAP;
    for (let g = 0; g < steps; g++) {
      if (spikes[g] === 1) colLower[iV + g] = 1;
      else colUpper[iV + g] = -1;
    }
  }
  const rows = new Rows();
  for (let g = 0; g < steps; g++) {
    // U[g] = V[g] + theta': V[g] - lt V[g-1] + (1 - lt - resetTerm / theta) theta' - w.f - b = 0
    const before = !fm.first[g] && spikes[g - 1] === 1;
    const { leakTerm, resetTerm } = recursion(model, before);
    const lt = fm.first[g] ? 0 : leakTerm;
    for (let q = fm.starts[g]; q < fm.starts[g + 1]; q++) {
      rows.put(fm.index[q], -fm.value[q]);
      rows.put(iN + fm.index[q], fm.value[q]);
    }
    rows.put(iB, -1);
    rows.put(iT, 1 - lt - resetTerm / theta);
    if (lt !== 0) rows.put(iV + g - 1, -lt);
    rows.put(iV + g, 1);
    rows.end(0, 0);
  }
  for (let g = 0; g < steps && phase2; g++) {
    // V + s >= tol theta where it spiked, V - s <= -tol theta where it did not
    const spiked = spikes[g] === 1;
    rows.put(iV + g, 1);
    rows.put(iS + g, spiked ? 1 : -1);
    if (spiked) rows.end(marginTol * theta, inf);
    else rows.end(-inf, -marginTol * theta);
  }
  const numRows = rows.lower.length;
  const x = solve(hs, {
    numCols,
    numRows,
    sense: hs.constants.objectiveSense.minimize,
    colCost,
    colLower,
    colUpper,
    rowLower: rows.lower,
    rowUpper: rows.upper,
    matrix: {
      format: "csr",
      numRows,
      numCols,
      starts: Int32Array.from(rows.starts),
      indices: Int32Array.from(rows.index),
      values: Float64Array.from(rows.value),
    },
  });
  return { x, k, iT, iS };
}

/**
 * Identifies one neuron: the weights of least L1 norm that clear the threshold by 1 at every
 * step, in units where the threshold is free (phase 1, the largest scale-free margin); if there
 * are none, the least total violation, which names the steps that cannot be met (phase 2).
 * @param hs the HiGHS runtime
 * @param model the neuron model
 * @param fm the recording's features
 * @param spikes the neuron's spikes, one per global step
 * @param marginTol the margin (in threshold units) asked of every step in phase 2
 * @returns weights, bias, margin and the unmet steps
 */
export function solveNeuron(
  hs: Highs,
  model: NeuronModel,
  fm: FeatureMatrix,
  spikes: Uint8Array,
  marginTol: number,
): LpResult {
  const weights = (x: Float64Array, scale: number) =>
    Float64Array.from({ length: fm.k }, (_, c) => (x[c] - x[fm.k + c]) * scale);
  const one = program(hs, model, fm, spikes, false, marginTol);
  // theta' = 0 (at the bound) only when no threshold is needed: a neuron firing at every step.
  if (one.x && one.x[one.iT] > 0) {
    const scale = model.threshold / one.x[one.iT];
    return {
      weights: weights(one.x, scale),
      bias: one.x[one.iT - 1] * scale,
      margin: 1 / one.x[one.iT],
      unmet: [],
    };
  }
  const two = program(hs, model, fm, spikes, true, marginTol);
  const x = two.x!; // always feasible: the slacks absorb any violation
  const unmet: number[] = [];
  for (let g = 0; g < fm.steps; g++) if (x[two.iS + g] > 1e-7) unmet.push(g);
  return {
    weights: weights(x, 1),
    bias: x[two.iT - 1],
    margin: unmet.length ? 0 : marginTol,
    unmet,
  };
}
