/**
 * The MEI job as a composition of its stages: check the settings (`settings.ts`), open the
 * problem (`problem.ts`: models, sessions, grid, layer, units), search it (`search.ts`: one
 * search per unit, in lockstep, optionally sharing every image's responses) and read the class
 * of each MEI. The report (`report.ts`) writes a run's folder.
 *
 * @example
 * ```ts ignore
 * import { defaultSettings, runMei } from "./mei.ts";
 * const run = await runMei({ ...defaultSettings, neurons: "0-3", budget: 2000 });
 * console.log(run.result.results.map((r) => r.value));
 * ```
 * @module
 */

import type { LockstepResult } from "../optim/lockstep.ts";
import type { ClassInfo } from "./classes.ts";
import { shippedName } from "./manifest.ts";
import { type LatentSpace, type MeiProblem, type ModelRecord, openProblem } from "./problem.ts";
import { searchProblem } from "./search.ts";
import { checkSettings, type MeiSettings } from "./settings.ts";

export { checkSettings, defaultSettings, type MeiSettings } from "./settings.ts";
// Callers that open a model by name (the atlas fixture) import it from here.
export { openModel } from "./problem.ts";

/**
 * A finished (or interrupted) run as its report reads it (`report.ts`): settings, results and
 * the images of grid points, with no target network needed (a search whose responses a rig
 * measured is reported the same way).
 */
export interface RunRecord {
  settings: MeiSettings;
  neurons: number[];
  latentDim: number;
  /** Grid values of one coordinate (continuous latents) or undefined (codes). */
  latentValues?: Float64Array;
  imageShape: number[];
  models: { generator: ModelRecord; target: ModelRecord };
  backend: string;
  threads: number;
  result: LockstepResult;
  timings: {
    openSeconds: number;
    searchSeconds: number;
    networkSeconds: number;
    optimizerSeconds: number;
  };
  /** The images of grid points and what the grid is. */
  problem: Pick<LatentSpace, "images" | "latent">;
  /** Class probabilities of the target on each MEI (when the target has logits). */
  classes?: ClassInfo[];
}

/** A finished (or interrupted) run of the MEI job. */
export interface MeiRun extends RunRecord {
  /** The opened problem; its sessions stay open (the report draws images) until `close()`. */
  problem: MeiProblem;
}

/**
 * Run an MEI search.
 * @param settings what to search (checked first)
 * @param opts a signal that stops the search between steps, and a progress callback
 * @returns the run
 * @throws {SettingsError} a bad setting, before any model is opened
 * @throws {ModelError} a model, layer or unit that cannot be used, before the search
 */
export async function runMei(
  settings: MeiSettings,
  opts: {
    signal?: AbortSignal;
    onProgress?: (images: number, evaluations: number, best: number[]) => void;
  } = {},
): Promise<MeiRun> {
  const checked = checkSettings(settings);
  const problem = await openProblem(checked);
  const search = await searchProblem(problem, checked, {
    signal: opts.signal,
    onProgress: (p) => opts.onProgress?.(p.images, p.evaluations, p.best),
  });
  return await finishMei(problem, search);
}

/**
 * The run of a searched problem: reads the class of each MEI and gathers what the report
 * needs. {@link runMei} ends with it; a caller that opens and searches the problem itself
 * (the web page's worker, which draws the best image during the search) ends with it too.
 * @param problem the opened problem
 * @param search what `searchProblem` returned for it
 * @returns the run
 */
export async function finishMei(
  problem: MeiProblem,
  search: { result: LockstepResult; searchSeconds: number },
): Promise<MeiRun> {
  const { result, searchSeconds } = search;
  const classes = await problem.classify?.(result.results.map((r) => r.best));
  return {
    settings: problem.settings,
    neurons: problem.neurons,
    latentDim: problem.space.d,
    latentValues: problem.latentValues,
    imageShape: problem.imageShape,
    models: { generator: record(problem.model), target: record(problem.target) },
    backend: problem.backend,
    threads: problem.threads,
    result,
    timings: {
      openSeconds: problem.timings.openSeconds,
      searchSeconds,
      networkSeconds: problem.timings.networkSeconds,
      optimizerSeconds: result.optimizerSeconds,
    },
    problem,
    classes,
  };
}

function record({ source, sha256, entry }: ModelRecord): ModelRecord {
  return { source, sha256, entry };
}

/** A file name part: characters other than letters, digits and `.@+=-` become `_`. */
function namePart(text: string): string {
  return text.replace(/[^\w.@+=-]/g, "_").replace(/^\.+/, "_");
}

/** How a model is named in a folder name: shipped name (and epoch), or the file's name. */
function modelPart(spec: string, entry: ModelRecord["entry"], epoch: boolean): string {
  if (!entry) return spec.replace(/^.*\//, "").replace(/\.onnx$/, "");
  return epoch ? `${shippedName(entry)}-e${entry.epoch ?? "x"}` : shippedName(entry);
}

/**
 * The default name of a run's folder: generator and grid (`u64`: uniform, 64 points; `g64`:
 * gaussian; `c512`: codes), target and epoch, layer, units, method and seed. Characters that a
 * folder name cannot hold, such as the `/` of PyTorch node names, become `_`.
 * @param run the run
 * @returns a folder name
 */
export function runName(run: RunRecord): string {
  const s = run.settings, { latent } = run.problem;
  const generator = modelPart(s.generator, run.models.generator.entry, false);
  const grid = latent.kind === "codes" ? `c${latent.size}` : `${latent.grid[0]}${latent.size}`;
  const target = modelPart(s.target, run.models.target.entry, true);
  const unit = s.unit === "channel"
    ? "n"
    : s.unit === "spatial"
    ? `s${s.position!.join("x")}-n`
    : `${s.unit}-`;
  return namePart(
    `${generator}-${grid}_${target}_${s.layer}_${unit}${s.neurons}_${s.method}_s${s.seed}` +
      (s.shared ? "_shared" : ""),
  );
}
