/**
 * Sweeps: many MEI searches (targets x layers x neurons x methods x seeds x noise levels) into
 * one folder of records that survives kills, splits into shards, and merges back.
 *
 *   deno run -A scripts/sweep.ts --targets sresnet18@0,sresnet18@8 --layers sn1 \
 *     --neurons 0-15 --methods tt,tt-b --budget 2000 --out sweeps/demo
 *   deno run -A scripts/sweep.ts --spec sweep.json --shard 0/4 --out sweeps/demo-{shard}
 *   deno run -A scripts/sweep.ts merge sweeps/demo sweeps/demo-0 sweeps/demo-1
 *   deno run -A scripts/sweep.ts --help
 *
 * @module
 */

import { type Fail, failer, parseCommandLine } from "../src/io/cli.ts";
import { ProgressBar } from "../src/io/progress.ts";
import { mergeSweeps } from "../src/sweep/merge.ts";
import { parseShard } from "../src/sweep/plan.ts";
import { defaultSettings } from "../src/models/settings.ts";
import { prepareSweep, runSweep } from "../src/sweep/run.ts";
import { normalizeSpec, SPEC_FIELDS, SpecError } from "../src/sweep/spec.ts";
import type { BackendChoice } from "../src/runtime/mod.ts";

const help = `Usage: deno run -A scripts/sweep.ts [options] --out DIR
       deno run -A scripts/sweep.ts merge OUT SHARD_DIR...

Runs every search of a sweep (the product of the lists below) and appends one JSON record per
finished search to DIR/records.jsonl (each MEI as a PNG under DIR/images/, the spec and model
hashes in DIR/sweep.json). Killed at any moment, the same command (or --resume --out DIR)
finishes the rest. Each search is seeded from its key, so the records do not depend on the
order, the worker count or the shard split.

Spec (flags, or a JSON file with the same fields in snake_case)
  --spec FILE             JSON spec {"targets": [...], "layers": [...], "neurons": "0-15", ...}
  --targets LIST          shipped name@epoch (sresnet18@8) or .onnx paths, comma-separated
  --layers LIST           layers of the targets, comma-separated
  --neurons LIST          12 | 1,5,9 | 0-15 | all (of every layer)
  --methods LIST          optimizers                                      [${defaultSettings.method}]
  --seeds LIST            seeds                                               [0]
  --noise LIST            multiplicative response noise levels               [0]
  --generator NAME|PATH   shipped generator or .onnx                          [sngan]
  --grid uniform|gaussian, --grid-size N, --range LO,HI                       [uniform, 64, -4,4]
  --budget N              evaluations per search                              [10000]
  --unit KIND             channel, logit or probability (layers "logits")    [channel]
Running
  --out DIR               the sweep folder; "{shard}" in it becomes the shard index
  --resume                take the spec (and shard) from DIR/sweep.json
  --workers N             groups run at once, in N worker processes          [1]
  --threads N             inference threads per process        [cores / workers]
  --shard I/N             run the I-th of N slices (balanced by cost); read from
                          SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, or from
                          JOB_COMPLETION_INDEX with --shards N, when not given
  --shards N              the shard count for JOB_COMPLETION_INDEX (Kubernetes)
  --backend auto|wasm|native                                                  [auto]
  --json                  print a summary as JSON on stdout
  --help                  this text

Exit codes: 0 done, 1 failed, 2 bad input (nothing written), 130 interrupted (records kept).`;

const fail: Fail = failer("sweep");

const specFlags = SPEC_FIELDS.map((f) => f.replace("_", "-"));

async function merge(args: string[]) {
  if (args.length < 2) fail("merge needs OUT and at least one shard folder (see --help)");
  try {
    const { records } = await mergeSweeps(args[0], args.slice(1));
    console.error(
      `sweep: merged ${records} records from ${args.length - 1} shards into ${args[0]}`,
    );
  } catch (e) {
    if (e instanceof SpecError) fail(e.message);
    throw e;
  }
}

if (Deno.args[0] === "merge") {
  await merge(Deno.args.slice(1));
  Deno.exit(0);
}

const args = parseCommandLine("sweep", help, {
  spec: { type: "string" },
  ...Object.fromEntries(specFlags.map((f) => [f, { type: "string" as const }])),
  out: { type: "string" },
  resume: { type: "boolean" },
  workers: { type: "string", default: "1" },
  threads: { type: "string" },
  shard: { type: "string" },
  shards: { type: "string" },
  backend: { type: "string", default: "auto" },
  json: { type: "boolean" },
});
const v = args.values as Record<string, string | boolean | undefined>;

