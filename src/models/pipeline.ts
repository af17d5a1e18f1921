/**
 * The data path of a search: grid indices -> latent -> generator -> image -> target network
 * -> layer output -> the activation of each chosen unit (`docs/algorithms.md`, "The activation").
 * One call evaluates a whole batch with one generator run and one target run.
 *
 * Unit kinds: `channel` (the firing rate of a channel averaged over time and space), `spatial`
 * (one position (c, y, x) of a channel, averaged over time), `logit` (a class logit, mean over
 * time) and `probability` (the softmax of the logits). Layer layouts (batch-major, time-major,
 * flattened time-major) are resolved by `src/runtime/layout.ts`.
 *
 * @module
 */

import type { Rng } from "../core/rng.ts";
import { softmax } from "./classes.ts";
import {
  type Layout,
  resolveLayout,
  spatialUnitIndex,
  unitActivations,
  unitCount,
} from "../runtime/layout.ts";

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
  /** Layout of the layer output (default "auto"; see `src/runtime/layout.ts`). */
  layout?: Layout;
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
  /**
   * Multiplicative response noise y max(0, 1 + sigma N(0, 1)) (default none): one generator
   * drawn for every response in batch order, or `streams`, one generator per selected unit,
   * drawn only for the candidates of that unit's own search (`evaluate`'s owners), so that a
   * search's noise does not depend on the searches run beside it (other responses stay clean).
   */
  noise?: { sigma: number; rng: Rng } | { sigma: number; streams: Rng[] };
  /**
   * Largest batch sent to the networks at once (default 32): larger batches (many searches in
   * lockstep) are split, as per-image cost grows past a few dozen images on CPU backends.
   */
  maxBatch?: number;
}

/** Activations of a batch: `values[b * units + u]`, and the generated images. */
export interface Evaluation {
  values: Float64Array;
  images: Float32Array;
  /** [B, C, H, W] of the images. */
  imageDims: number[];
}

/**
 * The number of units a selection can choose from: channels (or features) for channel and
 * spatial units (the position is given separately), classes for class units.
 * @param dims dims of the layer output for a batch of `batch`
 * @param batch the batch size
 * @param sel the kind and layout
 * @returns the count
 * @example
 * ```ts
 * import { selectableUnits } from "./pipeline.ts";
 * if (selectableUnits([2, 64, 4, 4], 2, { kind: "spatial", layout: "auto" }) !== 64) throw new Error();
 * ```
 */
export function selectableUnits(
  dims: readonly number[],
  batch: number,
  sel: Pick<UnitSelection, "kind" | "layout">,
): number {
  return unitCount(dims, { batch, layout: sel.layout });
}

/**
 * Activations of the selected units from a layer output (or the logits).
 * @param out the layer output for the batch
 * @param batch the batch size B
 * @param sel the selection
 * @returns `values[b * units + u]`
 * @throws RangeError naming a unit or position outside the layer
 * @example
 * ```ts
 * import { selectedActivations } from "./pipeline.ts";
 * // B = 1, C = 2, H = W = 2: channel 1 has mean 0.5, its position (0, 0) fires at rate 1.
 * const out = { data: Float32Array.of(0, 0, 0, 0, 1, 0, 1, 0), dims: [1, 2, 2, 2] };
 * const c = selectedActivations(out, 1, { kind: "channel", layer: "x", units: [1] });
 * const p = selectedActivations(out, 1, { kind: "spatial", layer: "x", units: [1], position: [0, 0] });
 * if (c[0] !== 0.5 || p[0] !== 1) throw new Error();
 * ```
 */
export function selectedActivations(
  out: TensorData,
  batch: number,
  sel: UnitSelection,
): Float64Array {
  const data = out.data as Float32Array;
  const count = selectableUnits(out.dims, batch, sel);
  for (const c of sel.units) {
    if (!(Number.isInteger(c) && c >= 0 && c < count)) {
      throw new RangeError(`unit ${c} is out of range: "${sel.layer}" has units 0..${count - 1}`);
    }
  }
  const spatial = sel.kind === "spatial";
  const acts = unitActivations({ data, dims: out.dims }, {
    batch,
    layout: sel.layout,
    kind: spatial ? "spatial" : "channel",
  });
  const per = acts.length / batch;
  let index = sel.units;
  if (spatial) {
    const { sample } = resolveLayout(out.dims, batch, sel.layout);
    const [y, x] = sel.position ?? [0, 0];
    index = sel.units.map((c) => spatialUnitIndex(sample, c, y, x));
  }
  const u = index.length, res = new Float64Array(batch * u);
  for (let b = 0; b < batch; b++) {
    const row = acts.subarray(b * per, (b + 1) * per);
    const values = sel.kind === "probability" ? softmax(row) : row;
    index.forEach((c, j) => res[b * u + j] = values[c]);
  }
  return res;
}

