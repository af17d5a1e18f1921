/**
 * The plain-TypeScript reference of the tensor-train operations of PROTES
 * (`docs/algorithms.md`, "PROTES"). The WASM core (`core-as/assembly/index.ts`) computes the
 * same things in float32 with SIMD; tests compare the two. Written for clarity, not speed.
 * Interfaces, sampling and log-probabilities take a `precision`: "f64", or "f32", where every
 * operation is rounded to float32 in the core's order, so that samples are bit-identical to the
 * core's. The gradient and Adam are stated in f64 (the finite-difference check needs it).
 *
 * Layout: core k has shape (r_{k-1}, n_k, r_k), r_{-1} = r_d = 1, stored row-major in one
 * Float64Array at `layout.coreOffset[k]`: entry (a, i, b) at `coreOffset[k] + (a n_k + i) r_k + b`.
 * A batch of m multi-indices is an Int32Array of m d entries, sample-major.
 *
 * The model: right interface vectors z_{d-1} = [1], z_{k-1} = normalize(sum_i G_k[:, i, :] z_k);
 * conditional weights g_i = |q G_k[:, i, :] z_k| with q = [1] and, after choosing i_k,
 * q <- normalize(q G_k[:, i_k, :]); p(i) = prod_k g_{i_k} / sum_j g_j. Random numbers: four
 * generators spawned from the caller's (`Rng.spawn`), one per lane; sample s draws from
 * generator s mod 4; at every core, each group of four samples advances all four once
 * (u = (word >>> 8) 2^-24, 24 bits, exact in float32).
 *
 * @example
 * ```ts
 * import { ttLayout, sampleReference, logProbReference } from "./tt_reference.ts";
 * import { Rng } from "./rng.ts";
 * const layout = ttLayout([2, 3, 2], 2);
 * const cores = Float64Array.from({ length: layout.size }, (_, j) => 0.1 + (j % 7) / 7);
 * const idx = sampleReference(layout, cores, new Rng(0), 4);
 * const lp = logProbReference(layout, cores, idx);
 * if (lp.some((v) => !(v <= 0))) throw new Error();
 * ```
 * @module
 */

import type { Rng } from "./rng.ts";

/** Arithmetic of the forward recursion: "f64", or "f32" (each operation rounded to float32). */
export type Precision = "f64" | "f32";
type Round = (x: number) => number;
const exact: Round = (x) => x;
const rounding = (precision: Precision): Round => precision === "f32" ? Math.fround : exact;

/** Shapes and offsets of a tensor train. */
export interface TTLayout {
  /** Number of cores. */
  d: number;
  /** Mode sizes n_k. */
  n: Int32Array;
  /** Ranks r_{-1}..r_{d-1} stored as ranks[0..d]: core k has shape (ranks[k], n[k], ranks[k+1]). */
  ranks: Int32Array;
  /** Offset of each core in the parameter array; coreOffset[d] is the total size. */
  coreOffset: Int32Array;
  /** Total number of parameters. */
  size: number;
  /** Offset of each right interface vector z_k (length ranks[k+1]); zOffset[d] is the total. */
  zOffset: Int32Array;
}

/**
 * The layout of a tensor train with inner rank r (edge ranks 1).
 * @param n mode sizes, one per core
 * @param r inner rank, at least 1
 * @returns the layout
 * @example
 * ```ts
 * import { ttLayout } from "./tt_reference.ts";
 * if (ttLayout([2, 2, 2], 3).size !== 1 * 2 * 3 + 3 * 2 * 3 + 3 * 2 * 1) throw new Error();
 * ```
 */
export function ttLayout(n: ArrayLike<number>, r: number): TTLayout {
  const d = n.length;
  if (d < 1) throw new RangeError("a tensor train needs at least one core (d >= 1)");
  if (!Number.isInteger(r) || r < 1) {
    throw new RangeError(`rank r must be an integer >= 1, got ${r}`);
  }
  const ranks = new Int32Array(d + 1).fill(r);
  ranks[0] = 1;
  ranks[d] = 1;
  const coreOffset = new Int32Array(d + 1), zOffset = new Int32Array(d + 1);
  for (let k = 0; k < d; k++) {
    coreOffset[k + 1] = coreOffset[k] + ranks[k] * n[k] * ranks[k + 1];
    zOffset[k + 1] = zOffset[k] + ranks[k + 1];
  }
  return { d, n: Int32Array.from(n), ranks, coreOffset, size: coreOffset[d], zOffset };
}

