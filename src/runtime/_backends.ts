// The backends, each described once in BACKENDS (adding one means adding its name and its entry
// here): a loader that imports its package lazily and returns it with the session options that
// suit it (a backend that cannot run here throws a BackendError that says why), and the choice
// among them (`chooseBackend`, with "auto").
//
// wasm: onnxruntime-web's Node build (Deno runs it as Node). Its threads are Emscripten pthreads
//   on node:worker_threads Workers, which Deno provides; the thread count is global to the
//   process and fixed by the first session (env.wasm.numThreads). They run, but the first run
//   of a large batch (B >= 50 on 2 threads) hangs often enough (the main thread spins, no pool
//   thread works) that wasm stays on 1 thread unless SessionOptions.wasmThreads asks for more;
//   with pool threads that sleep instead of spinning it hangs on larger batches every time.
//   The .wasm binary is read from the npm cache, so it needs read access to that one file;
//   without it the bytes come from a `with { type: "bytes" }` import, which needs
//   --unstable-raw-imports. The proxy worker (env.wasm.proxy) is a browser feature, left off.
// webgpu: onnxruntime-web's WebGPU build on Deno's navigator.gpu, on one CPU thread (see below).
// In a browser (the web page; `useBrowserOrt`) wasm and webgpu import onnxruntime-web's browser
//   builds, which fetch their own binaries, and wasm uses its threads (cross-origin isolated).
// native: onnxruntime-node, a Node-API addon with the native CPU kernels; Deno loads Node-API
//   addons with --allow-ffi and no node_modules folder.
import { BackendError } from "./errors.ts";
import {
  granted,
  importPackage,
  inBrowser,
  type OrtModule,
  packageFile,
  PACKAGES,
} from "./_ort.ts";

/** The backends, in the order availableBackends checks them (each has an entry in BACKENDS). */
export const BACKEND_NAMES = ["wasm", "native", "webgpu"] as const;

/** A backend name. */
export type BackendName = typeof BACKEND_NAMES[number];

/** A loaded backend. */
export interface LoadedBackend {
  name: BackendName;
  ort: OrtModule;
  /** Threads the backend will use. */
  threads: number;
  /**
   * Session options for InferenceSession.create.
   * @param spinning whether idle pool threads may spin (see SessionOptions.spinning)
   */
  sessionOptions(spinning: boolean): Record<string, unknown>;
  /** What was decided on the way (fallbacks, adapters), for run records. */
  notes: string[];
}

/** The default thread count: the machine's cores, at most 8. */
export function defaultThreads(): number {
  return Math.max(1, Math.min(8, navigator.hardwareConcurrency || 1));
}

async function wasmBinaryOverride(
  file: string,
  ort: OrtModule,
  notes: string[],
  always = false,
): Promise<void> {
  const path = packageFile(`onnxruntime-web/${file}`);
  if (path !== null && granted({ name: "read", path })) {
    if (always) ort.env.wasm.wasmBinary = await Deno.readFile(path);
    return; // else onnxruntime reads it itself
  }
  try {
    let mod;
    try {
      mod = await import(import.meta.resolve(`onnxruntime-web/${file}`), {
        with: { type: "bytes" },
      });
    } catch {
      // No import map (mod.ts imported by URL): the pinned npm specifier, computed at run time.
      const spec = "npm" + ":" + `${PACKAGES["onnxruntime-web"]}/${file}`;
      mod = await import(spec, { with: { type: "bytes" } });
    }
    ort.env.wasm.wasmBinary = mod.default as Uint8Array;
    notes.push(`${file} imported as bytes (no read access to the npm cache)`);
  } catch (e) {
    throw new BackendError(
      `the wasm backend needs its WebAssembly binary: run with --allow-read=${
        path ?? "<npm cache>"
      } ` +
        `(or --unstable-raw-imports)`,
      { cause: e },
    );
  }
}

async function loadWasm(threads: number, multithreaded: boolean): Promise<LoadedBackend> {
  const notes: string[] = [];
  const ort = await importPackage("onnxruntime-web");
  const env = ort.env;
  env.logLevel = "error";
  let n = threads;
  if (n > 1 && !multithreaded && !inBrowser()) {
    notes.push(
      `wasm runs on 1 thread, not ${n}: onnxruntime-web's pthreads can deadlock under Deno on ` +
        "the first large batch (seen at B >= 50); wasmThreads: true tries them anyway",
    );
    n = 1;
  }
  if (n > 1 && typeof SharedArrayBuffer === "undefined") {
    notes.push("no SharedArrayBuffer: the wasm backend runs on 1 thread");
    n = 1;
  }
  env.wasm.numThreads = n;
  env.wasm.proxy = false;
  // In a browser onnxruntime-web fetches its binary beside its own file.
  if (!inBrowser()) await wasmBinaryOverride("ort-wasm-simd-threaded.wasm", ort, notes);
  // Its pool always spins: with pool threads that sleep, onnxruntime-web 1.30 hangs on larger
  // batches (B >= 50 on 2 threads under Deno never finishes).
  const sessionOptions = () => ({ executionProviders: ["wasm"] });
  return { name: "wasm", ort, threads: n, sessionOptions, notes };
}

