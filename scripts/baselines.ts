/**
 * Compare optimizers on the benchmark suite: methods x problems x seeds x noise levels, in
 * parallel Web Workers. Prints markdown tables (median and interquartile range of the final
 * value, median evaluations to reach the target) and writes, under --out: results.json (every
 * run with its full best-so-far history), table.md, and convergence curves
 * convergence_noise<sigma>.svg / .png.
 *
 *   deno run -A scripts/baselines.ts --budget 10000 --seeds 5 --noise 0,0.2,0.5
 *
 * @module
 */

import { type Fail, failer, parseCommandLine } from "../src/io/cli.ts";
import { ANALYTIC_FUNCTIONS, type BenchmarkName } from "../src/bench/functions.ts";
import {
  convergenceFigure,
  markdownTables,
  type RunResult,
  summarize,
  type Task,
} from "../src/bench/compare.ts";
import { figurePng, figureSvg } from "../src/io/plot.ts";
import { ProgressBar } from "../src/io/progress.ts";
import { methodNames } from "../src/optim/registry.ts";
import "../src/optim/methods.ts";

const DEFAULT_METHODS = [
  "protes",
  "tt",
  "tt-s",
  "tt-b",
  "tt-exp",
  "ttopt",
  "cma",
  "cma-diag",
  "de",
  "twopointsde",
  "oneplusone",
  "portfolio",
  "pso",
  "ga",
  "spsa",
  "noisybandit",
  "hammersley",
  "random",
];

const HELP = `Usage: deno run -A scripts/baselines.ts [options]

  --methods LIST     comma-separated registry names (default: ${DEFAULT_METHODS.join(",")})
  --problems LIST    comma-separated benchmarks (default: ${
  [...ANALYTIC_FUNCTIONS, "knapsack"].join(",")
})
  --budget N         evaluations per run (default 10000)
  --seeds N          seeds 0..N-1 (default 5)
  --noise LIST       multiplicative noise sigmas (default 0): the optimizer sees
                     U - r max(0, 1 + sigma N(0,1)), r = max(0, U - f) a non-negative
                     response, U the largest f over 10^4 seeded random grid points
  --reevaluate N     re-evaluations of each new incumbent (default 0)
  --start KIND       random | centre: start point of oneplusone and spsa, which evaluate it
                     first (default random: the grid centre is the optimum of several
                     symmetric test functions)
  --d N, --n N       analytic grid: coordinates and values per coordinate (default 7, 16)
  --grid KIND        chebyshev | uniform (default chebyshev)
  --knapsack-d N     knapsack items (default 50)
  --workers N        parallel workers (default: cores - 1, at least 1)
  --out DIR          output folder (default runs/baselines)
  --no-plot          skip the SVG/PNG curves
`;

const { values: flags } = parseCommandLine("baselines", HELP, {
  methods: { type: "string" },
  problems: { type: "string" },
  budget: { type: "string", default: "10000" },
  seeds: { type: "string", default: "5" },
  noise: { type: "string", default: "0" },
  reevaluate: { type: "string", default: "0" },
  d: { type: "string", default: "7" },
  n: { type: "string", default: "16" },
  grid: { type: "string", default: "chebyshev" },
  start: { type: "string", default: "random" },
  "knapsack-d": { type: "string", default: "50" },
  workers: { type: "string" },
  out: { type: "string", default: "runs/baselines" },
  "no-plot": { type: "boolean", default: false },
});

const fail: Fail = failer("baselines");

function integer(name: string, text: string, min: number): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < min) {
    fail(`--${name} must be an integer >= ${min}, got "${text}"`);
  }
  return v;
}