/**
 * Run a generator on a batch of grid points (the generator half of a pipeline, for callers
 * without a target network).
 * @param generator the generator's session
 * @param latentDim latent coordinates
 * @param latent how grid indices become the generator's input
 * @param batch multi-indices over the latent grid
 * @returns images [B, C, H, W] in [0, 1]
 * @throws RangeError when a point does not have `latentDim` coordinates
 */
export async function generateImages(
  generator: SessionLike,
  latentDim: number,
  latent: LatentMap,
  batch: Int32Array[],
): Promise<TensorData & { data: Float32Array }> {
  const d = latentDim;
  for (const i of batch) {
    if (i.length !== d) throw new RangeError(`expected ${d} latent coordinates, got ${i.length}`);
  }
  let input: TensorData;
  if (latent.kind === "codes") {
    const data = new BigInt64Array(batch.length * d);
    batch.forEach((i, b) => i.forEach((v, k) => data[b * d + k] = BigInt(v)));
    input = { data, dims: [batch.length, d] };
  } else {
    const data = new Float32Array(batch.length * d);
    batch.forEach((i, b) => i.forEach((v, k) => data[b * d + k] = latent.values[v]));
    input = { data, dims: [batch.length, d] };
  }
  const out = await generator.run({ [generator.inputNames[0]]: input });
  const image = out.image ?? Object.values(out)[0];
  return { data: image.data as Float32Array, dims: image.dims };
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

  /**
   * Generate the images of a batch of multi-indices.
   * @param batch multi-indices over the latent grid
   * @returns images [B, C, H, W] in [0, 1]
   */
  images(batch: Int32Array[]): Promise<TensorData & { data: Float32Array }> {
    const { generator, latentDim, latent } = this.#o;
    return generateImages(generator, latentDim, latent, batch);
  }

  /**
   * Evaluate a batch: one generator run, one target run.
   * @param batch multi-indices over the latent grid
   * @param owners the selected unit (index into the selection) whose search asked each item;
   *   needed with per-unit noise streams
   * @returns activations of every selected unit for every item, and the images
   * @throws Error when an activation is NaN or infinite, naming the item
   */
  async evaluate(batch: Int32Array[], owners?: Int32Array): Promise<Evaluation> {
    const max = this.#o.maxBatch ?? 32;
    if (batch.length <= max) return await this.#evaluateChunk(batch, owners);
    const parts: Evaluation[] = [];
    for (let from = 0; from < batch.length; from += max) {
      parts.push(
        await this.#evaluateChunk(
          batch.slice(from, from + max),
          owners?.subarray(from, from + max),
        ),
      );
    }
    const concat = <T extends Float32Array | Float64Array>(arrays: T[], make: (n: number) => T) => {
      const out = make(arrays.reduce((n, a) => n + a.length, 0));
      let at = 0;
      for (const a of arrays) (out.set(a, at), at += a.length);
      return out;
    };
    return {
      values: concat(parts.map((p) => p.values), (n) => new Float64Array(n)),
      images: concat(parts.map((p) => p.images), (n) => new Float32Array(n)),
      imageDims: [batch.length, ...parts[0].imageDims.slice(1)],
    };
  }

  async #evaluateChunk(batch: Int32Array[], owners?: Int32Array): Promise<Evaluation> {
    const { target, selection, noise } = this.#o;
    const image = await this.images(batch);
    const out = await target.run({ [target.inputNames[0]]: image }, [selection.layer]);
    const layer = out[selection.layer];
    if (!layer) throw new Error(`the target returned no output "${selection.layer}"`);
    const acts = selectedActivations(layer, batch.length, selection);
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
      const factor = (rng: Rng) => Math.max(0, 1 + noise.sigma * rng.normal());
      if ("rng" in noise) {
        for (let j = 0; j < acts.length; j++) acts[j] *= factor(noise.rng);
      } else {
        if (!owners) throw new RangeError("per-unit noise streams need the owner of each item");
        const u = selection.units.length;
        owners.forEach((j, b) => acts[b * u + j] *= factor(noise.streams[j]));
      }
    }
    return { values: acts, images: image.data, imageDims: [...image.dims] };
  }
}
