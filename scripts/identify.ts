/**
 * Back-engineer a spiking network: recover the weights and biases of recorded integrate-and-fire
 * neurons from their spikes (a linear program per neuron) or potentials (a linear system), and
 * check them on held-out trials.
 *
 *   deno run -A scripts/identify.ts --spikes out.npy --inputs in.npy
 *   deno run -A scripts/identify.ts --spikes s.csv --recurrent --model gif --leak 0.8 --delays 2
 *   deno run -A scripts/identify.ts --help
 *
 * Narrow permissions: --allow-read (the recording, the worker module and the solver's .wasm in
 * the npm cache) and --allow-write (the output folder).
 * @module
 */

import { type Fail, failer, parseCommandLine } from "../src/io/cli.ts";
import { encodeNpy } from "../src/io/npy.ts";
import { RunFolder } from "../src/io/run_folder.ts";
import {
  type Agreement,
  agreement,
  compareWeights,
  featureCount,
  fitPotentials,
  identify,
  LIF_MODEL,
  makeRecording,
  type Network,
  type NeuronModel,
  readTrials,
  readValues,
  type Recording,
  RecordingError,
  type WeightComparison,
} from "../src/identify/mod.ts";

const help = `Usage: deno run -A scripts/identify.ts --spikes FILE [--inputs FILE] [options]

Recovers the weights and biases of recorded integrate-and-fire neurons from their spike trains
(one linear program per neuron, HiGHS, in parallel workers) and checks them on held-out trials.
Files are .npy ([T, columns] for one trial or [trials, T, columns]) or CSV (one row per step;
a blank line starts the next trial). Every trial starts from rest.

Recording
  --spikes FILE          spikes of the N neurons to identify, 0/1
  --inputs FILE          their M inputs (spikes, or currents with --input-kind currents)
  --input-kind KIND      spikes (checked to be 0/1) or currents                   [spikes]
  --recurrent            the recorded neurons also feed each other, one step later
  --potentials FILE      recorded potentials U[t] (as --spikes): solve the linear system
Neuron model
  --model lif|gif        lif: leak 0.9, threshold 1, reset by subtraction (the shipped
                         networks); gif: generalized integrate-and-fire, reset to zero  [lif]
  --leak X               leak factor per step                                [0.9]
  --threshold X          firing threshold                                    [1]
  --delays D             synaptic delays 0..D steps (one weight per input and delay)   [0]
Checks
  --holdout F            fraction of the trials (the last ones) kept out of the fit
                         and used to check the identified network            [0.2]
  --true-weights FILE    true weights [N, K] (.npy or CSV): correlation, relative error
  --true-biases FILE     true biases [N]
Running
  --workers N            parallel solver workers                             [all cores]
  --allow-unmet          write the results even if some steps cannot be met
  --out DIR              parent of the output folder                         [runs]
  --name NAME            output folder name                                  [identify-<time>]
  --json                 print the report as JSON
  --help                 this text

Writes weights.npy ([N, K], or [N, sources, D + 1] with delays; sources are the inputs, then
the neurons if --recurrent), biases.npy, margins.npy and report.json.
Exit codes: 0 done, 2 bad input or spikes that no weights reproduce.`;

const fail: Fail = failer("identify");

const { values: v } = parseCommandLine("identify", help, {
  spikes: { type: "string" },
  inputs: { type: "string" },
  "input-kind": { type: "string", default: "spikes" },
  recurrent: { type: "boolean", default: false },
  potentials: { type: "string" },
  model: { type: "string", default: "lif" },
  leak: { type: "string" },
  threshold: { type: "string" },
  delays: { type: "string" },
  holdout: { type: "string", default: "0.2" },
  "true-weights": { type: "string" },
  "true-biases": { type: "string" },
  workers: { type: "string" },
  "allow-unmet": { type: "boolean", default: false },
  out: { type: "string", default: "runs" },
  name: { type: "string" },
  json: { type: "boolean", default: false },
});

function num(text: string | undefined, what: string, ok: (x: number) => boolean, valid: string) {
  if (text === undefined) return undefined;
  const x = Number(text);
  if (!Number.isFinite(x) || !ok(x)) fail(`${what} must be ${valid}, got "${text}"`);
  return x;
}

