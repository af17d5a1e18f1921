/**
 * Reading what the atlas is built from: one or more sweep folders (`sweep.json`,
 * `records.jsonl`, `images/`, written by `scripts/sweep.ts`) and optionally an analysis report
 * folder (`summary.json`, `neurons.json`, `natural/`, figures; written by
 * `scripts/analysis.ts`). Every problem is an {@link AtlasInputError} with one message naming
 * the file and what would be valid; images are read and checked against their sha256 here, so
 * that writing the site cannot fail half-way on a missing file.
 *
 * @example
 * ```ts
 * import { readSweeps } from "./read.ts";
 * const sweeps = await readSweeps(["tests/fixtures/atlas/sweep_small"]);
 * if (sweeps.records.length === 0) throw new Error();
 * ```
 * @module
 */

import { sha256Hex } from "../models/manifest.ts";
import type { SweepRecord as FullRecord } from "../sweep/record.ts";

/** The fields of a finished search (a `records.jsonl` line, `src/sweep/record.ts`) the atlas reads. */
export type SweepRecord = Omit<
  FullRecord,
  "best_index" | "latent" | "class_entropy" | "curve" | "wall_seconds"
>;

/** Bad input to the atlas: the message says what is wrong and what would be valid. */
export class AtlasInputError extends Error {
  override name = "AtlasInputError";
}

/** A target checkpoint that a sweep ran, from `sweep.json`'s `models.targets`. */
export interface TargetInfo {
  source?: string;
  sha256?: string;
  epoch?: number | null;
  test_accuracy?: number;
}

/** The sweep folders, merged. */
export interface Sweeps {
  /** Each folder's `spec` (as written in its sweep.json). */
  specs: Record<string, unknown>[];
  /** The generator(s) the sweeps used, by source file. */
  generators: string[];
  /** Targets by spec name (e.g. "sresnet18@8"). */
  targets: Map<string, TargetInfo>;
  /** Every record, each key once (the first folder that has it wins). */
  records: SweepRecord[];
  /** Image bytes by sha256. */
  images: Map<string, Uint8Array>;
  /** Lines skipped: a truncated last line or a key already read. */
  skipped: string[];
}

/** One natural test image among a neuron's top 9. */
export interface NaturalImage {
  index: number;
  activation: number;
  /** sha256 of the image bytes (in `Report.images`). */
  sha256: string;
}

/** A neuron of the analysis (`neurons.json`). */
export interface NeuronAnalysis {
  arch: string;
  layer: string;
  neuron: number;
  label: "non-selective" | "stable" | "labile";
  selective_class_by_epoch: Record<string, number | null>;
  first_strong_epoch: number | null;
  /** Per epoch scanned: the top natural images, the best natural activation, MEI / natural. */
  natural: Record<string, { top: NaturalImage[]; best: number; ratio: number | null }>;
}

/** A layer's headline numbers at one epoch (`summary.json`'s `layers`). */
export interface LayerSummary {
  arch: string;
  layer: string;
  epoch: number;
  neurons: number;
  fraction_selective: number;
  fraction_selective_ci?: [number | null, number | null] | null;
  fraction_strong?: number;
  median_ratio: number | null;
  median_ratio_ci?: [number | null, number | null] | null;
  stable: number;
  labile: number;
  non_selective: number;
}

/** A method's headline numbers (`summary.json`'s `methods`). */
export interface MethodSummary {
  method: string;
  noise: number;
  median_final_vs_portfolio: number | null;
  ci?: [number | null, number | null] | null;
  median_evals_to_portfolio: number | null;
}

