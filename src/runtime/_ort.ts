// The slice of the onnxruntime JavaScript API (onnxruntime-common, shared by onnxruntime-web and
// onnxruntime-node) that the runtime uses, typed structurally so that no backend package is
// imported for its types, and the package loader with its fallback for URL imports.

/** A tensor as onnxruntime returns it. */
export interface OrtTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
  dispose?(): void;
}

/** An onnxruntime inference session. */
export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(
    feeds: Record<string, OrtTensor>,
    fetches?: readonly string[] | Record<string, OrtTensor | null>,
  ): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

/** An onnxruntime package (web or node). */
export interface OrtModule {
  InferenceSession: {
    create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSession>;
  };
  Tensor: new (
    type: string,
    data: Float32Array | BigInt64Array | Int32Array | Uint8Array,
    dims: readonly number[],
  ) => OrtTensor;
  // deno-lint-ignore no-explicit-any
  env: any;
}

/** npm versions of the backends; must match deno.json "imports". */
export const PACKAGES: Record<string, string> = {
  "onnxruntime-web": "onnxruntime-web@1.30.0",
  "onnxruntime-web/webgpu": "onnxruntime-web@1.30.0/webgpu",
  "onnxruntime-node": "onnxruntime-node@1.30.0",
};

/** The browser builds of onnxruntime-web's packages, by file name in its dist folder. */
export const BROWSER_FILES: Record<string, string> = {
  "onnxruntime-web": "ort.wasm.min.mjs",
  "onnxruntime-web/webgpu": "ort.webgpu.min.mjs",
};

let browserFolder: string | undefined;

/**
 * In a browser, where bare package names do not resolve: import onnxruntime-web's browser files
 * ({@link BROWSER_FILES}) from this folder, where they find their .wasm and .mjs companions.
 * @param url the folder's URL
 */
export function useBrowserOrt(url: string): void {
  browserFolder = url.replace(/\/?$/, "/");
}

/** Whether onnxruntime-web comes from a browser folder (see {@link useBrowserOrt}). */
export function inBrowser(): boolean {
  return browserFolder !== undefined;
}

/**
 * Imports a backend package by its bare name (mapped in deno.json), falling back to its pinned
 * npm specifier when the importing program has no such mapping (mod.ts imported by URL), or
 * from the browser folder (see {@link useBrowserOrt}).
 */
export async function importPackage(name: keyof typeof PACKAGES): Promise<OrtModule> {
  if (browserFolder !== undefined) {
    const file = BROWSER_FILES[name];
    if (!file) throw new Error(`${name} does not run in a browser`);
    return (await import(new URL(file, browserFolder).href)) as OrtModule;
  }
  try {
    switch (name) {
      case "onnxruntime-web":
        return (await import("onnxruntime-web")) as unknown as OrtModule;
      case "onnxruntime-web/webgpu":
        return (await import("onnxruntime-web/webgpu")) as unknown as OrtModule;
      case "onnxruntime-node":
        return (await import("onnxruntime-node")) as unknown as OrtModule;
    }
  } catch (e) {
    const msg = String((e as Error)?.message ?? e);
    if (!/not a dependency|Relative import path|Import ".*" not|resolve/i.test(msg)) throw e;
  }
  const spec = "npm" + ":" + PACKAGES[name]; // computed: resolved at run time
  return (await import(spec)) as OrtModule;
}

/**
 * The file path of an asset inside a backend package (its WebAssembly binary), or null when it
 * does not resolve to a local file.
 */
export function packageFile(spec: string): string | null {
  let url: string;
  try {
    url = import.meta.resolve(spec);
  } catch {
    try {
      url = import.meta.resolve(
        "npm" + ":" + spec.replace("onnxruntime-web/", PACKAGES["onnxruntime-web"] + "/"),
      );
    } catch {
      return null;
    }
  }
  if (!url.startsWith("file:")) return null;
  return decodeURIComponent(new URL(url).pathname);
}

/** Whether a permission is granted, without prompting. */
export function granted(desc: Deno.PermissionDescriptor): boolean {
  try {
    return Deno.permissions.querySync(desc).state === "granted";
  } catch {
    return false;
  }
}
