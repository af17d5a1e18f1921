/**
 * Evaluations per second of generator + target (latent batch -> image -> layer rates) on every
 * backend that runs here, at the batch sizes the optimizers use, against PyTorch eager mode on
 * the recipe's own modules (models/recipe/bench_torch.py) on the same thread count, as a table
 * with ratios to PyTorch.
 *
 * Every figure is the best of 5 rounds (the machine may be shared with other jobs, which only
 * ever slow a round down). Each backend is timed twice: on the whole target graph (every exported output, as PyTorch
 * computes it) and pruned to the read layer (the runtime stops the graph there, see
 * `openSession`'s `outputs`). `--levers` adds a table of the session settings tried at one
 * batch size (threads, pool spinning, graph optimization, fixed batch dim).
 *
 * Usage: `deno task bench` or `deno run -A scripts/bench.ts [--batches 5,25,100]
 * [--backends wasm,native,webgpu] [--threads N] [--seconds 1.5] [--target PATH]
 * [--generator PATH] [--layer layer2.1.sn2] [--no-torch] [--levers] [--json]`
 * @module
 */

import { type Fail, failer, parseCommandLine } from "../src/io/cli.ts";
import {
  availableBackends,
  type BackendName,
  openSession,
  type Session,
  type SessionOptions,
} from "../src/runtime/mod.ts";
import { Rng } from "../src/core/rng.ts";
import { exists } from "../src/io/fs.ts";
import { loadManifest, resolveModel } from "../src/models/manifest.ts";

const help =
  `Usage: deno run -A scripts/bench.ts [--batches 5,25,100] [--backends wasm,native,webgpu]
  [--threads N] [--seconds 1.5] [--target PATH] [--generator PATH] [--layer layer2.1.sn2]
  [--no-torch] [--levers] [--json] [--python /usr/bin/python3]

Evaluations per second of generator + target on every backend that runs here, at each batch
size, beside PyTorch eager mode on the same thread count (best of 5 rounds of --seconds each).
--levers adds the session settings tried at one batch size.`;
const fail: Fail = failer("bench");
const { values } = parseCommandLine("bench", help, {
  batches: { type: "string", default: "5,25,100" },
  backends: { type: "string", default: "" },
  threads: { type: "string", default: String(navigator.hardwareConcurrency || 1) },
  seconds: { type: "string", default: "1.5" },
  target: { type: "string", default: "" },
  generator: { type: "string", default: "" },
  layer: { type: "string", default: "layer2.1.sn2" },
  "no-torch": { type: "boolean", default: false },
  levers: { type: "boolean", default: false },
  json: { type: "boolean", default: false },
  python: { type: "string", default: "/usr/bin/python3" },
});
const batches = values.batches.split(",").map(Number);
const threads = Number(values.threads), seconds = Number(values.seconds);
if (batches.some((b) => !Number.isInteger(b) || b < 1) || !(threads >= 1) || !(seconds > 0)) {
  fail("--batches, --threads and --seconds must be positive numbers");
}
const log = (s: string) => values.json ? console.error(s) : console.log(s);
const loadavg = () => {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch {
    return "?";
  }
};

// ---------------------------------------------------------------------------- models

async function pythonHasTorch(): Promise<boolean> {
  try {
    const r = await new Deno.Command(values.python, {
      args: ["-c", "import torch"],
      stderr: "null",
    }).output();
    return r.success;
  } catch {
    return false;
  }
}

const torchPython = await pythonHasTorch();
const haveTorch = torchPython && !values["no-torch"];
const target = values.target ||
  `models/${resolveModel(await loadManifest(), "sresnet18", "target").file}`;
const targetMeta = `models/meta/${target.split("/").pop()!.replace(/\.onnx$/, ".json")}`;
let generator = values.generator;
let temporaryGenerator = false;
let generatorMeta: string | null = null;
const notes: string[] = [];
if (!generator) {
  if (await exists("models/sngan_fmnist.onnx")) {
    generator = "models/sngan_fmnist.onnx";
    if (await exists("models/meta/sngan_fmnist.json")) {
      generatorMeta = "models/meta/sngan_fmnist.json";
    }
  } else if (torchPython) {
    generator = await Deno.makeTempFile({ suffix: ".onnx" });
    temporaryGenerator = true;
    const r = await new Deno.Command(values.python, {
      args: ["models/recipe/bench_torch.py", "--export-generator", generator],
      stderr: "piped",
      stdout: "null",
    }).output();
    if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
    notes.push(
      "no shipped generator yet: the recipe's SN-GAN generator (ch 32) with initial weights",
    );
  } else {
    throw new Error("no models/sngan_fmnist.onnx and no PyTorch to export one; pass --generator");
  }
}

// ---------------------------------------------------------------------------- timing
const ROUNDS = 5;
interface Cell {
  batch: number;
  evalsPerSecond: number;
  msPerBatch: number;
  runs: number;
}

const warmed = new Set<string>();