/** z_k and the norms of the unnormalized vectors (norm[k] belongs to z_k; norm[d-1] = 1). */
interface Interfaces {
  z: Float64Array;
  norm: Float64Array;
}

/**
 * Right interface vectors z_0..z_{d-1} (each L2-normalized; z_{d-1} = [1]).
 * @param layout the layout
 * @param cores the parameters
 * @param precision "f64" or "f32"
 * @returns z concatenated at `layout.zOffset`, and the norms before normalization
 * @example
 * ```ts
 * import { ttLayout, interfacesReference } from "./tt_reference.ts";
 * const layout = ttLayout([2, 2], 2);
 * const { z } = interfacesReference(layout, new Float64Array(layout.size).fill(1));
 * if (Math.abs(z[0] - Math.SQRT1_2) > 1e-15 || z[2] !== 1) throw new Error();
 * ```
 */
export function interfacesReference(
  layout: TTLayout,
  cores: Float64Array,
  precision: Precision = "f64",
): Interfaces {
  const { d, n, ranks, zOffset } = layout;
  const R = rounding(precision);
  const z = new Float64Array(zOffset[d]), norm = new Float64Array(d);
  z[zOffset[d - 1]] = 1;
  norm[d - 1] = 1;
  for (let k = d - 1; k >= 1; k--) {
    const rl = ranks[k], out = zOffset[k - 1], w = contractRight(layout, cores, z, k, R);
    let ss = 0;
    for (let a = 0; a < rl; a++) {
      let s = 0; // sum_i G_k[a, i, :] z_k, through w_k
      for (let i = 0; i < n[k]; i++) s = R(s + w[i * rl + a]);
      z[out + a] = s;
      ss = R(ss + R(s * s));
    }
    const nrm = R(Math.sqrt(ss));
    for (let a = 0; a < rl; a++) z[out + a] = R(z[out + a] / nrm);
    norm[k - 1] = nrm;
  }
  return { z, norm };
}

/** w_k[i][a] = sum_b G_k[a, i, b] z_k[b], stored at k's offset with stride ranks[k]. */
function contractRight(
  layout: TTLayout,
  cores: Float64Array,
  z: Float64Array,
  k: number,
  R: Round,
) {
  const { n, ranks, coreOffset, zOffset } = layout;
  const rl = ranks[k], rr = ranks[k + 1], w = new Float64Array(n[k] * rl);
  for (let i = 0; i < n[k]; i++) {
    for (let a = 0; a < rl; a++) {
      let s = 0;
      for (let b = 0; b < rr; b++) {
        s = R(s + R(cores[coreOffset[k] + (a * n[k] + i) * rr + b] * z[zOffset[k] + b]));
      }
      w[i * rl + a] = s;
    }
  }
  return w;
}

/** The weights g_i = |q . w[i]| of one core and their sum, in a fixed order of summation. */
function conditionalWeights(w: Float64Array, q: Float64Array, nk: number, rl: number, R: Round) {
  const g = new Float64Array(nk);
  let total = 0;
  for (let i = 0; i < nk; i++) {
    let s = 0;
    for (let a = 0; a < rl; a++) s = R(s + R(q[a] * w[i * rl + a]));
    g[i] = Math.abs(s);
    total = R(total + g[i]);
  }
  return { g, total };
}

/**
 * The value drawn for a uniform u from weights g with sum `total`: the first i whose
 * cumulative weight exceeds u total; if rounding leaves none, the last positive weight; if
 * all weights are zero, floor(u n).
 * @param g weights
 * @param total their sum in index order
 * @param u a uniform number in [0, 1)
 * @param precision "f64" or "f32"
 * @returns the chosen index
 * @example
 * ```ts
 * import { pickIndex } from "./tt_reference.ts";
 * if (pickIndex(Float64Array.of(1, 0, 3), 4, 0.3) !== 2) throw new Error();
 * ```
 */
