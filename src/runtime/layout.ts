/**
 * From a layer's output tensor to per-unit activations `[B, units]`.
 *
 * A layer output comes in one of these layouts (B the batch, T the time steps):
 * - `"BCHW"`: `[B, C, ...spatial]` (any number of spatial dims, none included: `[B, C]`);
 * - `"BF"`: `[B, F]` (a fully connected layer; one unit per feature);
 * - `"TBCHW"` / `"TBF"`: time-major `[T, B, ...]`, averaged over T;
 * - `"(TB)CHW"` / `"(TB)F"`: time-major with T and B flattened into the first dim, `[T*B, ...]`,
 *   as the LIF layers of the shipped spiking networks emit (averaged over T).
 *
 * The unit kinds (`docs/algorithms.md`, "The activation"):
 * - `"channel"`: a_c = mean over (t, h, w) of s[t, b, c, h, w] — one unit per channel
 *   (a `[B, F]` layer: one unit per feature);
 * - `"spatial"`: every (c, h, w) is a unit, averaged over t only — units are numbered
 *   row-major, `c * H * W + h * W + w` (see {@link spatialUnitIndex}).
 *
 * @example
 * ```ts
 * import { unitActivations } from "./layout.ts";
 * // B = 1, C = 2, H = W = 2: channel means
 * const a = unitActivations({ data: new Float32Array([1, 1, 0, 0, 1, 0, 1, 0]), dims: [1, 2, 2, 2] },
 *   { batch: 1 });
 * if (a[0] !== 0.5 || a[1] !== 0.5) throw new Error();
 * ```
 * @module
 */

/** A layer layout; `"auto"` infers it from the dims and the batch size. */
export type Layout = "auto" | "BCHW" | "BF" | "TBCHW" | "TBF" | "(TB)CHW" | "(TB)F";

/** How units are read from a layer: one per channel (mean over time and space), or per position. */
export type UnitKind = "channel" | "spatial";

/** A tensor of activations. */
export interface ActivationTensor {
  data: ArrayLike<number>;
  dims: readonly number[];
}

/** Options of {@link unitActivations} and {@link unitCount}. */
export interface UnitOptions {
  /** The batch size B of the run that produced the tensor. */
  batch: number;
  /** The layout (default `"auto"`). */
  layout?: Layout;
  /** The unit kind (default `"channel"`). */
  kind?: UnitKind;
}

/** A layout resolved against dims: T, B and the per-sample shape. */
export interface ResolvedLayout {
  layout: Exclude<Layout, "auto">;
  /** Time steps (1 for batch-first layouts). */
  T: number;
  B: number;
  /** The dims of one sample at one time step: `[C, ...spatial]` or `[F]`. */
  sample: number[];
}

function shape(dims: readonly number[]): string {
  return `[${dims.join(", ")}]`;
}

/**
 * Resolves a layout against a tensor's dims and the batch size; `"auto"` picks batch-first when
 * the first dim is B, time-major `[T, B, ...]` when the second is, and flattened time-major
 * `[T*B, ...]` when the first is a multiple of B. Pass a layout explicitly where these are
 * ambiguous (e.g. T = B).
 *
 * @param dims the tensor's dims
 * @param batch B
 * @param layout declared layout (default `"auto"`)
 * @returns the resolved layout
 * @throws {RangeError} if the dims do not fit the layout and batch
 * @example
 * ```ts
 * import { resolveLayout } from "./layout.ts";
 * const r = resolveLayout([8, 16, 14, 14], 2); // T*B = 8
 * if (r.layout !== "(TB)CHW" || r.T !== 4) throw new Error();
 * ```
 */
