/**
 * Sweep throughput and memory, in one run on the same models:
 *
 * 1. images per second of one `scripts/mei.ts` search (the reference), of a sweep on 1 worker
 *    and of the same sweep on 2 workers, printed as ratios to the reference and to 1 worker,
 *    with the share of each sweep's wall time not spent searching or opening models
 *    (scheduling, records, images, waiting) and the images per CPU second (this process and its
 *    workers), which a machine loaded by other jobs distorts less than the wall time;
 * 2. resident memory of a sweep of many tiny searches (records are streamed to disk, not held):
 *    the peak, and RSS after the first tenth against the end.
 *
 * Usage: `deno run -A scripts/bench_sweep.ts [--target sresnet18@8] [--layer layer2.1.sn2]
 * [--budget 500] [--seeds 4] [--memory-searches 10000] [--json]`. Sweeps go to a temporary
 * folder that is removed.
 * @module
 */

import { type Fail, failer, parseCommandLine } from "../src/io/cli.ts";
import { defaultSettings, runMei } from "../src/models/mei.ts";
import { prepareSweep, runSweep } from "../src/sweep/run.ts";
import { normalizeSpec } from "../src/sweep/spec.ts";

const help =
  `Usage: deno run -A scripts/bench_sweep.ts [--target sresnet18@8] [--layer layer2.1.sn2]
  [--budget 500] [--seeds 4] [--memory-searches 10000] [--json]

Sweep throughput on 1 and 2 workers as ratios to one scripts/mei.ts search, and the resident
memory of a sweep of many tiny searches. Sweeps go to a temporary folder that is removed.`;
const fail: Fail = failer("bench_sweep");
const { values } = parseCommandLine("bench_sweep", help, {
  target: { type: "string", default: "sresnet18@8" },
  layer: { type: "string", default: defaultSettings.layer },
  budget: { type: "string", default: "500" },
  seeds: { type: "string", default: "4" },
  "memory-searches": { type: "string", default: "10000" },
  json: { type: "boolean", default: false },
});
const budget = Number(values.budget), seeds = Number(values.seeds);
const memorySearches = Number(values["memory-searches"]);
for (
  const [name, v] of [["--budget", budget], ["--seeds", seeds], [
    "--memory-searches",
    memorySearches,
  ]] as const
) {
  if (!Number.isInteger(v) || v < 1) {
    fail(`${name} must be a positive integer`);
  }
}
const log = (s: string) => values.json ? console.error(s) : console.log(s);
const tmp = await Deno.makeTempDir({ prefix: "bench-sweep-" });
/** CPU seconds of this process and its finished children (user + system). */
const cpu = () => {
  const f = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
  return [11, 12, 13, 14].reduce((t, j) => t + Number(f[j]), 0) / 100;
};
const rss = () =>
  Number(/VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/self/status"))![1]) / 1024;

// 1. The reference: one search, as scripts/mei.ts runs it.
log(`  one scripts/mei.ts search (${values.target} ${values.layer} neuron 0, tt-b, ${budget}) ...`);
const [name, epoch] = values.target.split("@");
const one = await runMei({
  ...defaultSettings,
  target: name,
  epoch: epoch === undefined ? undefined : Number(epoch),
  layer: values.layer,
  budget,
});
const reference = one.result.images / one.timings.searchSeconds;

const spec = normalizeSpec({
  targets: [values.target],
  layers: [values.layer],
  neurons: "0-15",
  methods: ["tt-b"],
  seeds: Array.from({ length: seeds }, (_, j) => j),
  budget,
});
const sweeps = [];
for (const workers of [1, 2]) {
  log(`  sweep of ${spec.seeds.length * 16} searches on ${workers} worker(s) ...`);
  const prepared = await prepareSweep(spec, {
    backend: "auto",
    threads: workers > 1 ? 1 : undefined,
  });
  const cpu0 = cpu();
  const s = await runSweep(prepared, { out: `${tmp}/w${workers}`, workers });
  const cpuSeconds = cpu() - cpu0;
  const busy = s.searchSeconds + s.openSeconds - prepared.openSeconds;
  sweeps.push({
    workers,
    searches: s.ran,
    images: s.images,
    seconds: s.seconds,
    imagesPerSecond: s.images / s.seconds,
    imagesPerCpuSecond: s.images / cpuSeconds,
    orchestrationShare: 1 - busy / (workers * s.seconds),
  });
  await prepared.host.release();
}

// 2. Memory: many tiny searches on a small target, in this process.
const memSpec = normalizeSpec({
  targets: ["scnn@6"],
  layers: ["sn1"],
  neurons: "0-11",
  methods: ["random", "tt-b"],
  seeds: Array.from({ length: Math.ceil(memorySearches / 24) }, (_, j) => j),
  budget: 20,
});
log(`  memory: sweep of ${memSpec.seeds.length * 24} searches (budget 20) ...`);
const memPrepared = await prepareSweep(memSpec, { backend: "auto" });
const samples: { done: number; rss: number; heap: number }[] = [];
const memRun = await runSweep(memPrepared, {
  out: `${tmp}/memory`,
  workers: 1,
  onProgress: ({ done }) =>
    samples.push({ done, rss: rss(), heap: Deno.memoryUsage().heapUsed / 2 ** 20 }),
});
await memPrepared.host.release();
const tenth = samples.find((x) => x.done >= memRun.total / 10)!;
const memory = {
  searches: memRun.total,
  seconds: memRun.seconds,
  peakMiB: Math.max(...samples.map((x) => x.rss)),
  afterTenthMiB: tenth.rss,
  endMiB: samples[samples.length - 1].rss,
  heapUsedPeakMiB: Math.max(...samples.map((x) => x.heap)),
};
await Deno.remove(tmp, { recursive: true });

const result = {
  referenceImagesPerSecond: reference,
  sweeps,
  memory,
  cores: navigator.hardwareConcurrency,
};
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(
    `\nimages per second (${values.target} ${values.layer}, tt-b, budget ${budget}; ` +
      `${navigator.hardwareConcurrency} cores)\n`,
  );
  console.log(
    "| run | images/s | vs one search | vs 1 worker | not searching | images per CPU second |",
  );
  console.log("| --- | --: | --: | --: | --: | --: |");
  console.log(`| one scripts/mei.ts search | ${reference.toFixed(0)} | 1.00 | | | |`);
  for (const s of sweeps) {
    console.log(
      `| sweep, ${s.workers} worker(s), ${s.searches} searches | ${
        s.imagesPerSecond.toFixed(0)
      } | ${(s.imagesPerSecond / reference).toFixed(2)} | ${
        (s.imagesPerSecond / sweeps[0].imagesPerSecond).toFixed(2)
      } | ${(100 * s.orchestrationShare).toFixed(1)}% | ${s.imagesPerCpuSecond.toFixed(0)} |`,
    );
  }
  console.log(
    `\nmemory: ${memory.searches} searches in ${memory.seconds.toFixed(0)} s, RSS peak ` +
      `${memory.peakMiB.toFixed(0)} MiB (${memory.afterTenthMiB.toFixed(0)} MiB after a tenth, ` +
      `${memory.endMiB.toFixed(0)} MiB at the end); JavaScript heap in use at most ` +
      `${memory.heapUsedPeakMiB.toFixed(0)} MiB`,
  );
}