/** An analysis report folder. */
export interface Report {
  neurons: NeuronAnalysis[];
  layers: LayerSummary[];
  methods: MethodSummary[];
  /** The report's own figures (SVG and PNG files at its top level): name and sha256. */
  figures: { name: string; sha256: string }[];
  /** Image bytes by sha256 (natural images and figures). */
  images: Map<string, Uint8Array>;
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "is missing" : `cannot be read (${e})`;
    throw new AtlasInputError(`${path} ${why}: ${what}`);
  }
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new AtlasInputError(`${path} is not valid JSON (${(e as Error).message})`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;

/** The problem with a record's fields, or undefined when it has what the atlas reads. */
function recordProblem(r: Record<string, unknown>): string | undefined {
  for (const f of ["key", "target", "arch", "layer", "method", "image"]) {
    if (typeof r[f] !== "string" || r[f] === "") return `"${f}" must be a non-empty string`;
  }
  for (const f of ["neuron", "seed", "budget", "evaluations"]) {
    if (!isInt(r[f])) return `"${f}" must be an integer >= 0`;
  }
  if (r.epoch !== null && !isInt(r.epoch)) return `"epoch" must be an integer >= 0 or null`;
  for (const f of ["noise", "activation", "clean_activation"]) {
    if (!isNumber(r[f])) return `"${f}" must be a number`;
  }
  if (typeof r.image_sha256 !== "string" || !/^[0-9a-f]{64}$/.test(r.image_sha256)) {
    return `"image_sha256" must be 64 hex digits`;
  }
  const probs = r.class_probs;
  if (probs !== null && !(Array.isArray(probs) && probs.every(isNumber))) {
    return `"class_probs" must be a list of numbers or null`;
  }
  if (r.predicted_class !== null && !isInt(r.predicted_class)) {
    return `"predicted_class" must be an integer or null`;
  }
  if (r.class_probability !== null && !isNumber(r.class_probability)) {
    return `"class_probability" must be a number or null`;
  }
  if (!isObject(r.reached)) return `"reached" must be an object`;
  const history = r.history;
  if (
    !Array.isArray(history) ||
    !history.every((p) => Array.isArray(p) && p.length === 2 && p.every(isNumber))
  ) {
    return `"history" must be a list of [evaluations, best] pairs`;
  }
  return undefined;
}

/** Read an image a record or the report names, inside `root`, checked against `sha256`. */
async function readImage(
  root: string,
  rel: string,
  sha256: string | undefined,
  who: string,
): Promise<{ bytes: Uint8Array; sha256: string }> {
  if (rel.startsWith("/") || rel.split("/").includes("..")) {
    throw new AtlasInputError(`${who} names the image "${rel}", outside its folder ${root}`);
  }
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(`${root}/${rel}`);
  } catch {
    throw new AtlasInputError(
      `${who} points at ${root}/${rel}, which is missing or unreadable ` +
        `(a sweep folder needs every image its records name)`,
    );
  }
  const hash = await sha256Hex(bytes);
  if (sha256 !== undefined && hash !== sha256) {
    throw new AtlasInputError(
      `${who}: ${root}/${rel} has sha256 ${hash.slice(0, 12)}..., the record says ` +
        `${sha256.slice(0, 12)}... (a corrupt or replaced image)`,
    );
  }
  return { bytes, sha256: hash };
}

/**
 * Read and check sweep folders.
 * @param dirs the folders, in order (a key found in an earlier folder wins)
 * @returns the merged records, targets and image bytes
 * @throws AtlasInputError when a folder is missing or not a sweep, a record is malformed,
 *   an image is missing or does not match its sha256, or there are no records at all
 */
export async function readSweeps(dirs: string[]): Promise<Sweeps> {
  if (dirs.length === 0) {
    throw new AtlasInputError(
      "no sweep folder given: pass at least one folder written by scripts/sweep.ts",
    );
  }
  const out: Sweeps = {
    specs: [],
    generators: [],
    targets: new Map(),
    records: [],
    images: new Map(),
    skipped: [],
  };
  const seen = new Set<string>();
  for (const dir of dirs) {
    if (!(await isDir(dir))) {
      throw new AtlasInputError(
        `no sweep at ${dir}: expected a folder with sweep.json, records.jsonl and images/ ` +
          `(written by scripts/sweep.ts)`,
      );
    }
    const sweepPath = `${dir}/sweep.json`;
    const sweep = parseJson(
      await readText(sweepPath, "every sweep folder has one (written by scripts/sweep.ts)"),
      sweepPath,
    );
    if (!isObject(sweep) || sweep.format !== "mei-sweep/1") {
      throw new AtlasInputError(`${sweepPath} is not a sweep description (format "mei-sweep/1")`);
    }
    out.specs.push(isObject(sweep.spec) ? sweep.spec : {});
    const models = isObject(sweep.models) ? sweep.models : {};
    if (isObject(models.generator) && typeof models.generator.source === "string") {
      if (!out.generators.includes(models.generator.source)) {
        out.generators.push(models.generator.source);
      }
    }
    for (const [name, info] of Object.entries(isObject(models.targets) ? models.targets : {})) {
      if (isObject(info) && !out.targets.has(name)) out.targets.set(name, info as TargetInfo);
    }
    const recordsPath = `${dir}/records.jsonl`;
    const text = await readText(
      recordsPath,
      "every sweep folder has one, with a line per finished search",
    );
    const lines = text.split("\n");
    for (const [j, line] of lines.entries()) {
      if (line.trim() === "") continue;
      let r: unknown;
      try {
        r = JSON.parse(line);
      } catch {
        // A search cut off while its line was appended leaves a last line without "\n".
        if (j === lines.length - 1) {
          out.skipped.push(`${recordsPath} line ${j + 1}: truncated (an interrupted append)`);
          continue;
        }
        throw new AtlasInputError(`${recordsPath} line ${j + 1} is not a JSON record`);
      }
      const problem = isObject(r) ? recordProblem(r) : "it is not a JSON object";
      if (problem) {
        throw new AtlasInputError(`${recordsPath} line ${j + 1}: ${problem}`);
      }
      const rec = r as unknown as SweepRecord;
      if (seen.has(rec.key)) {
        out.skipped.push(`${recordsPath} line ${j + 1}: key ${rec.key} already read`);
        continue;
      }
      seen.add(rec.key);
      // Read even when the bytes are known: every folder must hold the images it names.
      const img = await readImage(dir, rec.image, rec.image_sha256, `${recordsPath} line ${j + 1}`);
      out.images.set(img.sha256, img.bytes);
      out.records.push(rec);
    }
  }
  if (out.records.length === 0) {
    throw new AtlasInputError(
      `the sweep${dirs.length > 1 ? "s" : ""} ${dirs.join(", ")} ha${
        dirs.length > 1 ? "ve" : "s"
      } no finished searches yet (records.jsonl is empty): run scripts/sweep.ts first`,
    );
  }
  return out;
}

