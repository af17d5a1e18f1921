/**
 * The problem an MEI search solves, opened from checked settings: the models (shipped or
 * files), their sessions, the latent grid, the layer and its units, as one batched objective
 * over all chosen neurons (`values[b * neurons + j]`) plus what a report needs (images of grid
 * points, the class of an image, the models' records).
 *
 * {@link openLatentSpace} opens the generator side alone (the grid and the images of its points),
 * for a problem whose responses come from elsewhere (a rig that measures a neuron: its objective
 * and the space go to `searchProblem`); {@link openGenerator} and {@link latentSpaceOn} are its
 * two steps, for a generator opened once and searched on several grids (the closed-loop
 * server). {@link openProblem} adds the target network, and {@link openProblemOn} adds one to a
 * generator already open (many problems, one generator).
 *
 * @example
 * ```ts ignore
 * import { defaultSettings } from "./settings.ts";
 * import { openProblem } from "./problem.ts";
 * const problem = await openProblem({ ...defaultSettings, neurons: "0-3" });
 * const values = await problem.objective([new Int32Array(problem.space.d)]);
 * console.log(values.length); // 4: one per neuron
 * await problem.close();
 * ```
 * @module
 */

import { Rng } from "../core/rng.ts";
import type { MultiObjective } from "../optim/lockstep.ts";
import { gridValues } from "../space/grids.ts";
import {
  ELEM_TYPE,
  ModelError,
  type ModelInfo,
  openSession,
  parseModel,
  requireBatchAxis,
  resolveLayout,
  type Session,
  type SessionOptions,
} from "../runtime/mod.ts";
import { type ClassInfo, classOf } from "./classes.ts";
import {
  loadManifest,
  loadModelBytes,
  type ModelEntry,
  resolveModel,
  sha256Hex,
} from "./manifest.ts";
import {
  generateImages,
  type LatentMap,
  Pipeline,
  type PipelineOptions,
  selectableUnits,
  type TensorData,
} from "./pipeline.ts";
import type { MeiSettings } from "./settings.ts";
import { parseNeurons } from "./units.ts";

/** The role of a model in a run. */
export type ModelRole = "target" | "generator";

/** Where a model came from, as run.json records it. */
export interface ModelRecord {
  /** The path or URL given, or the shipped file. */
  source: string;
  sha256: string;
  /** The manifest entry of a shipped model. */
  entry?: ModelEntry;
}

/** A model read and parsed: its bytes, its graph and where it came from. */
export interface OpenedModel extends ModelRecord {
  bytes: Uint8Array;
  info: ModelInfo;
  /** How messages name it: `the target model <source>`. */
  label: string;
}

/**
 * Read and parse a model: a path or URL of an .onnx file, or a shipped model checked against
 * the manifest. Every failure names the role and the file in the same words.
 * @param spec path, URL or shipped name
 * @param role generator or target
 * @param epoch epoch of a shipped target
 * @param modelsDir folder of the manifest (default the repository's models/)
 * @returns the bytes, the parsed graph, where they came from and the manifest entry
 * @throws {ModelError} a missing, unreadable or corrupt model, naming its role and file
 */
export async function openModel(
  spec: string,
  role: ModelRole,
  epoch: number | undefined,
  modelsDir: string | undefined,
): Promise<OpenedModel> {
  let bytes: Uint8Array, source = spec, entry: ModelEntry | undefined;
  try {
    if (spec.endsWith(".onnx")) {
      bytes = /^(https?|file|blob):/.test(spec)
        ? new Uint8Array(await (await fetchOk(spec)).arrayBuffer())
        : await Deno.readFile(spec);
    } else {
      const isUrl = modelsDir !== undefined && /^(https?|file):/.test(modelsDir);
      const base = modelsDir
        ? new URL(modelsDir.replace(/\/?$/, "/"), isUrl ? undefined : `file://${Deno.cwd()}/`)
        : undefined;
      const manifest = await loadManifest(base);
      entry = resolveModel(manifest, spec, role, epoch);
      source = entry.file;
      bytes = await loadModelBytes(manifest, entry);
    }
  } catch (e) {
    // By name: a browser (the web page) has no Deno.errors.
    const why = (e as Error).name === "NotFound" ? "no such file" : (e as Error).message;
    throw new ModelError(`cannot read the ${role} model ${source}: ${why}`, { cause: e });
  }
  const label = `the ${role} model ${source}`;
  let info: ModelInfo;
  try {
    if (bytes.length === 0) throw new Error("the file is empty");
    info = parseModel(bytes);
  } catch (e) {
    throw new ModelError(`${label} is not a valid ONNX file (${(e as Error).message})`, {
      cause: e,
    });
  }
  return { bytes, info, source, label, entry, sha256: entry?.sha256 ?? await sha256Hex(bytes) };
}

