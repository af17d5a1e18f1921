/**
 * Reads, edits and writes ONNX models (`ModelProto`) at the protobuf level, with no ONNX
 * library: list a graph's nodes, inputs and outputs ({@link parseModel}), expose intermediate
 * tensors as graph outputs ({@link addGraphOutputs}), keep only the part of a graph that some
 * outputs need ({@link pruneGraph}), and build small models by hand ({@link buildModel}, for
 * tests and fixtures).
 *
 * Field numbers are those of `onnx.proto3` (ONNX 1.x): ModelProto.graph = 7; GraphProto:
 * node = 1, name = 2, initializer = 5, input = 11, output = 12, value_info = 13; NodeProto:
 * input = 1, output = 2, name = 3, op_type = 4, attribute = 5, domain = 7; ValueInfoProto:
 * name = 1, type = 2; TypeProto.tensor_type = 1 (elem_type = 1, shape = 2).
 *
 * @example
 * ```ts
 * import { addGraphOutputs, buildModel, parseModel } from "./model.ts";
 * const bytes = buildModel({
 *   inputs: [{ name: "x", dims: ["B", 3] }],
 *   outputs: [{ name: "y", dims: ["B", 3] }],
 *   nodes: [
 *     { opType: "Relu", inputs: ["x"], outputs: ["h"] },
 *     { opType: "Neg", inputs: ["h"], outputs: ["y"] },
 *   ],
 * });
 * const more = parseModel(addGraphOutputs(bytes, ["h"]));
 * if (more.graph.outputs.map((o) => o.name).join() !== "y,h") throw new Error();
 * ```
 * @module
 */

import {
  type Field,
  fields,
  ProtoError,
  ProtoWriter,
  readPackedVarints,
  readString,
  WIRE,
} from "./proto.ts";

/** ONNX `TensorProto.DataType` codes used here. */
export const ELEM_TYPE = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
} as const;

/** Names of the ONNX element types, by code. */
export const ELEM_TYPE_NAME: Record<number, string> = {
  1: "float32",
  2: "uint8",
  3: "int8",
  4: "uint16",
  5: "int16",
  6: "int32",
  7: "int64",
  8: "string",
  9: "bool",
  10: "float16",
  11: "float64",
  12: "uint32",
  13: "uint64",
  16: "bfloat16",
};

/** A dimension: a size, a symbolic name (e.g. `"B"`), or `null` when unknown. */
export type Dim = number | string | null;

/** A declared tensor (graph input, output or value_info entry). */
export interface ValueInfo {
  /** Tensor name. */
  name: string;
  /** Element type code (see {@link ELEM_TYPE}); 0 when not declared. */
  elemType: number;
  /** Declared shape, or `null` when the declaration has none. */
  dims: Dim[] | null;
}

/** A graph node. */
export interface NodeInfo {
  /** Node name (may be empty). */
  name: string;
  /** Operator, e.g. `"Conv"`. */
  opType: string;
  /** Operator domain (`""` is the default ONNX domain). */
  domain: string;
  /** Input tensor names (`""` for an omitted optional input). */
  inputs: string[];
  /** Output tensor names. */
  outputs: string[];
}

/** What {@link parseModel} reads from a model. */
export interface ModelInfo {
  /** `ModelProto.ir_version`. */
  irVersion: number;
  /** Opset versions by domain (`""` is the default domain). */
  opsets: Record<string, number>;
  /** `ModelProto.producer_name`. */
  producer: string;
  /** The main graph, with repeated `graph` fields merged as protobuf does. */
  graph: {
    name: string;
    nodes: NodeInfo[];
    /** Graph inputs that are not initializers (what a caller feeds). */
    inputs: ValueInfo[];
    outputs: ValueInfo[];
    valueInfo: ValueInfo[];
    /** Names of the initializers (weights). */
    initializers: string[];
  };
}

/** Thrown for bytes that are not a readable ONNX model. */
export class OnnxFormatError extends Error {
  /** @param message what is wrong */
  constructor(message: string) {
    super(message);
    this.name = "OnnxFormatError";
  }
}

