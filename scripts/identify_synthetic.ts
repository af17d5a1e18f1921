/**
 * Synthetic ground truth for `scripts/identify.ts`: a random recurrent LIF network with known
 * weights driven by Poisson input spikes.
 *
 *   deno run -A scripts/identify_synthetic.ts --write runs/synth20      # files for identify.ts
 *   deno run -A scripts/identify_synthetic.ts --curve                   # weight error against T
 *
 * `--write DIR` writes spikes.npy, inputs.npy, potentials.npy, true_weights.npy and
 * true_biases.npy. `--curve` identifies the network from recordings of growing length, checks
 * each fit on held-out trials, and writes docs/identify_error_vs_T.svg and .png.
 * @module
 */

import { type Fail, failer, parseCommandLine } from "../src/io/cli.ts";
import { encodeNpy } from "../src/io/npy.ts";
import { figurePng, figureSvg } from "../src/io/plot.ts";
import {
  agreement,
  compareWeights,
  featureCount,
  identify,
  randomNetwork,
  recordNetwork,
  simulateTrial,
} from "../src/identify/mod.ts";

const help =
  "Usage: deno run -A scripts/identify_synthetic.ts (--write DIR | --curve) [--neurons N]\n" +
  "  [--inputs M] [--trials R] [--steps T] [--rate P] [--seed S]\n" +
  "  [--lengths L1,L2,...] (steps of fitting data, --curve) [--figure PATH_WITHOUT_EXT]";
const fail: Fail = failer("identify_synthetic");
const { values: v } = parseCommandLine("identify_synthetic", help, {
  write: { type: "string" },
  curve: { type: "boolean", default: false },
  neurons: { type: "string", default: "20" },
  inputs: { type: "string", default: "30" },
  trials: { type: "string", default: "10" },
  steps: { type: "string", default: "500" },
  rate: { type: "string", default: "0.1" },
  seed: { type: "string", default: "1" },
  lengths: { type: "string", default: "250,500,1000,2000,4000,8000" },
  figure: { type: "string", default: "docs/identify_error_vs_T" },
});
if (!v.write && !v.curve) fail("give --write DIR or --curve (see --help)");
const int = (s: string, what: string) => {
  const x = Number(s);
  if (!Number.isInteger(x) || x < 1) fail(`${what} must be a positive integer, got "${s}"`);
  return x;
};
const n = int(v.neurons, "--neurons"), m = int(v.inputs, "--inputs");
const trials = int(v.trials, "--trials"), steps = int(v.steps, "--steps");
const seed = int(v.seed, "--seed"), rate = Number(v.rate);
const truth = randomNetwork({ neurons: n, inputs: m, seed });
const k = featureCount(truth.model, m, n, true);

if (v.write) {
  const rec = recordNetwork(truth, { trials, steps, rate, seed: seed + 1 });
  const cat = (f: (t: (typeof rec.trials)[0]) => ArrayLike<number>) =>
    Float64Array.from(rec.trials.flatMap((t) => [...Array.from(f(t))]));
  await Deno.mkdir(v.write, { recursive: true });
  const w = (name: string, data: Uint8Array) => Deno.writeFile(`${v.write}/${name}`, data);
  await w("spikes.npy", encodeNpy(Uint8Array.from(cat((t) => t.spikes)), [trials, steps, n]));
  await w("inputs.npy", encodeNpy(Uint8Array.from(cat((t) => t.inputs)), [trials, steps, m]));
  const u = cat((t) => simulateTrial(truth, t.steps, t.inputs).potentials);
  await w("potentials.npy", encodeNpy(u, [trials, steps, n]));
  await w("true_weights.npy", encodeNpy(truth.weights, [n, k]));
  await w("true_biases.npy", encodeNpy(truth.biases, [n]));
  const r = rec.trials.reduce((s, t) => s + t.spikes.reduce((a, b) => a + b, 0), 0);
  console.log(
    `${n} neurons, ${m} inputs, ${trials} trials x ${steps} steps, spike rate ` +
      `${(r / (n * trials * steps)).toFixed(3)}: written to ${v.write}`,
  );
}

if (v.curve) {
  const lengths = v.lengths.split(",").map((s) => int(s, "--lengths"));
  const heldOut = recordNetwork(truth, { trials: 4, steps, rate, seed: seed + 1000 });
  const rows: {
    steps: number;
    error: number;
    lo: number;
    hi: number;
    free: number;
    forced: number;
  }[] = [];
  console.log(
    "steps  median rel. error  (quartiles)      held-out spikes, silences: free run | " +
      "driven by the record   seconds",
  );
  for (const total of lengths) {
    const per = Math.min(steps, total);
    const rec = recordNetwork(truth, {
      trials: Math.ceil(total / per),
      steps: per,
      rate,
      seed: seed + 1,
    });
    const t0 = performance.now();
    const id = await identify(rec, truth.model);
    const sec = (performance.now() - t0) / 1000;
    const active = [...Array(k).keys()].filter((c) => !id.inactiveFeatures.includes(c));
    const errs = compareWeights(id.network.weights, truth.weights, n, k, active).neurons
      .map((x) => x.relativeError).sort((a, b) => a - b);
    const q = (p: number) => errs[Math.min(n - 1, Math.floor(p * n))];
    const free = agreement(id.network, heldOut), forced = agreement(id.network, heldOut, true);
    const pct = (a: number, b: number) => `${(100 * a / b).toFixed(2)}%`.padStart(7);
    rows.push({
      steps: total,
      error: q(0.5),
      lo: q(0.25),
      hi: q(0.75),
      free: free.spikesReproduced / free.spikes,
      forced: forced.spikesReproduced / forced.spikes,
    });
    console.log(
      `${String(total).padStart(5)}  ${q(0.5).toExponential(2).padStart(17)}  ` +
        `(${q(0.25).toExponential(1)}, ${q(0.75).toExponential(1)})  ` +
        `${pct(free.spikesReproduced, free.spikes)}, ${
          pct(free.silencesReproduced, free.silences)
        }` +
        ` | ${pct(forced.spikesReproduced, forced.spikes)}, ` +
        `${pct(forced.silencesReproduced, forced.silences)}  ${sec.toFixed(1).padStart(6)}`,
    );
  }
  const x = rows.map((r) => r.steps);
  const figure = {
    title: `Identified recurrent LIF network, ${n} neurons, ${m} Poisson inputs`,
    columns: 2,
    charts: [{
      title: "weight error",
      xLabel: "recorded steps used for fitting",
      yLabel: "relative error (median, quartiles)",
      logX: true,
      logY: true,
      series: [{
        name: "LP from spikes",
        x,
        y: rows.map((r) => r.error),
        lower: rows.map((r) => r.lo),
        upper: rows.map((r) => r.hi),
      }],
    }, {
      title: "held-out spikes reproduced",
      xLabel: "recorded steps used for fitting",
      yLabel: "fraction of recorded spikes",
      logX: true,
      yRange: [0, 1] as [number, number],
      series: [
        { name: "driven by the recorded spikes", x, y: rows.map((r) => r.forced) },
        { name: "free run", x, y: rows.map((r) => r.free) },
      ],
    }],
  };
  await Deno.writeTextFile(`${v.figure}.svg`, figureSvg(figure));
  await Deno.writeFile(`${v.figure}.png`, await figurePng(figure));
  console.log(`figure: ${v.figure}.svg, ${v.figure}.png`);
}
