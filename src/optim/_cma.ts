/**
 * The CMA-ES core shared by `cma` (full covariance) and `cma-diag` (separable): Hansen's
 * default parameters and update rules with active (negative) recombination weights, as in
 * N. Hansen, "The CMA Evolution Strategy: A Tutorial", arXiv:1604.00772 (2016), Table 1 and
 * Algorithm (the same defaults as pycma).
 *
 * One generation, with y_i = (x_i - m)/sigma sorted by value (best first):
 *   <y>_w = sum_{i<=mu} w_i y_i;  m <- m + sigma <y>_w
 *   p_s <- (1 - c_s) p_s + sqrt(c_s (2 - c_s) mu_eff) C^{-1/2} <y>_w
 *   h_s = [ |p_s| / sqrt(1 - (1 - c_s)^(2 g)) < (1.4 + 2/(n + 1)) E|N(0, I)| ]
 *   p_c <- (1 - c_c) p_c + h_s sqrt(c_c (2 - c_c) mu_eff) <y>_w
 *   w°_i = w_i if w_i >= 0, else w_i n / |C^{-1/2} y_i|^2
 *   C <- (1 + c_1 (1 - h_s) c_c (2 - c_c) - c_1 - c_mu sum w) C + c_1 p_c p_c^T
 *        + c_mu sum_i w°_i y_i y_i^T
 *   sigma <- sigma exp((c_s / d_s) (|p_s| / E|N(0, I)| - 1))
 * Flat fitness (Hansen's purecmaes.m): when the best and the ceil(0.7 lambda)-th values tie,
 * as on a grid plateau, sigma is also multiplied by exp(0.2 + c_s/d_s); a generation whose
 * values all tie changes nothing but that (sigma capped at 1e12 sigma0).
 * The separable variant keeps only diag(C) and multiplies c_1 and c_mu by (n + 2)/3
 * (R. Ros, N. Hansen, "A simple modification in CMA-ES achieving linear time and space
 * complexity", PPSN 2008).
 *
 * @module
 */

import type { Rng } from "../core/rng.ts";
import { Encoding, startParams } from "./_encoding.ts";
import { smallest } from "./_rank.ts";
import type { MinimizerContext, ParamSpec, Point, ResolvedSpace } from "./types.ts";

/** The strategy parameters of CMA-ES for dimension n (Hansen 2016, Table 1). */
export interface CmaParameters {
  n: number;
  lambda: number;
  mu: number;
  /** Recombination weights, length lambda: positive for the mu best, negative after. */
  weights: Float64Array;
  muEff: number;
  cSigma: number;
  dSigma: number;
  cC: number;
  c1: number;
  cMu: number;
  /** E|N(0, I)|. */
  chiN: number;
}

/**
 * Hansen's default parameters (tutorial, Table 1), optionally for the separable variant.
 * @param n the dimension
 * @param diagonal separable CMA-ES: c_1 and c_mu times (n + 2)/3 (Ros and Hansen 2008)
 * @param lambda population size (default 4 + floor(3 ln n))
 * @returns the parameters
 */