function parseDims(buf: Uint8Array, f: Field): Dim[] {
  const dims: Dim[] = [];
  for (const d of fields(buf, f.start, f.end)) {
    if (d.field !== 1 || d.wire !== WIRE.LEN) continue;
    let dim: Dim = null;
    for (const g of fields(buf, d.start, d.end)) {
      if (g.field === 1 && g.wire === WIRE.VARINT) dim = g.value;
      else if (g.field === 2 && g.wire === WIRE.LEN) dim = readString(buf, g);
    }
    dims.push(dim);
  }
  return dims;
}

function parseValueInfo(buf: Uint8Array, f: Field): ValueInfo {
  const info: ValueInfo = { name: "", elemType: 0, dims: null };
  for (const g of fields(buf, f.start, f.end)) {
    if (g.field === 1 && g.wire === WIRE.LEN) info.name = readString(buf, g);
    else if (g.field === 2 && g.wire === WIRE.LEN) {
      for (const t of fields(buf, g.start, g.end)) {
        if (t.field !== 1 || t.wire !== WIRE.LEN) continue; // tensor_type only
        for (const u of fields(buf, t.start, t.end)) {
          if (u.field === 1 && u.wire === WIRE.VARINT) info.elemType = u.value;
          else if (u.field === 2 && u.wire === WIRE.LEN) info.dims = parseDims(buf, u);
        }
      }
    }
  }
  return info;
}

function parseNode(buf: Uint8Array, f: Field): NodeInfo {
  const node: NodeInfo = { name: "", opType: "", domain: "", inputs: [], outputs: [] };
  for (const g of fields(buf, f.start, f.end)) {
    if (g.wire !== WIRE.LEN) continue;
    if (g.field === 1) node.inputs.push(readString(buf, g));
    else if (g.field === 2) node.outputs.push(readString(buf, g));
    else if (g.field === 3) node.name = readString(buf, g);
    else if (g.field === 4) node.opType = readString(buf, g);
    else if (g.field === 7) node.domain = readString(buf, g);
  }
  return node;
}

function tensorName(buf: Uint8Array, f: Field): string {
  for (const g of fields(buf, f.start, f.end)) {
    if (g.field === 8 && g.wire === WIRE.LEN) return readString(buf, g);
  }
  return "";
}

/**
 * Parses the parts of an ONNX model this toolkit needs (weights are skipped, not decoded).
 *
 * @param bytes the `.onnx` file's bytes
 * @returns the model's graph structure
 * @throws {OnnxFormatError} if the bytes are not an ONNX model
 * @example
 * ```ts
 * import { buildModel, parseModel } from "./model.ts";
 * const m = parseModel(buildModel({
 *   inputs: [{ name: "x", dims: [2] }], outputs: [{ name: "y", dims: [2] }],
 *   nodes: [{ opType: "Relu", inputs: ["x"], outputs: ["y"] }],
 * }));
 * if (m.graph.nodes[0].opType !== "Relu") throw new Error();
 * ```
 */
