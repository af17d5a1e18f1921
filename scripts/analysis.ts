/**
 * The study's analyses of sweep folders (written by scripts/sweep.ts): selectivity, class
 * entropy, diversity, complexity, the natural-image control and query efficiency, with 95%
 * bootstrap intervals; writes a report folder (summary.json, neurons.json, figures as SVG and
 * PNG with a CSV beside each, natural/ images). See docs/study.md.
 *
 *   deno run -A scripts/analysis.ts runs/study --out runs/study_report
 *   deno run -A scripts/analysis.ts runs/study runs/compare --out runs/report --no-natural
 *   deno run -A scripts/analysis.ts --help
 *
 * @module
 */

import { type Fail, failer, parseCommandLine } from "../src/io/cli.ts";
import { FASHION_MNIST_DIR, type ImageSet, readIdxDataset } from "../src/data/idx.ts";
import { RunFolder } from "../src/io/run_folder.ts";
import { loadManifest, shippedName } from "../src/models/manifest.ts";
import { openModel } from "../src/models/mei.ts";
import { type BackendChoice, openSession } from "../src/runtime/mod.ts";
import { analyse, type NaturalSource } from "../src/analysis/report.ts";
import { readSweeps, SweepError, type Sweeps } from "../src/analysis/sweep.ts";

const help = `Usage: deno run -A scripts/analysis.ts SWEEP_DIR... --out REPORT_DIR [options]

Analyses one or more sweep folders together (same generator, grid and unit; no search in two
of them) and writes a report folder: summary.json (aggregates per layer and checkpoint and per
method, with 95% bootstrap intervals resampling neurons), neurons.json (each neuron's label,
selective class per checkpoint, first strong epoch and best natural images), the figures as SVG
and PNG with a CSV beside each, and natural/ (the natural images neurons.json names).

  --out DIR             the report folder (written complete, then moved into place)
  --force               replace DIR if it exists
  --no-natural          leave out the natural-image control (no model is run)
  --dataset DIR         IDX folder of the natural images (t10k-*: the test split)
                        [${FASHION_MNIST_DIR}]
  --natural-images N    scan only the first N test images                   [all]
  --cache DIR           cache of the natural-image scans, per checkpoint and layer
                        [.cache/natural]
  --models-dir DIR      folder with manifest.json                           [models/]
  --backend auto|wasm|native                                                [auto]
  --seed N              bootstrap seed                                      [0]
  --help                this text

The JPEG size of the complexity measure uses imagescript's native codec (--allow-ffi).
Exit codes: 0 done, 2 bad input (nothing is written).`;

const fail: Fail = failer("analysis");

const args = parseCommandLine("analysis", help, {
  out: { type: "string" },
  force: { type: "boolean" },
  "no-natural": { type: "boolean" },
  dataset: { type: "string", default: FASHION_MNIST_DIR },
  "natural-images": { type: "string" },
  cache: { type: "string", default: ".cache/natural" },
  "models-dir": { type: "string" },
  backend: { type: "string", default: "auto" },
  seed: { type: "string", default: "0" },
}, { allowPositionals: true });
const v = args.values;
if (args.positionals.length === 0) fail("give at least one sweep folder (--help for usage)");
if (!v.out) fail("--out REPORT_DIR is required");
const out = v.out.replace(/\/+$/, "");
const seed = Number(v.seed);
if (!Number.isInteger(seed) || seed < 0) fail(`--seed must be an integer >= 0, got "${v.seed}"`);
if (!["auto", "wasm", "native"].includes(v.backend)) {
  fail(`--backend must be auto, wasm or native, got "${v.backend}"`);
}
let limit: number | undefined;
if (v["natural-images"] !== undefined) {
  limit = Number(v["natural-images"]);
  if (!Number.isInteger(limit) || limit < 1) {
    fail(`--natural-images must be an integer >= 1, got "${v["natural-images"]}"`);
  }
}
let exists = false;
try {
  await Deno.lstat(out);
  exists = true;
} catch (e) {
  if (!(e instanceof Deno.errors.NotFound)) throw e;
}
if (exists && !v.force) fail(`${out} exists: choose another --out, or --force to replace it`);

