/**
 * Find the most exciting inputs (MEIs) of neurons: search a generator's latent grid for the
 * images that drive chosen units of a target network hardest, with any registered optimizer.
 *
 *   deno run -A scripts/mei.ts                      # the default run on the shipped models
 *   deno run -A scripts/mei.ts --neurons 0-7 --shared --budget 2000
 *   deno run -A scripts/mei.ts --list-layers
 *   deno run -A scripts/mei.ts --replay runs/<name>/run.json
 *   deno run -A scripts/mei.ts --help
 *
 * Narrow permissions (wasm backend): see the README.
 * @module
 */

import { parseArgs } from "node:util";
import { ProgressBar } from "../src/io/progress.ts";
import { RunFolder } from "../src/io/run_folder.ts";
import {
  checkSettings,
  defaultSettings,
  type MeiSettings,
  runMei,
  runName,
  writeMeiOutputs,
} from "../src/models/mei.ts";
import { methodNames } from "../src/optim/registry.ts";
import { convergencePlots } from "../src/models/mei_plots.ts";
import { listTargetLayers } from "../src/models/layers.ts";

const help = `Usage: deno run -A scripts/mei.ts [options]

Finds the most exciting inputs of neurons of a target network, searching the latent grid
of a generator with a gradient-free optimizer. Writes a folder of results (MEI images,
candidates, a GIF of the progress, convergence curves, histories, the best latents and
run.json, which --replay reproduces).

Models
  --generator NAME|PATH   shipped generator (sngan, vqvae) or an .onnx file   [sngan]
  --target NAME|PATH      shipped target or an .onnx file: sresnet18 (T = 4),
                          sresnet18t50 (the same weights at T = 50), scnn, cnn [sresnet18]
  --epoch N               checkpoint epoch of a shipped target                [last]
  --models-dir DIR        folder with manifest.json                           [models/]
  --list-layers           print the target's layers and exit
Neurons
  --layer NAME            layer (any tensor of the target graph)              [layer2.1.sn2]
  --neurons LIST          12 | 1,5,9 | 0-15 | all                             [0]
  --unit KIND             channel (rate averaged over time and space),
                          spatial (one position, --position y,x),
                          logit or probability (of a class: --neurons = class) [channel]
  --position Y,X          position of spatial units
Search
  --method NAME           optimizer: ${methodNames().join(", ")}  [tt-b]
  --param KEY=VALUE       method parameter (repeatable), e.g. --param k=50
  --budget N              evaluations per neuron                              [10000]
  --seed N                seed; the same seed and backend give the same run   [0]
  --grid uniform|gaussian latent grid: uniform on --range, or N(0,1) quantiles [uniform]
  --grid-size N           points per latent coordinate (codes of a code-index
                          generator not in the manifest)                      [64]
  --range LO,HI           range of the uniform grid                           [-4,4]
  --noise SIGMA           multiplicative response noise y max(0, 1 + sigma N(0,1))  [0]
  --shared                tell every neuron's search the responses to all images shown
Running
  --backend auto|wasm|webgpu|native                                           [auto]
  --threads N             inference threads                                   [all cores]
  --out DIR               parent folder of the run folder                     [runs]
  --name NAME             run folder name                                     [from the settings]
  --replay RUN.JSON       rerun the settings of an earlier run
  --json                  print a machine-readable summary on stdout
  --help                  this text

Exit codes: 0 done, 2 bad input, 130 interrupted (results so far are saved).`;

function fail(message: string): never {
  console.error(`mei: ${message}`);
  Deno.exit(2);
}

function pair(text: string, what: string): [number, number] {
  const parts = text.split(",").map(Number);
  if (parts.length !== 2 || parts.some((v) => !Number.isFinite(v))) {
    fail(`${what} must be two numbers "a,b", got "${text}"`);
  }
  return parts as [number, number];
}

function integer(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!Number.isInteger(v)) fail(`${what} must be an integer, got "${text}"`);
  return v;
}

