/**
 * The report of an MEI run: one small writer per file of its folder, sharing one set of sizes
 * ({@link SIZES}). {@link writeMeiOutputs} writes them all: mei.png, candidates.png,
 * progress.gif, convergence.svg, .png and .csv, history.json, history.csv, latent.npy and
 * run.json.
 *
 * @example
 * ```ts ignore
 * import { RunFolder } from "../io/run_folder.ts";
 * import { defaultSettings, runMei } from "./mei.ts";
 * import { writeMeiOutputs } from "./report.ts";
 * const run = await runMei({ ...defaultSettings, budget: 500 });
 * const folder = await RunFolder.create("runs", "demo");
 * await writeMeiOutputs(run, folder, {});
 * console.log(await folder.commit());
 * ```
 * @module
 */

import { encodeNpy } from "../io/npy.ts";
import {
  encodeGif,
  encodePng,
  labelledSheet,
  type Raster,
  tensorToRaster,
  upscale,
} from "../io/image.ts";
import type { RunFolder } from "../io/run_folder.ts";
import { indicesToValues } from "../space/grids.ts";
import type { RunRecord } from "./mei.ts";
import type { LatentSpace } from "./problem.ts";
import { convergencePlots } from "./mei_plots.ts";

/**
 * Where the single-file writers write: a run folder, or anything else that takes named files
 * (the web page collects them in memory for download).
 */
export type ReportFiles = Pick<RunFolder, "write">;

/** The sizes of the pictures of a report. */
export const SIZES = {
  /** Images are scaled up by a whole factor to about this many pixels on their long side. */
  imagePixels: 224,
  /** Tiles of a sheet (several neurons, candidates) are scaled by half that factor, at least 2. */
  tileMinFactor: 2,
  /** Images generated per batch when drawing. */
  drawBatch: 100,
  /** Frames of progress.gif at most. */
  gifFrames: 40,
  /** Milliseconds per frame of progress.gif. */
  gifDelayMs: 150,
  /** White pixels between the tiles of a sheet. */
  gap: 2,
} as const;

/** What drawing needs of a run: the image shape and the generator (an open problem has both). */
export type Drawable = Pick<RunRecord, "imageShape" | "neurons"> & {
  problem: Pick<LatentSpace, "images">;
};

/** The upscale factors of a run's images: alone, and as tiles of a sheet. */
function factors(run: Pick<RunRecord, "imageShape">): { alone: number; tile: number } {
  const [, h, w] = run.imageShape;
  const alone = Math.max(1, Math.round(SIZES.imagePixels / Math.max(h, w)));
  return { alone, tile: Math.max(SIZES.tileMinFactor, Math.round(alone / 2)) };
}

/**
 * The images of grid points as rasters, scaled up by a whole factor, drawn
 * `SIZES.drawBatch` at a time.
 * @param latent what draws the images of grid points (a problem or a latent space)
 * @param points grid points
 * @param factor the upscale factor (1: as generated)
 * @returns one raster per point
 */
export async function drawPoints(
  latent: Pick<LatentSpace, "images">,
  points: Int32Array[],
  factor = 1,
): Promise<Raster[]> {
  const out: Raster[] = [];
  for (let from = 0; from < points.length; from += SIZES.drawBatch) {
    const img = await latent.images(points.slice(from, from + SIZES.drawBatch));
    const per = img.data.length / img.dims[0], shape = img.dims.slice(1);
    for (let b = 0; b < img.dims[0]; b++) {
      const raster = tensorToRaster(img.data.subarray(b * per, (b + 1) * per), shape);
      out.push(factor === 1 ? raster : upscale(raster, factor));
    }
  }
  return out;
}

/**
 * One image per neuron: the image itself for one neuron, else a square sheet, labelled
 * (mei.png's picture; the web page draws the best images with it during the search).
 * @param run the run, or an open problem with its image shape and neurons
 * @param points one grid point per neuron
 * @returns the picture
 */
export async function neuronSheet(run: Drawable, points: Int32Array[]): Promise<Raster> {
  const u = points.length, f = factors(run);
  const images = await drawPoints(run.problem, points, u === 1 ? f.alone : f.tile);
  if (u === 1) return images[0];
  const labels = run.neurons.map((c) => `neuron ${c}`);
  return await labelledSheet(images, Math.ceil(Math.sqrt(u)), labels, SIZES.gap);
}

/** The latent vector of a grid point (continuous values, or the codes). */
function latentOf(run: RunRecord, point: Int32Array): number[] {
  return Array.from(run.latentValues ? indicesToValues([point], run.latentValues)[0] : point);
}

/**
 * mei.png: the MEI, or a sheet of every neuron's MEI.
 * @param run the run
 * @param folder the folder being written
 */
export async function writeMeiPng(run: RunRecord, folder: ReportFiles): Promise<void> {
  const best = run.result.results.map((r) => r.best);
  await folder.write("mei.png", await encodePng(await neuronSheet(run, best)));
}

/**
 * candidates.png: the best few distinct candidates with their values, one row per neuron (in
 * the order of the neuron list).
 * @param run the run
 * @param folder the folder being written
 */
export async function writeCandidatesPng(run: RunRecord, folder: ReportFiles): Promise<void> {
  const { top } = run.result;
  const keep = Math.max(...top.map((t) => t.length));
  const tiles: Raster[] = [], labels: string[] = [];
  for (const list of top) {
    const row = await drawPoints(run.problem, list.map((t) => t.point), factors(run).tile);
    const blank = () => ({ ...row[0], rgba: new Uint8ClampedArray(row[0].rgba.length).fill(255) });
    tiles.push(...row, ...Array.from({ length: keep - row.length }, blank));
    labels.push(
      ...list.map((t) => t.value.toPrecision(4)),
      ...Array.from({ length: keep - row.length }, () => ""),
    );
  }
  const sheet = await labelledSheet(tiles, keep, labels, SIZES.gap);
  await folder.write("candidates.png", await encodePng(sheet));
}

