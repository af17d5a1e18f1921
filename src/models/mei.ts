/**
 * The MEI job: open a generator and a target, search the latent grid for the inputs that
 * drive the chosen units hardest (one search per unit, in lockstep, optionally sharing every
 * image's responses), and gather everything a run writes: images, curves, histories, the best
 * latents and the settings that reproduce it (`writeMeiOutputs`).
 *
 * @module
 */

import { Rng } from "../core/rng.ts";
import { encodeNpy } from "../io/npy.ts";
import {
  contactSheet,
  encodeGif,
  encodePng,
  type Raster,
  tensorToRaster,
  upscale,
} from "../io/image.ts";
import type { RunFolder } from "../io/run_folder.ts";
import { type LockstepResult, optimizeLockstep } from "../optim/lockstep.ts";
import { getMethod } from "../optim/registry.ts";
import { gridValues, indicesToValues } from "../space/grids.ts";
import {
  loadManifest,
  loadModelBytes,
  type ModelEntry,
  resolveModel,
  sha256Hex,
  shippedName,
} from "./manifest.ts";
import { Pipeline, selectableUnits, type UnitKind } from "./pipeline.ts";
import { parseNeurons } from "./units.ts";
import {
  type BackendChoice,
  ELEM_TYPE,
  type Layout,
  openSession,
  parseModel,
} from "../runtime/mod.ts";
import "../optim/methods.ts";

/** Everything that defines a run (written to run.json; `--replay` reads it back). */
export interface MeiSettings {
  /** Shipped generator name (`sngan`, `vqvae`) or a path or URL of an .onnx file. */
  generator: string;
  /** Shipped target name (`sresnet18`, `scnn`, `cnn`, optionally `name@epoch`) or an .onnx path or URL. */
  target: string;
  /** Checkpoint epoch of a shipped target (default: the last). */
  epoch?: number;
  /** Layer (tensor) name; "logits" for class units. */
  layer: string;
  /** Neuron list: `12`, `1,5,9`, `0-15`, `all`. */
  neurons: string;
  unit: UnitKind;
  /** (y, x) of spatial units. */
  position?: [number, number];
  /** Optimizer registry name. */
  method: string;
  /** Method parameters. */
  params?: Record<string, unknown>;
  /** Evaluations per neuron. */
  budget: number;
  seed: number;
  /** Latent grid: uniform on `range` or standard-normal quantiles. */
  grid: "uniform" | "gaussian";
  gridSize: number;
  range: [number, number];
  backend: BackendChoice;
  /** Layout of the layer output (default auto). */
  layout?: Layout;
  threads?: number;
  /** Multiplicative response noise sigma (0: none). */
  noise: number;
  /** Tell each search the responses of its neuron to every image shown. */
  shared: boolean;
  /** Folder (path or URL) of the shipped models (default: the repository's models/). */
  modelsDir?: string;
}

/** Defaults of `scripts/mei.ts`: the trained spiking ResNet18, the SN-GAN, a mid-depth layer. */
export const defaultSettings: MeiSettings = {
  generator: "sngan",
  target: "sresnet18",
  layer: "layer2.1.sn2",
  neurons: "0",
  unit: "channel",
  method: "tt-b",
  budget: 10000,
  seed: 0,
  // The spiking-network study searched 64 points per coordinate on [-4, 4].
  grid: "uniform",
  gridSize: 64,
  range: [-4, 4],
  backend: "auto",
  noise: 0,
  shared: false,
};

/** A model to run: its bytes, where it came from and its manifest entry if shipped. */
interface OpenedModel {
  bytes: Uint8Array;
  source: string;
  sha256: string;
  entry?: ModelEntry;
}

/**
 * Read a model: a path to an .onnx file, or a shipped model checked against the manifest.
 * @param spec path or shipped name
 * @param kind generator or target
 * @param epoch epoch of a shipped target
 * @param modelsDir folder of the manifest (default the repository's models/)
 * @returns the bytes, where they came from and the manifest entry
 */
