/**
 * The data path of a search: grid indices -> latent -> generator -> image -> target network
 * -> layer output -> the activation of each chosen unit (`../shared/docs/algorithms.md` §5).
 * One call evaluates a whole batch with one generator run and one target run.
 *
 * Unit kinds: `channel` (the firing rate of a channel averaged over time and space), `spatial`
 * (one position (c, y, x) of a channel, averaged over time), `logit` (a class logit, mean over
 * time) and `probability` (the softmax of the logits). Layer outputs may be batch-major
 * [B, C, H, W] / [B, F] or time-major [T, B, ...] (averaged over T).
 *
 * @module
 */

import type { Rng } from "../core/rng.ts";

/** A tensor handed to or returned by an inference session. */
export interface TensorData {
  data: Float32Array | BigInt64Array | Int32Array;
  dims: readonly number[];
}

/** What the pipeline needs of an inference session (see `src/runtime/`). */
export interface SessionLike {
  readonly inputNames: readonly string[];
  run(
    feeds: Record<string, TensorData>,
    outputs?: readonly string[],
  ): Promise<Record<string, TensorData>>;
}

/** The kinds of unit whose activation can be maximized. */
export type UnitKind = "channel" | "spatial" | "logit" | "probability";

/** Which activations to read. */
export interface UnitSelection {
  kind: UnitKind;
  /** The layer (tensor name) for channel and spatial units; "logits" for class units. */
  layer: string;
  /** Channel (or feature) indices, or class indices. */
  units: number[];
  /** (y, x) of spatial units. */
  position?: [number, number];
  /** Layout of the layer output (default: batch-major unless only time-major fits). */
  layout?: "batch" | "time";
}

/** How grid indices become the generator's input. */
export type LatentMap =
  | { kind: "grid"; values: Float64Array } // continuous latent: index j -> values[j]
  | { kind: "codes" }; // discrete codes (VQ-VAE): the index is the code

/** Options of a pipeline. */
export interface PipelineOptions {
  generator: SessionLike;
  target: SessionLike;
  /** Number of latent coordinates. */
  latentDim: number;
  latent: LatentMap;
  selection: UnitSelection;
  /** Multiplicative response noise y max(0, 1 + sigma N(0, 1)) (default none). */
  noise?: { sigma: number; rng: Rng };
}

/** Activations of a batch: `values[b * units + u]`, and the generated images. */
export interface Evaluation {
  values: Float64Array;
  images: Float32Array;
  /** [B, C, H, W] of the images. */
  imageDims: number[];
}

/**
 * Average a layer output over time (if time-major) and return it as [B, rest...] values.
 * @param out the layer output
 * @param batch the batch size B
 * @param layout "batch" ([B, ...]), "time" ([T, B, ...]) or undefined to infer
 * @returns per-item values and the shape of one item
 * @example
 * ```ts
 * import { batchMajor } from "./pipeline.ts";
 * // T = 2, B = 1, F = 2: the mean over time.
 * const r = batchMajor({ data: Float32Array.of(1, 0, 0, 1), dims: [2, 1, 2] }, 1, "time");
 * if (r.values.join() !== "0.5,0.5" || r.itemDims.join() !== "2") throw new Error();
 * ```
 */
export function batchMajor(
  out: TensorData,
  batch: number,
  layout?: "batch" | "time",
): { values: Float32Array; itemDims: number[] } {
  const dims = [...out.dims];
  const data = out.data as Float32Array;
  const timeMajor = layout === "time" ||
    (layout === undefined && dims[0] !== batch && dims[1] === batch);
  if (!timeMajor) {
    if (dims[0] !== batch) {
      throw new Error(
        `layer output [${dims}] has no batch axis of size ${batch} (first or second)`,
      );
    }
    return { values: data, itemDims: dims.slice(1) };
  }
  const t = dims[0], size = data.length / t, mean = new Float32Array(size);
  for (let s = 0; s < t; s++) for (let j = 0; j < size; j++) mean[j] += data[s * size + j] / t;
  return { values: mean, itemDims: dims.slice(2) };
}

/**
 * The number of units of a layer of one item's shape for a unit kind.
 * @param itemDims shape of one item ([C, H, W] or [F])
 * @param kind the unit kind
 * @returns how many channel/feature/class indices exist
 * @example
 * ```ts
 * import { unitCount } from "./pipeline.ts";
 * if (unitCount([64, 7, 7], "channel") !== 64) throw new Error();
 * ```
 */
export function unitCount(itemDims: readonly number[], kind: UnitKind): number {
  if (kind === "logit" || kind === "probability") return itemDims.reduce((a, b) => a * b, 1);
  return itemDims[0] ?? 1;
}

/**
 * Activations of the selected units from per-item layer values.
 * @param values [B, ...itemDims] batch-major values
 * @param itemDims shape of one item
 * @param batch B
 * @param sel the selection
 * @returns `out[b * units + u]`
 * @example
 * ```ts
 * import { unitActivations } from "./pipeline.ts";
 * // B = 1, C = 2, H = W = 2: channel 1 has mean 0.5.
 * const v = unitActivations(Float32Array.of(0, 0, 0, 0, 1, 0, 1, 0), [2, 2, 2], 1,
 *   { kind: "channel", layer: "x", units: [1] });
 * if (v[0] !== 0.5) throw new Error();
 * ```
 */
