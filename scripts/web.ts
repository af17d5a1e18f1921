/**
 * Serves the web page on 127.0.0.1: `web/` (the page, its bundles and onnxruntime-web's files,
 * copied from the npm package on the first start) and `models/` (the shipped models), with the
 * headers of cross-origin isolation (COOP/COEP, so that onnxruntime-web can use threads) and
 * the MIME types of .wasm and .mjs. Nothing else of the repository is served.
 *
 *   deno task web                 # http://127.0.0.1:8000/
 *   deno task web --port 8123
 *
 * @module
 */

import { type Fail, failer, parseCommandLine } from "../src/io/cli.ts";
import { copyOrt } from "./build_web.ts";

const root = new URL("../", import.meta.url);
/** The folders served, by URL prefix. */
const SERVED = ["/web/", "/models/"];

/** MIME types by file extension. */
export const MIME: Record<string, string> = {
  html: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  json: "application/json",
  wasm: "application/wasm",
  onnx: "application/octet-stream",
  png: "image/png",
  svg: "image/svg+xml",
};

/** The headers every answer carries: cross-origin isolation, and no caching of stale builds. */
const HEADERS = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Cache-Control": "no-cache",
};

/**
 * Answer one request: a file under a served folder, `/` redirected to the page, 404 else.
 * @param request the request
 * @returns the response
 */
export async function serveFile(request: Request): Promise<Response> {
  const path = decodeURIComponent(new URL(request.url).pathname);
  if (path === "/" || path === "/web") {
    return new Response(null, { status: 302, headers: { ...HEADERS, Location: "/web/" } });
  }
  const file = path.endsWith("/") ? `${path}index.html` : path;
  if (!SERVED.some((p) => file.startsWith(p)) || file.split("/").includes("..")) {
    return new Response("not found", { status: 404, headers: HEADERS });
  }
  try {
    const f = await Deno.open(new URL(`.${file}`, root));
    const type = MIME[file.split(".").pop()!] ?? "application/octet-stream";
    return new Response(f.readable, { headers: { ...HEADERS, "Content-Type": type } });
  } catch {
    return new Response("not found", { status: 404, headers: HEADERS });
  }
}

if (import.meta.main) {
  const help = `Usage: deno task web [--port 8000]

Serves the web page (web/) and the shipped models (models/) on 127.0.0.1 with the headers of
cross-origin isolation; --port 0 takes any free port.`;
  const fail: Fail = failer("web");
  const { values } = parseCommandLine("web", help, { port: { type: "string", default: "8000" } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    fail(`--port must be an integer from 0 to 65535, got "${values.port}"`);
  }
  await copyOrt();
  try {
    Deno.serve({
      hostname: "127.0.0.1",
      port,
      onListen: ({ port }) => console.log(`web: the page is at http://127.0.0.1:${port}/web/`),
    }, serveFile);
  } catch (e) {
    if (!(e instanceof Deno.errors.AddrInUse)) throw e;
    fail(`port ${port} is in use; pick another with --port N (0: any free port)`);
  }
}
