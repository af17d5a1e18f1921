/**
 * The web page's search worker: the MEI job's own stages (`checkSettings`, `openProblem`,
 * `searchProblem`, `finishMei`, the report's single-file writers) run in a Web Worker, so the
 * page stays responsive. It answers the page's messages (`_messages.ts`): the layers of a target,
 * a search with progress and the best image as it improves, a stop, and at the end run.json,
 * history.json and mei.png, the same bytes `scripts/mei.ts` writes for the same run; and the
 * images per second of a problem (`scripts/bench_web.ts`).
 *
 * Built into `web/dist/worker.js` by `scripts/build_web.ts`; onnxruntime-web's browser files
 * are imported from the page's `ort/` folder (`useBrowserOrt`).
 *
 * @example
 * ```ts ignore
 * const worker = new Worker("dist/worker.js", { type: "module" });
 * worker.postMessage({ kind: "start", settings, ort: new URL("ort/", location.href).href, files: [] });
 * worker.onmessage = (e) => console.log(e.data.kind);
 * ```
 * @module
 */

import { imagesPerSecond } from "../bench/throughput.ts";
import { targetLayers } from "../models/layers.ts";
import { finishMei } from "../models/mei.ts";
import { openProblem } from "../models/problem.ts";
import { neuronSheet, writeHistoryJson, writeMeiPng, writeRunJson } from "../models/report.ts";
import { searchProblem } from "../models/search.ts";
import { checkSettings } from "../models/settings.ts";
import { useBrowserOrt } from "../runtime/mod.ts";
import { RESVG_WASM_FILE, useBrowserResvg } from "../io/svg_png.ts";
import type { FromWorker, PickedFile, ToWorker } from "./_messages.ts";

/** How often the best image is redrawn at most, in milliseconds. */
const DRAW_EVERY_MS = 250;

const scope = globalThis as unknown as {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
};

const post = (message: FromWorker, transfer: Transferable[] = []) =>
  scope.postMessage(message, transfer);

let abort: AbortController | undefined;

/** Load onnxruntime-web and resvg (the pictures' labels) from the page's `ort/` folder. */
function useBrowserFolder(ort: string): void {
  useBrowserOrt(ort);
  useBrowserResvg(new URL(RESVG_WASM_FILE, ort).href);
}

/** A message without the blob: URLs of picked files (their names instead). */
function readable(message: string, files: PickedFile[]): string {
  return files.reduce((m, f) => m.replaceAll(f.url, f.name), message);
}

async function layers(message: Extract<ToWorker, { kind: "layers" }>): Promise<void> {
  useBrowserFolder(message.ort);
  const { source, layers } = await targetLayers(checkSettings(message.settings));
  post({ kind: "layers", source, layers });
}

async function search(message: Extract<ToWorker, { kind: "start" }>): Promise<void> {
  useBrowserFolder(message.ort);
  abort = new AbortController();
  const settings = checkSettings(message.settings);
  const problem = await openProblem(settings);
  post({
    kind: "opened",
    neurons: problem.neurons,
    backend: problem.backend,
    threads: problem.threads,
    notes: [...problem.generator.notes],
  });
  // The best image is drawn between two batches (one session runs one batch at a time).
  let pending: Int32Array[] | undefined, pendingImages = 0, drawn = 0;
  const draw = async () => {
    if (!pending) return;
    const raster = await neuronSheet({
      imageShape: problem.imageShape,
      neurons: problem.neurons,
      problem,
    }, pending);
    const rgba = new Uint8ClampedArray(raster.rgba);
    post({
      kind: "best",
      images: pendingImages,
      picture: { width: raster.width, height: raster.height, rgba },
    }, [rgba.buffer]);
    pending = undefined;
    drawn = performance.now();
  };
  const started = new Date(), t0 = performance.now();
  let last = "";
  const searched = await searchProblem(
    {
      ...problem,
      objective: async (batch) => {
        if (performance.now() - drawn > DRAW_EVERY_MS) await draw();
        return await problem.objective(batch);
      },
    },
    settings,
    {
      signal: abort.signal,
      onProgress: (p) => {
        const key = p.points.map((x) => x.join()).join(";");
        if (key !== last) [last, pending, pendingImages] = [key, p.points.slice(), p.images];
        post({
          kind: "progress",
          images: p.images,
          evaluations: p.evaluations,
          best: p.best,
          seconds: (performance.now() - t0) / 1000,
        });
      },
    },
  );
  await draw();
  const run = await finishMei(problem, searched);
  const files: Record<string, Uint8Array<ArrayBuffer>> = {};
  const sink = {
    write: (name: string, data: string | Uint8Array) => {
      files[name] =
        (typeof data === "string" ? new TextEncoder().encode(data) : data) as Uint8Array<
          ArrayBuffer
        >;
      return Promise.resolve();
    },
  };
  await writeHistoryJson(run, sink);
  await writeMeiPng(run, sink);
  await writeRunJson(run, sink, {
    started: started.toISOString(),
    command: "web page (src/web/page.ts)",
    versions: { browser: navigator.userAgent, toolkit: "0.1.0" },
  });
  await problem.close();
  post({
    kind: "done",
    files,
    interrupted: run.result.interrupted,
    values: run.result.results.map((r) => r.value),
  }, Object.values(files).map((f) => f.buffer));
}

async function bench(message: Extract<ToWorker, { kind: "bench" }>): Promise<void> {
  useBrowserFolder(message.ort);
  const problem = await openProblem(checkSettings(message.settings));
  const r = await imagesPerSecond(problem, message);
  await problem.close();
  post({ kind: "bench", ...r, backend: problem.backend, threads: problem.threads });
}

scope.onmessage = (e) => {
  const message = e.data;
  if (message.kind === "stop") {
    abort?.abort();
    return;
  }
  const job = message.kind === "layers"
    ? layers(message)
    : message.kind === "bench"
    ? bench(message)
    : search(message);
  job.catch((err: unknown) =>
    post({
      kind: "error",
      message: readable((err as Error)?.message ?? String(err), message.files),
    })
  );
};