export function cmaParameters(n: number, diagonal = false, lambda?: number): CmaParameters {
  lambda ??= 4 + Math.floor(3 * Math.log(n)); // Hansen 2016, eq. (48)
  const mu = Math.floor(lambda / 2);
  const raw = Float64Array.from(
    { length: lambda },
    (_, i) => Math.log((lambda + 1) / 2) - Math.log(i + 1), // eq. (49)
  );
  let sumPos = 0, sumPos2 = 0, sumNeg = 0, sumNeg2 = 0;
  for (let i = 0; i < lambda; i++) {
    if (raw[i] > 0) (sumPos += raw[i], sumPos2 += raw[i] ** 2);
    else (sumNeg += raw[i], sumNeg2 += raw[i] ** 2);
  }
  const muEff = sumPos ** 2 / sumPos2;
  const muEffNeg = sumNeg2 > 0 ? sumNeg ** 2 / sumNeg2 : 0;
  const cSigma = (muEff + 2) / (n + muEff + 5); // eq. (55)
  const dSigma = 1 + 2 * Math.max(0, Math.sqrt((muEff - 1) / (n + 1)) - 1) + cSigma;
  const cC = (4 + muEff / n) / (n + 4 + 2 * muEff / n); // eq. (56)
  let c1 = 2 / ((n + 1.3) ** 2 + muEff); // eq. (57), alpha_cov = 2
  let cMu = Math.min(1 - c1, 2 * (muEff - 2 + 1 / muEff) / ((n + 2) ** 2 + muEff)); // eq. (58)
  if (diagonal) {
    const factor = (n + 2) / 3; // Ros and Hansen 2008
    c1 = Math.min(1, c1 * factor);
    cMu = Math.min(1 - c1, cMu * factor);
  }
  // Negative weights (eq. 50-53): scaled so that the covariance stays positive definite.
  const alphaMuNeg = 1 + c1 / cMu;
  const alphaMuEffNeg = 1 + 2 * muEffNeg / (muEff + 2);
  const alphaPosDef = (1 - c1 - cMu) / (n * cMu);
  const negScale = Math.min(alphaMuNeg, alphaMuEffNeg, alphaPosDef);
  const weights = raw.map((w) => w >= 0 ? w / sumPos : w * negScale / -sumNeg);
  const chiN = Math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n));
  return { n, lambda, mu, weights, muEff, cSigma, dSigma, cC, c1, cMu, chiN };
}

/** Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations (row-major n x n). */
export function symmetricEigen(
  a: Float64Array,
  n: number,
): { values: Float64Array; vectors: Float64Array } {
  const m = a.slice();
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0, diag = 0;
    for (let i = 0; i < n; i++) {
      diag += m[i * n + i] ** 2;
      for (let j = i + 1; j < n; j++) off += m[i * n + j] ** 2;
    }
    if (off <= 1e-24 * diag || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (apq === 0) continue;
        const theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) { // rotate columns p and q
          const mkp = m[k * n + p], mkq = m[k * n + q];
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) { // rotate rows p and q
          const mpk = m[p * n + k], mqk = m[q * n + k];
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p], vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: n }, (_, i) => m[i * n + i]), vectors: v };
}

/** The state of one CMA-ES run in genotype space; sampling and the generation update. */
export class CmaState {
  readonly p: CmaParameters;
  readonly diagonal: boolean;
  readonly mean: Float64Array;
  sigma: number;
  /** Evolution paths p_sigma and p_c. */
  readonly pSigma: Float64Array;
  readonly pC: Float64Array;
  /** Covariance: n x n row-major (full) or its diagonal (separable). */
  readonly C: Float64Array;
  /** Eigenvectors (columns, row-major n x n; unused when diagonal) and sqrt eigenvalues. */
  B: Float64Array;
  D: Float64Array;
  /** Generations done. */
  generation = 0;
  #eigenGeneration = 0;
  readonly #sigma0: number;

  /**
   * @param mean initial mean (copied)
   * @param sigma initial step size
   * @param diagonal separable variant
   * @param lambda population size (default Hansen's)
   */
  constructor(mean: Float64Array, sigma: number, diagonal: boolean, lambda?: number) {
    const n = mean.length;
    this.p = cmaParameters(n, diagonal, lambda);
    this.diagonal = diagonal;
    this.mean = mean.slice();
    this.sigma = this.#sigma0 = sigma;
    this.pSigma = new Float64Array(n);
    this.pC = new Float64Array(n);
    this.D = new Float64Array(n).fill(1);
    if (diagonal) {
      this.C = new Float64Array(n).fill(1);
      this.B = new Float64Array(0);
    } else {
      this.C = new Float64Array(n * n);
      this.B = new Float64Array(n * n);
      for (let i = 0; i < n; i++) this.C[i * n + i] = this.B[i * n + i] = 1;
    }
  }