export async function openModel(
  spec: string,
  kind: "target" | "generator",
  epoch: number | undefined,
  modelsDir: string | undefined,
): Promise<OpenedModel> {
  if (spec.endsWith(".onnx")) {
    let bytes: Uint8Array;
    try {
      bytes = /^(https?|file):/.test(spec)
        ? new Uint8Array(await (await fetchOk(spec)).arrayBuffer())
        : await Deno.readFile(spec);
    } catch (e) {
      throw new Error(`cannot read the ${kind} model ${spec}: ${(e as Error).message}`);
    }
    return { bytes, source: spec, sha256: await sha256Hex(bytes) };
  }
  const isUrl = modelsDir !== undefined && /^(https?|file):/.test(modelsDir);
  const base = modelsDir
    ? new URL(modelsDir.replace(/\/?$/, "/"), isUrl ? undefined : `file://${Deno.cwd()}/`)
    : undefined;
  const manifest = await loadManifest(base);
  const entry = resolveModel(manifest, spec, kind, epoch);
  return {
    bytes: await loadModelBytes(manifest, entry),
    source: entry.file,
    sha256: entry.sha256,
    entry,
  };
}

async function fetchOk(url: string): Promise<Response> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response;
}

/** A run in progress or finished. */
export interface MeiRun {
  settings: MeiSettings;
  neurons: number[];
  latentDim: number;
  /** Grid values of one coordinate (continuous latents) or undefined (codes). */
  latentValues?: Float64Array;
  imageShape: number[];
  models: { generator: Omit<OpenedModel, "bytes">; target: Omit<OpenedModel, "bytes"> };
  backend: string;
  threads: number;
  result: LockstepResult;
  timings: {
    openSeconds: number;
    searchSeconds: number;
    networkSeconds: number;
    optimizerSeconds: number;
  };
  pipeline: Pipeline;
  /** Class probabilities of the target on each MEI (when the target has logits). */
  classes?: { predicted: number; probability: number; entropy: number }[];
}

/** Check settings; throws one clear error naming the bad setting. */
export function checkSettings(s: MeiSettings): void {
  getMethod(s.method);
  if (!Number.isInteger(s.budget) || s.budget < 1) {
    throw new RangeError(`budget must be an integer >= 1, got ${s.budget}`);
  }
  if (!Number.isInteger(s.seed) || s.seed < 0) {
    throw new RangeError(`seed must be an integer >= 0, got ${s.seed}`);
  }
  if (!["channel", "spatial", "logit", "probability"].includes(s.unit)) {
    throw new RangeError(`unit must be channel, spatial, logit or probability, got "${s.unit}"`);
  }
  if (!["uniform", "gaussian"].includes(s.grid)) {
    throw new RangeError(`grid must be uniform or gaussian, got "${s.grid}"`);
  }
  if (!Number.isInteger(s.gridSize) || s.gridSize < 2) {
    throw new RangeError(`grid size must be an integer >= 2, got ${s.gridSize}`);
  }
  if (!(s.range[0] < s.range[1])) {
    throw new RangeError(`grid range must be low < high, got ${s.range}`);
  }
  if (!(s.noise >= 0)) throw new RangeError(`noise must be >= 0, got ${s.noise}`);
  if (s.unit === "spatial" && !s.position) {
    throw new RangeError("spatial units need a position (y, x)");
  }
}

/**
 * Run an MEI search.
 * @param settings what to search
 * @param opts a signal that stops the search between steps, and a progress callback
 * @returns the run
 */
