// scripts/mei.ts as a user and an adversary meet it, on tiny in-memory models: a table of bad
// inputs (each refused with exit 2, one line, no internals, nothing written, before any search),
// layer names with slashes, the replayed backend, and kills at random moments that leave either
// a complete run folder or none.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { writeToyModels } from "./_toy_models.ts";
import { buildModel } from "../src/runtime/mod.ts";
import { Rng } from "../src/core/rng.ts";
import { ProgressBar } from "../src/io/progress.ts";
import {
  checkSettings,
  defaultSettings,
  SettingsError,
  settingsFromFlags,
} from "../src/models/settings.ts";

const toy = await writeToyModels();
const repo = new URL("..", import.meta.url).pathname;
const dir = toy.dir;

// Models for the cases: a PyTorch-style node name, fixed batches, corrupt and empty files.
const relu = (dims: (number | string)[], out: string) =>
  buildModel({
    inputs: [{ name: "image", dims }],
    outputs: [{ name: out, dims }],
    nodes: [{ opType: "Relu", inputs: ["image"], outputs: [out] }],
  });
await Deno.writeFile(`${dir}/slash.onnx`, relu(["B", 1, 8, 8], "/model/relu/Relu_output_0"));
await Deno.writeFile(`${dir}/fixed.onnx`, relu([1, 1, 8, 8], "feat"));
await Deno.writeFile(
  `${dir}/gen_fixed.onnx`,
  buildModel({
    inputs: [{ name: "z", dims: [1, 4] }],
    outputs: [{ name: "image", dims: [1, 4] }],
    nodes: [{ opType: "Sigmoid", inputs: ["z"], outputs: ["image"] }],
  }),
);
await Deno.writeFile(`${dir}/corrupt.onnx`, Uint8Array.from({ length: 300 }, (_, i) => i * 7));
await Deno.writeFile(`${dir}/empty.onnx`, new Uint8Array());
const replay = (name: string, json: unknown) => {
  Deno.writeTextFileSync(`${dir}/${name}`, JSON.stringify(json));
  return `${dir}/${name}`;
};
const good = JSON.parse(
  JSON.stringify({
    settings: {
      generator: toy.generator,
      target: toy.target,
      layer: "feat",
      neurons: "0",
      unit: "channel",
      method: "tt-b",
      budget: 50,
      seed: 0,
      grid: "uniform",
      gridSize: 8,
      range: [-4, 4],
      backend: "wasm",
      noise: 0,
      shared: false,
    },
  }),
);

const TOY_FLAGS = [
  ...["--generator", toy.generator, "--target", toy.target, "--layer", "feat"],
  ...["--grid-size", "8", "--backend", "wasm"],
];

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** scripts/mei.ts on the toy models, with narrow permissions (write access to `out` only) unless given. */
function command(
  args: string[],
  out: string,
  permissions: string[] = [],
  toyFlags = true,
): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--unstable-raw-imports",
      ...(permissions.length ? permissions : [
        `--allow-read=${repo},${dir},${out},/proc`,
        `--allow-write=${out}`,
        "--allow-env=IMAGESCRIPT_WASM_SIMD",
      ]),
      `${repo}scripts/mei.ts`,
      ...(toyFlags ? TOY_FLAGS : []),
      "--out",
      out,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  });
}

async function cli(
  args: string[],
  out: string,
  permissions: string[] = [],
  toyFlags = true,
): Promise<Result> {
  const { code, stdout, stderr } = await command(args, out, permissions, toyFlags).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, stdout: text(stdout), stderr: text(stderr) };
}

/** Run jobs two at a time (the machine has few cores; each job is a process). */
async function pool<T, R>(
  items: T[],
  job: (item: T, i: number) => Promise<R>,
  width = 2,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await job(items[i], i);
      }
    }),
  );
  return results;
}

const entries = (path: string) => {
  try {
    return [...Deno.readDirSync(path)].map((e) => e.name);
  } catch {
    return [];
  }
};