const list = (s: string | undefined) => s?.split(",").map((x) => x.trim()).filter(Boolean);
const methods = list(flags.methods) ?? DEFAULT_METHODS.filter((m) => methodNames().includes(m));
for (const m of methods) {
  if (!methodNames().includes(m)) fail(`unknown method "${m}"; valid: ${methodNames().join(", ")}`);
}
const validProblems = [...ANALYTIC_FUNCTIONS, "knapsack"] as string[];
const problems = (list(flags.problems) ?? validProblems) as BenchmarkName[];
for (const p of problems) {
  if (!validProblems.includes(p)) {
    fail(`unknown problem "${p}"; valid: ${validProblems.join(", ")}`);
  }
}
const noises = list(flags.noise)!.map(Number);
if (noises.some((s) => !(s >= 0))) fail(`--noise must be sigmas >= 0, got "${flags.noise}"`);
if (flags.grid !== "chebyshev" && flags.grid !== "uniform") {
  fail(`--grid must be chebyshev or uniform`);
}
if (flags.start !== "random" && flags.start !== "centre") fail(`--start must be random or centre`);
const budget = integer("budget", flags.budget, 1), seeds = integer("seeds", flags.seeds, 1);
const cores = navigator.hardwareConcurrency ?? 1;
const workers = integer("workers", flags.workers ?? String(Math.max(1, cores - 1)), 1);

const tasks: Task[] = [];
for (const noise of noises) {
  for (const problem of problems) {
    for (const method of methods) {
      for (let seed = 0; seed < seeds; seed++) {
        tasks.push({
          method,
          problem,
          seed,
          noise,
          budget,
          d: integer("d", flags.d, 1),
          n: integer("n", flags.n, 2),
          grid: flags.grid,
          knapsackD: integer("knapsack-d", flags["knapsack-d"], 1),
          reevaluate: integer("reevaluate", flags.reevaluate, 0),
          start: flags.start,
        });
      }
    }
  }
}

const bar = new ProgressBar({ total: tasks.length, label: "runs" });
const results: RunResult[] = new Array(tasks.length);
let next = 0, done = 0;
const started = performance.now();
await Promise.all(Array.from({ length: Math.min(workers, tasks.length) }, async () => {
  const worker = new Worker(new URL("../src/bench/_compare_worker.ts", import.meta.url), {
    type: "module",
  });
  try {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await new Promise<RunResult>((resolve, reject) => {
        worker.onmessage = (e: MessageEvent<RunResult>) => resolve(e.data);
        worker.onerror = (e) => (e.preventDefault(), reject(new Error(e.message)));
        worker.postMessage(tasks[i]);
      });
      bar.update(++done, { last: `${tasks[i].method}/${tasks[i].problem}` });
    }
  } finally {
    worker.terminate();
  }
}));
bar.done();

for (const r of results.filter((r) => r.error)) {
  console.error(`failed: ${r.method} on ${r.problem} (seed ${r.seed}): ${r.error}`);
}
const summaries = summarize(results);
const command = `deno run -A scripts/baselines.ts ${Deno.args.join(" ")}`.trim();
const table = markdownTables(summaries);
console.log(table);
const seconds = (performance.now() - started) / 1000;
console.error(`${tasks.length} runs in ${seconds.toFixed(0)} s with ${workers} worker(s)`);

await Deno.mkdir(flags.out, { recursive: true });
const config = {
  command,
  methods,
  problems,
  budget,
  seeds,
  noises,
  workers,
  date: new Date().toISOString(),
};
await Deno.writeTextFile(
  `${flags.out}/results.json`,
  JSON.stringify({ config, summaries, results }, (_, v) => v === Infinity ? "Infinity" : v),
);
await Deno.writeTextFile(`${flags.out}/table.md`, `Command: \`${command}\`\n\n${table}`);
if (!flags["no-plot"]) {
  for (const noise of noises) {
    const figure = convergenceFigure(results, noise);
    const base = `${flags.out}/convergence_noise${noise}`;
    await Deno.writeTextFile(`${base}.svg`, figureSvg(figure));
    await Deno.writeFile(`${base}.png`, await figurePng(figure));
  }
}
console.error(`wrote ${flags.out}/results.json, table.md and the convergence curves`);