export function pickIndex(
  g: Float64Array,
  total: number,
  u: number,
  precision: Precision = "f64",
): number {
  const R = rounding(precision);
  const target = R(u * total);
  let cum = 0, lastPositive = -1;
  for (let i = 0; i < g.length; i++) {
    cum = R(cum + g[i]);
    if (g[i] > 0) lastPositive = i;
    if (target < cum) return i;
  }
  return lastPositive >= 0 ? lastPositive : Math.min(g.length - 1, Math.floor(u * g.length));
}

/** q' = normalize(q G_k[:, i, :]); returns the norm before normalization. */
function advance(
  layout: TTLayout,
  cores: Float64Array,
  k: number,
  i: number,
  q: Float64Array,
  out: Float64Array,
  R: Round,
): number {
  const { n, ranks, coreOffset } = layout;
  const rl = ranks[k], rr = ranks[k + 1];
  let ss = 0;
  for (let b = 0; b < rr; b++) {
    let s = 0;
    for (let a = 0; a < rl; a++) {
      s = R(s + R(q[a] * cores[coreOffset[k] + (a * n[k] + i) * rr + b]));
    }
    out[b] = s;
    ss = R(ss + R(s * s));
  }
  const nrm = R(Math.sqrt(ss));
  const inv = R(1 / nrm);
  for (let b = 0; b < rr; b++) out[b] = R(out[b] * inv);
  return nrm;
}

/**
 * Draw m multi-indices from the model.
 * @param layout the layout
 * @param cores the parameters
 * @param rng the generator (four lane generators are spawned from it)
 * @param m number of samples
 * @param precision "f64" or "f32"
 * @returns m d indices, sample-major
 * @example
 * ```ts
 * import { ttLayout, sampleReference } from "./tt_reference.ts";
 * import { Rng } from "./rng.ts";
 * const layout = ttLayout([3, 3], 2);
 * const s = sampleReference(layout, new Float64Array(layout.size).fill(1), new Rng(1), 5);
 * if (s.length !== 10 || s.some((v) => v < 0 || v > 2)) throw new Error();
 * ```
 */
export function sampleReference(
  layout: TTLayout,
  cores: Float64Array,
  rng: Rng,
  m: number,
  precision: Precision = "f64",
): Int32Array {
  const { d, n, ranks } = layout;
  const R = rounding(precision);
  const { z } = interfacesReference(layout, cores, precision);
  const lanes = Array.from({ length: 4 }, () => rng.spawn());
  const out = new Int32Array(m * d);
  let q: Float64Array[] = Array.from({ length: m }, () => Float64Array.of(1));
  for (let k = 0; k < d; k++) {
    const w = contractRight(layout, cores, z, k, R);
    const next: Float64Array[] = [];
    for (let group = 0; group < m; group += 4) {
      for (let l = 0; l < 4; l++) {
        const u = (lanes[l].nextU32() >>> 8) / 16777216, s = group + l;
        if (s >= m) continue;
        const { g, total } = conditionalWeights(w, q[s], n[k], ranks[k], R);
        const i = pickIndex(g, total, u, precision);
        out[s * d + k] = i;
        next.push(new Float64Array(ranks[k + 1]));
        advance(layout, cores, k, i, q[s], next[s], R);
      }
    }
    q = next;
  }
  return out;
}

/**
 * The log-probability of each of m multi-indices, by the recursion used for sampling.
 * @param layout the layout
 * @param cores the parameters
 * @param idx m d indices, sample-major
 * @param precision "f64" or "f32" (the logarithms are taken in f64)
 * @returns m log-probabilities
 * @example
 * ```ts
 * import { ttLayout, logProbReference } from "./tt_reference.ts";
 * const layout = ttLayout([2, 2], 1);
 * const lp = logProbReference(layout, new Float64Array(layout.size).fill(1), Int32Array.of(0, 1));
 * if (Math.abs(lp[0] - Math.log(0.25)) > 1e-15) throw new Error();
 * ```
 */