// [arguments, the message (what is wrong and what is valid)]
const BAD: [string[], RegExp][] = [
  // Options and their values.
  [["--frobnicate"], /unknown option --frobnicate/],
  [["--neuron", "3"], /unknown option --neuron; did you mean --neurons\?/],
  [["--budget"], /option --budget needs a value/],
  [["--shared=yes"], /option --shared takes no value/],
  [["stray"], /unexpected argument "stray"/],
  [["--budget", "0"], /--budget must be an integer from 1 to 1000000000, got 0/],
  [["--budget", "1.5"], /--budget must be an integer/],
  [["--budget", "ten"], /--budget must be an integer from 1 to 1000000000, got "ten"/],
  [["--budget", ""], /--budget must be an integer/],
  [["--seed", "-1"], /--seed must be an integer from 0/],
  [["--seed", "1e20"], /--seed must be an integer from 0 to 2\^53 - 1/],
  [["--neurons", "-1"], /--neurons must be a neuron list .* got "-1"/],
  [["--neurons", "1,1"], /neuron 1 is listed twice/],
  [["--neurons", "0-3,2"], /neuron 2 is listed twice/],
  [["--neurons", "3-1"], /runs backwards/],
  [["--neurons", "x"], /cannot read neuron "x"/],
  [["--unit", "pixel"], /--unit must be channel, spatial, logit, probability, got "pixel"/],
  [["--unit", "spatial"], /--unit spatial needs --position/],
  [["--position", "1.5,2", "--unit", "spatial"], /--position must be two integers >= 0/],
  [["--position", "1,2"], /--position applies only to --unit spatial/],
  [["--unit", "logit", "--layer", "feat"], /--layer "feat" does not apply to --unit logit/],
  [["--method", "newton"], /--method must be one of cma, .*, got "newton"/],
  [["--param", "k="], /--param must be KEY=VALUE with a value, got "k="/],
  [["--param", "k"], /--param must be KEY=VALUE/],
  [["--param", "zzz=1"], /unknown parameter "zzz" for "cma-diag"; valid: /],
  [["--method", "protes", "--param", "k=-5"], /params.k of "protes" must be >= /],
  [["--grid", "cubic"], /--grid must be uniform or gaussian, got "cubic"/],
  [["--grid-size", "1"], /--grid-size must be an integer from 2 to 4096, got 1/],
  [["--grid-size", "1e9"], /--grid-size must be an integer from 2 to 4096, got 1000000000/],
  [["--grid-size", "1e16"], /--grid-size must be an integer from 2 to 4096/],
  [["--range", "4,-4"], /--range must be two finite numbers "low,high" with low < high/],
  [["--range", "1"], /--range must be two finite numbers/],
  [["--noise", "Infinity"], /--noise must be a finite number >= 0, got "Infinity"/],
  [["--noise", "-0.1"], /--noise must be a finite number >= 0/],
  [["--threads", "0"], /--threads must be an integer from 1 to 256, got 0/],
  [["--threads", "-1"], /--threads must be an integer from 1 to 256, got -1/],
  [["--threads", "1000"], /--threads must be an integer from 1 to 256, got 1000/],
  [["--backend", "cuda"], /--backend must be one of auto, wasm, native, webgpu, got "cuda"/],
  [["--epoch", "-2"], /--epoch must be an integer from 0/],
  // The destination, checked before any model is opened.
  [["--out", `${repo}README.md`], /cannot write runs into ".*README.md": it is a file/],
  [["--out", "/proc/x"], /cannot write runs into "\/proc\/x": no permission/],
  [["--out", "/tmp/mei-elsewhere"], /cannot write runs into "\/tmp\/mei-elsewhere": no permission/],
  [["--name", "a/b"], /run name "a\/b" must be 1 to 200 letters/],
  [["--name", ""], /run name "" must be/],
  [["--name", "."], /run name "." must be .* not starting with a dot/],
  [["--name", ".."], /run name ".." must be/],
  // Replay files.
  [["--replay", replay("empty.json", {})], /cannot replay .*: it has no "settings" object/],
  [["--replay", replay("abc.json", { settings: "abc" })], /"settings" must be an object/],
  [["--replay", replay("null.json", null)], /it has no "settings" object/],
  [
    ["--replay", replay("n5.json", { settings: { ...good.settings, neurons: 5 } })],
    /neurons must be a neuron list .* got 5/,
  ],
  [
    ["--replay", replay("l5.json", { settings: { ...good.settings, layer: 5 } })],
    /layer must be a tensor name .* got 5/,
  ],
  [
    ["--replay", replay("extra.json", { settings: { ...good.settings, budgett: 5 } })],
    /unknown setting "budgett"; valid: generator/,
  ],
  [
    ["--replay", replay("missing.json", { settings: { ...good.settings, budget: undefined } })],
    /budget is missing; valid: an integer/,
  ],
  [["--replay", `${dir}/nope.json`], /cannot replay .*nope.json: no such file/],
  [["--replay", `${dir}/corrupt.onnx`], /cannot replay .*corrupt.onnx: it is not JSON/],
  // Models: the role and the file named the same way, before any search.
  [
    ["--target", `${dir}/missing.onnx`],
    /cannot read the target model .*missing.onnx: no such file/,
  ],
  [["--generator", `${dir}/missing.onnx`], /cannot read the generator model .*missing.onnx/],
  [["--target", `${dir}/corrupt.onnx`], /the target model .*corrupt.onnx is not a valid ONNX file/],
  [
    ["--generator", `${dir}/corrupt.onnx`],
    /the generator model .*corrupt.onnx is not a valid ONNX file/,
  ],
  [["--target", `${dir}/empty.onnx`], /the target model .*empty.onnx is not a valid ONNX file/],
  [["--target", "resnet"], /no target "resnet"; shipped targets: /],
  [["--layer", "nope"], /unknown layer "nope" in the target model .*target.onnx/],
  [["--layer", "fea"], /Close matches: feat/],
  [["--neurons", "9"], /neuron 9 is out of range: "feat" has 4 units/],
  [
    ["--unit", "spatial", "--position", "4,0"],
    /position 4,0 is outside "feat", whose positions are y 0..3, x 0..3/,
  ],
  [
    ["--target", `${dir}/fixed.onnx`],
    /the target model .*fixed.onnx has a fixed batch of 1 .* needs a dynamic batch axis/,
  ],
  [
    ["--target", `${dir}/fixed.onnx`, "--list-layers"],
    /the target model .*fixed.onnx has a fixed batch of 1/,
  ],
  [["--generator", `${dir}/gen_fixed.onnx`], /the generator model .* has a fixed batch of 1/],
  [
    ["--target", `${dir}/slash.onnx`, "--layer", "logits", "--unit", "logit"],
    /the target model .*slash.onnx has no "logits" output for --unit logit/,
  ],
  [
    ["--target", `${dir}/target28.onnx`],
    /the generator makes images \[1,8,8\] but the target takes \[1,28,28\]/,
  ],
  [
    ["--target", `${dir}/target_nan.onnx`],
    /the target returned NaN for unit 0 of "feat" on candidate 0/,
  ],
];