async function fetchOk(url: string): Promise<Response> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response;
}

/** The generator side of a problem: the latent grid and the images of its points. */
export interface LatentSpace {
  generator: Session;
  model: OpenedModel;
  /** The search space: d latent coordinates of n grid points (or codes) each. */
  space: { d: number; n: number };
  /** Grid values of one coordinate (continuous latents), or undefined (codes). */
  latentValues?: Float64Array;
  /** How grid indices become the generator's input. */
  latentMap: LatentMap;
  /** Images of grid points, `[B, C, H, W]` in [0, 1]. */
  images(points: Int32Array[]): Promise<TensorData & { data: Float32Array }>;
  /** What the grid really is (run.json records it: the codebook ignores grid and range). */
  latent:
    | { kind: "grid"; grid: MeiSettings["grid"]; size: number; range?: [number, number] }
    | { kind: "codes"; size: number };
}

/** A generator opened once: its model, its session and its latent input. */
export interface OpenGenerator {
  model: OpenedModel;
  session: Session;
  /** Coordinates of its latent input. */
  latentDim: number;
  /** Whether it takes code indices (a codebook) rather than continuous latents. */
  codes: boolean;
}

/** The grid settings of a latent space. */
export type GridSettings = Pick<MeiSettings, "grid" | "gridSize" | "range">;

/**
 * Open the generator of checked settings and its latent grid.
 * @param settings checked settings (see `checkSettings`)
 * @param sessionOptions backend and threads
 * @returns the generator session and the grid
 * @throws {ModelError} a missing or corrupt generator, one without a batch axis or latent size
 */
export async function openLatentSpace(
  settings: MeiSettings,
  sessionOptions: SessionOptions = sessionOptionsOf(settings),
): Promise<LatentSpace> {
  const model = await openModel(settings.generator, "generator", undefined, settings.modelsDir);
  return latentSpaceOn(await openGenerator(model, sessionOptions), settings);
}

function sessionOptionsOf(settings: MeiSettings): SessionOptions {
  return { backend: settings.backend, threads: settings.threads };
}

/**
 * Open a generator's session and read its latent input, once for any number of grids
 * (see {@link latentSpaceOn}).
 * @param model the generator, read (see {@link openModel})
 * @param sessionOptions backend and threads
 * @returns the open generator; `session.release()` closes it
 * @throws {ModelError} a generator without a batch axis or latent size
 */
export async function openGenerator(
  model: OpenedModel,
  sessionOptions: SessionOptions,
): Promise<OpenGenerator> {
  requireBatchAxis(model.info.graph.inputs, model.label);
  const session = await openSession(model.bytes, { ...sessionOptions, source: model.label });
  const input = session.inputs[0];
  const latentDim = input.dims?.[1];
  if (typeof latentDim !== "number" || latentDim < 1) {
    await session.release();
    throw new ModelError(
      `cannot tell the latent size of ${model.label} from its input "${input.name}" [${input.dims}]`,
    );
  }
  return { model, session, latentDim, codes: input.elemType === ELEM_TYPE.INT64 };
}

/**
 * The latent space of grid settings on an open generator: the search space, the grid values
 * and the images of grid points. Code-index generators take the codebook size from the
 * manifest, else the grid size, and ignore grid and range.
 * @param generator the open generator (it stays open: many spaces may share it)
 * @param grid the grid settings
 * @returns the latent space
 */
