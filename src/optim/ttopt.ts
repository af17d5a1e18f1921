/**
 * TTOpt: gradient-free optimization by tensor-train cross approximation with maximum-volume
 * index sets (`docs/algorithms.md`, "TTOpt"), on quantized modes by default.
 *
 * Every core k keeps a left set of r_{k-1} prefixes (digits 0..k-1) and a right set of r_k
 * suffixes (digits k+1..d-1), r_k = min(R, prod_{j<=k} n_j, prod_{j>k} n_j). Left sets start
 * from QR + maxvol on a random Gaussian tensor train. Then sweeps alternate right-to-left and
 * left-to-right; at core k:
 *   evaluate the cross  left set x {0..n_k-1} x right set  (r_{k-1} n_k r_k points, one batch);
 *   Z = exp(y_best - y) in the minimized values (the best -> 1), in both directions;
 *   with `transform: "raw"`, maximization uses the raw values as the TTOpt reference does
 *   (sensible only for non-negative objectives such as firing rates);
 *   unfold Z ((r n) x r), take Q of its QR, choose rows by maxvol (tol 1.001, <= 1000 swaps),
 *   force the row with the largest |Z| in, and make the chosen rows the next index set.
 *
 * @example
 * ```ts
 * import { optimize } from "./optimize.ts";
 * import "./methods.ts";
 * const r = await optimize("ttopt", (b) => b.map((i) => (i[0] - 5) ** 2 + (i[1] - 60) ** 2), {
 *   space: { d: 2, n: 64 }, budget: 2000, seed: 0,
 * });
 * if (r.value !== 0) throw new Error(`found ${r.value}`);
 * ```
 * @module
 */

import { QuantizedSpace } from "../space/quantize.ts";
import { householderQ, maxvol } from "./_linalg.ts";
import { registerMethod } from "./registry.ts";
import type { Minimizer, MinimizerContext } from "./types.ts";