async function timePair(gen: Session, tgt: Session, batch: number): Promise<Cell> {
  const backendOf = tgt.backend;
  const rng = new Rng(batch);
  const latentDim = Number(gen.inputs[0].dims?.[1] ?? 128);
  const z = new Float32Array(batch * latentDim);
  for (let i = 0; i < z.length; i++) z[i] = rng.normal();
  const step = async () => {
    const { image } = await gen.run({ [gen.inputNames[0]]: { data: z, dims: [batch, latentDim] } });
    await tgt.run({ [tgt.inputNames[0]]: image });
  };
  // Warm-up. The first runs allocate (arena, WebAssembly memory growth); and on wasm, V8 runs
  // baseline code until its optimizing tier has compiled the hot kernels in the background,
  // which takes seconds, not runs, on a loaded machine (steps 5-10x slower for ~2.5 s, once per
  // process). So each backend's first pair warms up for 5 s, every pair for 3 steps and 0.3 s.
  const w0 = performance.now();
  const minWarm = warmed.has(backendOf) ? 300 : 5000;
  warmed.add(backendOf);
  for (let i = 0; i < 3 || performance.now() - w0 < minWarm; i++) await step();
  // The best of ROUNDS rounds: on a shared machine the other jobs only ever slow a round down.
  let best = Infinity, total = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let runs = 0, dt = 0;
    const t0 = performance.now();
    while (dt < (seconds * 1000) / ROUNDS || runs < 2) {
      await step();
      runs++;
      dt = performance.now() - t0;
    }
    total += runs;
    best = Math.min(best, dt / runs);
  }
  return { batch, runs: total, msPerBatch: best, evalsPerSecond: batch / (best / 1000) };
}

interface Row {
  name: string;
  backend: string;
  variant: string;
  threads: number;
  cells: Cell[];
  note?: string;
}

async function benchBackend(
  backend: BackendName,
  variant: "full" | "pruned",
  extra: SessionOptions = {},
  sizes = batches,
): Promise<Row> {
  const opts: SessionOptions = { backend, threads, ...extra };
  const gen = await openSession(generator, opts);
  const tgt = await openSession(
    target,
    variant === "pruned" ? { ...opts, outputs: [values.layer] } : opts,
  );
  const cells: Cell[] = [];
  try {
    for (const b of sizes) cells.push(await timePair(gen, tgt, b));
  } finally {
    await gen.release();
    await tgt.release();
  }
  return {
    name: `${backend} ${variant === "pruned" ? `to ${values.layer}` : "whole graph"}`,
    backend,
    variant,
    threads: tgt.threads,
    cells,
    note: tgt.notes.join("; ") || undefined,
  };
}

// ---------------------------------------------------------------------------- run
log(
  `bench: generator ${generator}, target ${target}, ${threads} thread(s), batches ${
    batches.join(", ")
  }`,
);
const load0 = loadavg();
const status = await availableBackends(threads);
const wanted = values.backends ? values.backends.split(",") : ["native", "wasm", "webgpu"];
const rows: Row[] = [];
for (const s of status) {
  if (!wanted.includes(s.backend)) continue;
  if (!s.available) {
    notes.push(`${s.backend}: ${s.detail}`);
    continue;
  }
  if (s.backend === "webgpu" && /fallback/.test(s.detail) && !values.backends) {
    notes.push(
      `webgpu: ${s.detail}; skipped (software rasterizer; pass --backends webgpu to time it)`,
    );
    continue;
  }
  for (const variant of ["full", "pruned"] as const) {
    log(`  timing ${s.backend} (${variant}) ...`);
    rows.push(await benchBackend(s.backend, variant));
  }
}

// PyTorch at every thread count a backend row ran on, so each row has a same-threads baseline.
const torchRuns = new Map<number, Cell[]>(); // threads -> cells
let torchVersion = "";
if (haveTorch) {
  for (const t of [...new Set(rows.map((r) => r.threads))].sort()) {
    log(`  timing PyTorch eager (${t} thread${t > 1 ? "s" : ""}) ...`);
    const args = [
      "models/recipe/bench_torch.py",
      "--target-meta",
      targetMeta,
      "--threads",
      String(t),
      "--batches",
      batches.join(","),
      "--seconds",
      String(seconds),
    ];
    if (generatorMeta) args.push("--generator-meta", generatorMeta);
    // OMP_WAIT_POLICY=PASSIVE: PyTorch's OpenMP threads sleep instead of spinning, as the
    // native pool's do (spinning threads on a shared machine cost PyTorch 10x at 2 threads).
    const env = { OMP_WAIT_POLICY: "PASSIVE" };
    const r = await new Deno.Command(values.python, { args, env, stdout: "piped", stderr: "piped" })
      .output();
    if (!r.success) {
      notes.push(`PyTorch failed: ${new TextDecoder().decode(r.stderr).trim().split("\n").pop()}`);
      break;
    }
    const j = JSON.parse(new TextDecoder().decode(r.stdout));
    torchVersion = j.torch;
    type TorchCell = { batch: number; runs: number; ms_per_batch: number; evals_per_s: number };
    const cells = j.results.map((c: TorchCell) => ({
      batch: c.batch,
      runs: c.runs,
      msPerBatch: c.ms_per_batch,
      evalsPerSecond: c.evals_per_s,
    }));
    torchRuns.set(t, cells);
    if (!j.weights_loaded.target) {
      notes.push("PyTorch target with initial weights (no checkpoint here)");
    }
  }
  for (const [t, cells] of torchRuns) {
    rows.push({
      name: `PyTorch ${torchVersion} eager`,
      backend: "torch",
      variant: "full",
      threads: t,
      cells,
    });
  }
} else {
  notes.push(
    values["no-torch"]
      ? "PyTorch skipped (--no-torch)"
      : `PyTorch not available (no torch for ${values.python}): no baseline`,
  );
}