export function logProbReference(
  layout: TTLayout,
  cores: Float64Array,
  idx: Int32Array,
  precision: Precision = "f64",
): Float64Array {
  const { d, n, ranks } = layout;
  const R = rounding(precision);
  const m = idx.length / d;
  const { z } = interfacesReference(layout, cores, precision);
  const w = Array.from({ length: d }, (_, k) => contractRight(layout, cores, z, k, R));
  const lp = new Float64Array(m);
  for (let s = 0; s < m; s++) {
    let q = Float64Array.of(1), sum = 0;
    for (let k = 0; k < d; k++) {
      const i = idx[s * d + k];
      const { g, total } = conditionalWeights(w[k], q, n[k], ranks[k], R);
      sum += Math.log(g[i] / total);
      const next = new Float64Array(ranks[k + 1]);
      advance(layout, cores, k, i, q, next, R);
      q = next;
    }
    lp[s] = sum;
  }
  return lp;
}

/**
 * The loss L = mean over the m multi-indices of -log p, and its exact gradient with respect to
 * every core entry (through the conditional weights, the chosen path and the interface
 * vectors, including the normalizations).
 * @param layout the layout
 * @param cores the parameters
 * @param idx m d indices, sample-major
 * @returns the loss and the gradient (same layout as `cores`)
 * @example
 * ```ts
 * import { ttLayout, gradientReference } from "./tt_reference.ts";
 * const layout = ttLayout([2, 2], 1);
 * const { loss, grad } = gradientReference(layout, Float64Array.of(1, 1, 1, 1), Int32Array.of(0, 0));
 * if (Math.abs(loss - Math.log(4)) > 1e-15 || Math.abs(grad[0] + 0.5) > 1e-15) throw new Error();
 * ```
 */