export function latentSpaceOn(generator: OpenGenerator, grid: GridSettings): LatentSpace {
  const { model, session, latentDim } = generator;
  const base = { generator: session, model };
  if (generator.codes) {
    const size = Number(
      (model.entry?.codebook as { size?: number } | undefined)?.size ?? grid.gridSize,
    );
    const latentMap: LatentMap = { kind: "codes" };
    return {
      ...base,
      space: { d: latentDim, n: size },
      latentMap,
      images: (points) => generateImages(session, latentDim, latentMap, points),
      latent: { kind: "codes", size },
    };
  }
  const n = grid.gridSize;
  const latentValues = gridValues(
    grid.grid === "gaussian"
      ? { kind: "gaussian", n }
      : { kind: "uniform", n, lower: grid.range[0], upper: grid.range[1] },
  );
  const latentMap: LatentMap = { kind: "grid", values: latentValues };
  return {
    ...base,
    space: { d: latentDim, n },
    latentValues,
    latentMap,
    images: (points) => generateImages(session, latentDim, latentMap, points),
    latent: grid.grid === "gaussian"
      ? { kind: "grid", grid: "gaussian", size: n }
      : { kind: "grid", grid: "uniform", size: n, range: grid.range },
  };
}

/** An opened MEI problem (see the module doc). */
export interface MeiProblem extends LatentSpace {
  settings: MeiSettings;
  /** The layer read ("logits" for class units). */
  layer: string;
  /** The chosen units of the layer. */
  neurons: number[];
  /** [C, H, W] of the generator's images. */
  imageShape: number[];
  target: OpenedModel;
  /** The backend and threads the sessions run on. */
  backend: string;
  threads: number;
  /** The data path: grid points -> images -> activations. */
  pipeline: Pipeline;
  /**
   * Another data path through the same sessions: other units of the layer, other noise (a
   * sweep's lockstep groups, each search with its own noise stream).
   */
  pipelineFor(units: number[], noise?: PipelineOptions["noise"]): Pipeline;
  /** Every neuron's response to every point of a batch: `values[b * neurons + j]`. */
  objective: MultiObjective;
  /** Seconds spent opening, and in the networks so far. */
  timings: { openSeconds: number; networkSeconds: number };
  /** The target's logits on each point's image (when it has a "logits" output). */
  logits?(points: Int32Array[]): Promise<Float32Array[]>;
  /** The class the target gives each point's image (when it has a "logits" output). */
  classify?(points: Int32Array[]): Promise<ClassInfo[]>;
  /** Release the sessions it opened. */
  close(): Promise<void>;
}

/**
 * Open the problem of checked settings: models, sessions, grid, layer and units. Every check
 * that needs the models (layer name, neuron range, image shapes, batch axes) happens here,
 * before any search.
 * @param settings checked settings (see `checkSettings`)
 * @param runtime session options beyond the settings (`wasmThreads`, for benches)
 * @returns the problem; its `close()` releases every session
 * @throws {ModelError} a model, layer or unit that cannot be used, naming the file and its role
 */
export async function openProblem(
  settings: MeiSettings,
  runtime: Pick<SessionOptions, "wasmThreads"> = {},
): Promise<MeiProblem> {
  const t0 = performance.now();
  const sessionOptions = { ...sessionOptionsOf(settings), ...runtime };
  const [gen, tgt] = await Promise.all([
    openModel(settings.generator, "generator", undefined, settings.modelsDir),
    openModel(settings.target, "target", settings.epoch, settings.modelsDir),
  ]);
  const latent = latentSpaceOn(await openGenerator(gen, sessionOptions), settings);
  const problem = await openProblemOn(latent, settings, tgt, runtime);
  problem.timings.openSeconds = (performance.now() - t0) / 1000;
  const closeTarget = problem.close;
  problem.close = async () => {
    await closeTarget();
    await latent.generator.release();
  };
  return problem;
}

/**
 * Open a problem on a generator that is already open (shared by many problems, as in a sweep):
 * the target's sessions, the layer and the units, checked as in {@link openProblem}.
 * @param latent the open generator side
 * @param settings checked settings (their generator and grid are those of `latent`)
 * @param tgt the target, if already read (default: read from the settings)
 * @param runtime session options beyond the settings (`wasmThreads`, for benches)
 * @returns the problem; its `close()` releases the target's sessions, not the generator's
 * @throws {ModelError} a model, layer or unit that cannot be used, naming the file and its role
 */