const t0 = performance.now();
let sweeps: Sweeps;
try {
  sweeps = await readSweeps(args.positionals);
} catch (e) {
  if (e instanceof SweepError) fail(e.message);
  throw e;
}

let natural: NaturalSource | undefined;
if (!v["no-natural"]) {
  let set: ImageSet;
  try {
    set = await readIdxDataset(v.dataset, "test");
  } catch (e) {
    fail(
      `cannot read the natural images: ${(e as Error).message} (install Debian's ` +
        `dataset-fashion-mnist, pass --dataset DIR, or --no-natural)`,
    );
  }
  if (limit !== undefined && limit < set.shape[0]) {
    const per = set.shape[1] * set.shape[2] * set.shape[3];
    set = {
      images: set.images.slice(0, limit * per),
      labels: set.labels.slice(0, limit),
      shape: [limit, set.shape[1], set.shape[2], set.shape[3]],
    };
  }
  const base = v.dataset === FASHION_MNIST_DIR ? "fmnist" : v.dataset.replace(/\/+$/, "")
    .replace(/^.*\//, "").replace(/[^\w-]/g, "_");
  natural = {
    name: limit !== undefined && limit < 10000 ? `${base}${limit}` : base,
    set,
    cacheDir: v.cache,
    open: async (target, layers) => {
      let m;
      try {
        m = await openModel(target, "target", undefined, v["models-dir"]);
      } catch (e) {
        fail(
          `${
            (e as Error).message
          } (the natural-image control runs each target; --no-natural skips it)`,
        );
      }
      const want = sweeps.targets[target].sha256;
      if (m.sha256 !== want) {
        fail(
          `target "${target}" is not the checkpoint the sweep ran (${m.source} has SHA-256 ` +
            `${m.sha256.slice(0, 12)}, the sweep recorded ${want.slice(0, 12)})`,
        );
      }
      return await openSession(m.bytes, {
        backend: v.backend as BackendChoice,
        outputs: layers,
      });
    },
  };
}

const manifest = await loadManifest(
  v["models-dir"] ? new URL(`file://${await Deno.realPath(v["models-dir"])}/`) : undefined,
);
const rates = new Set(
  manifest.models.filter((m) => m.kind === "target" && m.T !== null && m.T !== undefined)
    .map(shippedName),
);
const report = await analyse(sweeps, {
  isRate: (arch) => rates.has(arch),
  natural,
  seed,
  log: (line) => console.error(`analysis: ${line}`),
});

const slash = out.lastIndexOf("/");
const folder = await RunFolder.create(
  slash < 0 ? "." : out.slice(0, slash) || "/",
  out.slice(slash + 1),
);
try {
  await folder.write("summary.json", JSON.stringify(report.summary, null, 1) + "\n");
  await folder.write("neurons.json", JSON.stringify(report.neurons, null, 1) + "\n");
  for (const [name, data] of report.files) await folder.write(name, data);
  if (exists) await Deno.remove(out, { recursive: true });
  await folder.commit();
} catch (e) {
  await folder.discard();
  throw e;
}
const s = report.summary;
console.log(
  `analysis: ${s.records} records, ${report.neurons.length} neurons -> ${out} ` +
    `(${s.figures.length} figures; ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
);
if ("scans" in s.natural) {
  for (const scan of s.natural.scans) {
    const speed = scan.images_per_second === null
      ? "cached"
      : `${scan.images} images in ${scan.seconds.toFixed(1)} s, ${
        scan.images_per_second.toFixed(0)
      } images/s`;
    console.log(`analysis: natural images of ${scan.target}: ${speed}`);
  }
}
for (const f of s.figures_skipped) console.log(`analysis: no ${f.figure} figure: ${f.reason}`);