export function gradientReference(
  layout: TTLayout,
  cores: Float64Array,
  idx: Int32Array,
): { loss: number; grad: Float64Array } {
  const { d, n, ranks, coreOffset, zOffset } = layout;
  const m = idx.length / d;
  const c = -1 / m; // dL/d(log p) of each sample
  const { z, norm } = interfacesReference(layout, cores);
  const w = Array.from({ length: d }, (_, k) => contractRight(layout, cores, z, k, exact));
  const grad = new Float64Array(layout.size), gz = new Float64Array(zOffset[d]);
  const at = (k: number, a: number, i: number, b: number) =>
    coreOffset[k] + (a * n[k] + i) * ranks[k + 1] + b;
  let loss = 0;
  for (let s = 0; s < m; s++) {
    // Forward: inputs q of every core, and the norms of the unnormalized outputs.
    const qs: Float64Array[] = [Float64Array.of(1)];
    const vnorm = new Float64Array(d);
    for (let k = 0; k < d; k++) {
      const i = idx[s * d + k];
      const { g, total } = conditionalWeights(w[k], qs[k], n[k], ranks[k], exact);
      loss += c * Math.log(g[i] / total);
      const next = new Float64Array(ranks[k + 1]);
      vnorm[k] = advance(layout, cores, k, i, qs[k], next, exact);
      qs.push(next);
    }
    // Backward along the path, carrying gq = dL/dq_out of core k.
    let gq = new Float64Array(ranks[d]);
    for (let k = d - 1; k >= 0; k--) {
      const rl = ranks[k], rr = ranks[k + 1], i = idx[s * d + k], q = qs[k], qOut = qs[k + 1];
      // q_out = v / |v|: dL/dv = (gq - q_out (q_out . gq)) / |v|.
      let proj = 0;
      for (let b = 0; b < rr; b++) proj += qOut[b] * gq[b];
      const gv = new Float64Array(rr);
      for (let b = 0; b < rr; b++) gv[b] = (gq[b] - qOut[b] * proj) / vnorm[k];
      const gqIn = new Float64Array(rl);
      for (let a = 0; a < rl; a++) {
        for (let b = 0; b < rr; b++) {
          grad[at(k, a, i, b)] += q[a] * gv[b];
          gqIn[a] += cores[at(k, a, i, b)] * gv[b];
        }
      }
      // The term log g_i - log sum_j g_j with a_j = q G_k[:, j, :] z_k, g_j = |a_j|.
      // d/da_j = sign(a_j) (rest / (|a_i| total) if j = i, else -1 / total), where
      // rest = sum_{j != i} |a_j| is summed directly (1/|a_i| - 1/total would cancel).
      const { g, total } = conditionalWeights(w[k], q, n[k], rl, exact);
      const rest = g.reduce((sum, gj, j) => j === i ? sum : sum + gj, 0);
      for (let j = 0; j < n[k]; j++) {
        let aj = 0;
        for (let a = 0; a < rl; a++) aj += q[a] * w[k][j * rl + a];
        const ca = c * Math.sign(aj) * (j === i ? rest / (g[i] * total) : -1 / total);
        if (ca === 0) continue;
        for (let a = 0; a < rl; a++) {
          gqIn[a] += ca * w[k][j * rl + a];
          for (let b = 0; b < rr; b++) {
            grad[at(k, a, j, b)] += ca * q[a] * z[zOffset[k] + b];
            gz[zOffset[k] + b] += ca * q[a] * cores[at(k, a, j, b)];
          }
        }
      }
      gq = gqIn;
    }
  }
  // Backward through the interface vectors: z_k = u / |u|, u[a] = sum_{j,b} G_{k+1}[a,j,b] z_{k+1}[b].
  for (let k = 0; k < d - 1; k++) {
    const rl = ranks[k + 1], rr = ranks[k + 2], zk = zOffset[k], zn = zOffset[k + 1];
    let proj = 0;
    for (let a = 0; a < rl; a++) proj += z[zk + a] * gz[zk + a];
    for (let a = 0; a < rl; a++) {
      const gu = (gz[zk + a] - z[zk + a] * proj) / norm[k];
      for (let j = 0; j < n[k + 1]; j++) {
        for (let b = 0; b < rr; b++) {
          grad[at(k + 1, a, j, b)] += gu * z[zn + b];
          gz[zn + b] += gu * cores[at(k + 1, a, j, b)];
        }
      }
    }
  }
  return { loss, grad };
}

/** Adam moments and step count. */
export interface AdamState {
  m: Float64Array;
  v: Float64Array;
  t: number;
}

/**
 * One Adam step in place (bias-corrected moments; eps added to the root of the second moment).
 * @param params parameters, updated in place
 * @param grad gradient
 * @param state moments and step count, updated in place
 * @param lr learning rate
 * @param beta1 first-moment decay (0.9)
 * @param beta2 second-moment decay (0.999)
 * @param eps added to the root of the second moment (1e-8)
 * @example
 * ```ts
 * import { adamReference } from "./tt_reference.ts";
 * const p = Float64Array.of(1), s = { m: new Float64Array(1), v: new Float64Array(1), t: 0 };
 * adamReference(p, Float64Array.of(2), s, 0.1);
 * if (Math.abs(p[0] - 0.9) > 1e-8) throw new Error(); // the first step moves by lr
 * ```
 */
export function adamReference(
  params: Float64Array,
  grad: Float64Array,
  state: AdamState,
  lr: number,
  beta1 = 0.9,
  beta2 = 0.999,
  eps = 1e-8,
): void {
  state.t += 1;
  // Bias corrections folded into the learning rate and a reciprocal (as the WASM core does).
  const lrc = lr / (1 - beta1 ** state.t), ic2 = 1 / (1 - beta2 ** state.t);
  for (let j = 0; j < params.length; j++) {
    state.m[j] = beta1 * state.m[j] + (1 - beta1) * grad[j];
    state.v[j] = beta2 * state.v[j] + (1 - beta2) * grad[j] * grad[j];
    params[j] -= lrc * state.m[j] / (Math.sqrt(state.v[j] * ic2) + eps);
  }
}
