/// <reference lib="dom" />
/**
 * The web page (`web/index.html`): a form for the settings of an MEI search, a worker that runs
 * it (`worker.ts`), the best image as it improves, the convergence curve, images per second and
 * time left, a stop button, downloads of run.json, history.json and mei.png, and a replay of a
 * run.json. Built into `web/dist/page.js` by `scripts/build_web.ts`.
 *
 * @example
 * ```ts ignore
 * // web/index.html loads it as a module; `deno task web` serves the page.
 * import "./page.ts";
 * ```
 * @module
 */

import { chartSvg } from "../io/plot.ts";
import { loadManifest, type Manifest, shippedName } from "../models/manifest.ts";
import { convergenceChart } from "../models/mei_plots.ts";
import { defaultSettings, type MeiSettings, settingsFromReplay } from "../models/settings.ts";
import { methodNames } from "../optim/registry.ts";
import type { FromWorker, PickedFile, ToWorker } from "./_messages.ts";

const $ = <T extends HTMLElement = HTMLInputElement>(id: string) =>
  document.getElementById(id) as T;
const form = {
  generator: $<HTMLSelectElement>("generator"),
  target: $<HTMLSelectElement>("target"),
  epoch: $<HTMLSelectElement>("epoch"),
  file: $("file"),
  layer: $<HTMLSelectElement>("layer"),
  neurons: $("neurons"),
  method: $<HTMLSelectElement>("method"),
  budget: $("budget"),
  seed: $("seed"),
  grid: $<HTMLSelectElement>("grid"),
  gridSize: $("grid-size"),
  backend: $<HTMLSelectElement>("backend"),
  threads: $("threads"),
};
const ORT = new URL("ort/", location.href).href;
const WORKER = new URL("dist/worker.js", location.href);
/** The value of a model select that means "the picked file". */
const PICKED = "file";

let manifest: Manifest | undefined;
let worker: Worker | undefined;
let picked: PickedFile | undefined;
let layerWorker: Worker | undefined;

/** Show a message in the error box (empty: hide it). */
function showError(message: string): void {
  const box = $<HTMLDivElement>("error");
  box.textContent = message;
  box.hidden = message === "";
}

function setStatus(text: string): void {
  $<HTMLParagraphElement>("status").textContent = text;
}

function options(select: HTMLSelectElement, values: string[], labels = values): void {
  select.replaceChildren(...values.map((v, j) => new Option(labels[j], v)));
}

/** The picked file, when a model select asks for it. */
function files(): PickedFile[] {
  return picked ? [picked] : [];
}

function modelSpec(select: HTMLSelectElement): string {
  return select.value === PICKED ? picked?.url ?? "" : select.value;
}

/** The settings the form says (checked by the worker). */
function formSettings(): MeiSettings {
  const shipped = form.target.value !== PICKED;
  const epoch = shipped && form.epoch.value !== "" ? Number(form.epoch.value) : undefined;
  return {
    ...defaultSettings,
    generator: modelSpec(form.generator),
    target: modelSpec(form.target),
    ...(epoch === undefined ? {} : { epoch }),
    layer: form.layer.value,
    neurons: form.neurons.value.trim(),
    method: form.method.value,
    budget: Number(form.budget.value),
    seed: Number(form.seed.value),
    grid: form.grid.value as MeiSettings["grid"],
    gridSize: Number(form.gridSize.value),
    backend: form.backend.value as MeiSettings["backend"],
    threads: Number(form.threads.value),
  };
}

/** The form's model lists from the manifest. */
async function fillModels(): Promise<void> {
  manifest = await loadManifest(new URL("../models/", location.href));
  for (const [select, kind] of [[form.generator, "generator"], [form.target, "target"]] as const) {
    const names = [...new Set(manifest.models.filter((m) => m.kind === kind).map(shippedName))];
    options(select, [...names, PICKED], [...names, "an ONNX file..."]);
  }
  form.generator.value = defaultSettings.generator;
  form.target.value = defaultSettings.target;
  fillEpochs();
}

function fillEpochs(): void {
  const epochs = (manifest?.models ?? [])
    .filter((m) => m.kind === "target" && shippedName(m) === form.target.value)
    .map((m) => m.epoch)
    .filter((e): e is number => typeof e === "number")
    .sort((a, b) => b - a);
  options(form.epoch, epochs.map(String), epochs.map((e, j) => `epoch ${e}${j ? "" : " (last)"}`));
  form.epoch.disabled = epochs.length === 0;
}