/**
 * progress.gif: the best image (the sheet of all neurons' bests) as it improved.
 * @param run the run
 * @param folder the folder being written
 */
export async function writeProgressGif(run: RunRecord, folder: ReportFiles): Promise<void> {
  const { improvements } = run.result;
  const steps = [...new Set(improvements.flat().map((i) => i.images))].sort((a, b) => a - b);
  const every = Math.ceil(steps.length / SIZES.gifFrames);
  const frames = steps.length > SIZES.gifFrames
    ? steps.filter((_, j) => j % every === 0 || j === steps.length - 1)
    : steps;
  const gif: Raster[] = [];
  for (const at of frames) {
    const current = improvements.map((list) =>
      list.filter((i) => i.images <= at).at(-1)?.point ?? list[0].point
    );
    gif.push(await neuronSheet(run, current));
  }
  await folder.write("progress.gif", encodeGif(gif, SIZES.gifDelayMs));
}

/** Per-neuron records shared by history.json and run.json. */
function neuronRecords(run: RunRecord) {
  const { result } = run;
  return run.neurons.map((neuron, j) => {
    const r = result.results[j];
    return {
      neuron,
      value: r.value,
      evaluations: r.evaluations,
      best: Array.from(r.best),
      latent: latentOf(run, r.best),
      class: run.classes?.[j],
      history: r.history,
      curve: result.curves[j],
      improvements: result.improvements[j].map(({ images, value }) => ({ images, value })),
      top: result.top[j].map((t) => ({ value: t.value, best: Array.from(t.point) })),
    };
  });
}

/**
 * history.json: every neuron's history, curve, improvements and best candidates.
 * @param run the run
 * @param folder the folder being written
 */
export async function writeHistoryJson(run: RunRecord, folder: ReportFiles): Promise<void> {
  const { images, interrupted } = run.result;
  const json = { images, interrupted, neurons: neuronRecords(run) };
  await folder.write("history.json", JSON.stringify(json, null, 1) + "\n");
}

/**
 * history.csv: each neuron's best value after each of its evaluations where it improved.
 * @param run the run
 * @param folder the folder being written
 */
export async function writeHistoryCsv(run: RunRecord, folder: ReportFiles): Promise<void> {
  const csv = ["neuron,evaluations,best"];
  run.neurons.forEach((c, j) => {
    for (const h of run.result.results[j].history) csv.push(`${c},${h.evaluations},${h.value}`);
  });
  await folder.write("history.csv", csv.join("\n") + "\n");
}

/**
 * convergence.csv: each neuron's best value after each step, against the images shown in all
 * (the curves of convergence.png).
 * @param run the run
 * @param folder the folder being written
 */
export async function writeConvergenceCsv(run: RunRecord, folder: RunFolder): Promise<void> {
  const csv = ["neuron,images,best"];
  run.neurons.forEach((c, j) => {
    for (const p of run.result.curves[j]) csv.push(`${c},${p.images},${p.best}`);
  });
  await folder.write("convergence.csv", csv.join("\n") + "\n");
}

/**
 * latent.npy: the best latent of each neuron (`[d]`, or `[neurons, d]`).
 * @param run the run
 * @param folder the folder being written
 */
export async function writeLatentNpy(run: RunRecord, folder: ReportFiles): Promise<void> {
  const u = run.neurons.length, d = run.latentDim;
  const latents = run.latentValues ? new Float32Array(u * d) : new Int32Array(u * d);
  run.result.results.forEach((r, j) => latents.set(latentOf(run, r.best), j * d));
  await folder.write("latent.npy", encodeNpy(latents, u === 1 ? [d] : [u, d]));
}

/**
 * run.json: the settings (which `--replay` reads back), models, backend, timings and results.
 * @param run the run
 * @param folder the folder being written
 * @param extra fields for run.json (versions, command line, ...)
 */
export async function writeRunJson(
  run: RunRecord,
  folder: ReportFiles,
  extra: Record<string, unknown>,
): Promise<void> {
  const { generator, target } = run.models;
  const runJson = {
    settings: run.settings,
    neurons: run.neurons,
    latent_dim: run.latentDim,
    latent: run.problem.latent,
    image_shape: run.imageShape,
    models: {
      generator: { source: generator.source, sha256: generator.sha256 },
      target: { source: target.source, sha256: target.sha256, epoch: target.entry?.epoch },
    },
    backend: run.backend,
    threads: run.threads,
    timings: run.timings,
    images_shown: run.result.images,
    interrupted: run.result.interrupted,
    results: neuronRecords(run).map(({ neuron, value, evaluations, class: cls }) => ({
      neuron,
      value,
      evaluations,
      class: cls,
    })),
    ...extra,
  };
  await folder.write("run.json", JSON.stringify(runJson, null, 1) + "\n");
}

/**
 * Write every file of a run's folder (see the module doc).
 * @param run the run
 * @param folder the folder being written
 * @param extra fields for run.json (versions, command line, ...)
 */
export async function writeMeiOutputs(
  run: RunRecord,
  folder: RunFolder,
  extra: Record<string, unknown>,
): Promise<void> {
  await writeMeiPng(run, folder);
  await writeCandidatesPng(run, folder);
  await writeProgressGif(run, folder);
  await writeHistoryJson(run, folder);
  await writeHistoryCsv(run, folder);
  await writeConvergenceCsv(run, folder);
  await writeLatentNpy(run, folder);
  await writeRunJson(run, folder, extra);
  await convergencePlots(run, folder);
}