export function parseModel(bytes: Uint8Array): ModelInfo {
  const info: ModelInfo = {
    irVersion: 0,
    opsets: {},
    producer: "",
    graph: { name: "", nodes: [], inputs: [], outputs: [], valueInfo: [], initializers: [] },
  };
  const allInputs: ValueInfo[] = [];
  let graphs = 0;
  try {
    for (const f of fields(bytes)) {
      if (f.field === 1 && f.wire === WIRE.VARINT) info.irVersion = f.value;
      else if (f.field === 2 && f.wire === WIRE.LEN) info.producer = readString(bytes, f);
      else if (f.field === 8 && f.wire === WIRE.LEN) {
        let domain = "", version = 0;
        for (const g of fields(bytes, f.start, f.end)) {
          if (g.field === 1 && g.wire === WIRE.LEN) domain = readString(bytes, g);
          else if (g.field === 2 && g.wire === WIRE.VARINT) version = g.value;
        }
        info.opsets[domain] = version;
      } else if (f.field === 7 && f.wire === WIRE.LEN) {
        graphs++;
        const gr = info.graph;
        for (const g of fields(bytes, f.start, f.end)) {
          if (g.wire !== WIRE.LEN) continue;
          if (g.field === 1) gr.nodes.push(parseNode(bytes, g));
          else if (g.field === 2) gr.name = readString(bytes, g);
          else if (g.field === 5) gr.initializers.push(tensorName(bytes, g));
          else if (g.field === 11) allInputs.push(parseValueInfo(bytes, g));
          else if (g.field === 12) gr.outputs.push(parseValueInfo(bytes, g));
          else if (g.field === 13) gr.valueInfo.push(parseValueInfo(bytes, g));
        }
      }
    }
  } catch (e) {
    if (e instanceof ProtoError) throw new OnnxFormatError(`not an ONNX model: ${e.message}`);
    throw e;
  }
  if (graphs === 0 || info.irVersion === 0) {
    throw new OnnxFormatError(
      "not an ONNX model: " + (graphs === 0 ? "no graph" : "no ir_version") + " in the bytes",
    );
  }
  const inits = new Set(info.graph.initializers);
  info.graph.inputs = allInputs.filter((i) => !inits.has(i.name));
  return info;
}

/** A float32 initializer read by {@link readInitializer}. */
export interface FloatTensor {
  /** Dimensions. */
  dims: number[];
  /** Values, row-major. */
  data: Float32Array;
}

/**
 * Reads one float32 initializer (a weight tensor) of the main graph, stored as `raw_data` or
 * as `float_data`.
 *
 * @param bytes the model
 * @param name the initializer's name
 * @returns its dims and values
 * @throws {OnnxFormatError} if there is no float32 initializer of that name
 * @example
 * ```ts
 * import { buildModel, readInitializer } from "./model.ts";
 * const m = buildModel({
 *   inputs: [{ name: "x", dims: [1, 2] }], outputs: [{ name: "y", dims: [1, 2] }],
 *   initializers: [{ name: "w", dims: [2, 2], data: [1, 2, 3, 4] }],
 *   nodes: [{ opType: "MatMul", inputs: ["x", "w"], outputs: ["y"] }],
 * });
 * const w = readInitializer(m, "w");
 * if (w.dims.join() !== "2,2" || w.data[3] !== 4) throw new Error();
 * ```
 */
export function readInitializer(bytes: Uint8Array, name: string): FloatTensor {
  for (const f of fields(bytes)) {
    if (f.field !== 7 || f.wire !== WIRE.LEN) continue;
    for (const g of fields(bytes, f.start, f.end)) {
      if (g.field !== 5 || g.wire !== WIRE.LEN || tensorName(bytes, g) !== name) continue;
      // TensorProto: dims 1, data_type 2, float_data 4, raw_data 9
      const dims: number[] = [];
      let type = 0, raw: Uint8Array | null = null;
      const floats: number[] = [];
      for (const t of fields(bytes, g.start, g.end)) {
        if (t.field === 1) dims.push(...readPackedVarints(bytes, t));
        else if (t.field === 2 && t.wire === WIRE.VARINT) type = t.value;
        else if (t.field === 9 && t.wire === WIRE.LEN) raw = bytes.slice(t.start, t.end);
        else if (t.field === 4 && t.wire === WIRE.LEN) {
          const v = new DataView(bytes.buffer, bytes.byteOffset + t.start, t.end - t.start);
          for (let o = 0; o < v.byteLength; o += 4) floats.push(v.getFloat32(o, true));
        } else if (t.field === 4 && t.wire === WIRE.I32) {
          floats.push(new DataView(Uint32Array.of(t.value).buffer).getFloat32(0, true));
        }
      }
      if (type !== ELEM_TYPE.FLOAT) {
        throw new OnnxFormatError(
          `initializer "${name}" is ${ELEM_TYPE_NAME[type] ?? `type ${type}`}, not float32`,
        );
      }
      return { dims, data: raw ? new Float32Array(raw.buffer) : Float32Array.from(floats) };
    }
  }
  throw new OnnxFormatError(`no initializer named "${name}" in the graph`);
}