export function unitActivations(
  values: Float32Array,
  itemDims: readonly number[],
  batch: number,
  sel: UnitSelection,
): Float64Array {
  const per = itemDims.reduce((a, b) => a * b, 1), u = sel.units.length;
  const out = new Float64Array(batch * u);
  const count = unitCount(itemDims, sel.kind);
  for (const c of sel.units) {
    if (!(Number.isInteger(c) && c >= 0 && c < count)) {
      throw new RangeError(`unit ${c} is out of range: "${sel.layer}" has units 0..${count - 1}`);
    }
  }
  for (let b = 0; b < batch; b++) {
    const item = values.subarray(b * per, (b + 1) * per);
    if (sel.kind === "logit") {
      sel.units.forEach((c, j) => out[b * u + j] = item[c]);
    } else if (sel.kind === "probability") {
      const max = item.reduce((m, v) => Math.max(m, v), -Infinity);
      let z = 0;
      for (const v of item) z += Math.exp(v - max);
      sel.units.forEach((c, j) => out[b * u + j] = Math.exp(item[c] - max) / z);
    } else if (itemDims.length === 1) {
      sel.units.forEach((c, j) => out[b * u + j] = item[c]);
    } else {
      const plane = per / itemDims[0];
      if (sel.kind === "spatial") {
        const [y, x] = sel.position ?? [0, 0];
        const [h, w] = [itemDims[1], itemDims.length > 2 ? itemDims[2] : 1];
        if (!(y >= 0 && y < h && x >= 0 && x < w)) {
          throw new RangeError(
            `position (${y}, ${x}) is outside the ${h} x ${w} map of "${sel.layer}"`,
          );
        }
        sel.units.forEach((c, j) => out[b * u + j] = item[c * plane + y * w + x]);
      } else {
        sel.units.forEach((c, j) => {
          let s = 0;
          for (let p = 0; p < plane; p++) s += item[c * plane + p];
          out[b * u + j] = s / plane;
        });
      }
    }
  }
  return out;
}

/** Grid indices -> images -> activations, batched (see the module doc). */
export class Pipeline {
  readonly #o: PipelineOptions;

  /**
   * @param opts sessions, latent map, unit selection and noise
   */
  constructor(opts: PipelineOptions) {
    this.#o = opts;
  }

  /** The generator's input tensor for a batch of multi-indices. */
  latentTensor(batch: Int32Array[]): TensorData {
    const { latentDim: d, latent } = this.#o;
    for (const i of batch) {
      if (i.length !== d) throw new RangeError(`expected ${d} latent coordinates, got ${i.length}`);
    }
    if (latent.kind === "codes") {
      const data = new BigInt64Array(batch.length * d);
      batch.forEach((i, b) => i.forEach((v, k) => data[b * d + k] = BigInt(v)));
      return { data, dims: [batch.length, d] };
    }
    const data = new Float32Array(batch.length * d);
    batch.forEach((i, b) => i.forEach((v, k) => data[b * d + k] = latent.values[v]));
    return { data, dims: [batch.length, d] };
  }

  /**
   * Generate the images of a batch of multi-indices.
   * @param batch multi-indices over the latent grid
   * @returns images [B, C, H, W] in [0, 1]
   */
  async images(batch: Int32Array[]): Promise<TensorData & { data: Float32Array }> {
    const g = this.#o.generator;
    const out = await g.run({ [g.inputNames[0]]: this.latentTensor(batch) });
    const image = out.image ?? Object.values(out)[0];
    return { data: image.data as Float32Array, dims: image.dims };
  }

  /**
   * Evaluate a batch: one generator run, one target run.
   * @param batch multi-indices over the latent grid
   * @returns activations of every selected unit for every item, and the images
   * @throws Error when an activation is NaN or infinite, naming the item
   */
  async evaluate(batch: Int32Array[]): Promise<Evaluation> {
    const { target, selection, noise } = this.#o;
    const image = await this.images(batch);
    const out = await target.run({ [target.inputNames[0]]: image }, [selection.layer]);
    const layer = out[selection.layer];
    if (!layer) throw new Error(`the target returned no output "${selection.layer}"`);
    const { values, itemDims } = batchMajor(layer, batch.length, selection.layout);
    const acts = unitActivations(values, itemDims, batch.length, selection);
    acts.forEach((v, j) => {
      if (!Number.isFinite(v)) {
        const b = Math.floor(j / selection.units.length);
        throw new Error(
          `the target returned ${v} for unit ${selection.units[j % selection.units.length]} of ` +
            `"${selection.layer}" on candidate ${b} of the batch (latent indices [${
              batch[b].slice(0, 8)
            }...])`,
        );
      }
    });
    if (noise && noise.sigma > 0) {
      for (let j = 0; j < acts.length; j++) {
        acts[j] *= Math.max(0, 1 + noise.sigma * noise.rng.normal());
      }
    }
    return { values: acts, images: image.data, imageDims: [...image.dims] };
  }
}
