// The linear programs of one neuron (docs/identify.md, "The linear program"), solved by HiGHS.
//
// Unrolling the recursion of network.ts over the recorded spikes, the potential at global step
// g is U[g] = A[g].w + B[g] b - R[g] theta, with A[g] = a[g] A[g-1] + f[g], B[g] = a[g] B[g-1]
// + 1, and R[g] = a[g] R[g-1] + rho[g] (rho = 1 after a spike under reset by subtraction; a[g]
// the leak term, 0 at a trial's start). Everything is homogeneous in (w, b, theta), so theta is
// made a variable theta' and the margin is measured against the weights' L1 norm:
//
// Phase 1: minimize sum |w_k| (w = w+ - w-) subject to V[g] = U[g] - theta' >= 1 where the
//   neuron spiked and <= -1 where it did not, then rescale to theta' = theta. The margin, in
//   threshold units, is 1 / theta'. Most steps are far from the threshold, so the rows are
//   added as needed (constraint generation): solve on a subset, add the steps the solution
//   violates, re-solve from the previous basis, until every step holds.
// Phase 2 (only when phase 1 is infeasible): theta' = theta, one slack s[g] >= 0 per step,
//   V[g] + s[g] >= tol theta (spike) or V[g] - s[g] <= -tol theta (silence), minimize sum s:
//   the steps with s > 0 are the unmet ones.
import type { Highs } from "highs";
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
   * Phase 1's margin in threshold units: every recorded step clears the threshold by at
   * least margin x theta, for weights of that L1 norm. 0 when some steps cannot be met.
   */
  margin: number;
  /** Global steps whose inequality could not be met (phase 2), empty when all are met. */
  unmet: number[];
  /** Steps whose rows the final program held (constraint generation). */
  rows: number;
}

/** Thrown when HiGHS does not reach an optimum (a numerical failure, not infeasibility). */
export class SolverError extends Error {
  /** @param message what happened */
  constructor(message: string) {
    super(message);
    this.name = "SolverError";
  }
}

/** The unrolled coefficients of every step for one neuron (see the module comment). */
interface Unrolled {
  /** A[g], steps x K, dense. */
  a: Float64Array;
  b: Float64Array;
  r: Float64Array;
}

function unroll(model: NeuronModel, fm: FeatureMatrix, spikes: Uint8Array): Unrolled {
  const { steps, k } = fm;
  const a = new Float64Array(steps * k), b = new Float64Array(steps), r = new Float64Array(steps);
  for (let g = 0; g < steps; g++) {
    const first = fm.first[g] === 1;
    const { leakTerm, resetTerm } = recursion(model, !first && spikes[g - 1] === 1);
    const lt = first ? 0 : leakTerm;
    if (lt !== 0) {
      for (let c = 0; c < k; c++) a[g * k + c] = lt * a[(g - 1) * k + c];
      b[g] = lt * b[g - 1];
      r[g] = lt * r[g - 1];
    }
    for (let q = fm.starts[g]; q < fm.starts[g + 1]; q++) a[g * k + fm.index[q]] += fm.value[q];
    b[g] += 1;
    r[g] -= resetTerm / model.threshold;
  }
  return { a, b, r };
}

/** Rows of steps g, CSR over the columns w+ (K), w- (K), b, theta' (, slack of row). */
function stepRows(
  u: Unrolled,
  k: number,
  spikes: Uint8Array,
  steps: readonly number[],
  slackCol: number,
  bound: number,
  inf: number,
) {
  const starts = [0], indices: number[] = [], values: number[] = [];
  const lower = new Float64Array(steps.length), upper = new Float64Array(steps.length);
  steps.forEach((g, q) => {
    for (let c = 0; c < k; c++) {
      const x = u.a[g * k + c];
      if (Math.abs(x) < 1e-13) continue;
      indices.push(c, k + c);
      values.push(x, -x);
    }
    indices.push(2 * k, 2 * k + 1);
    values.push(u.b[g], -(u.r[g] + 1));
    const spiked = spikes[g] === 1;
    if (slackCol >= 0) {
      indices.push(slackCol + q);
      values.push(spiked ? 1 : -1);
    }
    lower[q] = spiked ? bound : -inf;
    upper[q] = spiked ? inf : -bound;
    starts.push(indices.length);
  });
  return {
    lower,
    upper,
    matrix: {
      format: "csr" as const,
      numRows: steps.length,
      numCols: 2 * k + 2 + (slackCol >= 0 ? steps.length : 0),
      starts: Int32Array.from(starts),
      indices: Int32Array.from(indices),
      values: Float64Array.from(values),
    },
  };
}

function status(hs: Highs, lp: { getModelStatus(): number }): "optimal" | "infeasible" {
  const s = lp.getModelStatus(), codes = hs.constants.modelStatus;
  if (s === codes.infeasible) return "infeasible";
  if (s !== codes.optimal) {
    throw new SolverError(`HiGHS stopped with model status ${s}, not an optimum`);
  }
  return "optimal";
}

/** V[g] - 1 (spike) or -1 - V[g] (silence) for the solution x: negative when violated. */
function slack(u: Unrolled, k: number, spikes: Uint8Array, g: number, x: Float64Array): number {
  let v = u.b[g] * x[2 * k] - (u.r[g] + 1) * x[2 * k + 1];
  for (let c = 0; c < k; c++) v += u.a[g * k + c] * (x[c] - x[k + c]);
  return spikes[g] === 1 ? v - 1 : -1 - v;
}