export async function runMei(
  settings: MeiSettings,
  opts: {
    signal?: AbortSignal;
    onProgress?: (images: number, evaluations: number, best: number[]) => void;
  } = {},
): Promise<MeiRun> {
  checkSettings(settings);
  const t0 = performance.now();
  const classUnits = settings.unit === "logit" || settings.unit === "probability";
  const layer = classUnits ? "logits" : settings.layer;
  const [gen, tgt] = await Promise.all([
    openModel(settings.generator, "generator", undefined, settings.modelsDir),
    openModel(settings.target, "target", settings.epoch, settings.modelsDir),
  ]);
  const sessionOpts = { backend: settings.backend, threads: settings.threads };
  const generator = await openSession(gen.bytes, sessionOpts);
  const graph = parseModel(tgt.bytes).graph;
  const tensors = new Set([
    ...graph.outputs.map((o) => o.name),
    ...graph.nodes.flatMap((n) => n.outputs),
  ]);
  const hasLogits = tensors.has("logits");
  if (classUnits && !hasLogits) {
    throw new Error(`the target has no "logits" output for --unit ${settings.unit}`);
  }
  const target = await openSession(tgt.bytes, {
    ...sessionOpts,
    outputs: [layer], // the graph is pruned to end at the layer: later layers never run
  });
  const input = generator.inputs[0];
  const codes = input.elemType === ELEM_TYPE.INT64;
  const latentDim = input.dims?.[1];
  if (typeof latentDim !== "number" || latentDim < 1) {
    throw new Error(
      `cannot tell the latent size of the generator from its input "${input.name}" [${input.dims}]`,
    );
  }
  // Code-index generators: the codebook size from the manifest, else --grid-size.
  const codebook = codes
    ? Number((gen.entry?.codebook as { size?: number } | undefined)?.size ?? settings.gridSize)
    : 0;
  const latentValues = codes ? undefined : gridValues(
    settings.grid === "gaussian" ? { kind: "gaussian", n: settings.gridSize } : {
      kind: "uniform",
      n: settings.gridSize,
      lower: settings.range[0],
      upper: settings.range[1],
    },
  );
  const pipelineFor = (units: number[], noise?: { sigma: number; rng: Rng }) =>
    new Pipeline({
      generator,
      target,
      latentDim,
      latent: codes ? { kind: "codes" } : { kind: "grid", values: latentValues! },
      selection: {
        kind: settings.unit,
        layer,
        units,
        position: settings.position,
        layout: settings.layout,
      },
      noise,
    });
  const probe = pipelineFor([0]);
  const image = await probe.images([new Int32Array(latentDim)]);
  const declared = target.inputs[0].dims?.slice(1);
  const wantShape = declared?.every((v) => typeof v === "number")
    ? declared
    : tgt.entry?.input?.shape?.slice(1);
  if (wantShape && wantShape.join() !== image.dims.slice(1).join()) {
    throw new Error(
      `the generator makes images [${image.dims.slice(1)}] but the target takes [${wantShape}]`,
    );
  }
  const layerOut = (await target.run({ [target.inputNames[0]]: image }, [layer]))[layer];
  const units = selectableUnits(layerOut.dims, 1, { kind: settings.unit, layout: settings.layout });
  const neurons = parseNeurons(settings.neurons, units, `"${layer}"`);
  const noise = settings.noise > 0
    ? { sigma: settings.noise, rng: new Rng(settings.seed + 1_000_003) }
    : undefined;
  const pipeline = pipelineFor(neurons, noise);
  const openSeconds = (performance.now() - t0) / 1000;
  let networkMs = 0;
  const t1 = performance.now();
  const result = await optimizeLockstep("" + settings.method, async (batch) => {
    const ts = performance.now();
    const { values } = await pipeline.evaluate(batch);
    networkMs += performance.now() - ts;
    return values;
  }, {
    space: { d: latentDim, n: codes ? codebook : settings.gridSize },
    budget: settings.budget,
    seed: settings.seed,
    maximize: true,
    params: settings.params,
    searches: neurons.length,
    shared: settings.shared,
    signal: opts.signal,
    onProgress: (p) => opts.onProgress?.(p.images, p.evaluations, p.best),
  });
  const searchSeconds = (performance.now() - t1) / 1000;
  const run: MeiRun = {
    settings,
    neurons,
    latentDim,
    latentValues,
    imageShape: image.dims.slice(1) as number[],
    models: {
      generator: { source: gen.source, sha256: gen.sha256, entry: gen.entry },
      target: { source: tgt.source, sha256: tgt.sha256, entry: tgt.entry },
    },
    backend: generator.backend,
    threads: generator.threads,
    result,
    timings: {
      openSeconds,
      searchSeconds,
      networkSeconds: networkMs / 1000,
      optimizerSeconds: result.optimizerSeconds,
    },
    pipeline,
  };
  if (hasLogits) {
    const best = await pipeline.images(result.results.map((r) => r.best));
    // A second session reads the class of each MEI once, so the search's graph stays pruned.
    const classifier = layer === "logits"
      ? target
      : await openSession(tgt.bytes, { ...sessionOpts, outputs: ["logits"] });
    const logits = (await classifier.run({ [classifier.inputNames[0]]: best }, ["logits"])).logits;
    if (classifier !== target) await classifier.release();
    const k = logits.dims[1];
    run.classes = result.results.map((_, j) => {
      const row = Array.from((logits.data as Float32Array).subarray(j * k, (j + 1) * k));
      const max = Math.max(...row),
        e = row.map((v) => Math.exp(v - max)),
        z = e.reduce((a, b) => a + b);
      const p = e.map((v) => v / z);
      const predicted = p.indexOf(Math.max(...p));
      const entropy = -p.reduce((s, v) => s + (v > 0 ? v * Math.log(v) : 0), 0) / Math.log(k);
      return { predicted, probability: p[predicted], entropy };
    });
  }
  return run;
}

