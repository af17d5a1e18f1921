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

import { type Fail, failer, parseCommandLine } from "../src/io/cli.ts";
import { ProgressBar } from "../src/io/progress.ts";
import { RunFolder } from "../src/io/run_folder.ts";
import { type MeiRun, runMei, runName } from "../src/models/mei.ts";
import { writeMeiOutputs } from "../src/models/report.ts";
import {
  defaultSettings,
  type Flags,
  type MeiSettings,
  settingsFromFlags,
  settingsFromReplay,
} from "../src/models/settings.ts";
import { methodNames } from "../src/optim/registry.ts";
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
  --method NAME           optimizer: ${methodNames().join(", ")}  [${defaultSettings.method}]
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

const fail: Fail = failer("mei");

const options = {
  generator: { type: "string" },
  target: { type: "string" },
  epoch: { type: "string" },
  "models-dir": { type: "string" },
  "list-layers": { type: "boolean" },
  layer: { type: "string" },
  neurons: { type: "string" },
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
} as const;

/** An argument as a POSIX shell reads it back: quoted when it holds anything but safe characters. */
function shellWord(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'"'"'`)}'`;
}

const { values: v } = parseCommandLine("mei", help, options);

let settings: MeiSettings;
try {
  let base: MeiSettings | undefined;
  if (v.replay) {
    let replay;
    try {
      replay = settingsFromReplay(JSON.parse(await Deno.readTextFile(v.replay)));
    } catch (e) {
      const why = e instanceof Deno.errors.NotFound
        ? "no such file"
        : e instanceof SyntaxError
        ? "it is not JSON (a run.json written by scripts/mei.ts is)"
        : (e as Error).message;
      fail(`cannot replay ${v.replay}: ${why}`);
    }
    base = replay.settings;
    // Replay on the backend the run used: backends differ in their last digits.
    if (replay.backend && base.backend === "auto" && v.backend === undefined) {
      base = { ...base, backend: replay.backend as MeiSettings["backend"] };
    } else if (replay.backend && v.backend !== undefined && v.backend !== replay.backend) {
      console.error(
        `mei: warning: the replayed run ran on ${replay.backend}; on ${v.backend} ` +
          `the results may differ`,
      );
    }
  }
  settings = settingsFromFlags(v as Flags, base);
  if (v["list-layers"]) {
    for (const line of await listTargetLayers(settings)) console.log(line);
    Deno.exit(0);
  }
  // The destination is checked (and made) before any model is opened.
  if (v.name !== undefined) RunFolder.checkName(v.name);
  await RunFolder.prepare(v.out!);
} catch (e) {
  fail((e as Error).message);
}

const abort = new AbortController();
let writing: RunFolder | undefined;
const onSignal = () => {
  if (!abort.signal.aborted) {
    abort.abort();
    console.error(
      writing
        ? "\nmei: interrupted; finishing the results (Ctrl-C again to abandon them)"
        : "\nmei: interrupted; saving what was found so far (Ctrl-C again to quit at once)",
    );
    return;
  }
  if (writing) {
    writing.discardSync();
    console.error("\nmei: quit; the results were not saved");
  }
  Deno.exit(130);
};
Deno.addSignalListener("SIGINT", onSignal);

const started = new Date();
let bar: ProgressBar | undefined;
let run: MeiRun;
try {
  run = await runMei(settings, {
    signal: abort.signal,
    onProgress: (images, _evaluations, best) => {
      // Images shown in all (every neuron's evaluations), and the best over the neurons.
      bar ??= new ProgressBar({
        total: settings.budget * best.length,
        label: "mei",
        unit: "images",
      });
      bar.update(images, {
        [best.length > 1 ? `best of ${best.length}` : "best"]: Math.max(...best),
      });
    },
  });
} catch (e) {
  bar?.done();
  fail((e as Error).message);
}
bar?.done();
if (run.result.images === 0) {
  console.error("mei: interrupted before any image was shown; nothing to save");
  Deno.exit(130);
}

let final: string;
try {
  writing = await RunFolder.create(v.out!, v.name ?? runName(run));
  await writeMeiOutputs(run, writing, {
    started: started.toISOString(),
    command: ["deno run -A scripts/mei.ts", ...Deno.args.map(shellWord)].join(" "),
    versions: { deno: Deno.version.deno, v8: Deno.version.v8, toolkit: "0.1.0" },
  });
  final = await writing.commit();
} catch (e) {
  await writing?.discard();
  fail(`could not write the results: ${(e as Error).message}`);
}
Deno.removeSignalListener("SIGINT", onSignal);
await run.problem.close();
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