/**
 * Read and check an analysis report folder.
 * @param dir the folder written by scripts/analysis.ts
 * @returns the neurons, summaries, figures and image bytes
 * @throws AtlasInputError when the folder, its JSON files or a natural image named by
 *   neurons.json are missing or malformed
 */
export async function readReport(dir: string): Promise<Report> {
  if (!(await isDir(dir))) {
    throw new AtlasInputError(
      `no analysis report at ${dir}: expected a folder with summary.json and neurons.json ` +
        `(written by scripts/analysis.ts)`,
    );
  }
  const images = new Map<string, Uint8Array>();
  const neuronsPath = `${dir}/neurons.json`;
  const neuronsJson = parseJson(
    await readText(neuronsPath, "an analysis report has one (written by scripts/analysis.ts)"),
    neuronsPath,
  );
  if (!Array.isArray(neuronsJson)) {
    throw new AtlasInputError(`${neuronsPath} must be a list of neurons`);
  }
  const neurons: NeuronAnalysis[] = [];
  for (const [j, n] of neuronsJson.entries()) {
    const who = `${neuronsPath} entry ${j + 1}`;
    if (
      !isObject(n) || typeof n.arch !== "string" || typeof n.layer !== "string" ||
      !isInt(n.neuron) || !["non-selective", "stable", "labile"].includes(n.label as string)
    ) {
      throw new AtlasInputError(
        `${who} needs "arch", "layer", "neuron" and "label" (non-selective, stable or labile)`,
      );
    }
    const natural: NeuronAnalysis["natural"] = {};
    for (const [epoch, scan] of Object.entries(isObject(n.natural) ? n.natural : {})) {
      if (!isObject(scan) || !Array.isArray(scan.top)) {
        throw new AtlasInputError(`${who}: natural["${epoch}"] needs a "top" list`);
      }
      const top: NaturalImage[] = [];
      for (const t of scan.top) {
        if (!isObject(t) || typeof t.image !== "string" || !isNumber(t.activation)) {
          throw new AtlasInputError(
            `${who}: natural["${epoch}"].top entries need "image" and "activation"`,
          );
        }
        const img = await readImage(dir, t.image, undefined, who);
        images.set(img.sha256, img.bytes);
        top.push({ index: Number(t.index), activation: t.activation, sha256: img.sha256 });
      }
      natural[epoch] = {
        top,
        best: Number(scan.best),
        ratio: isNumber(scan.ratio) ? scan.ratio : null,
      };
    }
    neurons.push({
      arch: n.arch,
      layer: n.layer,
      neuron: n.neuron,
      label: n.label as NeuronAnalysis["label"],
      selective_class_by_epoch: isObject(n.selective_class_by_epoch)
        ? n.selective_class_by_epoch as Record<string, number | null>
        : {},
      first_strong_epoch: isInt(n.first_strong_epoch) ? n.first_strong_epoch : null,
      natural,
    });
  }
  const summaryPath = `${dir}/summary.json`;
  const summary = parseJson(
    await readText(summaryPath, "an analysis report has one (written by scripts/analysis.ts)"),
    summaryPath,
  );
  if (!isObject(summary)) throw new AtlasInputError(`${summaryPath} must be a JSON object`);
  const layers = (Array.isArray(summary.layers) ? summary.layers : []).filter((l) =>
    isObject(l) && typeof l.arch === "string" && typeof l.layer === "string" && isInt(l.epoch)
  ) as LayerSummary[];
  const methods = (Array.isArray(summary.methods) ? summary.methods : []).filter((m) =>
    isObject(m) && typeof m.method === "string"
  ) as MethodSummary[];
  const figures: Report["figures"] = [];
  const names = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && /\.(svg|png)$/i.test(e.name)) names.push(e.name);
  }
  for (const name of names.sort()) {
    const img = await readImage(dir, name, undefined, `the report figure ${name}`);
    images.set(img.sha256, img.bytes);
    figures.push({ name, sha256: img.sha256 });
  }
  return { neurons, layers, methods, figures, images };
}
