/**
 * The tensor-train optimizer's share of a search: runs the default MEI search with tt-b
 * (`scripts/mei.ts --method tt-b`: SN-GAN, layer2.1.sn2 channel 0, 10,000 evaluations) on each
 * given target and
 * prints, per step of K images, the network's and the optimizer's milliseconds and the
 * optimizer's share of the search (`timings` of run.json). Nothing is written.
 *
 * Usage: `deno task bench` or `deno run -A scripts/bench_search.ts [--targets sresnet18,sresnet18t50]
 * [--budget 10000] [--backend auto] [--json]`
 * @module
 */

import { type Fail, failer, parseCommandLine } from "../src/io/cli.ts";
import { defaultSettings, runMei } from "../src/models/mei.ts";

const help = `Usage: deno run -A scripts/bench_search.ts [--targets sresnet18,sresnet18t50]
  [--budget 10000] [--backend auto] [--json]

The network's and the optimizer's milliseconds per step of the default MEI search with tt-b on each
target, and the optimizer's share. Nothing is written.`;
const fail: Fail = failer("bench_search");
const { values } = parseCommandLine("bench_search", help, {
  targets: { type: "string", default: "sresnet18,sresnet18t50" },
  budget: { type: "string", default: String(defaultSettings.budget) },
  backend: { type: "string", default: "auto" },
  json: { type: "boolean", default: false },
});
const budget = Number(values.budget);
if (!Number.isInteger(budget) || budget < 1) {
  fail(`--budget must be a positive integer, got ${values.budget}`);
}
const log = (s: string) => values.json ? console.error(s) : console.log(s);

const rows = [];
for (const target of values.targets.split(",")) {
  log(`  searching on ${target} ...`);
  const run = await runMei({
    ...defaultSettings,
    method: "tt-b",
    target,
    budget,
    backend: values.backend as typeof defaultSettings.backend,
  }).catch((e) => {
    fail((e as Error).message);
  });
  const t = run.timings, steps = run.result.curves[0].length;
  rows.push({
    target,
    T: run.models.target.entry?.T,
    backend: run.backend,
    steps,
    networkMsPerStep: (t.networkSeconds * 1000) / steps,
    optimizerMsPerStep: (t.optimizerSeconds * 1000) / steps,
    searchSeconds: t.searchSeconds,
    optimizerShare: t.optimizerSeconds / t.searchSeconds,
  });
}

if (values.json) console.log(JSON.stringify({ budget, rows }));
else {
  console.log(`\nthe optimizer's share of the default search (tt-b, ${budget} evaluations)\n`);
  console.log("| target | T | backend | network ms/step | optimizer ms/step | search s | share |");
  console.log("| --- | --: | --- | --: | --: | --: | --: |");
  for (const r of rows) {
    console.log(
      `| ${r.target} | ${r.T ?? "?"} | ${r.backend} | ${r.networkMsPerStep.toFixed(2)} | ${
        r.optimizerMsPerStep.toFixed(3)
      } | ${r.searchSeconds.toFixed(1)} | ${(100 * r.optimizerShare).toFixed(2)}% |`,
    );
  }
}