let args;
try {
  args = parseArgs({
    args: Deno.args,
    options: {
      generator: { type: "string" },
      target: { type: "string" },
      epoch: { type: "string" },
      "models-dir": { type: "string" },
      "list-layers": { type: "boolean" },
      layer: { type: "string" },
      neurons: { type: "string" },
      neuron: { type: "string" },
      unit: { type: "string" },
      position: { type: "string" },
      method: { type: "string" },
      param: { type: "string", multiple: true },
      budget: { type: "string" },
      seed: { type: "string" },
      grid: { type: "string" },
      "grid-size": { type: "string" },
      range: { type: "string" },
      noise: { type: "string" },
      shared: { type: "boolean" },
      backend: { type: "string" },
      threads: { type: "string" },
      out: { type: "string", default: "runs" },
      name: { type: "string" },
      replay: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
} catch (e) {
  fail(`${(e as Error).message} (see --help)`);
}
const v = args.values;
if (v.help) {
  console.log(help);
  Deno.exit(0);
}

let base: MeiSettings = { ...defaultSettings };
if (v.replay) {
  try {
    base = { ...defaultSettings, ...JSON.parse(await Deno.readTextFile(v.replay)).settings };
  } catch (e) {
    fail(`cannot replay ${v.replay}: ${(e as Error).message}`);
  }
}
const params: Record<string, unknown> = { ...base.params };
for (const p of v.param ?? []) {
  const m = /^([\w-]+)=(.*)$/.exec(p);
  if (!m) fail(`--param must be KEY=VALUE, got "${p}"`);
  const raw = m[2];
  params[m[1]] = raw === "true"
    ? true
    : raw === "false"
    ? false
    : Number.isFinite(Number(raw))
    ? Number(raw)
    : raw;
}
const settings: MeiSettings = {
  ...base,
  generator: v.generator ?? base.generator,
  target: v.target ?? base.target,
  epoch: integer(v.epoch, "--epoch") ?? base.epoch,
  modelsDir: v["models-dir"] ?? base.modelsDir,
  layer: v.layer ?? base.layer,
  neurons: v.neurons ?? v.neuron ?? base.neurons,
  unit: (v.unit ?? base.unit) as MeiSettings["unit"],
  position: v.position ? pair(v.position, "--position") : base.position,
  method: v.method ?? base.method,
  params: Object.keys(params).length ? params : undefined,
  budget: integer(v.budget, "--budget") ?? base.budget,
  seed: integer(v.seed, "--seed") ?? base.seed,
  grid: (v.grid ?? base.grid) as MeiSettings["grid"],
  gridSize: integer(v["grid-size"], "--grid-size") ?? base.gridSize,
  range: v.range ? pair(v.range, "--range") : base.range,
  noise: v.noise !== undefined ? Number(v.noise) : base.noise,
  shared: v.shared ?? base.shared,
  backend: (v.backend ?? base.backend) as MeiSettings["backend"],
  threads: integer(v.threads, "--threads") ?? base.threads,
};

try {
  if (v["list-layers"]) {
    for (const line of await listTargetLayers(settings)) console.log(line);
    Deno.exit(0);
  }
  checkSettings(settings);
} catch (e) {
  fail((e as Error).message);
}

const abort = new AbortController();
const onSignal = () => {
  if (abort.signal.aborted) Deno.exit(130);
  console.error("\nmei: interrupted; saving what was found so far (Ctrl-C again to quit at once)");
  abort.abort();
};
Deno.addSignalListener("SIGINT", onSignal);

const started = new Date();
let bar: ProgressBar | undefined;
let run;
try {
  run = await runMei(settings, {
    signal: abort.signal,
    onProgress: (images, evaluations, best) => {
      bar ??= new ProgressBar({ total: settings.budget, label: "mei" });
      const top = Math.max(...best);
      bar.update(evaluations, { best: top, images });
    },
  });
} catch (e) {
  bar?.done();
  fail((e as Error).message);
}
bar?.done();

const folder = await RunFolder.create(v.out!, v.name ?? runName(run));
let final: string;
try {
  await writeMeiOutputs(run, folder, {
    started: started.toISOString(),
    command: ["deno run scripts/mei.ts", ...Deno.args].join(" "),
    versions: { deno: Deno.version.deno, v8: Deno.version.v8, toolkit: "0.1.0" },
  });
  await convergencePlots(run, folder);
  final = await folder.commit();
} catch (e) {
  await folder.discard();
  fail(`could not write the results: ${(e as Error).message}`);
}
Deno.removeSignalListener("SIGINT", onSignal);

const summary = {
  folder: final,
  neurons: run.neurons,
  values: run.result.results.map((r) => r.value),
  evaluations: run.result.results[0].evaluations,
  images: run.result.images,
  interrupted: run.result.interrupted,
  backend: run.backend,
  seconds: run.timings.searchSeconds,
};
if (v.json) console.log(JSON.stringify(summary));
else {
  const best = summary.values.map((x) => x.toFixed(4)).join(", ");
  console.error(
    `mei: best activation ${best} after ${summary.evaluations} evaluations per neuron ` +
      `(${summary.images} images, ${summary.seconds.toFixed(1)} s on ${summary.backend})`,
  );
  console.error(
    `mei: results in ${final}/ (mei.png, candidates.png, progress.gif, convergence.svg, run.json, ...)`,
  );
}
if (run.result.interrupted) Deno.exit(130);
