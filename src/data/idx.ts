/**
 * Reader of the IDX format (MNIST, Fashion-MNIST), raw or gzip-compressed.
 *
 * An IDX file starts with two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16,
 * 0x0C int32, 0x0D float32, 0x0E float64), the number of dimensions, then one big-endian
 * uint32 per dimension, then the data in row-major order (multi-byte values big-endian).
 * Gzip files (magic 0x1f 0x8b) are decompressed with the web-standard `DecompressionStream`.
 *
 * @example
 * ```ts
 * import { parseIdx } from "./idx.ts";
 * // a 2x3 uint8 array
 * const bytes = Uint8Array.of(0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6);
 * const a = parseIdx(bytes);
 * if (a.dims.join() !== "2,3" || a.data[5] !== 6) throw new Error();
 * ```
 * @module
 */

import { exists } from "../io/fs.ts";

/** A labelled image set: pixels in [0, 1], row-major [N, C, H, W]. */
export interface ImageSet {
  /** Pixels scaled to [0, 1] (byte / 255), layout [N, C, H, W]. */
  images: Float32Array;
  /** Class labels, one per image. */
  labels: Uint8Array;
  /** [N, C, H, W]. */
  shape: [number, number, number, number];
}

/** Typed array holding the data of an IDX file. */
export type IdxData =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Float32Array
  | Float64Array;

/** A decoded IDX array. */
export interface IdxArray {
  /** The IDX type code (0x08 ... 0x0E). */
  type: number;
  /** Dimensions, outermost first. */
  dims: number[];
  /** The values, row-major, in native byte order. */
  data: IdxData;
}

const TYPES: Record<number, { size: number; make: (n: number) => IdxData }> = {
  0x08: { size: 1, make: (n) => new Uint8Array(n) },
  0x09: { size: 1, make: (n) => new Int8Array(n) },
  0x0b: { size: 2, make: (n) => new Int16Array(n) },
  0x0c: { size: 4, make: (n) => new Int32Array(n) },
  0x0d: { size: 4, make: (n) => new Float32Array(n) },
  0x0e: { size: 8, make: (n) => new Float64Array(n) },
};

/** True if the bytes start with the gzip magic number. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Decompress gzip bytes with `DecompressionStream`.
 * @param bytes gzip data
 * @returns the decompressed bytes
 */
export async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new DecompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Decode IDX bytes (uncompressed).
 * @param bytes the file contents
 * @returns type code, dimensions and values
 */
export function parseIdx(bytes: Uint8Array): IdxArray {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error("not an IDX file (bad magic)");
  }
  const type = bytes[2];
  const spec = TYPES[type];
  if (!spec) throw new Error(`IDX: unknown type code 0x${type.toString(16)}`);
  const ndim = bytes[3];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const n = dims.reduce((a, b) => a * b, 1);
  const off = 4 + 4 * ndim;
  if (bytes.length < off + n * spec.size) {
    throw new Error(`IDX: truncated (${bytes.length} bytes for ${dims.join("x")} values)`);
  }
  const data = spec.make(n);
  switch (type) {
    case 0x08:
      (data as Uint8Array).set(bytes.subarray(off, off + n));
      break;
    case 0x09:
      for (let i = 0; i < n; i++) data[i] = view.getInt8(off + i);
      break;
    case 0x0b:
      for (let i = 0; i < n; i++) data[i] = view.getInt16(off + 2 * i, false);
      break;
    case 0x0c:
      for (let i = 0; i < n; i++) data[i] = view.getInt32(off + 4 * i, false);
      break;
    case 0x0d:
      for (let i = 0; i < n; i++) data[i] = view.getFloat32(off + 4 * i, false);
      break;
    default:
      for (let i = 0; i < n; i++) data[i] = view.getFloat64(off + 8 * i, false);
  }
  return { type, dims, data };
}

/**
 * Read an IDX file, raw or gzip-compressed (detected by content, not by name).
 * @param path file path
 * @returns the decoded array
 */
export async function readIdxFile(path: string): Promise<IdxArray> {
  let bytes: Uint8Array = await Deno.readFile(path);
  if (isGzip(bytes)) bytes = await gunzip(bytes);
  return parseIdx(bytes);
}

/**
 * Combine an IDX image array ([N, H, W] or [N, C, H, W], uint8) and label array ([N]) into an
 * {@link ImageSet} with pixels scaled to [0, 1].
 * @param images decoded images
 * @param labels decoded labels
 * @returns the image set
 */
export function idxToImageSet(images: IdxArray, labels: IdxArray): ImageSet {
  if (images.type !== 0x08) throw new Error("IDX images: expected uint8 data");
  const d = images.dims;
  let shape: [number, number, number, number];
  if (d.length === 3) shape = [d[0], 1, d[1], d[2]];
  else if (d.length === 4) shape = [d[0], d[1], d[2], d[3]];
  else throw new Error(`IDX images: expected 3 or 4 dimensions, got ${d.length}`);
  if (labels.dims.length !== 1 || labels.dims[0] !== shape[0]) {
    throw new Error(`IDX labels: expected [${shape[0]}], got [${labels.dims.join(",")}]`);
  }
  const px = images.data as Uint8Array;
  const out = new Float32Array(px.length);
  for (let i = 0; i < px.length; i++) out[i] = px[i] / 255;
  return { images: out, labels: Uint8Array.from(labels.data as ArrayLike<number>), shape };
}

/**
 * Read an image/label pair of IDX files.
 * @param imagesPath e.g. `train-images-idx3-ubyte.gz`
 * @param labelsPath e.g. `train-labels-idx1-ubyte.gz`
 * @returns the image set
 */
export async function readIdxImages(imagesPath: string, labelsPath: string): Promise<ImageSet> {
  return idxToImageSet(await readIdxFile(imagesPath), await readIdxFile(labelsPath));
}

/** Fashion-MNIST's class names in label order. */
export const FASHION_MNIST_CLASSES = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
] as const;

/** Where Debian's `dataset-fashion-mnist` package installs Fashion-MNIST. */
export const FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

/**
 * Read the train or test split of an MNIST-layout directory (`train-images-idx3-ubyte`,
 * `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each optionally
 * with `.gz`), e.g. {@link FASHION_MNIST_DIR}.
 * @param dir the directory
 * @param split "train" or "test"
 * @returns the image set
 */
export async function readIdxDataset(dir: string, split: "train" | "test"): Promise<ImageSet> {
  const pre = split === "train" ? "train" : "t10k";
  const find = async (stem: string) => {
    for (const name of [stem, stem + ".gz"]) {
      const p = `${dir}/${name}`;
      if (await exists(p)) return p;
    }
    throw new Error(`${stem}(.gz) not found in ${dir}`);
  };
  return readIdxImages(
    await find(`${pre}-images-idx3-ubyte`),
    await find(`${pre}-labels-idx1-ubyte`),
  );
}
