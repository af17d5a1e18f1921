/**
 * NumPy `.npy` files (format version 1.0), little-endian float32/float64/int32/uint8, C order,
 * so that `numpy.load` reads what the toolkit writes; reading also takes bool and int64.
 *
 * @example
 * ```ts
 * import { decodeNpy, encodeNpy } from "./npy.ts";
 * const bytes = encodeNpy(Float32Array.of(1, 2, 3, 4), [2, 2]);
 * const back = decodeNpy(bytes);
 * if (back.shape.join() !== "2,2" || back.data[3] !== 4) throw new Error();
 * ```
 * @module
 */

/** The arrays `encodeNpy` writes. */
export type NpyArray = Float32Array | Float64Array | Int32Array | Uint8Array;

const descr = (a: NpyArray) =>
  a instanceof Float32Array
    ? "<f4"
    : a instanceof Float64Array
    ? "<f8"
    : a instanceof Int32Array
    ? "<i4"
    : "|u1";

/**
 * Encode an array as `.npy` bytes.
 * @param data the values, C order
 * @param shape the shape (its product must equal data.length)
 * @returns the file's bytes
 * @example
 * ```ts
 * import { encodeNpy } from "./npy.ts";
 * const b = encodeNpy(Float64Array.of(0.5), [1]);
 * if (b.length % 16 !== 0 && b[0] !== 0x93) throw new Error();
 * ```
 */
export function encodeNpy(data: NpyArray, shape: number[]): Uint8Array {
  if (shape.reduce((a, b) => a * b, 1) !== data.length) {
    throw new RangeError(`shape [${shape}] does not hold ${data.length} values`);
  }
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(", ");
  let header = `{'descr': '${descr(data)}', 'fortran_order': False, 'shape': (${dims}), }`;
  // Magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, " ") + "\n";
  const out = new Uint8Array(total + data.byteLength);
  out.set([
    0x93,
    ...new TextEncoder().encode("NUMPY"),
    1,
    0,
    header.length & 0xff,
    header.length >> 8,
  ]);
  out.set(new TextEncoder().encode(header), 10);
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  out.set(body, total); // typed arrays are little-endian on every platform Deno runs on
  return out;
}

/**
 * Decode `.npy` bytes written by `encodeNpy` or NumPy (version 1.x, little-endian, C order):
 * float32, float64, int32, uint8, and bool (as a Uint8Array of 0 and 1) and int64 (as a
 * BigInt64Array).
 * @param bytes the file's bytes
 * @returns the values and the shape
 * @example
 * ```ts
 * import { decodeNpy, encodeNpy } from "./npy.ts";
 * if (decodeNpy(encodeNpy(Int32Array.of(7), [1])).data[0] !== 7) throw new Error();
 * ```
 */
export function decodeNpy(
  bytes: Uint8Array,
): { data: NpyArray | BigInt64Array; shape: number[] } {
  const magic = String.fromCharCode(...bytes.subarray(1, 6));
  if (bytes[0] !== 0x93 || magic !== "NUMPY" || bytes[6] !== 1) {
    throw new Error("not a .npy file of format version 1.x");
  }
  const len = bytes[8] | (bytes[9] << 8);
  const header = new TextDecoder().decode(bytes.subarray(10, 10 + len));
  const type = /'descr':\s*'(<[fi][48]|\|[ub]1)'/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!type || shapeText === undefined || /'fortran_order':\s*True/.test(header)) {
    throw new Error(`unsupported .npy header: ${header.trim()}`);
  }
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s).map(Number);
  const body = bytes.slice(10 + len).buffer;
  const data = type === "<f4"
    ? new Float32Array(body)
    : type === "<f8"
    ? new Float64Array(body)
    : type === "<i4"
    ? new Int32Array(body)
    : type === "<i8"
    ? new BigInt64Array(body)
    : new Uint8Array(body);
  return { data, shape };
}