export async function openProblemOn(
  latent: LatentSpace,
  settings: MeiSettings,
  tgt?: OpenedModel,
  runtime: Pick<SessionOptions, "wasmThreads"> = {},
): Promise<MeiProblem> {
  const t0 = performance.now();
  tgt ??= await openModel(settings.target, "target", settings.epoch, settings.modelsDir);
  const sessionOptions = { ...sessionOptionsOf(settings), ...runtime };
  const layer = settings.layer;
  const graph = tgt.info.graph;
  const tensors = new Set([
    ...graph.outputs.map((o) => o.name),
    ...graph.nodes.flatMap((n) => n.outputs),
  ]);
  const hasLogits = tensors.has("logits");
  if (layer === "logits" && !hasLogits) {
    throw new ModelError(`${tgt.label} has no "logits" output for --unit ${settings.unit}`);
  }
  requireBatchAxis(graph.inputs, tgt.label);
  const target = await openSession(tgt.bytes, {
    ...sessionOptions,
    outputs: [layer], // the graph is pruned to end at the layer: later layers never run
    source: tgt.label,
  });
  const pipelineFor = (units: number[], noise?: PipelineOptions["noise"]) =>
    new Pipeline({
      generator: latent.generator,
      target,
      latentDim: latent.space.d,
      latent: latent.latentMap,
      selection: {
        kind: settings.unit,
        layer,
        units,
        position: settings.position,
        layout: settings.layout,
      },
      noise,
    });
  const image = await latent.images([new Int32Array(latent.space.d)]);
  const declared = target.inputs[0].dims?.slice(1);
  const wantShape = declared?.every((v) => typeof v === "number")
    ? declared
    : tgt.entry?.input?.shape?.slice(1);
  if (wantShape && wantShape.join() !== image.dims.slice(1).join()) {
    throw new ModelError(
      `the generator makes images [${image.dims.slice(1)}] but the target takes [${wantShape}]`,
    );
  }
  const layerOut = (await target.run({ [target.inputNames[0]]: image }, [layer]))[layer];
  const units = selectableUnits(layerOut.dims, 1, { kind: settings.unit, layout: settings.layout });
  if (settings.position) {
    const [, h = 1, w = 1] = resolveLayout(layerOut.dims, 1, settings.layout).sample;
    const [y, x] = settings.position;
    if (y >= h || x >= w) {
      throw new ModelError(
        `position ${y},${x} is outside "${layer}", whose positions are y 0..${h - 1}, x 0..${
          w - 1
        }`,
      );
    }
  }
  const neurons = parseNeurons(settings.neurons, units, `"${layer}"`);
  // One image through the chosen units, so a target that returns NaN stops here, not mid-search.
  await pipelineFor(neurons).evaluate([new Int32Array(latent.space.d)]);
  const noise = settings.noise > 0
    ? { sigma: settings.noise, rng: new Rng(settings.seed + 1_000_003) }
    : undefined;
  const pipeline = pipelineFor(neurons, noise);
  const timings = { openSeconds: 0, networkSeconds: 0 };
  let classifier: Session | undefined;
  const logitsOf = async (points: Int32Array[]) => {
    // A second session reads the logits of each image, so the search's graph stays pruned.
    classifier ??= layer === "logits" ? target : await openSession(tgt.bytes, {
      ...sessionOptions,
      outputs: ["logits"],
      source: tgt.label,
    });
    const input = { [classifier.inputNames[0]]: await latent.images(points) };
    const logits = (await classifier.run(input, ["logits"])).logits;
    const k = logits.dims[1], data = logits.data as Float32Array;
    return points.map((_, j) => data.subarray(j * k, (j + 1) * k));
  };
  const problem: MeiProblem = {
    ...latent,
    settings,
    layer,
    neurons,
    imageShape: image.dims.slice(1) as number[],
    target: tgt,
    backend: latent.generator.backend,
    threads: latent.generator.threads,
    pipeline,
    pipelineFor,
    timings,
    objective: async (batch) => {
      const ts = performance.now();
      const { values } = await pipeline.evaluate(batch);
      timings.networkSeconds += (performance.now() - ts) / 1000;
      return values;
    },
    logits: hasLogits ? logitsOf : undefined,
    classify: hasLogits ? async (points) => (await logitsOf(points)).map(classOf) : undefined,
    close: async () => {
      if (classifier && classifier !== target) await classifier.release();
      await target.release();
    },
  };
  timings.openSeconds = (performance.now() - t0) / 1000;
  return problem;
}