if (!v.spikes) fail("--spikes FILE is required (see --help)");
if (v.model !== "lif" && v.model !== "gif") fail(`--model must be lif or gif, got "${v.model}"`);
if (v["input-kind"] !== "spikes" && v["input-kind"] !== "currents") {
  fail(`--input-kind must be spikes or currents, got "${v["input-kind"]}"`);
}
const model: NeuronModel = {
  leak: num(v.leak, "--leak", (x) => x >= 0 && x <= 1, "in [0, 1]") ?? LIF_MODEL.leak,
  threshold: num(v.threshold, "--threshold", (x) => x > 0, "positive") ?? LIF_MODEL.threshold,
  reset: v.model === "lif" ? "subtract" : "zero",
  maxDelay: num(v.delays, "--delays", (x) => Number.isInteger(x) && x >= 0, "an integer >= 0") ??
    0,
};
const holdout = num(v.holdout, "--holdout", (x) => x >= 0 && x < 1, "in [0, 1)")!;
const workers = num(
  v.workers,
  "--workers",
  (x) => Number.isInteger(x) && x >= 1,
  "an integer >= 1",
);

let rec: Recording;
let potentials: Float64Array[] | null = null;
let trueWeights: Float64Array | null = null, trueBiases: Float64Array | null = null;
try {
  const spikes = await readTrials(v.spikes);
  const inputs = v.inputs ? await readTrials(v.inputs) : null;
  rec = makeRecording(spikes, inputs, model, {
    recurrent: v.recurrent,
    inputKind: v["input-kind"] as "spikes" | "currents",
  });
  if (v.potentials) {
    const p = await readTrials(v.potentials);
    if (p.columns !== rec.neurons || p.trials.length !== rec.trials.length) {
      fail(
        `${v.potentials}: ${p.trials.length} trials x ${p.columns} columns, but ${v.spikes} has ` +
          `${rec.trials.length} trials x ${rec.neurons} neurons`,
      );
    }
    potentials = p.trials;
  }
  const k = featureCount(model, rec.inputs, rec.neurons, rec.recurrent);
  if (v["true-weights"]) {
    const w = await readValues(v["true-weights"]);
    if (w.length !== rec.neurons * k) {
      fail(`${v["true-weights"]}: ${w.length} values, expected N x K = ${rec.neurons} x ${k}`);
    }
    trueWeights = w;
  }
  if (v["true-biases"]) {
    const b = await readValues(v["true-biases"]);
    if (b.length !== rec.neurons) {
      fail(`${v["true-biases"]}: ${b.length} values, expected N = ${rec.neurons}`);
    }
    trueBiases = b;
  }
} catch (e) {
  if (e instanceof RecordingError) fail(e.message);
  throw e;
}

// Held-out trials: the last ones.
const held = rec.trials.length >= 2 && holdout > 0
  ? Math.min(rec.trials.length - 1, Math.max(1, Math.round(rec.trials.length * holdout)))
  : 0;
const fitRec: Recording = { ...rec, trials: rec.trials.slice(0, rec.trials.length - held) };
const heldRec: Recording = { ...rec, trials: rec.trials.slice(rec.trials.length - held) };
const fitSteps = fitRec.trials.reduce((s, t) => s + t.steps, 0);

const t0 = performance.now();
let network: Network;
let margins: Float64Array;
let unmet: { neuron: number; steps: { trial: number; step: number }[] }[] = [];
let inactive: number[] = [];
let residual: Float64Array | null = null;
try {
  if (potentials) {
    const fit = fitPotentials(fitRec, model, potentials.slice(0, fitRec.trials.length));
    network = fit.network;
    residual = fit.residual;
    inactive = fit.inactiveFeatures;
    margins = new Float64Array(rec.neurons).fill(NaN);
  } else {
    if (!v.json) console.error(`identifying ${rec.neurons} neurons on ${fitSteps} steps ...`);
    const id = await identify(fitRec, model, { workers });
    network = id.network;
    margins = Float64Array.from(id.neurons, (r) => r.margin);
    unmet = id.neurons.map((r, neuron) => ({ neuron, steps: r.unmet })).filter((u) =>
      u.steps.length
    );
    inactive = id.inactiveFeatures;
  }
} catch (e) {
  if (e instanceof RecordingError) fail(e.message);
  const { name, message } = e as Error;
  if (name === "SolverLoadError" || name === "NotCapable") fail(message);
  throw e;
}
const seconds = (performance.now() - t0) / 1000;

if (unmet.length && !v["allow-unmet"]) {
  const lines = unmet.slice(0, 10).map((u) =>
    `  neuron ${u.neuron}: ${u.steps.length} steps, e.g. ` +
    u.steps.slice(0, 5).map((s) => `trial ${s.trial} step ${s.step}`).join(", ")
  );
  fail(
    `no weights reproduce the recorded spikes of ${unmet.length} neuron(s) under this model ` +
      `(leak ${model.leak}, threshold ${model.threshold}, reset ${model.reset}, delays 0..${model.maxDelay}):\n` +
      lines.join("\n") +
      "\ncheck the model parameters, or write the closest fit with --allow-unmet",
  );
}