const INTERNALS = /Error\b|undefined|is not a function|Cannot read|\.ts:\d|\s{2}at \S|os error/;

Deno.test(`${BAD.length} bad inputs: exit 2, one line, no internals, nothing written, no search`, async () => {
  assert(BAD.length >= 40);
  const root = await Deno.makeTempDir({ prefix: "mei-bad-" });
  const failures = await pool(BAD, async ([args, message], i) => {
    const out = `${root}/${i}`;
    const r = await cli(["--budget", "50", ...args], out);
    const lines = r.stderr.trim().split("\n");
    const problems = [
      r.code !== 2 && `exit ${r.code}`,
      !message.test(r.stderr) && `message`,
      lines.length !== 1 && "more than one line",
      !lines[0].startsWith("mei: ") && "not a mei: line",
      INTERNALS.test(r.stderr) && "internals",
      entries(out).length > 0 && `wrote ${entries(out)}`,
      /best|evaluations/.test(r.stderr) && "searched",
    ].filter((p) => p);
    return problems.length ? `${args.join(" ")}: ${problems.join(", ")}: ${r.stderr}` : "";
  });
  assertEquals(failures.filter((f) => f), []);
  assertEquals(entries("/tmp/mei-elsewhere"), []);
  await Deno.remove(root, { recursive: true });
});

