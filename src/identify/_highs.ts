// Loads HiGHS (npm `highs`: the HiGHS LP solver compiled to WebAssembly), once per worker.
// Its loader reads highs.wasm beside its JavaScript in the npm cache, which needs read access to
// that file; without it the bytes come from a `with { type: "bytes" }` import, which needs
// --unstable-raw-imports. When neither works the error names the flag to add.
import highsModule, { type Highs } from "highs";

// The package's types are CommonJS-flavoured: its default export is the loader function. Its
// `wasmBinary` option still reads the file; Emscripten's `instantiateWasm` hook does not.
const highsLoader = highsModule as unknown as (options?: {
  instantiateWasm?: (
    imports: WebAssembly.Imports,
    done: (instance: WebAssembly.Instance) => void,
  ) => object;
}) => Promise<Highs>;

let loading: Promise<Highs> | null = null;

/** Thrown when the solver cannot be loaded (a permission is missing). */
export class SolverLoadError extends Error {
  /**
   * @param message what is missing
   * @param options the cause
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SolverLoadError";
  }
}

async function load(): Promise<Highs> {
  let first: unknown;
  try {
    return await highsLoader();
  } catch (e) {
    first = e;
  }
  try {
    const mod = await import("highs/runtime", { with: { type: "bytes" } });
    const bytes = mod.default as Uint8Array<ArrayBuffer>;
    return await highsLoader({
      instantiateWasm(imports, done) {
        WebAssembly.instantiate(bytes, imports).then((r) => done(r.instance));
        return {};
      },
    });
  } catch {
    const path = /"([^"]*highs\.wasm)"/.exec(String((first as Error)?.message))?.[1];
    throw new SolverLoadError(
      `the LP solver (HiGHS) needs its WebAssembly binary: run with --allow-read=${
        path ?? "<the npm cache>"
      } (or --unstable-raw-imports)`,
      { cause: first },
    );
  }
}

/** The HiGHS runtime of this worker (loaded on first use). */
export function highs(): Promise<Highs> {
  loading ??= load().catch((e) => {
    loading = null;
    throw e;
  });
  return loading;
}
