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
 * batch size (threads, pool spinning, graph optimization, fixed batch dim). `--convs` times,
 * instead, each convolution and linear layer of one evaluation alone, on every backend and in
 * PyTorch (see `layersAlone`).
 *
 * Usage: `deno task bench` or `deno run -A scripts/bench.ts [--batches 5,25,100]
 * [--backends wasm,native,webgpu] [--threads N] [--seconds 1.5] [--target PATH]
 * [--generator PATH] [--layer layer2.1.sn2] [--no-torch] [--levers] [--convs] [--json]`
 * @module
 */

import { type Fail, failer, parseCommandLine } from "../src/io/cli.ts";
import {
  availableBackends,
  BACKEND_NAMES,
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
  [--no-torch] [--levers] [--convs] [--json] [--python /usr/bin/python3]

Evaluations per second of generator + target on every backend that runs here, at each batch
size, beside PyTorch eager mode on the same thread count (best of 5 rounds of --seconds each).
--levers adds the session settings tried at one batch size. --convs times instead each
convolution and linear layer of one evaluation alone (batch 25 or the first of --batches), on
each backend and in PyTorch, and the bound that the layers' time puts on each backend.`;
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
  convs: { type: "boolean", default: false },
  json: { type: "boolean", default: false },
  python: { type: "string", default: "/usr/bin/python3" },
});
const batches = values.batches.split(",").map(Number);
const threads = Number(values.threads), seconds = Number(values.seconds);
if (batches.some((b) => !Number.isInteger(b) || b < 1) || !(threads >= 1) || !(seconds > 0)) {
  fail("--batches, --threads and --seconds must be positive numbers");
}
const wanted: string[] = values.backends ? values.backends.split(",") : [...BACKEND_NAMES];
const unknown = wanted.filter((b) => !(BACKEND_NAMES as readonly string[]).includes(b));
if (unknown.length) {
  fail(`--backends must list some of ${BACKEND_NAMES.join(", ")}; got "${unknown.join(",")}"`);
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

/**
 * The best time of one `step` over ROUNDS rounds of `seconds` / ROUNDS each, after a warm-up.
 * The first runs allocate (arena, WebAssembly memory growth); and on wasm, V8 runs baseline code
 * until its optimizing tier has compiled the hot kernels in the background, which takes seconds,
 * not runs, on a loaded machine (steps 5-10x slower for ~2.5 s, once per process). So each
 * backend's first timing warms up for 5 s, every later one for 3 steps and 0.3 s. The best of
 * rounds, because on a shared machine the other jobs only ever slow a round down.
 */
async function bestOfRounds(
  backend: string,
  step: () => Promise<unknown>,
): Promise<{ ms: number; runs: number }> {
  const w0 = performance.now();
  const minWarm = warmed.has(backend) ? 300 : 5000;
  warmed.add(backend);
  for (let i = 0; i < 3 || performance.now() - w0 < minWarm; i++) await step();
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
  return { ms: best, runs: total };
}

function randomInput(dims: number[], seed: number): { data: Float32Array; dims: number[] } {
  const rng = new Rng(seed);
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return { data, dims };
}

async function timePair(gen: Session, tgt: Session, batch: number): Promise<Cell> {
  const latentDim = Number(gen.inputs[0].dims?.[1] ?? 128);
  const z = randomInput([batch, latentDim], batch);
  const { ms, runs } = await bestOfRounds(tgt.backend, async () => {
    const { image } = await gen.run({ [gen.inputNames[0]]: z });
    await tgt.run({ [tgt.inputNames[0]]: image });
  });
  return { batch, runs, msPerBatch: ms, evalsPerSecond: batch / (ms / 1000) };
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

/**
 * Runs models/recipe/bench_torch.py on `threads` threads with the target's (and generator's)
 * metadata and `args`, and returns its JSON or the last line of its error output.
 */
async function torchJson<T>(
  threads: number,
  args: string[],
): Promise<{ json: T } | { error: string }> {
  const all = [
    "models/recipe/bench_torch.py",
    "--target-meta",
    targetMeta,
    "--threads",
    String(threads),
    "--seconds",
    String(seconds),
    ...(generatorMeta ? ["--generator-meta", generatorMeta] : []),
    ...args,
  ];
  // OMP_WAIT_POLICY=PASSIVE: PyTorch's OpenMP threads sleep instead of spinning, as the
  // native pool's do (spinning threads on a shared machine cost PyTorch 10x at 2 threads).
  const env = { OMP_WAIT_POLICY: "PASSIVE" };
  const r = await new Deno.Command(values.python, {
    args: all,
    env,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!r.success) {
    return { error: new TextDecoder().decode(r.stderr).trim().split("\n").pop() ?? "" };
  }
  return { json: JSON.parse(new TextDecoder().decode(r.stdout)) as T };
}

// ---------------------------------------------------------------------------- layers alone
/**
 * `--convs`: where the time goes. Every convolution and linear layer one evaluation calls (batch
 * 25, or the first of --batches), timed alone on each backend and in PyTorch eager, beside the
 * whole evaluation on both. The layers' time on a backend bounds its speed: even if everything
 * else were free, it could not beat PyTorch's whole evaluation by more than PyTorch's whole time
 * over the backend's layer time.
 */
async function layersAlone(backends: BackendName[]): Promise<void> {
  const b = batches.includes(25) ? 25 : batches[0];
  const dir = await Deno.makeTempDir({ prefix: "bench-convs-" });
  // Ctrl-C leaves no exported layers behind.
  const interrupted = () => {
    Deno.removeSync(dir, { recursive: true });
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", interrupted);
  log(`  timing each convolution and linear layer alone in PyTorch eager (batch ${b}) ...`);
  type Layer = { file: string; kind: string; input: number[]; calls: number; ms: number };
  const r = await torchJson<{ whole_ms: number; layers: Layer[] }>(threads, [
    "--batches",
    String(b),
    "--convs",
    dir,
  ]);
  if ("error" in r) {
    await Deno.remove(dir, { recursive: true });
    fail(`PyTorch failed: ${r.error}`);
  }
  const layers = r.json.layers;
  const own: Record<string, { whole: number; layers: number[] }> = {};
  try {
    for (const backend of backends) {
      log(`  timing ${backend}: the whole evaluation, then each layer alone ...`);
      const whole = (await benchBackend(backend, "full", {}, [b])).cells[0].msPerBatch;
      const times: number[] = [];
      for (const [i, l] of layers.entries()) {
        const s = await openSession(l.file, { backend, threads });
        try {
          const x = { [s.inputNames[0]]: randomInput(l.input, i) };
          times.push((await bestOfRounds(backend, () => s.run(x))).ms);
        } finally {
          await s.release();
        }
      }
      own[backend] = { whole, layers: times };
    }
  } finally {
    Deno.removeSignalListener("SIGINT", interrupted);
    await Deno.remove(dir, { recursive: true });
  }
  const sum = (ms: number[]) => ms.reduce((a, t, i) => a + t * layers[i].calls, 0);
  const torchLayers = sum(layers.map((l) => l.ms)), torchWhole = r.json.whole_ms;
  if (values.json) {
    console.log(JSON.stringify({ batch: b, threads, torch: r.json, backends: own }, null, 2));
    return;
  }
  const ms = (t: number) => t.toFixed(3);
  console.log(
    `\nEach layer alone, ms per call at batch ${b} on ${threads} thread(s) (speed = PyTorch time /` +
      ` backend time):\n`,
  );
  const names = Object.keys(own);
  console.log(
    `| layer | input | calls | PyTorch | ${names.map((n) => `${n} | speed`).join(" | ")} |`,
  );
  console.log(`|---|---|--:|--:|${names.map(() => "--:|--:").join("|")}|`);
  for (const [i, l] of layers.entries()) {
    const cells = names.map((n) =>
      `${ms(own[n].layers[i])} | ${(l.ms / own[n].layers[i]).toFixed(2)}x`
    );
    console.log(
      `| ${l.kind} | ${l.input.join("x")} | ${l.calls} | ${ms(l.ms)} | ${cells.join(" | ")} |`,
    );
  }
  const totals = names.map((n) => {
    const t = sum(own[n].layers);
    return `${ms(t)} | ${(torchLayers / t).toFixed(2)}x`;
  });
  console.log(`| all layers | | | ${ms(torchLayers)} | ${totals.join(" | ")} |`);
  console.log(
    `\nThe whole evaluation: PyTorch ${ms(torchWhole)} ms, of which its layers ` +
      `${(100 * torchLayers / torchWhole).toFixed(0)}%.`,
  );
  for (const n of names) {
    const t = sum(own[n].layers);
    console.log(
      `${n}: ${ms(own[n].whole)} ms (${
        (torchWhole / own[n].whole).toFixed(2)
      }x PyTorch), of which ` +
        `its layers ${(100 * t / own[n].whole).toFixed(0)}%; with everything but the layers free ` +
        `it would reach at most ${(torchWhole / t).toFixed(2)}x PyTorch.`,
    );
  }
  console.log(`\nnote: load average ${load0} before, ${loadavg()} after`);
}

// ---------------------------------------------------------------------------- run
log(
  `bench: generator ${generator}, target ${target}, ${threads} thread(s), batches ${
    batches.join(", ")
  }`,
);
const load0 = loadavg();
const status = await availableBackends(threads);
if (values.convs) {
  if (!haveTorch) fail("--convs needs PyTorch: the layers are exported from the recipe's modules");
  await layersAlone(
    status.filter((s) =>
      s.available && wanted.includes(s.backend) && (s.backend !== "webgpu" || values.backends)
    ).map((s) => s.backend),
  );
  Deno.exit(0);
}
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
    type TorchCell = { batch: number; runs: number; ms_per_batch: number; evals_per_s: number };
    const r = await torchJson<
      { torch: string; results: TorchCell[]; weights_loaded: { target: boolean } }
    >(t, ["--batches", batches.join(",")]);
    if ("error" in r) {
      notes.push(`PyTorch failed: ${r.error}`);
      break;
    }
    const j = r.json;
    torchVersion = j.torch;
    const cells = j.results.map((c) => ({
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
