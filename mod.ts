/**
 * mei-tt: find the most exciting inputs of neurons with gradient-free tensor-train
 * optimizers (PROTES, TTOpt) and the classic baselines, over a generator's latent grid.
 *
 * This module is importable by URL: it reads no files at import time (the WASM core is
 * embedded) and loads no backend until one is asked for.
 *
 * @example
 * ```ts
 * import { optimize } from "./mod.ts";
 * // Maximize a function of 8 binary digits.
 * const r = await optimize("tt-b", (batch) => batch.map((i) => i.reduce((a, b) => a + b, 0)), {
 *   space: { d: 8, n: 2 }, budget: 500, seed: 0, maximize: true,
 * });
 * console.log(r.value, r.evaluations);
 * ```
 * @module
 */

import "./src/optim/methods.ts";

export { Rng } from "./src/core/rng.ts";
export { TensorTrain } from "./src/core/tt.ts";
export type { AdamOptions } from "./src/core/tt.ts";
export { createOptimizer, optimize } from "./src/optim/optimize.ts";
export type {
  AskTell,
  HistoryEntry,
  Objective,
  OptimizeOptions,
  OptimizeResult,
  Progress,
} from "./src/optim/optimize.ts";
export { getMethod, methodNames, registerMethod } from "./src/optim/registry.ts";
export type {
  BoxSpace,
  GridSpace,
  MethodDescriptor,
  Minimizer,
  MinimizerContext,
  ParamSpec,
  Point,
  Space,
} from "./src/optim/types.ts";
export { gridValues, indicesToValues, normalQuantile } from "./src/space/grids.ts";
export type { Grid } from "./src/space/grids.ts";
export { digitSizes, QuantizedSpace } from "./src/space/quantize.ts";
export {
  defaultSettings,
  type MeiRun,
  type MeiSettings,
  runMei,
  type RunRecord,
} from "./src/models/mei.ts";
export { checkSettings, SettingsError } from "./src/models/settings.ts";
export {
  latentSpaceOn,
  type MeiProblem,
  openGenerator,
  openLatentSpace,
  openProblem,
  openProblemOn,
} from "./src/models/problem.ts";
export type { GridSettings, LatentSpace, OpenGenerator } from "./src/models/problem.ts";
export { searchProblem } from "./src/models/search.ts";
export type { SearchableProblem } from "./src/models/search.ts";
export { loadManifest, resolveModel } from "./src/models/manifest.ts";
export { Pipeline } from "./src/models/pipeline.ts";
export type { UnitKind, UnitSelection } from "./src/models/pipeline.ts";
export { optimizeLockstep } from "./src/optim/lockstep.ts";
export type { LockstepOptions, LockstepResult } from "./src/optim/lockstep.ts";
export { listLayers, openSession } from "./src/runtime/mod.ts";
export type { BackendChoice, Session, SessionOptions } from "./src/runtime/mod.ts";