function phase1(
  hs: Highs,
  fm: FeatureMatrix,
  u: Unrolled,
  spikes: Uint8Array,
): { x: Float64Array; rows: number } | null {
  const { steps, k } = fm, inf = hs.infinity, numCols = 2 * k + 2;
  const colCost = new Float64Array(numCols), colLower = new Float64Array(numCols);
  const colUpper = new Float64Array(numCols).fill(inf);
  for (let c = 0; c < k; c++) {
    colCost[c] = colCost[k + c] = 1;
    if (!fm.active[c]) colUpper[c] = colUpper[k + c] = 0;
  }
  colLower[2 * k] = -CAP;
  colUpper[2 * k] = colUpper[2 * k + 1] = CAP;
  // Start with every spike and the step before it (where the potential nears the threshold),
  // and a regular sample of the rest.
  const chosen = new Uint8Array(steps);
  const stride = Math.max(1, Math.floor(steps / (k + 64)));
  for (let g = 0; g < steps; g++) {
    if (spikes[g] === 1 || spikes[g + 1] === 1 || g % stride === 0) chosen[g] = 1;
  }
  let add = [...chosen.keys()].filter((g) => chosen[g]);
  const lp = hs.createModel({
    numCols,
    numRows: 0,
    sense: hs.constants.objectiveSense.minimize,
    colCost,
    colLower,
    colUpper,
    rowLower: [],
    rowUpper: [],
    matrix: { format: "csr", numRows: 0, numCols, starts: [0], indices: [], values: [] },
  });
  try {
    lp.options.set({ output_flag: false });
    let rows = 0;
    for (;;) {
      lp.addRows(stepRows(u, k, spikes, add, -1, 1, inf));
      rows += add.length;
      lp.run();
      if (status(hs, lp) === "infeasible") return null;
      const x = lp.getSolution().colValue;
      // add the violated steps, most violated first, at most as many as the program holds
      const bad: [number, number][] = [];
      for (let g = 0; g < steps; g++) {
        if (chosen[g]) continue;
        const s = slack(u, k, spikes, g, x);
        if (s < -1e-9) bad.push([s, g]);
      }
      if (bad.length === 0) return { x, rows };
      bad.sort((p, q) => p[0] - q[0]);
      add = bad.slice(0, Math.max(64, rows)).map(([, g]) => g).sort((p, q) => p - q);
      for (const g of add) chosen[g] = 1;
    }
  } finally {
    lp.dispose();
  }
}

function phase2(
  hs: Highs,
  model: NeuronModel,
  fm: FeatureMatrix,
  u: Unrolled,
  spikes: Uint8Array,
  marginTol: number,
): Float64Array {
  const { steps, k } = fm, inf = hs.infinity, numCols = 2 * k + 2 + steps;
  const colCost = new Float64Array(numCols), colLower = new Float64Array(numCols);
  const colUpper = new Float64Array(numCols).fill(inf);
  for (let c = 0; c < k; c++) if (!fm.active[c]) colUpper[c] = colUpper[k + c] = 0;
  colLower[2 * k] = -inf;
  colLower[2 * k + 1] = colUpper[2 * k + 1] = model.threshold;
  for (let g = 0; g < steps; g++) colCost[2 * k + 2 + g] = 1;
  const all = Array.from({ length: steps }, (_, g) => g);
  const rows = stepRows(u, k, spikes, all, 2 * k + 2, marginTol * model.threshold, inf);
  const lp = hs.createModel({
    numCols,
    numRows: steps,
    sense: hs.constants.objectiveSense.minimize,
    colCost,
    colLower,
    colUpper,
    rowLower: rows.lower,
    rowUpper: rows.upper,
    matrix: rows.matrix,
  });
  try {
    lp.options.set({ output_flag: false });
    lp.run();
    status(hs, lp); // always feasible: the slacks absorb any violation
    return lp.getSolution().colValue;
  } finally {
    lp.dispose();
  }
}

/**
 * Identifies one neuron (see the module comment): phase 1, or phase 2 when phase 1 is
 * infeasible.
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
  const k = fm.k, u = unroll(model, fm, spikes);
  const weights = (x: Float64Array, scale: number) =>
    Float64Array.from({ length: k }, (_, c) => (x[c] - x[k + c]) * scale);
  const one = phase1(hs, fm, u, spikes);
  // theta' = 0 only when no threshold is needed: a neuron firing at every step.
  if (one && one.x[2 * k + 1] > 0) {
    const scale = model.threshold / one.x[2 * k + 1];
    return {
      weights: weights(one.x, scale),
      bias: one.x[2 * k] * scale,
      margin: 1 / one.x[2 * k + 1],
      unmet: [],
      rows: one.rows,
    };
  }
  const x = phase2(hs, model, fm, u, spikes, marginTol);
  const unmet: number[] = [];
  for (let g = 0; g < fm.steps; g++) if (x[2 * k + 2 + g] > 1e-7) unmet.push(g);
  return {
    weights: weights(x, 1),
    bias: x[2 * k],
    margin: unmet.length ? 0 : marginTol,
    unmet,
    rows: fm.steps,
  };
}