function writeValueInfo(
  w: ProtoWriter,
  v: { name: string; elemType?: number; dims?: Dim[] | null },
) {
  w.string(1, v.name);
  if (v.elemType === 0) return; // no type: the runtime infers it
  w.message(2, (t) =>
    t.message(1, (tt) => {
      tt.varint(1, v.elemType ?? ELEM_TYPE.FLOAT);
      if (v.dims) {
        const dims = v.dims;
        tt.message(2, (s) => {
          for (const d of dims) {
            s.message(1, (dw) => {
              if (typeof d === "number") dw.varint(1, d);
              else if (typeof d === "string") dw.string(2, d);
            });
          }
        });
      }
    }));
}

/** A graph output to add: a tensor name, or a name with a declared element type. */
export type OutputSpec = string | { name: string; elemType?: number };

/**
 * Adds graph outputs without re-serializing the model: appends a second `graph` field that holds
 * only `output` entries. Protobuf merges repeated occurrences of an embedded message field, so a
 * reader (onnxruntime included) sees one graph with the extra outputs appended. Each entry
 * declares no shape, and the element type of the tensor's `value_info` entry if the graph has
 * one, else none (onnxruntime infers it; a wrong declared type would fail to load, so a spec's
 * `elemType` is taken as given only when a caller states it).
 *
 * @param bytes the model
 * @param outputs tensor names (or specs) to expose; names already outputs are skipped
 * @returns new model bytes (the input is not modified)
 * @example
 * ```ts
 * import { addGraphOutputs, buildModel, parseModel } from "./model.ts";
 * const m = buildModel({
 *   inputs: [{ name: "x", dims: [2] }], outputs: [{ name: "y", dims: [2] }],
 *   nodes: [{ opType: "Relu", inputs: ["x"], outputs: ["h"] }, { opType: "Neg", inputs: ["h"], outputs: ["y"] }],
 * });
 * if (parseModel(addGraphOutputs(m, ["h", "y"])).graph.outputs.length !== 2) throw new Error();
 * ```
 */
export function addGraphOutputs(bytes: Uint8Array, outputs: readonly OutputSpec[]): Uint8Array {
  const info = parseModel(bytes);
  const have = new Set(info.graph.outputs.map((o) => o.name));
  const declared = new Map(info.graph.valueInfo.map((v) => [v.name, v.elemType]));
  const g = new ProtoWriter();
  for (const o of outputs) {
    const spec = typeof o === "string" ? { name: o, elemType: declared.get(o) ?? 0 } : o;
    if (have.has(spec.name)) continue;
    have.add(spec.name);
    g.message(12, (w) => writeValueInfo(w, spec));
  }
  const extra = g.finish();
  if (extra.length === 0) return bytes;
  return new ProtoWriter().raw(bytes).bytes(7, extra).finish();
}

/**
 * Rewrites the graph so that its outputs are exactly `outputs` (existing outputs or any
 * intermediate tensors) and it holds only the nodes and initializers they depend on. Fields are
 * copied as bytes, so weights are not decoded. Use it to stop a network at the layer that is
 * read: the nodes after it are never run.
 *
 * @param bytes the model
 * @param outputs tensor names to keep as graph outputs, in this order
 * @returns new model bytes with one merged graph
 * @throws {OnnxFormatError} if a name is not a tensor of the graph
 * @example
 * ```ts
 * import { buildModel, parseModel, pruneGraph } from "./model.ts";
 * const m = buildModel({
 *   inputs: [{ name: "x", dims: [2] }], outputs: [{ name: "y", dims: [2] }],
 *   nodes: [{ opType: "Relu", inputs: ["x"], outputs: ["h"] }, { opType: "Neg", inputs: ["h"], outputs: ["y"] }],
 * });
 * const p = parseModel(pruneGraph(m, ["h"]));
 * if (p.graph.nodes.length !== 1 || p.graph.outputs[0].name !== "h") throw new Error();
 * ```
 */
