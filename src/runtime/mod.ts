/**
 * One ONNX session abstraction over three backends, so that nothing else imports onnxruntime:
 *
 * - `"wasm"`: onnxruntime-web on WebAssembly SIMD (needs only read access to its `.wasm` file
 *   in the npm cache, or `--unstable-raw-imports`); one thread unless `wasmThreads` (see there);
 * - `"webgpu"`: onnxruntime-web's WebGPU provider on Deno's `navigator.gpu`;
 * - `"native"`: onnxruntime-node's native CPU kernels (needs `--allow-ffi`);
 * - `"auto"`: native when `--allow-ffi` is granted and the addon loads, else wasm.
 *
 * Backends load lazily (dynamic import) when a session is opened, so importing this module needs
 * no permission and loads no addon. Models come from a path, a URL (http, https, file: fetched,
 * so this works when the toolkit itself is imported by URL) or bytes. Any intermediate tensor can
 * be read: name it in `outputs`, and the graph is rewritten to end there ({@link openSession}).
 *
 * @example
 * ```ts
 * import { buildModel, openSession } from "./mod.ts";
 * const model = buildModel({
 *   inputs: [{ name: "x", dims: ["B", 3] }],
 *   outputs: [{ name: "y", dims: ["B", 3] }],
 *   nodes: [
 *     { opType: "Relu", inputs: ["x"], outputs: ["h"] },
 *     { opType: "Neg", inputs: ["h"], outputs: ["y"] },
 *   ],
 * });
 * const s = await openSession(model, { backend: "wasm", outputs: ["h"] });
 * const { h } = await s.run({ x: { data: new Float32Array([-1, 0, 2]), dims: [1, 3] } });
 * if (h.data.join() !== "0,0,2") throw new Error();
 * await s.release();
 * ```
 * @module
 */

import { BackendError, ModelError } from "./errors.ts";
import { type LoadedModel, loadModel, type ModelSource } from "./_load.ts";
import { type BackendName, defaultThreads, loadBackend, type LoadedBackend } from "./_backends.ts";
import { granted, type OrtSession, type OrtTensor } from "./_ort.ts";
import {
  addGraphOutputs,
  buildModel,
  type Dim,
  ELEM_TYPE,
  pruneGraph,
  type ValueInfo,
} from "../onnx/model.ts";
import type { Layout } from "./layout.ts";

export { BackendError, ModelError } from "./errors.ts";
export type { ModelSource } from "./_load.ts";
export type { BackendName } from "./_backends.ts";
export {
  type ActivationTensor,
  type Layout,
  type ResolvedLayout,
  resolveLayout,
  spatialUnitIndex,
  unitActivations,
  unitCount,
  type UnitKind,
  type UnitOptions,
} from "./layout.ts";
export {
  addGraphOutputs,
  buildModel,
  type Dim,
  ELEM_TYPE,
  type ModelInfo,
  type ModelSpec,
  type NodeInfo,
  parseModel,
  pruneGraph,
  type ValueInfo,
} from "../onnx/model.ts";

/** A backend choice: a backend, or `"auto"` (native if `--allow-ffi` and the addon loads, else wasm). */
export type BackendChoice = BackendName | "auto";

/** Graph optimization levels of onnxruntime. */
export type GraphOptimization = "disabled" | "basic" | "extended" | "all";

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

/** Options of {@link openSession}. */
export interface SessionOptions {
  /** Backend (default `"auto"`). */
  backend?: BackendChoice;
  /**
   * Threads (default: the machine's cores, at most 8). wasm runs on 1 unless `wasmThreads`, and
   * webgpu on 1; both fix their thread count per process at the first session.
   * {@link Session.threads} says what a session got.
   */
  threads?: number;
  /**
   * Tensors to return: graph outputs or any intermediate tensor (node output) of the graph.
   * Default: the graph's outputs.
   */
  outputs?: readonly string[];
  /**
   * With `outputs` given, rewrite the graph to end at them, so nodes that they do not depend on
   * never run (default true). With false, intermediate tensors are added as extra graph outputs
   * and the whole graph runs.
   */
  prune?: boolean;
  /**
   * Let the wasm backend use `threads` threads (default false: wasm runs on 1 thread, and says so
   * in {@link Session.notes}). onnxruntime-web's threads work under Deno, but the first run of a
   * large batch can deadlock (seen at B >= 50 on 2 threads), so they are opt-in.
   */
  wasmThreads?: boolean;
  /** onnxruntime graph optimization level (default `"all"`). */
  graphOptimization?: GraphOptimization;
  /**
   * native: let idle pool threads spin while waiting for work (default false: on a machine
   * shared with other jobs spinning threads steal the cores the work needs; on an idle machine
   * true can shave latency). wasm and webgpu always spin (see openSession).
   */
  spinning?: boolean;
  /**
   * Fix symbolic dims (e.g. `{ B: 25 }`): onnxruntime can then fold shape computations, but the
   * session only accepts that size. Default none.
   */
  fixedDims?: Record<string, number>;
}

