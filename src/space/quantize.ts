/**
 * Quantized modes (`docs/algorithms.md`, "Quantized modes"): a coordinate of mode size n is split
 * into digits of small sizes, little-endian (the first digit is the least significant). For
 * n = p^L the digits are L modes of size p; for other n the digits are mixed-radix: as many
 * factors p as n has, then n's remaining prime factors in increasing order. The map is a
 * bijection between 0..n-1 and the digit tuples, so no index is favoured over another.
 *
 * With `code = "gray"` the digits are those of the reflected (mixed-radix) Gray code
 * (`docs/tensor_train.md`, "Gray code"): going from the most significant digit down, a digit is
 * reflected (v -> n_j - 1 - v) when the number formed by the plain digits above it is odd. Then
 * neighbouring indices v and v + 1 differ in exactly one digit, by one; in plain binary 31 and
 * 32 differ in all six digits.
 *
 * @example
 * ```ts
 * import { QuantizedSpace } from "./quantize.ts";
 * const q = new QuantizedSpace([64], 2);
 * const digits = q.toDigits(Int32Array.of(37));
 * if (digits.join("") !== "101001") throw new Error();
 * const g = new QuantizedSpace([64], 2, "gray");
 * if (g.toDigits(Int32Array.of(31)).join("") !== "000010") throw new Error();
 * if (g.toDigits(Int32Array.of(32)).join("") !== "000011") throw new Error();
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

/** How an index is written in digits: plain mixed-radix digits or the reflected Gray code. */
export type DigitCode = "binary" | "gray";

/** A map between multi-indices over coordinates and over their quantized digits. */
export class QuantizedSpace {
  /** Mode sizes of the coordinates. */
  readonly n: Int32Array;
  /** Mode sizes of the digits (the quantized space). */
  readonly digitN: Int32Array;
  /** Start of coordinate k's block of digits; `offsets[d]` is the number of digits. */
  readonly offsets: Int32Array;
  /** The digit code. */
  readonly code: DigitCode;

  /**
   * @param n mode size of each coordinate
   * @param p preferred digit size
   * @param code plain digits ("binary", the default) or the reflected Gray code
   * @example
   * ```ts
   * import { QuantizedSpace } from "./quantize.ts";
   * if (new QuantizedSpace([64, 10], 2).digitN.length !== 8) throw new Error();
   * ```
   */
  constructor(n: ArrayLike<number>, p = 2, code: DigitCode = "binary") {
    this.n = Int32Array.from(n);
    this.code = code;
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
      if (this.code === "gray") {
        // From the most significant digit down: reflect when the plain prefix above is odd.
        let prefix = 0;
        for (let j = this.offsets[k + 1] - 1; j >= this.offsets[k]; j--) {
          const plain = out[j];
          if (prefix % 2 === 1) out[j] = this.digitN[j] - 1 - plain;
          prefix = prefix * this.digitN[j] + plain;
        }
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
        const reflect = this.code === "gray" && v % 2 === 1;
        v = v * this.digitN[j] + (reflect ? this.digitN[j] - 1 - digits[j] : digits[j]);
      }
      out[k] = v;
    }
    return out;
  }
}