export function pruneGraph(bytes: Uint8Array, outputs: readonly string[]): Uint8Array {
  const info = parseModel(bytes);
  const producer = new Map<string, number>();
  info.graph.nodes.forEach((n, i) => n.outputs.forEach((o) => producer.set(o, i)));
  const inputNames = new Set(info.graph.inputs.map((i) => i.name));
  const inits = new Set(info.graph.initializers);
  for (const o of outputs) {
    if (!producer.has(o) && !inputNames.has(o) && !inits.has(o)) {
      throw new OnnxFormatError(`no tensor named "${o}" in the graph`);
    }
  }
  // Walk back from the outputs. Subgraphs (If/Loop bodies) may read outer tensors that are not
  // node inputs; such nodes keep everything, to stay correct.
  const keepNode = new Set<number>(), needed = new Set<string>(), stack = [...outputs];
  const hasSubgraphs = info.graph.nodes.some((n) => ["If", "Loop", "Scan"].includes(n.opType));
  if (hasSubgraphs) info.graph.nodes.forEach((_, i) => keepNode.add(i));
  while (stack.length) {
    const t = stack.pop()!;
    if (needed.has(t)) continue;
    needed.add(t);
    const i = producer.get(t);
    if (i === undefined || keepNode.has(i)) continue;
    keepNode.add(i);
    for (const x of info.graph.nodes[i].inputs) if (x) stack.push(x);
  }
  if (hasSubgraphs) info.graph.nodes.forEach((n) => n.inputs.forEach((x) => needed.add(x)));
  const declared = new Map<string, ValueInfo>();
  for (const v of [...info.graph.valueInfo, ...info.graph.outputs]) declared.set(v.name, v);

  const model = new ProtoWriter(), graph = new ProtoWriter();
  let nodeIndex = 0;
  for (const f of fields(bytes)) {
    if (f.field !== 7 || f.wire !== WIRE.LEN) {
      model.raw(bytes.subarray(f.tagStart, f.end));
      continue;
    }
    for (const g of fields(bytes, f.start, f.end)) {
      const whole = bytes.subarray(g.tagStart, g.end);
      if (g.field === 1 && g.wire === WIRE.LEN) {
        if (keepNode.has(nodeIndex++)) graph.raw(whole);
      } else if (g.field === 5 && g.wire === WIRE.LEN) {
        if (needed.has(tensorName(bytes, g))) graph.raw(whole);
      } else if (g.field === 11 && g.wire === WIRE.LEN) {
        const v = parseValueInfo(bytes, g);
        if (needed.has(v.name) || !inits.has(v.name)) graph.raw(whole); // keep the interface
      } else if (g.field === 12 || g.field === 13) {
        // outputs are rewritten below; value_info entries of removed tensors are dropped
        if (g.field === 13 && needed.has(parseValueInfo(bytes, g).name)) graph.raw(whole);
      } else graph.raw(whole);
    }
  }
  for (const o of outputs) {
    const d = declared.get(o) ?? info.graph.inputs.find((i) => i.name === o);
    graph.message(12, (w) => writeValueInfo(w, d ?? { name: o, elemType: 0 }));
  }
  return model.bytes(7, graph.finish()).finish();
}

/** An attribute value for {@link buildModel}: ints are integers, floats carry `float: true`. */
export type AttributeValue =
  | number
  | string
  | number[]
  | { float: number }
  | { floats: number[] }
  | { tensor: TensorSpec };

/** A float32/int64 constant tensor for {@link buildModel}. */
export interface TensorSpec {
  name?: string;
  dims: number[];
  /** float32 values (`Float32Array` or numbers), or int64 values as a `BigInt64Array`. */
  data: ArrayLike<number> | BigInt64Array;
}

