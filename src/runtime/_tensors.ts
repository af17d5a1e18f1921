// Tensors in and out of a session, checked in one place: a feed against the model's declared
// input (size, shape, element type), the dummy feeds that measure layer shapes, the batch axis
// the searches need, and onnxruntime's outputs converted to float32.
import { ModelError } from "./errors.ts";
import type { OrtModule, OrtTensor } from "./_ort.ts";
import { type Dim, ELEM_TYPE, type ValueInfo } from "../onnx/model.ts";

/** An input tensor: row-major data and its dims. */
export interface InputTensor {
  data: Float32Array | BigInt64Array | Int32Array;
  dims: readonly number[];
}

/** An output tensor: always float32 (other element types are converted), row-major. */
export interface OutputTensor {
  data: Float32Array;
  dims: number[];
}

/** A shape as messages print it: `[B, 3, 32, 32]`. */
export function shapeText(dims: readonly Dim[] | readonly number[]): string {
  return `[${dims.map((d) => d ?? "?").join(", ")}]`;
}

const TYPES: Partial<Record<number, string>> = {
  [ELEM_TYPE.FLOAT]: "float32",
  [ELEM_TYPE.INT64]: "int64",
  [ELEM_TYPE.INT32]: "int32",
};

/**
 * Check a feed against its declared input and make the onnxruntime tensor.
 * @param ort the backend package
 * @param decl the declared input
 * @param t the feed
 * @param source the model, as messages name it
 * @throws {ModelError} a size, shape or element type that the input does not take
 */
export function inputTensor(
  ort: OrtModule,
  decl: ValueInfo,
  t: InputTensor,
  source: string,
): OrtTensor {
  const name = decl.name, n = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== n) {
    throw new ModelError(
      `input "${name}": ${t.data.length} values for dims ${shapeText(t.dims)} (${n})`,
    );
  }
  if (decl.dims) {
    const ok = decl.dims.length === t.dims.length &&
      decl.dims.every((d, i) => typeof d !== "number" || d === t.dims[i]);
    if (!ok) {
      throw new ModelError(
        `input "${name}" of ${source} has shape ${shapeText(decl.dims)}, got ${shapeText(t.dims)}`,
      );
    }
  }
  const type = t.data instanceof Float32Array
    ? "float32"
    : t.data instanceof BigInt64Array
    ? "int64"
    : "int32";
  const want = decl.elemType ? TYPES[decl.elemType] ?? type : type;
  if (want !== type) {
    throw new ModelError(`input "${name}" of ${source} is ${want}, got ${type} data`);
  }
  return new ort.Tensor(type, t.data, t.dims);
}

/**
 * Require a batch axis on the first input: searches evaluate many images at once.
 * @param inputs the declared inputs
 * @param source the model, as messages name it
 * @throws {ModelError} when the first axis is a fixed number, saying how to export it
 */
export function requireBatchAxis(inputs: readonly ValueInfo[], source: string): void {
  const first = inputs[0];
  const b = first?.dims?.[0];
  if (typeof b === "number") {
    throw new ModelError(
      `${source} has a fixed batch of ${b} (input "${first.name}" ${shapeText(first.dims!)}); ` +
        `it needs a dynamic batch axis: export it with dynamic_axes={"${first.name}": {0: "B"}}`,
    );
  }
}

/**
 * Feeds of a given batch for every input: 0.5 for floats, 0 for integers.
 * @param inputs the declared inputs
 * @param batch the size of symbolic dims
 */
export function dummyFeeds(
  inputs: readonly ValueInfo[],
  batch: number,
): Record<string, InputTensor> {
  const feeds: Record<string, InputTensor> = {};
  for (const i of inputs) {
    const dims = (i.dims ?? ["B"]).map((d) => (typeof d === "number" && d > 0 ? d : batch));
    const n = dims.reduce((a, b) => a * b, 1);
    const data = i.elemType === ELEM_TYPE.INT64
      ? new BigInt64Array(n)
      : i.elemType === ELEM_TYPE.INT32
      ? new Int32Array(n)
      : new Float32Array(n).fill(0.5);
    feeds[i.name] = { data, dims };
  }
  return feeds;
}

/** An onnxruntime output as float32 (float16, integers and booleans converted). */
export function outputTensor(t: OrtTensor): OutputTensor {
  return { data: toFloat32(t), dims: [...t.dims] };
}

function toFloat32(t: OrtTensor): Float32Array {
  const d = t.data;
  if (d instanceof Float32Array) return d;
  if (t.type === "float16" && d instanceof Uint16Array) {
    const out = new Float32Array(d.length);
    for (let i = 0; i < d.length; i++) out[i] = halfToFloat(d[i]);
    return out;
  }
  return Float32Array.from(d as ArrayLike<number | bigint>, (v) => Number(v));
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}