/** An open model on one backend. */
export interface Session {
  /** The backend that runs it. */
  readonly backend: BackendName;
  /** Threads it runs on. */
  readonly threads: number;
  /** Names of the inputs to feed. */
  readonly inputNames: readonly string[];
  /** Names of the tensors {@link Session.run} returns. */
  readonly outputNames: readonly string[];
  /** Declared inputs (element type, dims with symbolic names such as `"B"`). */
  readonly inputs: readonly ValueInfo[];
  /** Where the model came from (path, URL or `"<bytes>"`). */
  readonly source: string;
  /** Decisions taken on the way (fallbacks, thread count, adapter), for run records. */
  readonly notes: readonly string[];
  /**
   * Runs the model on one batch.
   * @param feeds every input, by name
   * @param outputs a subset of {@link Session.outputNames} (default all)
   * @returns the outputs, by name, as float32
   */
  run(
    feeds: Record<string, InputTensor>,
    outputs?: readonly string[],
  ): Promise<Record<string, OutputTensor>>;
  /** Frees the session. */
  release(): Promise<void>;
}

const LEVELS: Record<GraphOptimization, string> = {
  disabled: "disabled",
  basic: "basic",
  extended: "extended",
  all: "all",
};

function shapeText(dims: readonly Dim[] | readonly number[]): string {
  return `[${dims.map((d) => d ?? "?").join(", ")}]`;
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

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

function unknownLayerError(model: LoadedModel, name: string): ModelError {
  const g = model.info.graph;
  const outputs = g.outputs.map((o) => o.name);
  const tensors = new Set(g.nodes.flatMap((n) => n.outputs).filter((x) => x));
  const close = [...tensors]
    .map((t) => [t, t.includes(name) || name.includes(t) ? 0 : editDistance(t, name)] as const)
    .filter(([, d]) => d <= Math.max(2, name.length / 4))
    .sort((a, b) => a[1] - b[1])
    .slice(0, 5)
    .map(([t]) => t);
  return new ModelError(
    `unknown layer "${name}" in ${model.source}. Named outputs: ${outputs.join(", ")}` +
      (close.length ? `. Close matches: ${close.join(", ")}` : "") +
      `. Any of the graph's ${tensors.size} node outputs is a layer too (--list-layers prints them).`,
  );
}

class OrtBackedSession implements Session {
  readonly backend: BackendName;
  readonly threads: number;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputs: readonly ValueInfo[];
  readonly source: string;
  readonly notes: readonly string[];
  #ort: LoadedBackend;
  #session: OrtSession;

  constructor(
    b: LoadedBackend,
    session: OrtSession,
    model: LoadedModel,
    outputs: readonly string[],
    notes: string[],
  ) {
    this.backend = b.name;
    this.threads = b.threads;
    this.#ort = b;
    this.#session = session;
    this.inputs = model.info.graph.inputs;
    this.inputNames = this.inputs.map((i) => i.name);
    this.outputNames = outputs;
    this.source = model.source;
    this.notes = notes;
  }

  #tensor(name: string, t: InputTensor): OrtTensor {
    const decl = this.inputs.find((i) => i.name === name)!;
    const n = t.dims.reduce((a, b) => a * b, 1);
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
          `input "${name}" of ${this.source} has shape ${shapeText(decl.dims)}, got ${
            shapeText(t.dims)
          }`,
        );
      }
    }
    const type = t.data instanceof Float32Array
      ? "float32"
      : t.data instanceof BigInt64Array
      ? "int64"
      : "int32";
    const want = decl.elemType;
    const wantType = want === ELEM_TYPE.FLOAT
      ? "float32"
      : want === ELEM_TYPE.INT64
      ? "int64"
      : want === ELEM_TYPE.INT32
      ? "int32"
      : type;
    if (want && wantType !== type) {
      throw new ModelError(`input "${name}" of ${this.source} is ${wantType}, got ${type} data`);
    }
    return new this.#ort.ort.Tensor(type, t.data, t.dims);
  }

  async run(
    feeds: Record<string, InputTensor>,
    outputs?: readonly string[],
  ): Promise<Record<string, OutputTensor>> {
    const ortFeeds: Record<string, OrtTensor> = {};
    for (const name of this.inputNames) {
      if (!(name in feeds)) {
        throw new ModelError(
          `missing input "${name}" (the model's inputs: ${this.inputNames.join(", ")})`,
        );
      }
      ortFeeds[name] = this.#tensor(name, feeds[name]);
    }
    for (const name of Object.keys(feeds)) {
      if (!this.inputNames.includes(name)) {
        throw new ModelError(
          `unknown input "${name}" (the model's inputs: ${this.inputNames.join(", ")})`,
        );
      }
    }
    const fetch = outputs ?? this.outputNames;
    for (const o of fetch) {
      if (!this.outputNames.includes(o)) {
        throw new ModelError(
          `"${o}" is not an output of this session (${this.outputNames.join(", ")})`,
        );
      }
    }
    const res = await this.#session.run(ortFeeds, fetch);
    const out: Record<string, OutputTensor> = {};
    for (const o of fetch) {
      const t = res[o];
      out[o] = { data: toFloat32(t), dims: [...t.dims] };
    }
    return out;
  }

  async release(): Promise<void> {
    await this.#session.release();
  }
}