Deno.test("a layer named like a PyTorch node output (slashes) runs and names its folder", async () => {
  const out = await Deno.makeTempDir();
  const r = await cli(
    ["--target", `${dir}/slash.onnx`, "--layer", "/model/relu/Relu_output_0", "--budget", "50"],
    out,
  );
  assertEquals(r.code, 0, r.stderr);
  assertEquals(entries(out), ["gen-u8_slash__model_relu_Relu_output_0_n0_cma-diag_s0"]);
  const run = JSON.parse(
    Deno.readTextFileSync(`${out}/gen-u8_slash__model_relu_Relu_output_0_n0_cma-diag_s0/run.json`),
  );
  assert(run.command.startsWith("deno run -A scripts/mei.ts --generator "), run.command);
  assertEquals(run.latent, { kind: "grid", grid: "uniform", size: 8, range: [-4, 4] });
  await Deno.remove(out, { recursive: true });
});

Deno.test("--replay runs on the backend the run used, and says so when told another", async () => {
  const out = await Deno.makeTempDir();
  const a = await cli(["--backend", "auto", "--budget", "100", "--name", "a"], out, ["-A"]);
  assertEquals(a.code, 0, a.stderr);
  const used = JSON.parse(Deno.readTextFileSync(`${out}/a/run.json`)).backend;
  const b = await cli(["--replay", `${out}/a/run.json`, "--name", "b"], out, ["-A"], false);
  assertEquals(b.code, 0, b.stderr);
  const replayed = JSON.parse(Deno.readTextFileSync(`${out}/b/run.json`));
  assertEquals([replayed.settings.backend, replayed.backend], [used, used]);
  assertEquals(
    Deno.readTextFileSync(`${out}/a/history.json`),
    Deno.readTextFileSync(`${out}/b/history.json`),
  );
  const other = used === "wasm" ? "native" : "wasm";
  const c = await cli(
    ["--replay", `${out}/a/run.json`, "--backend", other, "--name", "c"],
    out,
    ["-A"],
    false,
  );
  assertEquals(c.code, 0, c.stderr);
  assert(
    c.stderr.includes(`the replayed run ran on ${used}; on ${other} the results may differ`),
    c.stderr,
  );
  await Deno.remove(out, { recursive: true });
});

/** The state of a runs folder after a kill and the next start: complete folders and leftovers. */
function check(out: string): string[] {
  const files = [
    "mei.png",
    "candidates.png",
    "progress.gif",
    "convergence.svg",
    "convergence.png",
    "convergence.csv",
    "history.json",
    "history.csv",
    "latent.npy",
    "run.json",
  ];
  const problems: string[] = [];
  for (const name of entries(out)) {
    if (name.startsWith(".")) {
      problems.push(`left ${name}`);
      continue;
    }
    const have = entries(`${out}/${name}`);
    const missing = files.filter((f) => !have.includes(f));
    if (missing.length) problems.push(`${name} lacks ${missing}`);
    else JSON.parse(Deno.readTextFileSync(`${out}/${name}/run.json`));
  }
  return problems;
}

