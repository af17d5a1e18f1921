/**
 * SVG to PNG with real text: resvg (`@resvg/resvg-wasm`, WebAssembly) with the DejaVu Sans font
 * embedded in `_font_bytes.ts` (licence: `src/io/fonts/LICENSE`; no system fonts are read, so a
 * PNG looks the same everywhere). Like the runtime's onnxruntime-web binary, resvg's `.wasm` is
 * read from the npm cache when read access to it is granted, else imported as bytes
 * (`--unstable-raw-imports`).
 *
 * @example
 * ```ts
 * import { svgToPng } from "./svg_png.ts";
 * const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="80" height="20">' +
 *   '<text x="2" y="15" font-size="12">ratio 1.37</text></svg>';
 * const png = await svgToPng(svg, 2);
 * const width = new DataView(png.buffer, png.byteOffset).getUint32(16);
 * if (width !== 160) throw new Error(`${width}`);
 * ```
 * @module
 */

// A full npm: specifier (not an import-map name): mod.ts must work when imported by URL.
import { initWasm, Resvg } from "npm:@resvg/resvg-wasm@2.6.2";
import { decodeBase64 } from "./base64.ts";
import { fontBase64 } from "./_font_bytes.ts";

/** The font family of every chart (the shipped font). */
export const FONT_FAMILY = "DejaVu Sans";

/**
 * Text made safe for SVG content and attribute values.
 * @param s any text
 * @returns the text with &, <, > and " escaped
 */
export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}

const WASM = "npm:@resvg/resvg-wasm@2.6.2/index_bg.wasm";

/** The name under which the web page serves resvg's binary, beside onnxruntime-web's files. */
export const RESVG_WASM_FILE = "resvg.wasm";

let browserWasm: string | undefined;

/**
 * In a browser (the web page's worker), fetch resvg's WebAssembly binary from this URL instead
 * of reading it from Deno's npm cache.
 * @param url where the page serves `index_bg.wasm` of `@resvg/resvg-wasm`
 */
export function useBrowserResvg(url: string): void {
  browserWasm = url;
}

function readable(path: string): boolean {
  try {
    return Deno.permissions.querySync({ name: "read", path }).state === "granted";
  } catch {
    return false;
  }
}

/** resvg's WebAssembly binary: its file in the npm cache (with read access), or a bytes import. */
async function wasmBytes(): Promise<Uint8Array> {
  if (browserWasm !== undefined) {
    const response = await fetch(browserWasm);
    if (!response.ok) throw new Error(`cannot load ${browserWasm}: HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  }
  let url: string;
  try {
    url = import.meta.resolve(WASM);
  } catch {
    url = WASM;
  }
  const path = url.startsWith("file:") ? decodeURIComponent(new URL(url).pathname) : null;
  if (path !== null && readable(path)) return await Deno.readFile(path);
  try {
    return (await import(WASM, { with: { type: "bytes" } })).default as Uint8Array;
  } catch (e) {
    throw new Error(
      `rendering a PNG needs resvg's WebAssembly binary: run with --allow-read=${
        path ?? "<npm cache>"
      } (or --unstable-raw-imports)`,
      { cause: e },
    );
  }
}

let ready: Promise<Uint8Array> | null = null;

/** Initialize resvg once; returns the font bytes. */
function init(): Promise<Uint8Array> {
  ready ??= (async () => {
    await initWasm(await wasmBytes());
    return decodeBase64(fontBase64);
  })().catch((e) => {
    ready = null;
    throw e;
  });
  return ready;
}

/**
 * Render an SVG document to PNG.
 * @param svg the SVG document (text in any font family is drawn with the shipped DejaVu Sans)
 * @param scale device pixels per SVG pixel (default 2)
 * @returns the PNG file bytes
 * @throws Error naming the permission needed when resvg's binary cannot be read
 */
export async function svgToPng(svg: string, scale = 2): Promise<Uint8Array> {
  const font = await init();
  const resvg = new Resvg(svg, {
    font: {
      fontBuffers: [font],
      loadSystemFonts: false,
      defaultFontFamily: FONT_FAMILY,
      sansSerifFamily: FONT_FAMILY,
    },
    fitTo: { mode: "zoom", value: scale },
  });
  const rendered = resvg.render();
  const png = rendered.asPng();
  rendered.free();
  resvg.free();
  return png;
}