async function pickBackend(
  choice: BackendChoice,
  threads: number,
  notes: string[],
  wasmThreads: boolean,
): Promise<LoadedBackend> {
  if (choice !== "auto") return await loadBackend(choice, threads, wasmThreads);
  if (granted({ name: "ffi" })) {
    try {
      return await loadBackend("native", threads);
    } catch (e) {
      notes.push(`auto: native failed (${(e as Error).message}), using wasm`);
    }
  } else notes.push("auto: no --allow-ffi, using wasm");
  return await loadBackend("wasm", threads, wasmThreads);
}

function checkOutputs(model: LoadedModel, outputs: readonly string[]): void {
  const g = model.info.graph;
  const known = new Set([...g.outputs.map((o) => o.name), ...g.nodes.flatMap((n) => n.outputs)]);
  for (const o of outputs) if (!known.has(o) || o === "") throw unknownLayerError(model, o);
}

/**
 * Opens a model on a backend.
 *
 * @param model the `.onnx` bytes, a file path, or a URL (http, https, file: fetched)
 * @param options backend, threads, outputs (any intermediate tensors), pruning, optimization level
 * @returns a {@link Session}
 * @throws {ModelError} missing or corrupt model, unknown output name (the message lists valid ones)
 * @throws {BackendError} the backend cannot run here (the message says which flag it needs)
 * @example
 * ```ts
 * import { buildModel, openSession } from "./mod.ts";
 * const model = buildModel({
 *   inputs: [{ name: "x", dims: ["B", 2] }], outputs: [{ name: "y", dims: ["B", 2] }],
 *   nodes: [{ opType: "Relu", inputs: ["x"], outputs: ["y"] }],
 * });
 * const s = await openSession(model, { backend: "wasm", threads: 1 });
 * const { y } = await s.run({ x: { data: new Float32Array([-1, 1]), dims: [1, 2] } });
 * if (y.data[1] !== 1 || s.backend !== "wasm") throw new Error();
 * await s.release();
 * ```
 */