Deno.test("SIGKILL and double Ctrl-C at random moments leave a complete folder or none", async () => {
  const root = await Deno.makeTempDir({ prefix: "mei-kill-" });
  // How long a whole run takes here, to spread the kills over it (the write included).
  const t0 = performance.now();
  const ref = await cli(["--budget", "200", "--name", "ref"], `${root}/ref`);
  assertEquals(ref.code, 0, ref.stderr);
  const span = performance.now() - t0;
  const rng = new Rng(10);
  const trials = Array.from({ length: 8 }, (_, i) => ({
    i,
    signal: i % 2 ? "double SIGINT" : "SIGKILL",
    // Half of the kills in the last third of a run, where the results are written.
    at: (i % 4 < 2 ? 0.3 + 0.5 * rng.uniform() : 0.7 + 0.4 * rng.uniform()) * span,
    gap: 20 + 300 * rng.uniform(),
  }));
  const problems = await pool(trials, async ({ i, signal, at, gap }) => {
    const out = `${root}/${i}`;
    const child = command(["--budget", "200", "--name", "k"], out).spawn();
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await sleep(at);
    try {
      if (signal === "SIGKILL") child.kill("SIGKILL");
      else {
        child.kill("SIGINT");
        await sleep(gap);
        child.kill("SIGINT");
      }
    } catch { /* it had finished */ }
    const status = await child.output();
    // The next start (a refusal once the destination is prepared) sweeps what was left.
    const next = await cli(["--neurons", "9"], out);
    assertEquals(next.code, 2, next.stderr);
    const p = check(out);
    return p.length ? `${signal} at ${at.toFixed(0)} ms (exit ${status.code}): ${p}` : "";
  });
  assertEquals(problems.filter((p) => p), []);
  await Deno.remove(root, { recursive: true });
});

for (const second of ["SIGINT", "SIGKILL"] as const) {
  Deno.test(`a ${second} while the results are written leaves no partial folder`, async () => {
    const out = await Deno.makeTempDir();
    const child = command(["--budget", "100000000", "--name", "cut"], out).spawn();
    const reader = child.stderr.getReader();
    let text = "";
    while (!text.includes("best")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    child.kill("SIGINT");
    await new Promise((r) => setTimeout(r, 100)); // the search stops; the write is under way
    child.kill(second);
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      text += new TextDecoder().decode(r.value);
    }
    const status = await child.status;
    assertEquals(status.code, second === "SIGINT" ? 130 : 137, text);
    const before = entries(out); // a killed writer leaves its partial folder behind
    // The next start sweeps it.
    assertEquals((await cli(["--neurons", "9"], out)).code, 2);
    assertEquals(entries(out).filter((n) => n !== "cut"), [], `${before}: ${text}`);
    assertEquals(check(out), []);
    await Deno.remove(out, { recursive: true });
  });
}

Deno.test("library objects are checked like flags; class units read the logits", () => {
  const refused = (f: () => unknown, message: RegExp) => {
    try {
      f();
    } catch (e) {
      assert(e instanceof SettingsError && message.test(e.message), String(e));
      return;
    }
    throw new Error(`not refused: ${message}`);
  };
  refused(() => checkSettings({ ...defaultSettings, gridsize: 8 }), /unknown setting "gridsize"/);
  refused(() => checkSettings({ ...defaultSettings, noise: NaN }), /noise must be a finite number/);
  refused(() => checkSettings(null), /settings must be an object, got null/);
  assertEquals(checkSettings({ ...defaultSettings, unit: "logit" }).layer, "logits");
  const s = settingsFromFlags({ range: "-2,2", method: "protes", param: ["k=50", "lr=0.1"] });
  assertEquals([s.range, s.params], [[-2, 2], { k: 50, lr: 0.1 }]);
});

Deno.test("the progress line counts its rate from the first update", () => {
  const lines: string[] = [];
  const bar = new ProgressBar({
    total: 100,
    unit: "images",
    write: (t) => lines.push(t),
    tty: false,
    every: 0,
  });
  bar.update(25, { best: 1 }); // work done before the bar existed: no rate yet
  assert(!lines[0].includes("/s") && lines[0].includes("25/100 images | best 1"), lines[0]);
  const t = performance.now();
  while (performance.now() - t < 20) { /* a little time passes */ }
  bar.update(50);
  assert(/ [\d.]+ images\/s/.test(lines[1]), lines[1]);
});
