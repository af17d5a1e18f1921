/**
 * Stop-and-export: write a served search into the same output folder as `scripts/mei.ts`
 * (mei.png, candidates.png, progress.gif, convergence.svg/.png, history.json/.csv,
 * latent.npy, run.json). A thin adapter: it presents the search as a run record whose target
 * is the rig, and hands it to the MEI job's report (`writeMeiOutputs`).
 *
 * @example
 * ```ts ignore
 * import { exportSearch } from "./export.ts";
 * const folder = await exportSearch(service.get(id), `${dataDir}/exports`);
 * ```
 * @module
 */

import { RunFolder } from "../io/run_folder.ts";
import type { RunRecord } from "../models/mei.ts";
import type { LatentSpace } from "../models/problem.ts";
import { writeMeiOutputs } from "../models/report.ts";
import type { Search } from "./search.ts";

/** What the export needs of a served search. */
export interface ExportInput {
  id: string;
  created: string;
  search: Search;
  /** The generator's latent space on the search's grid. */
  latent: LatentSpace;
}

/**
 * Write a search's output folder `root/<id>` (atomically: it appears complete or not at all).
 * @param input the search and its latent space
 * @param root the parent folder
 * @returns the folder's path
 * @throws Error when no generation of responses is complete yet (nothing to export)
 */
export async function exportSearch(input: ExportInput, root: string): Promise<string> {
  const { search, latent } = input;
  const best = search.optimizer.best;
  if (!best) throw new Error("nothing to export: no generation of responses was completed");
  const spec = search.spec;
  const { backend, threads } = latent.generator;
  const probe = await latent.images([best.point]);
  const run: RunRecord = {
    settings: {
      generator: spec.generator,
      target: "rig",
      layer: "rig",
      neurons: "0",
      unit: "channel",
      method: spec.method,
      params: spec.params,
      budget: spec.budget,
      seed: spec.seed,
      grid: spec.grid,
      gridSize: spec.gridSize,
      range: spec.range,
      backend,
      noise: 0,
      shared: false,
    },
    neurons: [0],
    latentDim: latent.space.d,
    latentValues: latent.latentValues,
    imageShape: probe.dims.slice(1),
    models: {
      generator: { source: latent.model.source, sha256: latent.model.sha256 },
      target: { source: "rig", sha256: "" },
    },
    backend,
    threads,
    result: {
      results: [{
        best: best.point,
        value: best.value,
        evaluations: search.optimizer.evaluations,
        history: search.history,
      }],
      improvements: [search.improvements],
      top: [search.top],
      curves: [search.curve],
      images: search.optimizer.evaluations,
      interrupted: !search.optimizer.done,
      optimizerSeconds: 0,
    },
    timings: {
      openSeconds: 0,
      searchSeconds: (Date.now() - Date.parse(input.created)) / 1000,
      networkSeconds: 0,
      optimizerSeconds: 0,
    },
    problem: latent,
  };
  const folder = await RunFolder.create(root, input.id);
  try {
    await writeMeiOutputs(run, folder, {
      served: {
        search: input.id,
        name: spec.name,
        batch_size: spec.batchSize,
        batches: search.batches,
        trials: search.trials.reduce((a, b) => a + b, 0),
        failed_trials: search.failures,
        stopped_early: search.stopped && !search.optimizer.done,
      },
      versions: { deno: Deno.version.deno, v8: Deno.version.v8, toolkit: "0.1.0" },
    });
    return await folder.commit();
  } catch (e) {
    await folder.discard();
    throw e;
  }
}