/** Ask a worker for the target's layers and fill the layer list. */
function fillLayers(keep = form.layer.value || defaultSettings.layer): void {
  layerWorker?.terminate();
  const w = layerWorker = new Worker(WORKER, { type: "module" });
  form.layer.disabled = true;
  options(form.layer, [], []);
  const settings = { ...formSettings(), layer: defaultSettings.layer, backend: "wasm" as const };
  settings.threads = 1;
  w.onmessage = (e: MessageEvent<FromWorker>) => {
    const m = e.data;
    if (m.kind === "layers") {
      const usable = m.layers.filter((l) => l.units > 0);
      options(
        form.layer,
        usable.map((l) => l.name),
        usable.map((l) => `${l.name} (${l.units} units)`),
      );
      form.layer.value = usable.some((l) => l.name === keep) ? keep : usable[0]?.name ?? "";
      form.layer.disabled = false;
    } else if (m.kind === "error") {
      showError(m.message);
    }
    w.terminate();
  };
  post(w, { kind: "layers", settings, ort: ORT, files: files() });
}

function post(w: Worker, message: ToWorker): void {
  w.postMessage(message);
}

/** The state of the run in progress, for the charts and figures. */
interface Progress {
  settings: MeiSettings;
  neurons: number[];
  curves: { images: number; best: number }[][];
  drawn: number;
}

function format(seconds: number): string {
  if (!Number.isFinite(seconds)) return "-";
  return seconds < 90 ? `${seconds.toFixed(0)} s` : `${(seconds / 60).toFixed(1)} min`;
}

function drawCurve(p: Progress): void {
  if (p.curves[0].length < 2) return;
  const chart = convergenceChart({ settings: p.settings, neurons: p.neurons, result: p });
  $<HTMLElement>("curve").innerHTML = chartSvg(chart);
}

function onProgress(p: Progress, m: Extract<FromWorker, { kind: "progress" }>): void {
  m.best.forEach((b, j) => p.curves[j]?.push({ images: m.images, best: b }));
  const budget = p.settings.budget;
  const rate = m.images / m.seconds;
  $<HTMLElement>("evaluations").textContent = `${m.evaluations} of ${budget} per neuron`;
  $<HTMLElement>("value").textContent = m.best.map((b) => b.toFixed(4)).join(", ");
  $<HTMLElement>("rate").textContent = rate.toFixed(1);
  const left = (budget - m.evaluations) * m.seconds / Math.max(1, m.evaluations);
  $<HTMLElement>("left").textContent = format(left);
  if (performance.now() - p.drawn > 250) {
    drawCurve(p);
    p.drawn = performance.now();
  }
}

function drawBest(m: Extract<FromWorker, { kind: "best" }>): void {
  const canvas = $<HTMLCanvasElement>("best");
  canvas.width = m.picture.width;
  canvas.height = m.picture.height;
  const image = new ImageData(m.picture.rgba, m.picture.width, m.picture.height);
  canvas.getContext("2d")!.putImageData(image, 0, 0);
  $<HTMLElement>("best-caption").textContent = `best image after ${m.images} images`;
}

function offerDownloads(files: Record<string, Uint8Array<ArrayBuffer>>): void {
  const types: Record<string, string> = { json: "application/json", png: "image/png" };
  const links = Object.entries(files).map(([name, bytes]) => {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([bytes], { type: types[name.split(".").pop()!] }));
    a.download = name;
    a.id = `download-${name.split(".")[0]}`;
    a.textContent = `download ${name}`;
    return a;
  });
  $<HTMLElement>("downloads").replaceChildren(...links);
}

function running(on: boolean): void {
  $<HTMLButtonElement>("start").disabled = on;
  $<HTMLButtonElement>("stop").disabled = !on;
  $("replay").disabled = on;
}

