/**
 * Builds the web page's JavaScript (`web/dist/page.js`, `web/dist/worker.js`) from
 * `src/web/page.ts` and `src/web/worker.ts` with `deno bundle` (minified; onnxruntime stays out
 * of the bundle), and copies onnxruntime-web's browser files from the npm package into
 * `web/ort/` with resvg's binary (not committed: about 40 MB). With `--check`, fails if the committed bundles differ
 * from a fresh build, as `deno task check:core` does for the WASM core.
 *
 * Usage: `deno task build:web` or `deno task check:web`.
 * @module
 */

import { RESVG_WASM_FILE } from "../src/io/svg_png.ts";

const web = new URL("../web/", import.meta.url);

/** The bundles: output name and entry point. */
const ENTRIES = { "page.js": "src/web/page.ts", "worker.js": "src/web/worker.ts" };

/**
 * onnxruntime-web's files the page imports: the wasm build and its WebGPU build (which loads the
 * asyncify binary), each with its Emscripten glue and binary.
 */
export const ORT_FILES = [
  "ort.wasm.min.mjs",
  "ort-wasm-simd-threaded.mjs",
  "ort-wasm-simd-threaded.wasm",
  "ort.webgpu.min.mjs",
  "ort-wasm-simd-threaded.asyncify.mjs",
  "ort-wasm-simd-threaded.asyncify.wasm",
];

/** Bundle one entry point into a file. */
async function bundle(entry: string, out: string): Promise<void> {
  const args = [
    "bundle",
    "--quiet",
    "--platform=browser",
    "--format=esm",
    "--minify",
    // The runtime imports these lazily; the page serves onnxruntime-web's own files (web/ort/).
    "--external=onnxruntime-node",
    "--external=onnxruntime-web",
    "--external=onnxruntime-web/*",
    "-o",
    out,
    entry,
  ];
  const root = new URL("../", import.meta.url);
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stderr: "piped",
  })
    .output();
  if (code !== 0) {
    throw new Error(`deno bundle ${entry} failed:\n${new TextDecoder().decode(stderr)}`);
  }
}

/**
 * Copy onnxruntime-web's browser files from the npm cache into `web/ort/` (skipping files
 * already there with the same size).
 * @returns the folder
 */
export async function copyOrt(): Promise<URL> {
  const dir = new URL("ort/", web);
  await Deno.mkdir(dir, { recursive: true });
  // The package's dist folder, found through a file it exports.
  const dist = new URL(".", import.meta.resolve("onnxruntime-web/ort-wasm-simd-threaded.wasm"));
  if (dist.protocol !== "file:") throw new Error(`onnxruntime-web is not in a local folder`);
  for (const file of ORT_FILES) {
    const from = new URL(file, dist);
    const to = new URL(file, dir);
    const size = (await Deno.stat(from)).size;
    const have = await Deno.stat(to).then((s) => s.size, () => -1);
    if (have !== size) await Deno.copyFile(from, to);
  }
  // resvg's binary, for the labels of the pictures the page draws (src/io/svg_png.ts).
  const resvg = new URL(import.meta.resolve("npm:@resvg/resvg-wasm@2.6.2/index_bg.wasm"));
  if (resvg.protocol !== "file:") throw new Error(`@resvg/resvg-wasm is not in a local folder`);
  await Deno.copyFile(resvg, new URL(RESVG_WASM_FILE, dir));
  return dir;
}

if (import.meta.main) {
  const check = Deno.args.includes("--check");
  const outDir = check ? await Deno.makeTempDir() : new URL("dist/", web).pathname;
  await Deno.mkdir(outDir, { recursive: true });
  for (const [name, entry] of Object.entries(ENTRIES)) await bundle(entry, `${outDir}/${name}`);
  if (check) {
    const stale = [];
    for (const name of Object.keys(ENTRIES)) {
      const fresh = await Deno.readFile(`${outDir}/${name}`);
      const committed = await Deno.readFile(new URL(`dist/${name}`, web)).catch(() => undefined);
      if (
        !committed || fresh.length !== committed.length || fresh.some((b, j) => b !== committed[j])
      ) {
        stale.push(`web/dist/${name}`);
      }
    }
    await Deno.remove(outDir, { recursive: true });
    if (stale.length) {
      console.error(`${stale.join(", ")} differ from a fresh build: run deno task build:web`);
      Deno.exit(1);
    }
    console.log("web/dist is up to date");
  } else {
    const ort = await copyOrt();
    console.log(`built web/dist/page.js, web/dist/worker.js; onnxruntime-web in ${ort.pathname}`);
  }
}