function count(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) fail(`${what} must be an integer >= 1, got "${text}"`);
  return n;
}

/** The shard: the flag, else a SLURM array task, else a Kubernetes completion index. */
function shardFromEnv(): { index: number; count: number } | undefined {
  const env = (k: string) => Deno.env.get(k);
  let text = v.shard as string | undefined, from = "--shard";
  if (text === undefined && env("SLURM_ARRAY_TASK_ID") !== undefined) {
    const id = Number(env("SLURM_ARRAY_TASK_ID")), min = Number(env("SLURM_ARRAY_TASK_MIN") ?? 0);
    text = `${id - min}/${env("SLURM_ARRAY_TASK_COUNT")}`;
    from = "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT";
  } else if (text === undefined && env("JOB_COMPLETION_INDEX") !== undefined) {
    if (v.shards === undefined) {
      fail("JOB_COMPLETION_INDEX is set: give the shard count, --shards N");
    }
    text = `${env("JOB_COMPLETION_INDEX")}/${v.shards}`;
    from = "JOB_COMPLETION_INDEX/--shards";
  }
  if (text === undefined) return undefined;
  try {
    return parseShard(text);
  } catch (e) {
    fail(`${from}: ${(e as Error).message}`);
  }
}

if (!v.out) fail("--out DIR is required (see --help)");
let shard = shardFromEnv();
const out = (v.out as string).replaceAll("{shard}", String(shard?.index ?? 0));
let input: Record<string, unknown> = {};
if (v.resume) {
  if (v.spec || specFlags.some((f) => v[f] !== undefined)) {
    fail("--resume takes the spec from the folder's sweep.json: drop the spec flags");
  }
  try {
    const header = JSON.parse(await Deno.readTextFile(`${out}/sweep.json`));
    input = header.spec;
    if (header.shard && !shard) shard = parseShard(header.shard);
  } catch (e) {
    fail(`cannot resume ${out}: ${(e as Error).message}`);
  }
} else if (v.spec) {
  try {
    input = JSON.parse(await Deno.readTextFile(v.spec as string));
  } catch (e) {
    fail(`cannot read the spec ${v.spec}: ${(e as Error).message}`);
  }
}
for (const f of specFlags) {
  if (v[f] !== undefined) input[f.replace("-", "_")] = v[f];
}
if (typeof input.range === "string" && !input.range.includes(",")) {
  fail(`--range must be two numbers "lo,hi", got "${input.range}"`);
}
const workers = count(v.workers as string, "--workers")!;
const threads = count(v.threads as string | undefined, "--threads");
const backend = v.backend as BackendChoice;
if (!["auto", "wasm", "native"].includes(backend)) {
  fail(`--backend must be auto, wasm or native, got "${backend}"`);
}

let prepared;
try {
  const spec = normalizeSpec(input);
  prepared = await prepareSweep(spec, { backend, threads: workers > 1 ? 1 : threads });
} catch (e) {
  if (e instanceof SpecError) fail(e.message);
  throw e;
}

Deno.addSignalListener("SIGINT", () => {
  console.error("\nsweep: interrupted; the finished searches are in the folder (rerun to resume)");
  Deno.exit(130);
});

let bar: ProgressBar | undefined;
let summary;
try {
  summary = await runSweep(prepared, {
    out,
    workers,
    threads,
    shard,
    onProgress: ({ done, total, ran, pending, images, seconds }) => {
      bar ??= new ProgressBar({ total: pending, label: "sweep" });
      bar.update(ran, { searches: `${done}/${total}`, "images/s": Math.round(images / seconds) });
    },
  });
} catch (e) {
  bar?.done();
  if (e instanceof SpecError) fail(e.message);
  console.error(`sweep: ${(e as Error).message}`);
  Deno.exit(1);
}
bar?.done();
const text = `${summary.done}/${summary.total} searches in ${out} (${summary.ran} now, ` +
  `${summary.images} images in ${summary.seconds.toFixed(1)} s)`;
if (v.json) console.log(JSON.stringify({ out, ...summary }));
else console.error(`sweep: ${text}`);
Deno.exit(0);