  /** y -> C^{-1/2} y. */
  invSqrtC(y: Float64Array): Float64Array {
    const n = y.length, out = new Float64Array(n);
    if (this.diagonal) {
      for (let k = 0; k < n; k++) out[k] = y[k] / this.D[k];
      return out;
    }
    const t = new Float64Array(n); // t = D^-1 B^T y
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += this.B[k * n + j] * y[k];
      t[j] = s / this.D[j];
    }
    for (let k = 0; k < n; k++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += this.B[k * n + j] * t[j];
      out[k] = s;
    }
    return out;
  }

  /**
   * Draw lambda genotypes x = m + sigma B (D * z), z ~ N(0, I).
   * @param rng the generator
   * @returns lambda genotypes
   */
  sample(rng: Rng): Float64Array[] {
    const n = this.p.n;
    const out: Float64Array[] = [];
    for (let i = 0; i < this.p.lambda; i++) {
      const dz = Float64Array.from({ length: n }, (_, k) => this.D[k] * rng.normal());
      const x = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        let y = dz[k];
        if (!this.diagonal) {
          y = 0;
          for (let j = 0; j < n; j++) y += this.B[k * n + j] * dz[j];
        }
        x[k] = this.mean[k] + this.sigma * y;
      }
      out.push(x);
    }
    return out;
  }

  /**
   * One generation from lambda evaluated genotypes (minimization).
   * @param xs lambda genotypes
   * @param values their values
   * @param injected optional flags: injected (foreign) genotypes get their Mahalanobis length
   *   clipped to sqrt(n) + 2n/(n + 2), as pycma does for injected solutions
   */
  update(xs: Float64Array[], values: ArrayLike<number>, injected?: boolean[]): void {
    const { n, lambda, mu, weights, muEff, cSigma, dSigma, cC, c1, cMu, chiN } = this.p;
    if (xs.length !== lambda) {
      throw new Error(`CMA update needs ${lambda} points, got ${xs.length}`);
    }
    const order = smallest(values, values.length);
    // A generation whose values all tie carries no ranking: only enlarge the step (below).
    if (values[order[0]] === values[order[lambda - 1]]) {
      this.generation++;
      this.sigma = Math.min(this.sigma * Math.exp(0.2 + cSigma / dSigma), 1e12 * this.#sigma0);
      return;
    }
    const ys = order.map((i) => {
      const y = Float64Array.from(xs[i], (x, k) => (x - this.mean[k]) / this.sigma);
      if (injected?.[i]) {
        const len = Math.hypot(...this.invSqrtC(y)), maxLen = Math.sqrt(n) + 2 * n / (n + 2);
        if (len > maxLen) y.forEach((v, k) => y[k] = v * maxLen / len);
      }
      return y;
    });
    // Flat fitness (as Hansen's purecmaes.m): when the best and the ceil(0.7 lambda)-th values
    // tie, as on a grid plateau, enlarge the step instead of letting it collapse.
    const flat = values[order[0]] === values[order[Math.ceil(0.7 * lambda) - 1]];
    const yw = new Float64Array(n);
    for (let i = 0; i < mu; i++) for (let k = 0; k < n; k++) yw[k] += weights[i] * ys[i][k];
    for (let k = 0; k < n; k++) this.mean[k] += this.sigma * yw[k]; // c_m = 1
    this.generation++;
    const cInvYw = this.invSqrtC(yw);
    const sPs = Math.sqrt(cSigma * (2 - cSigma) * muEff);
    for (let k = 0; k < n; k++) this.pSigma[k] = (1 - cSigma) * this.pSigma[k] + sPs * cInvYw[k];
    const psNorm = Math.hypot(...this.pSigma);
    const hSigma = psNorm / Math.sqrt(1 - (1 - cSigma) ** (2 * this.generation)) <
        (1.4 + 2 / (n + 1)) * chiN
      ? 1
      : 0;
    const sPc = hSigma * Math.sqrt(cC * (2 - cC) * muEff);
    for (let k = 0; k < n; k++) this.pC[k] = (1 - cC) * this.pC[k] + sPc * yw[k];
    const wo = weights.map((w, i) => {
      if (w >= 0) return w;
      // A step that vanished in floating point (the search has converged to machine
      // precision) contributes nothing; without this guard its weight would be infinite.
      const q = Math.hypot(...this.invSqrtC(ys[i])) ** 2;
      return q > 0 ? w * n / q : 0;
    });
    let sumW = 0;
    for (const w of weights) sumW += w;
    const decay = 1 + c1 * (1 - hSigma) * cC * (2 - cC) - c1 - cMu * sumW;
    const C = this.C;
    if (this.diagonal) {
      for (let k = 0; k < n; k++) {
        let rankMu = 0;
        for (let i = 0; i < lambda; i++) rankMu += wo[i] * ys[i][k] ** 2;
        C[k] = decay * C[k] + c1 * this.pC[k] ** 2 + cMu * rankMu;
      }
    } else {
      for (let a = 0; a < n; a++) {
        for (let b = a; b < n; b++) {
          let rankMu = 0;
          for (let i = 0; i < lambda; i++) rankMu += wo[i] * ys[i][a] * ys[i][b];
          const v = decay * C[a * n + b] + c1 * this.pC[a] * this.pC[b] + cMu * rankMu;
          C[a * n + b] = C[b * n + a] = v;
        }
      }
    }
    this.sigma *= Math.exp((cSigma / dSigma) * (psNorm / chiN - 1));
    if (flat) this.sigma *= Math.exp(0.2 + cSigma / dSigma);
    // On an objective that stays flat the step would grow without bound and overflow; cap it.
    this.sigma = Math.min(this.sigma, 1e12 * this.#sigma0);
    this.#updateEigen();
  }

  #updateEigen(): void {
    const n = this.p.n;
    if (this.diagonal) {
      for (let k = 0; k < n; k++) this.D[k] = Math.sqrt(Math.max(this.C[k], 1e-300));
      return;
    }
    // Lazy decomposition, as Hansen's purecma.py: after 0.5 lambda / (n (c_1 + c_mu))
    // evaluations, i.e. every 0.5 / (n (c_1 + c_mu)) generations.
    const gap = 0.5 / (n * (this.p.c1 + this.p.cMu));
    if (this.generation - this.#eigenGeneration < gap) return;
    this.#eigenGeneration = this.generation;
    const { values, vectors } = symmetricEigen(this.C, n);
    this.B = vectors;
    this.D = values.map((v) => Math.sqrt(Math.max(v, 1e-300)));
  }
}

/** CMA-ES behind the ask/tell interface, over the genotype of `Encoding`. */
export class CmaMinimizer {
  readonly state: CmaState;
  readonly #enc: Encoding;
  readonly #rng: Rng;
  #pending: Float64Array[] = [];
  #askedAt = 0;
  #buffer: { x: Float64Array; value: number; injected: boolean }[] = [];

  /**
   * @param ctx the minimizer context (params x0, sigma0, lambda)
   * @param diagonal separable variant
   */
  constructor(ctx: MinimizerContext, diagonal: boolean) {
    this.#enc = new Encoding(ctx.space);
    this.#rng = ctx.rng;
    const lambda = ctx.params.lambda as number | undefined;
    this.state = new CmaState(
      this.#enc.mean0(ctx.params.x0),
      ctx.params.sigma0 as number,
      diagonal,
      lambda,
    );
  }

  ask(): Point[] {
    this.#pending = this.state.sample(this.#rng);
    this.#askedAt = this.state.generation;
    return this.#pending.map((u) => this.#enc.decode(u));
  }

  tell(points: Point[], values: Float64Array): void {
    const stale = this.#askedAt !== this.state.generation;
    for (let i = 0; i < points.length; i++) {
      this.#buffer.push({ x: this.#pending[i], value: values[i], injected: stale });
    }
    this.#flush();
  }

  inform(points: Point[], values: Float64Array): void {
    points.forEach((p, i) =>
      this.#buffer.push({ x: this.#enc.encode(p), value: values[i], injected: true })
    );
    this.#flush();
  }

  #flush(): void {
    const lambda = this.state.p.lambda;
    while (this.#buffer.length >= lambda) {
      const gen = this.#buffer.splice(0, lambda);
      this.state.update(
        gen.map((g) => g.x),
        gen.map((g) => g.value),
        gen.map((g) => g.injected),
      );
    }
  }
}

/** The parameters of both CMA variants. */
export const cmaParams: Record<string, ParamSpec> = {
  ...startParams,
  lambda: {
    default: ({ space }: { space: ResolvedSpace }) => 4 + Math.floor(3 * Math.log(space.d)),
    type: "integer",
    min: 2,
    doc: "population size (default 4 + floor(3 ln d), Hansen 2016)",
  },
};