export function resolveLayout(
  dims: readonly number[],
  batch: number,
  layout: Layout = "auto",
): ResolvedLayout {
  if (!Number.isInteger(batch) || batch < 1) {
    throw new RangeError(`batch must be a positive integer, got ${batch}`);
  }
  const rank = dims.length;
  const bad = (why: string) =>
    new RangeError(
      `a layer output of shape ${
        shape(dims)
      } does not fit layout ${layout} at batch ${batch}: ${why}`,
    );
  let l = layout;
  if (l === "auto") {
    if (rank < 2) throw bad("a layer output needs a batch dim and at least one unit dim");
    if (dims[0] === batch) l = rank === 2 ? "BF" : "BCHW";
    else if (rank >= 3 && dims[1] === batch) l = rank === 3 ? "TBF" : "TBCHW";
    else if (dims[0] % batch === 0) l = rank === 2 ? "(TB)F" : "(TB)CHW";
    else throw bad("no dim matches the batch size");
  }
  const minRank = l.startsWith("TB") ? 3 : 2, exact = l.endsWith("F");
  if (exact ? rank !== minRank : rank < minRank) throw bad(`rank ${rank}`);
  let T = 1, rest: number[];
  if (l === "BF" || l === "BCHW") {
    if (dims[0] !== batch) throw bad(`first dim ${dims[0]} is not the batch`);
    rest = dims.slice(1);
  } else if (l === "TBF" || l === "TBCHW") {
    if (dims[1] !== batch) throw bad(`second dim ${dims[1]} is not the batch`);
    T = dims[0];
    rest = dims.slice(2);
  } else {
    if (dims[0] % batch !== 0) throw bad(`first dim ${dims[0]} is not a multiple of the batch`);
    T = dims[0] / batch;
    rest = dims.slice(1);
  }
  return { layout: l as Exclude<Layout, "auto">, T, B: batch, sample: rest };
}

/** A layout measured from two runs (see {@link inferLayout}). */
export interface MeasuredLayout {
  layout: Exclude<Layout, "auto">;
  /** Time steps (1 for batch-first layouts). */
  T: number;
  /** Dims with the batch written `"B"` (time-major flattened: `"4*B"`). */
  dims: (number | string)[];
  /** Channel units (C, or F for `[B, F]`). */
  units: number;
}

/**
 * Infers a tensor's layout from its dims at batch 1 and at batch 2: the one dim that doubles is
 * the batch (or T*B); a tensor with no such dim (weights, constants, shape arithmetic) has none.
 *
 * @param atOne dims at batch 1
 * @param atTwo dims at batch 2
 * @returns the layout, or null when the tensor has no batch axis
 * @example
 * ```ts
 * import { inferLayout } from "./layout.ts";
 * const l = inferLayout([4, 16, 7, 7], [8, 16, 7, 7]);
 * if (l?.layout !== "(TB)CHW" || l.T !== 4 || l.units !== 16) throw new Error();
 * ```
 */
export function inferLayout(
  atOne: readonly number[],
  atTwo: readonly number[],
): MeasuredLayout | null {
  if (atOne.length < 2 || atOne.length !== atTwo.length) return null;
  const scaled = atOne.map((d, k) => atTwo[k] === 2 * d && d > 0);
  const k = scaled.indexOf(true);
  if (k < 0 || k > 1 || scaled.filter((x) => x).length !== 1) return null;
  if (atOne.some((d, j) => j !== k && d !== atTwo[j])) return null;
  let layout: Exclude<Layout, "auto">, T = 1, dims: (number | string)[];
  const flat = atOne.length === 2 ? "F" : "CHW";
  if (k === 0 && atOne[0] === 1) {
    layout = atOne.length === 2 ? "BF" : "BCHW";
    dims = ["B", ...atOne.slice(1)];
  } else if (k === 0) {
    layout = `(TB)${flat}`;
    T = atOne[0];
    dims = [`${T}*B`, ...atOne.slice(1)];
  } else {
    if (atOne.length < 3) return null;
    layout = atOne.length === 3 ? "TBF" : "TBCHW";
    T = atOne[0];
    dims = [T, "B", ...atOne.slice(2)];
  }
  const sample = layout.startsWith("TB") ? atOne.slice(2) : atOne.slice(1);
  return { layout, T, dims, units: sample[0] };
}