/** The latent vector of a grid point (continuous values, or the codes). */
function latentOf(run: MeiRun, point: Int32Array): number[] {
  return Array.from(run.latentValues ? indicesToValues([point], run.latentValues)[0] : point);
}

/** The default name of a run's folder. */
export function runName(run: MeiRun): string {
  const s = run.settings, e = run.models.target.entry;
  const target = e
    ? `${shippedName(e)}-e${e.epoch ?? "x"}`
    : s.target.replace(/^.*\//, "").replace(/\.onnx$/, "");
  const neurons = s.neurons.replace(/[^\w-]/g, "_");
  const unit = s.unit === "channel"
    ? "n"
    : s.unit === "spatial"
    ? `s${s.position!.join("x")}-n`
    : `${s.unit}-`;
  const layer = s.unit === "logit" || s.unit === "probability" ? "logits" : s.layer;
  return `${target}_${layer}_${unit}${neurons}_${s.method}_s${s.seed}${s.shared ? "_shared" : ""}`;
}

const scale = (shape: number[]) => Math.max(1, Math.round(224 / Math.max(shape[1], shape[2])));

async function rasters(run: MeiRun, points: Int32Array[], factor: number): Promise<Raster[]> {
  const out: Raster[] = [];
  for (let from = 0; from < points.length; from += 100) {
    const img = await run.pipeline.images(points.slice(from, from + 100));
    const per = img.data.length / img.dims[0], shape = img.dims.slice(1);
    for (let b = 0; b < img.dims[0]; b++) {
      out.push(upscale(tensorToRaster(img.data.subarray(b * per, (b + 1) * per), shape), factor));
    }
  }
  return out;
}

/**
 * Write a run's outputs into a folder: mei.png, candidates.png, progress.gif, history.json,
 * history.csv, latent.npy and run.json (convergence plots are written by the caller's plot).
 * @param run the run
 * @param folder the folder being written
 * @param extra fields for run.json (versions, command line, ...)
 */
export async function writeMeiOutputs(
  run: MeiRun,
  folder: RunFolder,
  extra: Record<string, unknown>,
): Promise<void> {
  const { result, neurons } = run;
  const u = neurons.length, factor = scale(run.imageShape);
  const best = result.results.map((r) => r.best);
  // The MEI(s): one image, or a sheet of every neuron's MEI.
  const meis = await rasters(run, best, u === 1 ? factor : Math.max(2, Math.round(factor / 2)));
  await folder.write(
    "mei.png",
    await encodePng(u === 1 ? meis[0] : contactSheet(meis, Math.ceil(Math.sqrt(u)))),
  );
  // The best few distinct candidates: one row per neuron.
  const keep = Math.max(...result.top.map((t) => t.length));
  const tiles: Raster[] = [];
  for (let j = 0; j < u; j++) {
    const row = await rasters(
      run,
      result.top[j].map((t) => t.point),
      Math.max(2, Math.round(factor / 2)),
    );
    tiles.push(
      ...row,
      ...Array.from(
        { length: keep - row.length },
        () => ({ ...row[0], rgba: new Uint8ClampedArray(row[0].rgba.length).fill(255) }),
      ),
    );
  }
  await folder.write("candidates.png", await encodePng(contactSheet(tiles, keep)));
  // The best image as it improved (the sheet of all neurons' bests when there are several).
  const steps = [...new Set(result.improvements.flat().map((i) => i.images))].sort((a, b) => a - b);
  const frames = steps.length > 40
    ? steps.filter((_, j) => j % Math.ceil(steps.length / 40) === 0 || j === steps.length - 1)
    : steps;
  const gifFrames: Raster[] = [];
  for (const at of frames) {
    const current = result.improvements.map((list) =>
      list.filter((i) => i.images <= at).at(-1)?.point ?? list[0].point
    );
    const imgs = await rasters(
      run,
      current,
      u === 1 ? factor : Math.max(2, Math.round(factor / 2)),
    );
    gifFrames.push(u === 1 ? imgs[0] : contactSheet(imgs, Math.ceil(Math.sqrt(u))));
  }
  await folder.write("progress.gif", encodeGif(gifFrames, 150));
  // Histories.
  const perNeuron = neurons.map((c, j) => ({
    neuron: c,
    value: result.results[j].value,
    evaluations: result.results[j].evaluations,
    best: Array.from(best[j]),
    latent: latentOf(run, best[j]),
    class: run.classes?.[j],
    history: result.results[j].history,
    curve: result.curves[j],
    improvements: result.improvements[j].map(({ images, value }) => ({ images, value })),
    top: result.top[j].map((t) => ({ value: t.value, best: Array.from(t.point) })),
  }));
  await folder.write(
    "history.json",
    JSON.stringify(
      { images: result.images, interrupted: result.interrupted, neurons: perNeuron },
      null,
      1,
    ) + "\n",
  );
  const csv = ["neuron,evaluations,images,best"];
  neurons.forEach((c, j) => {
    for (const h of result.results[j].history) csv.push(`${c},${h.evaluations},,${h.value}`);
    for (const p of result.curves[j]) csv.push(`${c},,${p.images},${p.best}`);
  });
  await folder.write("history.csv", csv.join("\n") + "\n");
  const d = run.latentDim;
  const latents = run.latentValues ? new Float32Array(u * d) : new Int32Array(u * d);
  best.forEach((p, j) => latents.set(latentOf(run, p), j * d));
  await folder.write("latent.npy", encodeNpy(latents, u === 1 ? [d] : [u, d]));
  const runJson = {
    settings: run.settings,
    neurons,
    latent_dim: d,
    image_shape: run.imageShape,
    models: {
      generator: { source: run.models.generator.source, sha256: run.models.generator.sha256 },
      target: {
        source: run.models.target.source,
        sha256: run.models.target.sha256,
        epoch: run.models.target.entry?.epoch,
      },
    },
    backend: run.backend,
    threads: run.threads,
    timings: run.timings,
    images_shown: result.images,
    interrupted: result.interrupted,
    results: perNeuron.map(({ neuron, value, evaluations, class: cls }) => ({
      neuron,
      value,
      evaluations,
      class: cls,
    })),
    ...extra,
  };
  await folder.write("run.json", JSON.stringify(runJson, null, 1) + "\n");
}
