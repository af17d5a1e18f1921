/**
 * Reader of the CIFAR-10 binary format ("CIFAR-10 binary version"): each batch file
 * (`data_batch_1.bin` ... `data_batch_5.bin`, `test_batch.bin`) is a sequence of 3073-byte
 * records, one label byte (0-9) followed by 3072 pixel bytes: the 32x32 red plane, then green,
 * then blue (channel-major, rows top to bottom), i.e. exactly the [C, H, W] layout.
 *
 * @example
 * ```ts
 * import { parseCifar10 } from "./cifar10.ts";
 * const rec = new Uint8Array(3073);
 * rec[0] = 7; // label
 * rec[1] = 255; // red channel, pixel (0, 0)
 * const set = parseCifar10(rec);
 * if (set.shape.join() !== "1,3,32,32" || set.labels[0] !== 7 || set.images[0] !== 1) {
 *   throw new Error();
 * }
 * ```
 * @module
 */

import type { ImageSet } from "./idx.ts";
export type { ImageSet } from "./idx.ts";

/** Bytes per record: 1 label + 3 * 32 * 32 pixels. */
export const CIFAR10_RECORD = 3073;

/** Class names in label order. */
export const CIFAR10_CLASSES = [
  "airplane",
  "automobile",
  "bird",
  "cat",
  "deer",
  "dog",
  "frog",
  "horse",
  "ship",
  "truck",
] as const;

/**
 * Decode the records of one or more concatenated CIFAR-10 binary batches.
 * @param bytes the batch contents (a multiple of 3073 bytes)
 * @returns images in [0, 1] as [N, 3, 32, 32], labels
 */
export function parseCifar10(bytes: Uint8Array): ImageSet {
  if (bytes.length % CIFAR10_RECORD !== 0) {
    throw new Error(`CIFAR-10: ${bytes.length} bytes is not a multiple of ${CIFAR10_RECORD}`);
  }
  const n = bytes.length / CIFAR10_RECORD;
  const images = new Float32Array(n * 3072);
  const labels = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    const off = r * CIFAR10_RECORD;
    const label = bytes[off];
    if (label > 9) throw new Error(`CIFAR-10: record ${r} has label ${label}`);
    labels[r] = label;
    const dst = r * 3072;
    for (let i = 0; i < 3072; i++) images[dst + i] = bytes[off + 1 + i] / 255;
  }
  return { images, labels, shape: [n, 3, 32, 32] };
}

/**
 * Read and concatenate CIFAR-10 batch files in the given order.
 * @param paths batch files
 * @returns the image set
 */
export async function readCifar10Batches(paths: string[]): Promise<ImageSet> {
  const parts = await Promise.all(paths.map((p) => Deno.readFile(p)));
  const total = parts.reduce((a, p) => a + p.length, 0);
  const all = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    if (p.length % CIFAR10_RECORD !== 0) {
      throw new Error(`CIFAR-10: a batch of ${p.length} bytes is not whole records`);
    }
    all.set(p, off);
    off += p.length;
  }
  return parseCifar10(all);
}

/**
 * Read the train split (`data_batch_*.bin`, in name order) or the test split
 * (`test_batch.bin`) of a CIFAR-10 binary directory (`cifar-10-batches-bin`).
 * @param dir the directory
 * @param split "train" or "test"
 * @returns the image set
 */
export async function readCifar10(dir: string, split: "train" | "test"): Promise<ImageSet> {
  let names: string[];
  if (split === "test") {
    names = ["test_batch.bin"];
  } else {
    names = [];
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && /^data_batch_\d+\.bin$/.test(e.name)) names.push(e.name);
    }
    names.sort((a, b) => parseInt(a.slice(11)) - parseInt(b.slice(11)));
    if (names.length === 0) throw new Error(`CIFAR-10: no data_batch_*.bin in ${dir}`);
  }
  return readCifar10Batches(names.map((n) => `${dir}/${n}`));
}