export async function openSession(
  model: ModelSource,
  options: SessionOptions = {},
): Promise<Session> {
  const loaded = await loadModel(model);
  const graphOutputs = loaded.info.graph.outputs.map((o) => o.name);
  const outputs = options.outputs ? [...new Set(options.outputs)] : graphOutputs;
  if (outputs.length === 0) throw new ModelError(`${loaded.source}: the graph has no outputs`);
  checkOutputs(loaded, outputs);
  let bytes = loaded.bytes;
  if (options.outputs && options.prune !== false) bytes = pruneGraph(bytes, outputs);
  else if (options.outputs) bytes = addGraphOutputs(bytes, outputs);
  const notes: string[] = [];
  const threads = Math.max(1, Math.floor(options.threads ?? defaultThreads()));
  const backend = await pickBackend(
    options.backend ?? "auto",
    threads,
    notes,
    options.wasmThreads ?? false,
  );
  notes.push(...backend.notes);
  const sessionOptions: Record<string, unknown> = {
    ...backend.sessionOptions,
    graphOptimizationLevel: LEVELS[options.graphOptimization ?? "all"],
  };
  if (options.fixedDims) sessionOptions.freeDimensionOverrides = options.fixedDims;
  // Not on wasm: there, pool threads that sleep instead of spinning hang onnxruntime-web 1.30 on
  // larger batches (B >= 50 on 2 threads under Deno never finishes), so its pool always spins.
  if (!options.spinning && backend.name === "native") {
    // (two objects: onnxruntime-web rejects an options object met twice as "circular")
    sessionOptions.extra = {
      session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } },
    };
  }
  let session: OrtSession;
  try {
    session = await backend.ort.InferenceSession.create(bytes, sessionOptions);
  } catch (e) {
    const msg = String((e as Error)?.message ?? e);
    if (/read access|NotCapable|--allow/.test(msg)) {
      throw new BackendError(`the ${backend.name} backend could not start: ${msg}`, { cause: e });
    }
    throw new ModelError(
      `${loaded.source}: onnxruntime (${backend.name}) cannot load the model: ${msg}`,
      {
        cause: e,
      },
    );
  }
  return new OrtBackedSession(backend, session, loaded, outputs, notes);
}

/** A layer candidate found by {@link listLayers}. */
export interface LayerInfo {
  /** Tensor name (what `outputs` and `--layer` take). */
  name: string;
  /** The operator that produces it. */
  opType: string;
  /** The producing node's name. */
  node: string;
  /** Whether the model declares it as a graph output (a named layer). */
  isOutput: boolean;
  /** Dims with the batch written `"B"` (time-major flattened: `"4*B"`); null if not measured. */
  dims: (number | string)[] | null;
  /** The layout found (a batch-scaled float tensor), or null if not measured. */
  layout: Exclude<Layout, "auto"> | null;
  /** Time steps (1 for batch-first layouts). */
  T: number;
  /** Channel units (C, or F for `[B, F]`), or 0 if not measured. */
  units: number;
}

/** Options of {@link listLayers}. */
export interface ListLayersOptions {
  /** Backend for the dummy runs that measure shapes (default `"auto"`). */
  backend?: BackendChoice;
  /** Measure shapes with two dummy runs (batch 1 and 2); default true. */
  shapes?: boolean;
  /** Threads (default as in {@link openSession}). */
  threads?: number;
}