// ---------------------------------------------------------------------------- levers
const leverRows: { lever: string; backend: string; evalsPerSecond: number; msPerBatch: number }[] =
  [];
if (values.levers) {
  const b = batches.includes(25) ? 25 : batches[0];
  const backends = status.filter((s) => s.available && s.backend !== "webgpu").map((s) =>
    s.backend
  );
  const tries: [string, SessionOptions][] = [
    ["default (pruned; optimization all; native: no spinning, fixed batch off)", {}],
    ["threads 1 (native)", { threads: 1 }],
    ["spinning on", { spinning: true }],
    ["graph optimization basic", { graphOptimization: "basic" }],
    ["graph optimization disabled", { graphOptimization: "disabled" }],
    [`fixed batch dim B = ${b}`, { fixedDims: { B: b } }],
  ];
  for (const backend of backends) {
    for (const [lever, opts] of tries) {
      if (backend === "wasm" && (opts.threads === 1 || opts.spinning)) continue; // moot on wasm
      log(`  lever ${backend}: ${lever} ...`);
      try {
        const r = await benchBackend(backend, "pruned", opts, [b]);
        leverRows.push({
          lever: `${lever}${r.threads !== threads ? ` (${r.threads} thread)` : ""}`,
          backend,
          ...r.cells[0],
        });
      } catch (e) {
        leverRows.push({
          lever: `${lever}: ${(e as Error).message}`,
          backend,
          evalsPerSecond: NaN,
          msPerBatch: NaN,
        });
      }
    }
  }
}

// ---------------------------------------------------------------------------- report
if (temporaryGenerator) await Deno.remove(generator).catch(() => {});
const load1 = loadavg();
notes.push(`load average ${load0} before, ${load1} after (${navigator.hardwareConcurrency} cores)`);
if (values.json) {
  console.log(
    JSON.stringify(
      { generator, target, layer: values.layer, threads, batches, rows, levers: leverRows, notes },
      null,
      2,
    ),
  );
  Deno.exit(0);
}
const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const torchAt = (threads: number, b: number) =>
  torchRuns.get(threads)?.find((c) => c.batch === b)?.evalsPerSecond;
const haveRatios = torchRuns.size > 0;
const head = [
  "backend",
  "threads",
  ...batches.map((b) => `B=${b} evals/s`),
  ...(haveRatios ? batches.map((b) => `B=${b} vs torch`) : []),
];
const ratio = (r: Row, b: number) => {
  const base = torchAt(r.threads, b), own = r.cells.find((c) => c.batch === b)?.evalsPerSecond;
  return base && own ? `${(own / base).toFixed(2)}x` : "-";
};
const table = rows.map((r) => [
  r.name,
  String(r.threads),
  ...batches.map((b) => fmt(r.cells.find((c) => c.batch === b)?.evalsPerSecond ?? NaN)),
  ...(haveRatios ? batches.map((b) => ratio(r, b)) : []),
]);
const width = head.map((h, j) => Math.max(h.length, ...table.map((r) => r[j].length)));
const line = (r: string[]) =>
  `| ${r.map((c, j) => (j < 1 ? c.padEnd(width[j]) : c.padStart(width[j]))).join(" | ")} |`;
console.log(
  "\nGenerator + target evaluations per second (higher is better; ratios against PyTorch on the" +
    " same thread count):\n",
);
console.log(line(head));
console.log(
  `|${width.map((w, j) => (j < 1 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|")}|`,
);
for (const r of table) console.log(line(r));
if (leverRows.length) {
  console.log(
    `\nLevers (pruned to ${values.layer}, batch ${
      batches.includes(25) ? 25 : batches[0]
    }, ${threads} threads unless said):\n`,
  );
  for (const l of leverRows) {
    console.log(
      `  ${l.backend.padEnd(7)} ${fmt(l.evalsPerSecond).padStart(8)} evals/s  ${l.lever}`,
    );
  }
}
console.log("");
for (const n of notes) console.log(`note: ${n}`);
for (const r of rows) if (r.note) console.log(`note: ${r.name}: ${r.note}`);