/** A small model described in plain data, for {@link buildModel}. */
export interface ModelSpec {
  inputs: { name: string; dims: Dim[]; elemType?: number }[];
  outputs: { name: string; dims?: Dim[]; elemType?: number }[];
  nodes: {
    opType: string;
    inputs: string[];
    outputs: string[];
    name?: string;
    domain?: string;
    attributes?: Record<string, AttributeValue>;
  }[];
  initializers?: (TensorSpec & { name: string })[];
  /** Default opset version 17. */
  opset?: number;
  /** Default IR version 8. */
  irVersion?: number;
}

function writeTensor(w: ProtoWriter, t: TensorSpec): void {
  w.packedVarints(1, t.dims);
  if (t.data instanceof BigInt64Array) {
    w.varint(2, ELEM_TYPE.INT64);
    w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  } else {
    w.varint(2, ELEM_TYPE.FLOAT);
    const f = Float32Array.from(t.data);
    w.bytes(9, new Uint8Array(f.buffer)); // raw_data, little-endian
  }
  if (t.name) w.string(8, t.name);
}

function writeAttribute(w: ProtoWriter, name: string, v: AttributeValue): void {
  // AttributeProto: name 1, f 2, i 3, s 4, t 5, floats 7, ints 8, type 20
  w.string(1, name);
  if (typeof v === "number") w.varint(3, v).varint(20, 2);
  else if (typeof v === "string") w.string(4, v).varint(20, 3);
  else if (Array.isArray(v)) {
    for (const x of v) w.varint(8, x);
    w.varint(20, 7);
  } else if ("float" in v) w.float(2, v.float).varint(20, 1);
  else if ("floats" in v) {
    for (const x of v.floats) w.float(7, x);
    w.varint(20, 6);
  } else w.message(5, (t) => writeTensor(t, v.tensor)).varint(20, 4);
}

/**
 * Serializes a small model described in plain data (for tests, fixtures and examples).
 *
 * @param spec inputs, outputs, nodes, initializers
 * @returns the `.onnx` bytes
 * @example
 * ```ts
 * import { buildModel } from "./model.ts";
 * const bytes = buildModel({
 *   inputs: [{ name: "x", dims: ["B", 2] }],
 *   outputs: [{ name: "y", dims: ["B", 2] }],
 *   initializers: [{ name: "w", dims: [2, 2], data: [1, 0, 0, 1] }],
 *   nodes: [{ opType: "MatMul", inputs: ["x", "w"], outputs: ["y"] }],
 * });
 * if (bytes.length < 20) throw new Error();
 * ```
 */
export function buildModel(spec: ModelSpec): Uint8Array<ArrayBuffer> {
  const m = new ProtoWriter();
  m.varint(1, spec.irVersion ?? 8);
  m.string(2, "mei-tt");
  m.message(7, (g) => {
    spec.nodes.forEach((n, i) => {
      g.message(1, (w) => {
        for (const x of n.inputs) w.string(1, x);
        for (const x of n.outputs) w.string(2, x);
        w.string(3, n.name ?? `${n.opType}_${i}`);
        w.string(4, n.opType);
        for (const [k, v] of Object.entries(n.attributes ?? {})) {
          w.message(5, (a) => writeAttribute(a, k, v));
        }
        if (n.domain) w.string(7, n.domain);
      });
    });
    g.string(2, "graph");
    for (const t of spec.initializers ?? []) g.message(5, (w) => writeTensor(w, t));
    for (const v of spec.inputs) g.message(11, (w) => writeValueInfo(w, v));
    for (const v of spec.outputs) {
      g.message(12, (w) => writeValueInfo(w, { ...v, dims: v.dims ?? null }));
    }
  });
  m.message(8, (o) => o.string(1, "").varint(2, spec.opset ?? 17));
  return m.finish();
}

/** Helpers re-exported for readers of other ONNX messages. */
export { fields, readPackedVarints, readString };