/** Start a search in a fresh worker (each run gets its own onnxruntime and threads). */
function start(settings: MeiSettings): void {
  worker?.terminate();
  showError("");
  $<HTMLElement>("downloads").replaceChildren();
  const w = worker = new Worker(WORKER, { type: "module" });
  const p: Progress = { settings, neurons: [], curves: [], drawn: 0 };
  running(true);
  setStatus("Opening the models...");
  w.onerror = (e) => {
    showError(`the search worker failed: ${e.message}`);
    finish(w, "Failed.");
  };
  w.onmessage = (e: MessageEvent<FromWorker>) => {
    const m = e.data;
    switch (m.kind) {
      case "opened":
        p.neurons = m.neurons;
        p.curves = m.neurons.map(() => []);
        $<HTMLElement>("ran-on").textContent = `${m.backend}, ${m.threads} thread(s)`;
        setStatus(`Searching ${m.neurons.length} neuron(s)...`);
        break;
      case "progress":
        onProgress(p, m);
        break;
      case "best":
        drawBest(m);
        break;
      case "done":
        drawCurve(p);
        offerDownloads(m.files);
        finish(w, m.interrupted ? "Stopped; the results so far are below." : "Done.");
        break;
      case "error":
        showError(m.message);
        finish(w, "Failed.");
        break;
    }
  };
  post(w, { kind: "start", settings, ort: ORT, files: files() });
}

function finish(w: Worker, status: string): void {
  w.terminate();
  if (worker === w) worker = undefined;
  running(false);
  setStatus(status);
}

/** Read a run.json and run its settings, on the backend and threads it ran on. */
async function replay(file: File): Promise<void> {
  let settings: MeiSettings;
  try {
    let json;
    try {
      json = JSON.parse(await file.text());
    } catch {
      throw new Error("it is not JSON (a run.json written by scripts/mei.ts or this page is)");
    }
    const r = settingsFromReplay(json);
    settings = { ...r.settings };
    if (r.backend && settings.backend === "auto") {
      settings.backend = r.backend as MeiSettings["backend"];
    }
    if (settings.threads === undefined && Number.isInteger(json.threads)) {
      settings.threads = json.threads;
    }
  } catch (e) {
    showError(`cannot replay ${file.name}: ${(e as Error).message}`);
    return;
  }
  if (settings.backend === "native") {
    showError(`cannot replay ${file.name} here: it ran on native, which a browser does not have`);
    return;
  }
  form.budget.value = String(settings.budget);
  form.seed.value = String(settings.seed);
  form.neurons.value = settings.neurons;
  form.method.value = settings.method;
  start(settings);
}

async function detectBackends(): Promise<void> {
  const cores = navigator.hardwareConcurrency || 1;
  form.threads.max = String(crossOriginIsolated ? cores : 1);
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  const adapter = await gpu?.requestAdapter().catch(() => null);
  const option = form.backend.querySelector<HTMLOptionElement>('option[value="webgpu"]')!;
  option.disabled = !adapter;
  option.textContent = adapter ? "webgpu" : "webgpu (no adapter)";
}

async function init(): Promise<void> {
  options(form.method, methodNames());
  form.method.value = defaultSettings.method;
  form.target.onchange = () => {
    fillEpochs();
    $<HTMLElement>("file-row").hidden = form.target.value !== PICKED &&
      form.generator.value !== PICKED;
    if (form.target.value !== PICKED || picked) fillLayers();
  };
  form.generator.onchange = () => {
    $<HTMLElement>("file-row").hidden = form.target.value !== PICKED &&
      form.generator.value !== PICKED;
  };
  form.epoch.onchange = () => fillLayers();
  form.file.onchange = () => {
    const f = form.file.files?.[0];
    if (picked) URL.revokeObjectURL(picked.url.split("#")[0]);
    picked = f ? { url: `${URL.createObjectURL(f)}#${f.name}`, name: f.name } : undefined;
    if (form.target.value === PICKED) fillLayers();
  };
  $<HTMLFormElement>("form").onsubmit = (e) => {
    e.preventDefault();
    start(formSettings());
  };
  $<HTMLButtonElement>("stop").onclick = () => {
    if (worker) post(worker, { kind: "stop" });
    setStatus("Stopping...");
  };
  $("replay").onchange = () => {
    const f = $("replay").files?.[0];
    if (f) replay(f);
    $("replay").value = "";
  };
  try {
    await Promise.all([fillModels(), detectBackends()]);
    fillLayers();
  } catch (e) {
    showError((e as Error).message);
  }
}

init();