async function loadWebgpu(threads: number): Promise<LoadedBackend> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) {
    throw new BackendError("webgpu backend not available: this runtime has no navigator.gpu");
  }
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch (e) {
    throw new BackendError(`webgpu backend not available: requestAdapter failed: ${e}`, {
      cause: e,
    });
  }
  if (!adapter) {
    throw new BackendError(
      "webgpu backend not available: no GPU adapter (requestAdapter() gave null)",
    );
  }
  const info = adapter.info;
  const notes = [
    `webgpu adapter: ${info.description || info.vendor || "unknown"}` +
    (info.isFallbackAdapter ? " (software fallback adapter)" : ""),
  ];
  const ort = await importPackage("onnxruntime-web/webgpu");
  ort.env.logLevel = "error";
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.proxy = false;
  ort.env.webgpu.adapter = adapter;
  // The WebGPU build is browser-only: with threads it spawns its pthread workers from blob: URLs,
  // which Deno's node:worker_threads refuses. On one thread, with the binary handed over, it uses
  // its embedded glue and spawns nothing; the GPU does the work, the CPU thread only feeds it.
  if (threads > 1) {
    notes.push("webgpu runs its CPU side on 1 thread (the build's workers need blob: URLs)");
  }
  threads = 1;
  ort.env.wasm.numThreads = 1;
  if (!inBrowser()) {
    await wasmBinaryOverride("ort-wasm-simd-threaded.asyncify.wasm", ort, notes, true);
  }
  return {
    name: "webgpu",
    ort,
    threads,
    // Errors only: onnxruntime warns on every session that shape nodes run on the CPU (and a
    // browser shows the warnings as console errors).
    sessionOptions: () => ({ executionProviders: ["webgpu", "wasm"], logSeverityLevel: 3 }),
    notes,
  };
}

async function loadNative(threads: number): Promise<LoadedBackend> {
  if (!granted({ name: "ffi" })) {
    throw new BackendError(
      "native backend not available: it loads onnxruntime-node's Node-API addon, run with --allow-ffi",
    );
  }
  let ort: OrtModule;
  try {
    ort = await importPackage("onnxruntime-node");
  } catch (e) {
    throw new BackendError(`native backend not available: onnxruntime-node failed to load: ${e}`, {
      cause: e,
    });
  }
  return {
    name: "native",
    ort,
    threads,
    sessionOptions: (spinning) => ({
      executionProviders: ["cpu"],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: "sequential",
      // Idle pool threads that spin steal the cores the work needs on a shared machine. (Two
      // objects: onnxruntime rejects an options object met twice as "circular".)
      ...(spinning ? {} : {
        extra: {
          session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } },
        },
      }),
    }),
    notes: [],
  };
}

/** How a backend is loaded. */
interface BackendDescription {
  /**
   * Import the package and set it up.
   * @param threads wanted threads
   * @param wasmThreads let wasm use more than one thread (see loadWasm)
   */
  load(threads: number, wasmThreads: boolean): Promise<LoadedBackend>;
  /** Loaded once per process (its thread pool is global to the process). */
  once: boolean;
}

/** Every backend, described once. */
const BACKENDS: Record<BackendName, BackendDescription> = {
  wasm: { load: loadWasm, once: true },
  native: { load: loadNative, once: false },
  webgpu: { load: loadWebgpu, once: true },
};

const loaded = new Map<BackendName, Promise<LoadedBackend>>();

/**
 * Loads a backend (once per process for those whose thread pool is global).
 * @param name the backend
 * @param threads wanted threads
 * @param wasmThreads let wasm use more than one thread (see loadWasm)
 */
export async function loadBackend(
  name: BackendName,
  threads: number,
  wasmThreads = false,
): Promise<LoadedBackend> {
  const backend = BACKENDS[name];
  if (!backend.once) return await backend.load(threads, wasmThreads);
  if (!loaded.has(name)) loaded.set(name, backend.load(threads, wasmThreads));
  const b = await loaded.get(name)!.catch((e) => {
    loaded.delete(name);
    throw e;
  });
  return withThreadNote(b, threads);
}

function withThreadNote(b: LoadedBackend, threads: number): LoadedBackend {
  if (threads === b.threads || b.name === "webgpu" || b.notes.some((n) => n.includes("1 thread"))) {
    return b;
  }
  return {
    ...b,
    notes: [
      ...b.notes,
      `${b.name} threads are fixed per process by the first session: ${b.threads}, not ${threads}`,
    ],
  };
}

/** A backend choice: a backend, or `"auto"` (native if `--allow-ffi` and the addon loads, else wasm). */
export type BackendChoice = BackendName | "auto";

/**
 * Load the chosen backend; "auto" takes native when `--allow-ffi` is granted and the addon
 * loads, else wasm (saying why in `notes`).
 * @param choice the choice
 * @param threads wanted threads
 * @param notes receives the decisions taken
 * @param wasmThreads let wasm use more than one thread
 * @returns the loaded backend
 */
export async function chooseBackend(
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
