/**
 * One ONNX session abstraction over three backends, so that nothing else imports onnxruntime:
 *
 * - `"wasm"`: onnxruntime-web on WebAssembly SIMD (needs only read access to its `.wasm` file
 *   in the npm cache, or `--unstable-raw-imports`); one thread unless `wasmThreads` (see there);
 * - `"webgpu"`: onnxruntime-web's WebGPU provider on Deno's `navigator.gpu`;
 * - `"native"`: onnxruntime-node's native CPU kernels (needs `--allow-ffi`);
 * - `"auto"`: native when `--allow-ffi` is granted and the addon loads, else wasm.
 *
 * The parts, one concern each: `_backends.ts` (every backend described once, and the choice among
 * them), `_load.ts` (model bytes from a path, URL or memory), `_tensors.ts` (feeds checked against
 * the declared inputs, outputs as float32), `_session.ts` (a session), `_layers.ts` (layer names
 * and the candidate layers), `layout.ts` (layouts of layer outputs and units).
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

import { BACKEND_NAMES, type BackendName } from "./_backends.ts";
import { openSession } from "./_session.ts";
import { buildModel } from "../onnx/model.ts";

export { BackendError, ModelError } from "./errors.ts";
export type { ModelSource } from "./_load.ts";
export { BACKEND_NAMES, type BackendChoice, type BackendName } from "./_backends.ts";
export { useBrowserOrt } from "./_ort.ts";
export {
  type GraphOptimization,
  openSession,
  type Session,
  type SessionOptions,
} from "./_session.ts";
export { type InputTensor, type OutputTensor, requireBatchAxis } from "./_tensors.ts";
export { closeMatches, type LayerInfo, listLayers, type ListLayersOptions } from "./_layers.ts";
export {
  type ActivationTensor,
  inferLayout,
  type Layout,
  type MeasuredLayout,
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
  for (const backend of BACKEND_NAMES) {
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