function createTTOpt({ space, rng, params, maximize }: MinimizerContext): Minimizer {
  if (space.kind !== "grid") throw new Error("TTOpt searches grid spaces");
  const { r: maxRank, p } = params as Record<string, number>;
  const raw = maximize && params.transform === "raw";
  const quantized = p >= 2 ? new QuantizedSpace(space.n, p) : undefined;
  const n = quantized ? quantized.digitN : space.n, d = n.length;
  const ranks = new Int32Array(d + 1).fill(1);
  for (let k = 0; k < d - 1; k++) {
    let right = 1;
    for (let j = k + 1; j < d && right < maxRank; j++) right *= n[j];
    ranks[k + 1] = Math.min(maxRank, ranks[k] * n[k], right);
  }
  // left[k]: ranks[k] prefixes of k digits; right[k]: ranks[k+1] suffixes of d-k-1 digits.
  const left: Int32Array[] = [new Int32Array(0)], right: Int32Array[] = [];
  right[d - 1] = new Int32Array(0);

  // Initial left sets: QR + maxvol on a random Gaussian tensor train, left to right.
  let carry = Float64Array.of(1); // R factor carried into the next core, ranks[k] x ranks[k]
  for (let k = 0; k < d - 1; k++) {
    const rl = ranks[k], rr = ranks[k + 1], rows = rl * n[k];
    const core = Float64Array.from({ length: rl * n[k] * rr }, () => rng.normal());
    const m = new Float64Array(rows * rr); // carry @ core, unfolded (rl n) x rr
    for (let a = 0; a < rl; a++) {
      for (let c = 0; c < rl; c++) {
        const f = carry[a * rl + c];
        for (let j = 0; j < n[k] * rr; j++) m[a * n[k] * rr + j] += f * core[c * n[k] * rr + j];
      }
    }
    const q = householderQ(m, rows, rr);
    carry = new Float64Array(rr * rr); // Q^T m
    for (let a = 0; a < rr; a++) {
      for (let b = 0; b < rr; b++) {
        let s = 0;
        for (let i = 0; i < rows; i++) s += q[i * rr + a] * m[i * rr + b];
        carry[a * rr + b] = s;
      }
    }
    left[k + 1] = extendLeft(left[k], k, n[k], maxvol(q, rows, rr).rows);
  }

  let bestY = Infinity;
  let k = d - 1, toLeft = true; // the first sweep runs right to left
  let finished = false;

  const crossDigits = (): Int32Array[] => {
    const rl = ranks[k], rr = ranks[k + 1], out: Int32Array[] = [];
    for (let a = 0; a < rl; a++) {
      for (let i = 0; i < n[k]; i++) {
        for (let b = 0; b < rr; b++) {
          const x = new Int32Array(d);
          x.set(left[k].subarray(a * k, (a + 1) * k), 0);
          x[k] = i;
          x.set(right[k].subarray(b * (d - k - 1), (b + 1) * (d - k - 1)), k + 1);
          out.push(x);
        }
      }
    }
    return out;
  };

  return {
    get done() {
      return finished;
    },
    ask() {
      const digits = crossDigits();
      return quantized ? digits.map((x) => quantized.fromDigits(x)) : digits;
    },
    tell(points, values) {
      const rl = ranks[k], rr = ranks[k + 1], nk = n[k];
      if (points.length < rl * nk * rr) { // the budget cut this cross: nothing more to do
        finished = true;
        return;
      }
      for (const y of values) bestY = Math.min(bestY, y);
      // values are minimized: a maximizing user's raw values are -y.
      const z = Float64Array.from(values, (y) => raw ? -y : Math.exp(bestY - y));
      if (d === 1) return; // a single core has no index sets: every sweep is the full mode
      // Unfold: right-to-left rows (i, b) x columns a; left-to-right rows (a, i) x columns b.
      const rows = toLeft ? nk * rr : rl * nk, cols = toLeft ? rl : rr;
      const mat = new Float64Array(rows * cols);
      let maxRow = 0, maxAbs = -1;
      for (let a = 0; a < rl; a++) {
        for (let i = 0; i < nk; i++) {
          for (let b = 0; b < rr; b++) {
            const v = z[(a * nk + i) * rr + b];
            const row = toLeft ? i * rr + b : a * nk + i;
            mat[row * cols + (toLeft ? a : b)] = v;
            if (Math.abs(v) > maxAbs) [maxAbs, maxRow] = [Math.abs(v), row];
          }
        }
      }
      const { rows: chosen, b } = maxvol(householderQ(mat, rows, cols), rows, cols);
      if (!chosen.includes(maxRow)) { // force the best row in, losing the least volume
        let j = 0;
        for (let c = 1; c < cols; c++) {
          if (Math.abs(b[maxRow * cols + c]) > Math.abs(b[maxRow * cols + j])) j = c;
        }
        if (b[maxRow * cols + j] !== 0) chosen[j] = maxRow;
      }
      if (toLeft) {
        right[k - 1] = extendRight(right[k], d - k - 1, rr, chosen);
        k -= 1;
        if (k === 0) toLeft = false;
      } else {
        left[k + 1] = extendLeft(left[k], k, nk, chosen);
        k += 1;
        if (k === d - 1) toLeft = true;
      }
    },
  };
}

/** Prefixes of k + 1 digits from rows (a, i) = a n + i of the cross with `prev` (k digits). */
function extendLeft(prev: Int32Array, k: number, nk: number, rows: Int32Array): Int32Array {
  const out = new Int32Array(rows.length * (k + 1));
  rows.forEach((row, j) => {
    const a = Math.floor(row / nk);
    out.set(prev.subarray(a * k, (a + 1) * k), j * (k + 1));
    out[j * (k + 1) + k] = row % nk;
  });
  return out;
}

/** Suffixes of len + 1 digits from rows (i, b) = i rr + b of the cross with `prev`. */
function extendRight(prev: Int32Array, len: number, rr: number, rows: Int32Array): Int32Array {
  const out = new Int32Array(rows.length * (len + 1));
  rows.forEach((row, j) => {
    const b = row % rr;
    out[j * (len + 1)] = Math.floor(row / rr);
    out.set(prev.subarray(b * len, (b + 1) * len), j * (len + 1) + 1);
  });
  return out;
}

registerMethod({
  name: "ttopt",
  description: "TTOpt: cross approximation with maxvol index sets (rank 4, binary modes)",
  spaces: ["grid"],
  params: {
    // Rank 4 is the TTOpt default used in the study.
    r: { default: 4, type: "integer", min: 1, doc: "maximum rank of the index sets" },
    p: {
      default: 2,
      type: "integer",
      min: 0,
      doc: "digit size of quantized modes (0: no quantization; 2: binary modes)",
    },
    transform: {
      default: "exp",
      type: "string",
      choices: ["exp", "raw"],
      doc: "values given to maxvol: exp(y_best - y), or raw values when maximizing (reference)",
    },
  },
  check: (params) => params.p === 1 ? "params.p must be 0 (no quantization) or >= 2" : undefined,
  create: createTTOpt,
});