const rate = (a: Agreement) => ({
  spikes: a.spikes,
  silences: a.silences,
  spikesReproduced: a.spikes ? a.spikesReproduced / a.spikes : NaN,
  silencesReproduced: a.silences ? a.silencesReproduced / a.silences : NaN,
  trialsExact: `${a.trialsExact}/${a.trials}`,
});
const training = rate(agreement(network, fitRec, true));
const heldOut = held ? rate(agreement(network, heldRec)) : null;
const heldOutForced = held && rec.recurrent ? rate(agreement(network, heldRec, true)) : null;
const k = featureCount(model, rec.inputs, rec.neurons, rec.recurrent);
const activeCols = [...Array(k).keys()].filter((c) => !inactive.includes(c));
let comparison: (WeightComparison & { biasError?: number }) | null = null;
if (trueWeights) {
  comparison = compareWeights(network.weights, trueWeights, rec.neurons, k, activeCols);
  if (trueBiases) {
    comparison.biasError = Math.max(...trueBiases.map((b, i) => Math.abs(network.biases[i] - b)));
  }
}

const report = {
  model,
  neurons: rec.neurons,
  inputs: rec.inputs,
  recurrent: rec.recurrent,
  weightsPerNeuron: k,
  trials: { fit: fitRec.trials.length, heldOut: held, fitSteps },
  method: potentials ? "linear system (potentials observed)" : "linear program (spikes)",
  seconds,
  margins: {
    min: Math.min(...margins),
    median: [...margins].sort((a, b) => a - b)[margins.length >> 1],
  },
  residual: residual ? Math.max(...residual) : undefined,
  unmet,
  inactiveFeatures: inactive,
  training,
  heldOut,
  heldOutForced,
  comparison,
};

const nd = model.maxDelay + 1;
const shape = nd === 1 ? [rec.neurons, k] : [rec.neurons, k / nd, nd];
const permission: (e: unknown) => never = (e) => {
  if ((e as Error).name !== "NotCapable" && (e as Error).name !== "PermissionDenied") throw e;
  fail(`no permission to write under ${v.out} (run with --allow-read and --allow-write=${v.out})`);
};
const folder = await RunFolder.create(
  v.out,
  v.name ?? `identify-${new Date().toISOString().replace(/[:.]/g, "-")}`,
).catch(permission);
let path: string;
try {
  await folder.write("weights.npy", encodeNpy(network.weights, shape));
  await folder.write("biases.npy", encodeNpy(network.biases, [rec.neurons]));
  await folder.write("margins.npy", encodeNpy(margins, [rec.neurons]));
  await folder.write("report.json", JSON.stringify(report, null, 2) + "\n");
  path = await folder.commit();
} catch (e) {
  await folder.discard();
  permission(e);
}

if (v.json) console.log(JSON.stringify({ ...report, folder: path }, null, 2));
else {
  const pct = (x: number) => Number.isNaN(x) ? "-" : `${(100 * x).toFixed(2)}%`;
  const line = (name: string, a: ReturnType<typeof rate> | null) =>
    a && console.log(
      `${name}: spikes ${pct(a.spikesReproduced)} of ${a.spikes}, silences ` +
        `${pct(a.silencesReproduced)} of ${a.silences}, trials exact ${a.trialsExact}`,
    );
  console.log(`${report.method}: ${rec.neurons} neurons x ${k} weights, ${seconds.toFixed(1)} s`);
  if (!potentials) {
    console.log(
      `margin: min ${report.margins.min.toExponential(2)}, median ${
        report.margins.median.toExponential(2)
      } (threshold units)`,
    );
  } else console.log(`largest residual: ${report.residual!.toExponential(2)}`);
  if (inactive.length) {
    console.log(`${inactive.length} of ${k} weights per neuron never active in the fit: set to 0`);
  }
  line("training trials", training);
  line("held-out trials", heldOut);
  line("held-out, driven by the recorded spikes", heldOutForced);
  if (comparison) {
    console.log(
      `true weights: correlation ${comparison.correlation.toFixed(4)}, relative error ` +
        `${comparison.relativeError.toExponential(2)} (median per neuron ` +
        `${comparison.medianRelativeError.toExponential(2)})` +
        (comparison.biasError !== undefined
          ? `, largest bias error ${comparison.biasError.toExponential(2)}`
          : ""),
    );
  }
  console.log(`written to ${path}`);
}
