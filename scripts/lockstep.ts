/**
 * What sharing buys: runs the same neurons twice in lockstep, once independently (each search
 * told only its own images' responses) and once shared (each search also told its neuron's
 * responses to every other search's images: an imaging experiment records all neurons per
 * image anyway), and compares the activation reached per image shown.
 *
 *   deno run -A scripts/lockstep.ts --neurons 0-15 --budget 2000 [--method tt-b] [mei.ts flags]
 *
 * Prints a markdown table (mean and median best activation over neurons at several numbers of
 * images per neuron) and writes lockstep.svg / lockstep.png and lockstep.json to --out.
 * @module
 */

import { parseCommandLine } from "../src/io/cli.ts";
import { chartPng, chartSvg, type Series } from "../src/io/plot.ts";
import { defaultSettings, type MeiSettings, runMei } from "../src/models/mei.ts";

const help =
  `Usage: deno run -A scripts/lockstep.ts [--neurons 0-15] [--budget 2000] [--method NAME]
  [--generator NAME] [--target NAME] [--layer NAME] [--seed 0] [--grid-size N]
  [--backend auto|wasm|webgpu|native] [--out runs/lockstep]

Runs the same neurons in lockstep twice, independently and shared, and compares the activation
reached per image shown: a markdown table, and lockstep.svg / .png / .json in --out.`;
const { values: v } = parseCommandLine("lockstep", help, {
  generator: { type: "string" },
  target: { type: "string" },
  layer: { type: "string" },
  neurons: { type: "string", default: "0-15" },
  method: { type: "string" },
  budget: { type: "string", default: "2000" },
  seed: { type: "string", default: "0" },
  "grid-size": { type: "string" },
  backend: { type: "string" },
  out: { type: "string", default: "runs/lockstep" },
});
const settings: MeiSettings = {
  ...defaultSettings,
  generator: v.generator ?? defaultSettings.generator,
  target: v.target ?? defaultSettings.target,
  layer: v.layer ?? defaultSettings.layer,
  neurons: v.neurons!,
  method: v.method ?? defaultSettings.method,
  budget: Number(v.budget),
  seed: Number(v.seed),
  gridSize: v["grid-size"] ? Number(v["grid-size"]) : defaultSettings.gridSize,
  backend: (v.backend ?? "auto") as MeiSettings["backend"],
};

const runs: Record<string, Awaited<ReturnType<typeof runMei>>> = {};
for (const shared of [false, true]) {
  const t0 = performance.now();
  runs[shared ? "shared" : "independent"] = await runMei({ ...settings, shared });
  console.error(
    `${shared ? "shared" : "independent"}: ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}

const u = runs.independent.neurons.length;
const stats = (mode: string, step: number) => {
  const bests = runs[mode].result.curves.map((c) => c[step].best).sort((a, b) => a - b);
  return { mean: bests.reduce((a, b) => a + b) / u, median: bests[Math.floor(u / 2)] };
};
const steps = runs.independent.result.curves[0].length;
const perNeuron = (step: number) => runs.independent.result.curves[0][step].images / u;
const marks = [
  ...new Set([0.05, 0.1, 0.25, 0.5, 1].map((f) => Math.max(0, Math.ceil(f * steps) - 1))),
];
const lines = [
  `${u} neurons of ${settings.layer}, ${settings.method}, budget ${settings.budget} per neuron, seed ${settings.seed}`,
  "",
  "| images per neuron | independent mean | shared mean | shared / independent | independent median | shared median |",
  "| ---: | ---: | ---: | ---: | ---: | ---: |",
];
for (const step of marks) {
  const a = stats("independent", step), b = stats("shared", step);
  lines.push(
    `| ${perNeuron(step)} | ${a.mean.toFixed(4)} | ${b.mean.toFixed(4)} | ${
      (b.mean / a.mean).toFixed(3)
    } | ` +
      `${a.median.toFixed(4)} | ${b.median.toFixed(4)} |`,
  );
}
console.log(lines.join("\n"));

const series: Series[] = ["independent", "shared"].map((mode) => ({
  name: mode,
  x: Array.from({ length: steps }, (_, s) => perNeuron(s)),
  y: Array.from({ length: steps }, (_, s) => stats(mode, s).mean),
}));
const chart = {
  title: `mean best activation of ${u} neurons`,
  xLabel: "images shown per neuron",
  yLabel: "mean best activation",
  logX: true,
  series,
};
await Deno.mkdir(v.out!, { recursive: true });
await Deno.writeTextFile(`${v.out}/lockstep.svg`, chartSvg(chart));
await Deno.writeFile(`${v.out}/lockstep.png`, await chartPng(chart));
await Deno.writeTextFile(
  `${v.out}/lockstep.json`,
  JSON.stringify(
    { settings, table: lines, series: series.map((s) => ({ name: s.name, x: s.x, y: s.y })) },
    null,
    1,
  ) + "\n",
);
console.error(`wrote ${v.out}/lockstep.{svg,png,json}`);