/**
 * The number of units of a layer.
 *
 * @param dims the layer output's dims
 * @param options batch, layout, kind
 * @returns C (channel units; F for `[B, F]`) or the per-sample element count (spatial units)
 * @example
 * ```ts
 * import { unitCount } from "./layout.ts";
 * if (unitCount([5, 16, 7, 7], { batch: 5 }) !== 16) throw new Error();
 * if (unitCount([5, 16, 7, 7], { batch: 5, kind: "spatial" }) !== 784) throw new Error();
 * ```
 */
export function unitCount(dims: readonly number[], options: UnitOptions): number {
  const r = resolveLayout(dims, options.batch, options.layout);
  return options.kind === "spatial" ? r.sample.reduce((a, b) => a * b, 1) : r.sample[0];
}

/**
 * Per-unit activations of a layer output: for each sample b and unit u, the mean of the unit's
 * entries over time (and, for channel units, over space).
 *
 * @param output the layer output (`data` row-major in `dims`)
 * @param options batch, layout, kind
 * @param out optional buffer of at least B * units to write into (reused across steps)
 * @returns `[B, units]`, row-major
 * @example
 * ```ts
 * import { unitActivations } from "./layout.ts";
 * // time-major [T=2, B=1, F=2]: the mean over T
 * const a = unitActivations({ data: [1, 0, 0, 0], dims: [2, 1, 2] }, { batch: 1, layout: "TBF" });
 * if (a[0] !== 0.5 || a[1] !== 0) throw new Error();
 * ```
 */
export function unitActivations(
  output: ActivationTensor,
  options: UnitOptions,
  out?: Float32Array,
): Float32Array {
  const { T, B, sample } = resolveLayout(output.dims, options.batch, options.layout);
  const per = sample.reduce((a, b) => a * b, 1); // elements of one sample at one time step
  const total = T * B * per;
  if (output.data.length !== total) {
    throw new RangeError(
      `layer output has ${output.data.length} values, its dims ${shape(output.dims)} say ${total}`,
    );
  }
  const spatial = options.kind === "spatial";
  const units = spatial ? per : sample[0];
  const space = per / sample[0]; // positions per channel (1 for [B, F])
  const res = out && out.length >= B * units
    ? out.subarray(0, B * units)
    : new Float32Array(B * units);
  res.fill(0);
  const data = output.data;
  // Time-major in both layouts: element (t, b, i) sits at (t * B + b) * per + i.
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const base = (t * B + b) * per, row = b * units;
      if (spatial) {
        for (let i = 0; i < per; i++) res[row + i] += data[base + i];
      } else {
        for (let c = 0; c < units; c++) {
          let s = 0;
          const o = base + c * space;
          for (let k = 0; k < space; k++) s += data[o + k];
          res[row + c] += s;
        }
      }
    }
  }
  const scale = 1 / (T * (spatial ? 1 : space));
  for (let i = 0; i < res.length; i++) res[i] *= scale;
  return res;
}

/**
 * The spatial-unit index of position (c, h, w) in a `[C, H, W]` sample (row-major).
 *
 * @param sample the per-sample dims `[C, H, W]`
 * @param c channel
 * @param h row
 * @param w column
 * @returns the unit index for `kind: "spatial"`
 * @example
 * ```ts
 * import { spatialUnitIndex } from "./layout.ts";
 * if (spatialUnitIndex([16, 7, 7], 1, 2, 3) !== 49 + 14 + 3) throw new Error();
 * ```
 */
export function spatialUnitIndex(
  sample: readonly number[],
  c: number,
  h: number,
  w: number,
): number {
  const [C, H, W] = sample;
  if (sample.length !== 3) {
    throw new RangeError(`a spatial unit needs a [C, H, W] sample, got ${shape(sample)}`);
  }
  if (!(c >= 0 && c < C && h >= 0 && h < H && w >= 0 && w < W)) {
    throw new RangeError(`unit (${c}, ${h}, ${w}) is outside [${C}, ${H}, ${W}]`);
  }
  return (c * H + h) * W + w;
}
