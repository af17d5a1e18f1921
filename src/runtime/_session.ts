// A session: a model opened on a backend, with its feeds checked and its outputs converted.
import { BackendError, ModelError } from "./errors.ts";
import { type LoadedModel, loadModel, type ModelSource } from "./_load.ts";
import {
  type BackendChoice,
  type BackendName,
  chooseBackend,
  defaultThreads,
} from "./_backends.ts";
import type { OrtSession, OrtTensor } from "./_ort.ts";
import { type InputTensor, inputTensor, type OutputTensor, outputTensor } from "./_tensors.ts";
import { checkOutputs } from "./_layers.ts";
import { addGraphOutputs, pruneGraph, type ValueInfo } from "../onnx/model.ts";
import type { LoadedBackend } from "./_backends.ts";

/** Graph optimization levels of onnxruntime. */
export type GraphOptimization = "disabled" | "basic" | "extended" | "all";

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
   * true can shave latency). wasm and webgpu always spin.
   */
  spinning?: boolean;
  /**
   * Fix symbolic dims (e.g. `{ B: 25 }`): onnxruntime can then fold shape computations, but the
   * session only accepts that size. Default none.
   */
  fixedDims?: Record<string, number>;
  /**
   * How messages name the model (default its path or URL, `"<bytes>"` for bytes), e.g.
   * `"the target model x.onnx"`.
   */
  source?: string;
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
  /** Where the model came from (path, URL or `"<bytes>"`, or the `source` option). */
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

  async run(
    feeds: Record<string, InputTensor>,
    outputs?: readonly string[],
  ): Promise<Record<string, OutputTensor>> {
    const ortFeeds: Record<string, OrtTensor> = {};
    for (const decl of this.inputs) {
      if (!(decl.name in feeds)) {
        throw new ModelError(
          `missing input "${decl.name}" (the model's inputs: ${this.inputNames.join(", ")})`,
        );
      }
      ortFeeds[decl.name] = inputTensor(this.#ort.ort, decl, feeds[decl.name], this.source);
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
    return Object.fromEntries(fetch.map((o) => [o, outputTensor(res[o])]));
  }

  async release(): Promise<void> {
    await this.#session.release();
  }
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
  const loaded = await loadModel(model, options.source);
  const graphOutputs = loaded.info.graph.outputs.map((o) => o.name);
  const outputs = options.outputs ? [...new Set(options.outputs)] : graphOutputs;
  if (outputs.length === 0) throw new ModelError(`${loaded.source}: the graph has no outputs`);
  checkOutputs(loaded, outputs);
  let bytes = loaded.bytes;
  if (options.outputs && options.prune !== false) bytes = pruneGraph(bytes, outputs);
  else if (options.outputs) bytes = addGraphOutputs(bytes, outputs);
  const notes: string[] = [];
  const threads = Math.max(1, Math.floor(options.threads ?? defaultThreads()));
  const backend = await chooseBackend(
    options.backend ?? "auto",
    threads,
    notes,
    options.wasmThreads ?? false,
  );
  notes.push(...backend.notes);
  const sessionOptions: Record<string, unknown> = {
    ...backend.sessionOptions(options.spinning ?? false),
    graphOptimizationLevel: options.graphOptimization ?? "all",
  };
  if (options.fixedDims) sessionOptions.freeDimensionOverrides = options.fixedDims;
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
      { cause: e },
    );
  }
  return new OrtBackedSession(backend, session, loaded, outputs, notes);
}
