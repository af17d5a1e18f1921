/**
 * The natural-image control (docs/study.md, "Analyses"): run a target checkpoint over a whole
 * image set (the Fashion-MNIST test set), in batches through the runtime, and keep the k most
 * activating images of every channel of the chosen layers; cached per checkpoint and layer, so
 * the scan of a checkpoint runs once.
 *
 * @example
 * ```ts ignore
 * import { openSession } from "../runtime/mod.ts";
 * import { readIdxDataset, FASHION_MNIST_DIR } from "../data/idx.ts";
 * import { scanImages } from "./natural.ts";
 * const session = await openSession("models/sresnet18_fmnist_e8.onnx", { outputs: ["sn1"] });
 * const scan = await scanImages(session, await readIdxDataset(FASHION_MNIST_DIR, "test"), ["sn1"]);
 * console.log(scan.top.sn1[0][0], scan.images / scan.seconds, "images/s");
 * ```
 * @module
 */

import type { ImageSet } from "../data/idx.ts";
import { selectableUnits, selectedActivations, type SessionLike } from "../models/pipeline.ts";

/** One of the most activating images of a channel. */
export interface NaturalImage {
  /** Index in the image set. */
  index: number;
  activation: number;
}

/** A scan: the top images per layer and channel, and what it cost. */
export interface Scan {
  /** `top[layer][channel]`: the k most activating images, best first (ties: lower index). */
  top: Record<string, NaturalImage[][]>;
  images: number;
  seconds: number;
}

/** Options of {@link scanImages}. */
export interface ScanOptions {
  /** Images kept per channel (default 9). */
  k?: number;
  /** Images per network run (default 32, the pipeline's chunk size). */
  batch?: number;
  /** Called after each batch with the images done. */
  onProgress?: (done: number) => void;
}

/** Insert into a best-first list of at most k (ties keep the earlier image first). */
function offer(list: NaturalImage[], k: number, index: number, activation: number): void {
  if (list.length === k && !(activation > list[k - 1].activation)) return;
  let at = list.length;
  while (at > 0 && activation > list[at - 1].activation) at--;
  list.splice(at, 0, { index, activation });
  if (list.length > k) list.pop();
}

/**
 * Run a session over every image of a set and keep the k most activating images of every
 * channel (firing rate averaged over time and space, as the searches score them) of each layer.
 * @param session a session returning the layers (see `openSession`'s `outputs`)
 * @param set the images, [N, C, H, W] in [0, 1]
 * @param layers layer (tensor) names
 * @param options k, batch size, progress
 * @returns the top images and the time taken
 */
export async function scanImages(
  session: SessionLike,
  set: ImageSet,
  layers: readonly string[],
  options: ScanOptions = {},
): Promise<Scan> {
  const k = options.k ?? 9, size = options.batch ?? 32;
  const [n, c, h, w] = set.shape, per = c * h * w;
  const top: Record<string, NaturalImage[][]> = {};
  const t0 = performance.now();
  for (let from = 0; from < n; from += size) {
    const b = Math.min(size, n - from);
    const image = { data: set.images.subarray(from * per, (from + b) * per), dims: [b, c, h, w] };
    const out = await session.run({ [session.inputNames[0]]: image }, layers);
    for (const layer of layers) {
      const t = out[layer];
      const units = selectableUnits(t.dims, b, { kind: "channel" });
      const channels = Array.from({ length: units }, (_, j) => j);
      const acts = selectedActivations(t, b, { kind: "channel", layer, units: channels });
      const lists = top[layer] ??= channels.map(() => []);
      for (let i = 0; i < b; i++) {
        for (let j = 0; j < units; j++) offer(lists[j], k, from + i, acts[i * units + j]);
      }
    }
    options.onProgress?.(from + b);
  }
  return { top, images: n, seconds: (performance.now() - t0) / 1000 };
}

/** What identifies a cached scan: the checkpoint's hash, the layer, the image set and k. */
export interface CacheKey {
  sha256: string;
  layer: string;
  /** A name of the image set and split, e.g. "fmnist-test". */
  dataset: string;
  images: number;
  k: number;
}

const cachePath = (dir: string, key: CacheKey) =>
  `${dir}/${key.sha256.slice(0, 16)}/${key.dataset}_k${key.k}_${
    key.layer.replace(/[^\w.-]/g, "_")
  }.json`;

/**
 * Read a cached layer scan.
 * @param dir the cache folder
 * @param key what was scanned
 * @returns the top images per channel, or null when not cached (or cached for something else)
 */
export async function readCachedScan(
  dir: string,
  key: CacheKey,
): Promise<NaturalImage[][] | null> {
  try {
    const cached = JSON.parse(await Deno.readTextFile(cachePath(dir, key)));
    if (JSON.stringify(cached.key) !== JSON.stringify(key)) return null;
    return cached.top;
  } catch {
    return null;
  }
}

/**
 * Cache a layer scan (written to a temporary file, then renamed into place).
 * @param dir the cache folder
 * @param key what was scanned
 * @param top the top images per channel
 */
export async function writeCachedScan(
  dir: string,
  key: CacheKey,
  top: NaturalImage[][],
): Promise<void> {
  const path = cachePath(dir, key);
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  const tmp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.writeTextFile(tmp, JSON.stringify({ key, top }));
  await Deno.rename(tmp, path);
}

/** A scan of several layers, some read from the cache. */
export interface CachedScan extends Scan {
  /** Layers read from the cache (not scanned now). */
  cached: string[];
}

/**
 * The top images of each layer: from the cache where present, else one scan of the missing
 * layers together (then cached).
 * @param open opens a session returning the given layers (called only when something is
 *   missing; released after the scan)
 * @param set the images
 * @param layers layer names
 * @param key the checkpoint hash, image set name and k
 * @param dir the cache folder
 * @param options batch size, progress
 * @returns the top images per layer, with `seconds` and `images` of the scan run now (0 if none)
 */
export async function cachedScan(
  open: (layers: string[]) => Promise<SessionLike & { release?(): Promise<void> }>,
  set: ImageSet,
  layers: readonly string[],
  key: Omit<CacheKey, "layer" | "images">,
  dir: string,
  options: Omit<ScanOptions, "k"> = {},
): Promise<CachedScan> {
  const keyOf = (layer: string): CacheKey => ({ ...key, layer, images: set.shape[0] });
  const top: Record<string, NaturalImage[][]> = {}, cached: string[] = [];
  for (const layer of layers) {
    const hit = await readCachedScan(dir, keyOf(layer));
    if (hit) (top[layer] = hit, cached.push(layer));
  }
  const missing = layers.filter((l) => !top[l]);
  if (missing.length === 0) return { top, images: 0, seconds: 0, cached };
  const session = await open(missing);
  let scan: Scan;
  try {
    scan = await scanImages(session, set, missing, { ...options, k: key.k });
  } finally {
    await session.release?.();
  }
  for (const layer of missing) {
    top[layer] = scan.top[layer];
    await writeCachedScan(dir, keyOf(layer), scan.top[layer]);
  }
  return { top, images: scan.images, seconds: scan.seconds, cached };
}
