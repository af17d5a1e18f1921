/**
 * Small dense linear algebra for TTOpt: Householder QR (thin Q) and maxvol.
 * Matrices are row-major Float64Arrays with explicit shapes.
 *
 * @module
 */

/**
 * The thin Q of a Householder QR of a tall matrix A (rows x cols, rows >= cols). Q always has
 * orthonormal columns, also when A is rank-deficient.
 * @param a the matrix, row-major (not modified)
 * @param rows number of rows
 * @param cols number of columns
 * @returns Q, rows x cols, row-major
 * @example
 * ```ts
 * import { householderQ } from "./_linalg.ts";
 * const q = householderQ(Float64Array.of(3, 4), 2, 1);
 * if (Math.abs(Math.abs(q[0]) - 0.6) > 1e-15) throw new Error();
 * ```
 */
export function householderQ(a: Float64Array, rows: number, cols: number): Float64Array {
  if (rows < cols) throw new RangeError(`householderQ needs rows >= cols, got ${rows} x ${cols}`);
  const r = a.slice();
  const vs: Float64Array[] = [];
  for (let j = 0; j < cols; j++) {
    const v = new Float64Array(rows - j);
    let norm = 0;
    for (let i = j; i < rows; i++) norm += r[i * cols + j] ** 2;
    norm = Math.sqrt(norm);
    for (let i = j; i < rows; i++) v[i - j] = r[i * cols + j];
    v[0] += (v[0] >= 0 ? 1 : -1) * norm;
    let vv = 0;
    for (const x of v) vv += x * x;
    if (vv === 0) { // a zero column: reflect along e_j (still orthogonal)
      v[0] = 1;
      vv = 1;
    }
    vs.push(v);
    for (let c = j; c < cols; c++) {
      let dot = 0;
      for (let i = j; i < rows; i++) dot += v[i - j] * r[i * cols + c];
      const f = 2 * dot / vv;
      for (let i = j; i < rows; i++) r[i * cols + c] -= f * v[i - j];
    }
  }
  // Q = H_0 ... H_{cols-1} [I; 0]: apply the reflections in reverse to the identity columns.
  const q = new Float64Array(rows * cols);
  for (let c = 0; c < cols; c++) q[c * cols + c] = 1;
  for (let j = cols - 1; j >= 0; j--) {
    const v = vs[j];
    let vv = 0;
    for (const x of v) vv += x * x;
    for (let c = 0; c < cols; c++) {
      let dot = 0;
      for (let i = j; i < rows; i++) dot += v[i - j] * q[i * cols + c];
      const f = 2 * dot / vv;
      for (let i = j; i < rows; i++) q[i * cols + c] -= f * v[i - j];
    }
  }
  return q;
}

/**
 * Rows of a tall matrix spanning a submatrix of locally maximal volume (maxvol): start from
 * the pivots of Gaussian elimination with partial pivoting, then swap in the row i of
 * B = A A[I]^-1 with the largest |B_ij| while it exceeds `tol`.
 * @param a tall matrix, row-major, full column rank (e.g. a Q factor)
 * @param rows number of rows
 * @param cols number of columns
 * @param tol swap threshold (1.001 in TTOpt)
 * @param maxIter iteration cap (1000 in TTOpt)
 * @returns the chosen rows and B (rows x cols), for which B[I] = identity
 * @example
 * ```ts
 * import { maxvol } from "./_linalg.ts";
 * const { rows } = maxvol(Float64Array.of(1, 0, 0, 1, 5, 1), 3, 2);
 * if (rows.slice().sort().join() !== "1,2") throw new Error(); // |det| 5 beats 1
 * ```
 */
export function maxvol(
  a: Float64Array,
  rows: number,
  cols: number,
  tol = 1.001,
  maxIter = 1000,
): { rows: Int32Array; b: Float64Array } {
  // Partial-pivoting elimination on a copy gives the starting rows.
  const lu = a.slice(), perm = Int32Array.from({ length: rows }, (_, i) => i);
  for (let j = 0; j < cols; j++) {
    let p = j;
    for (let i = j + 1; i < rows; i++) {
      if (Math.abs(lu[i * cols + j]) > Math.abs(lu[p * cols + j])) p = i;
    }
    if (p !== j) {
      for (let c = 0; c < cols; c++) {
        [lu[j * cols + c], lu[p * cols + c]] = [lu[p * cols + c], lu[j * cols + c]];
      }
      [perm[j], perm[p]] = [perm[p], perm[j]];
    }
    const pivot = lu[j * cols + j];
    if (pivot === 0) continue;
    for (let i = j + 1; i < rows; i++) {
      const f = lu[i * cols + j] / pivot;
      for (let c = j; c < cols; c++) lu[i * cols + c] -= f * lu[j * cols + c];
    }
  }
  const chosen = perm.slice(0, cols);
  // B = A A[I]^-1, solving A[I]^T B^T = A^T by Gauss-Jordan on the small square matrix.
  const sq = new Float64Array(cols * cols);
  chosen.forEach((row, i) => sq.set(a.subarray(row * cols, (row + 1) * cols), i * cols));
  const inv = invert(sq, cols);
  const b = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < cols; c++) {
      let s = 0;
      for (let k = 0; k < cols; k++) s += a[i * cols + k] * inv[k * cols + c];
      b[i * cols + c] = s;
    }
  }
  for (let iter = 0; iter < maxIter; iter++) {
    let best = 0;
    for (let j = 1; j < b.length; j++) if (Math.abs(b[j]) > Math.abs(b[best])) best = j;
    const i = Math.floor(best / cols), j = best % cols, bij = b[best];
    if (!(Math.abs(bij) > tol)) break;
    // Row i replaces chosen[j]: B <- B - B[:, j] (B[i, :] - e_j) / B[i, j].
    const rowI = b.slice(i * cols, (i + 1) * cols);
    rowI[j] -= 1;
    const colJ = new Float64Array(rows);
    for (let k = 0; k < rows; k++) colJ[k] = b[k * cols + j];
    for (let k = 0; k < rows; k++) {
      const f = colJ[k] / bij;
      for (let c = 0; c < cols; c++) b[k * cols + c] -= f * rowI[c];
    }
    chosen[j] = i;
  }
  return { rows: chosen, b };
}

/** Inverse of a small square matrix by Gauss-Jordan with partial pivoting (singular: pseudo-safe). */
function invert(m: Float64Array, n: number): Float64Array {
  const a = m.slice(), inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let j = 0; j < n; j++) {
    let p = j;
    for (let i = j + 1; i < n; i++) if (Math.abs(a[i * n + j]) > Math.abs(a[p * n + j])) p = i;
    for (let c = 0; c < n; c++) {
      [a[j * n + c], a[p * n + c]] = [a[p * n + c], a[j * n + c]];
      [inv[j * n + c], inv[p * n + c]] = [inv[p * n + c], inv[j * n + c]];
    }
    const pivot = a[j * n + j] || 1e-300; // a singular start stays finite; maxvol swaps it out
    for (let c = 0; c < n; c++) {
      a[j * n + c] /= pivot;
      inv[j * n + c] /= pivot;
    }
    for (let i = 0; i < n; i++) {
      if (i === j) continue;
      const f = a[i * n + j];
      if (f === 0) continue;
      for (let c = 0; c < n; c++) {
        a[i * n + c] -= f * a[j * n + c];
        inv[i * n + c] -= f * inv[j * n + c];
      }
    }
  }
  return inv;
}