function dummyFeeds(inputs: readonly ValueInfo[], batch: number): Record<string, InputTensor> {
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

/**
 * Lists the candidate layers of a model: every node output, with its operator, and (by two dummy
 * runs at batch 1 and 2 with every candidate exposed) its shape and layout. With shapes, only
 * tensors with a batch dim are listed (weights, constants and shape arithmetic drop out; boolean
 * and integer tensors stay, read as float32).
 *
 * @param model bytes, path or URL
 * @param options backend, shapes
 * @returns the candidates: named outputs first (in declared order), then the rest in graph order
 * @example
 * ```ts
 * import { buildModel, listLayers } from "./mod.ts";
 * const model = buildModel({
 *   inputs: [{ name: "x", dims: ["B", 3] }], outputs: [{ name: "y", dims: ["B", 3] }],
 *   nodes: [{ opType: "Relu", inputs: ["x"], outputs: ["h"] }, { opType: "Neg", inputs: ["h"], outputs: ["y"] }],
 * });
 * const layers = await listLayers(model, { backend: "wasm" });
 * if (layers.map((l) => `${l.name}:${l.dims}`).join() !== "y:B,3,h:B,3") throw new Error();
 * ```
 */
export async function listLayers(
  model: ModelSource,
  options: ListLayersOptions = {},
): Promise<LayerInfo[]> {
  const loaded = await loadModel(model);
  const g = loaded.info.graph;
  const declared = new Set(g.outputs.map((o) => o.name));
  const seen = new Set<string>();
  const all: LayerInfo[] = [];
  for (const n of g.nodes) {
    for (const o of n.outputs) {
      if (!o || seen.has(o)) continue;
      seen.add(o);
      all.push({
        name: o,
        opType: n.opType,
        node: n.name,
        isOutput: declared.has(o),
        dims: null,
        layout: null,
        T: 1,
        units: 0,
      });
    }
  }
  const rank = new Map(g.outputs.map((o, i) => [o.name, i]));
  all.sort((a, b) => (rank.get(a.name) ?? 1e9) - (rank.get(b.name) ?? 1e9)); // stable
  if (options.shapes === false) return all;
  const s = await openSession(loaded.bytes, {
    backend: options.backend,
    threads: options.threads,
    outputs: all.map((l) => l.name),
    prune: false,
  });
  try {
    const [r1, r2] = [await s.run(dummyFeeds(s.inputs, 1)), await s.run(dummyFeeds(s.inputs, 2))];
    const out: LayerInfo[] = [];
    for (const l of all) {
      const d1 = r1[l.name].dims, d2 = r2[l.name].dims;
      if (d1.length < 2 || d1.length !== d2.length) continue;
      const scaled = d1.map((d, k) => d2[k] === 2 * d && d > 0);
      const k = scaled.indexOf(true);
      if (k < 0 || k > 1 || scaled.filter((x) => x).length !== 1) continue;
      if (d1.some((d, j) => j !== k && d !== d2[j])) continue;
      let layout: Exclude<Layout, "auto">, T = 1, dims: (number | string)[];
      const flat = d1.length === 2 ? "F" : "CHW";
      if (k === 0 && d1[0] === 1) {
        layout = d1.length === 2 ? "BF" : "BCHW";
        dims = ["B", ...d1.slice(1)];
      } else if (k === 0) {
        layout = `(TB)${flat}` as Exclude<Layout, "auto">;
        T = d1[0];
        dims = [`${T}*B`, ...d1.slice(1)];
      } else {
        if (d1.length < 3) continue;
        layout = `TB${flat === "F" ? "F" : "CHW"}` as Exclude<Layout, "auto">;
        if (d1.length === 3) layout = "TBF";
        T = d1[0];
        dims = [T, "B", ...d1.slice(2)];
      }
      const sample = layout.startsWith("TB") ? d1.slice(2) : d1.slice(1);
      out.push({ ...l, dims, layout, T, units: sample[0] });
    }
    return out;
  } finally {
    await s.release();
  }
}

/** Availability of one backend here. */
export interface BackendStatus {
  backend: BackendName;
  available: boolean;
  /** Threads a session gets. */
  threads: number;
  /** Why not (when unavailable), or notes (adapter, fallbacks). */
  detail: string;
}

/**
 * Checks which backends run here, by running a one-node model on each.
 *
 * @param threads threads to ask for (default the machine's cores, at most 8)
 * @returns one status per backend: wasm, native, webgpu
 * @example
 * ```ts
 * import { availableBackends } from "./mod.ts";
 * const wasm = (await availableBackends(1)).find((b) => b.backend === "wasm")!;
 * if (!wasm.available) throw new Error(wasm.detail);
 * ```
 */
export async function availableBackends(threads?: number): Promise<BackendStatus[]> {
  const model = buildModel({
    inputs: [{ name: "x", dims: [2] }],
    outputs: [{ name: "y", dims: [2] }],
    nodes: [{ opType: "Relu", inputs: ["x"], outputs: ["y"] }],
  });
  const out: BackendStatus[] = [];
  for (const backend of ["wasm", "native", "webgpu"] as const) {
    try {
      const s = await openSession(model, { backend, threads });
      const { y } = await s.run({ x: { data: new Float32Array([-1, 2]), dims: [2] } });
      if (y.data[0] !== 0 || y.data[1] !== 2) throw new Error(`wrong result ${y.data}`);
      out.push({ backend, available: true, threads: s.threads, detail: s.notes.join("; ") });
      await s.release();
    } catch (e) {
      out.push({ backend, available: false, threads: 0, detail: (e as Error).message });
    }
  }
  return out;
}
