/**
 * Quantized modes (`docs/algorithms.md`, "Quantized modes"): a coordinate of mode size n is split
 * into digits of small sizes, little-endian (the first digit is the least significant). For
 * n = p^L the digits are L modes of size p; for other n the digits are mixed-radix: as many
 * factors p as n has, then n's remaining prime factors in increasing order. The map is a
 * bijection between 0..n-1 and the digit tuples, so no index is favoured over another.
 *
 * @example
 * ```ts
 * import { QuantizedSpace } from "./quantize.ts";
 * const q = new QuantizedSpace([64], 2);
 * const digits = q.toDigits(Int32Array.of(37));
 * if (digits.join("") !== "101001") throw new Error();
 * ```
 * @module
 */

/**
 * The digit sizes of a mode of size n: the factors p first, then the other prime factors.
 * @param n mode size, at least 2
 * @param p preferred digit size, at least 2
 * @returns digit sizes whose product is n
 * @example
 * ```ts
 * import { digitSizes } from "./quantize.ts";
 * if (digitSizes(12, 2).join() !== "2,2,3") throw new Error();
 * ```
 */
export function digitSizes(n: number, p: number): number[] {
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`mode size must be >= 2, got ${n}`);
  if (!Number.isInteger(p) || p < 2) throw new RangeError(`digit size p must be >= 2, got ${p}`);
  const sizes: number[] = [];
  let rest = n;
  while (rest % p === 0) {
    sizes.push(p);
    rest /= p;
  }
  for (let f = 2; f * f <= rest; f++) {
    while (rest % f === 0) {
      sizes.push(f);
      rest /= f;
    }
  }
  if (rest > 1) sizes.push(rest);
  return sizes;
}

/** A map between multi-indices over coordinates and over their quantized digits. */
export class QuantizedSpace {
  /** Mode sizes of the coordinates. */
  readonly n: Int32Array;
  /** Mode sizes of the digits (the quantized space). */
  readonly digitN: Int32Array;
  /** Start of coordinate k's block of digits; `offsets[d]` is the number of digits. */
  readonly offsets: Int32Array;

  /**
   * @param n mode size of each coordinate
   * @param p preferred digit size
   * @example
   * ```ts
   * import { QuantizedSpace } from "./quantize.ts";
   * if (new QuantizedSpace([64, 10], 2).digitN.length !== 8) throw new Error();
   * ```
   */
  constructor(n: ArrayLike<number>, p = 2) {
    this.n = Int32Array.from(n);
    const sizes = Array.from(this.n, (nk) => digitSizes(nk, p));
    this.offsets = new Int32Array(sizes.length + 1);
    sizes.forEach((s, k) => this.offsets[k + 1] = this.offsets[k] + s.length);
    this.digitN = Int32Array.from(sizes.flat());
  }

  /**
   * Digits of a multi-index.
   * @param index one value per coordinate
   * @returns one value per digit
   * @example
   * ```ts
   * import { QuantizedSpace } from "./quantize.ts";
   * const q = new QuantizedSpace([12], 2);
   * if (q.toDigits(Int32Array.of(11)).join() !== "1,1,2") throw new Error();
   * ```
   */
  toDigits(index: Int32Array): Int32Array {
    const out = new Int32Array(this.digitN.length);
    for (let k = 0; k < this.n.length; k++) {
      const v = index[k];
      if (!(v >= 0 && v < this.n[k])) {
        throw new RangeError(`index ${v} out of range 0..${this.n[k] - 1} at coordinate ${k}`);
      }
      let rest = v;
      for (let j = this.offsets[k]; j < this.offsets[k + 1]; j++) {
        out[j] = rest % this.digitN[j];
        rest = Math.floor(rest / this.digitN[j]);
      }
    }
    return out;
  }

  /**
   * The multi-index of a digit tuple.
   * @param digits one value per digit
   * @returns one value per coordinate
   * @example
   * ```ts
   * import { QuantizedSpace } from "./quantize.ts";
   * const q = new QuantizedSpace([64], 2);
   * if (q.fromDigits(Int32Array.of(1, 0, 1, 0, 0, 1))[0] !== 37) throw new Error();
   * ```
   */
  fromDigits(digits: Int32Array): Int32Array {
    const out = new Int32Array(this.n.length);
    for (let k = 0; k < this.n.length; k++) {
      let v = 0;
      for (let j = this.offsets[k + 1] - 1; j >= this.offsets[k]; j--) {
        v = v * this.digitN[j] + digits[j];
      }
      out[k] = v;
    }
    return out;
  }
}
