// Sweeps: keys and shard plans on small cases, per-search seeds independent of the lockstep
// group, and scripts/sweep.ts on a tiny sweep of the shipped models: killed three times with
// SIGKILL it completes with exactly the records of an uninterrupted run; two shards run as
// separate processes and merged equal the unsharded run; bad input exits 2 writing nothing.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { optimizeLockstep } from "../src/optim/lockstep.ts";
import { createOptimizer } from "../src/optim/optimize.ts";
import { parseAllDocuments } from "yaml";
import { parseNeurons } from "../src/models/units.ts";
import { LOCKSTEP, planGroups, shardOf } from "../src/sweep/plan.ts";
import { normalizeSpec, SpecError } from "../src/sweep/spec.ts";
import { SweepFolder } from "../src/sweep/store.ts";
import "../src/optim/methods.ts";

const repo = new URL("..", import.meta.url).pathname;
const SPEC = {
  targets: ["scnn@4", "scnn@6"],
  layers: ["sn1"],
  neurons: "0-11",
  methods: ["tt-b", "tt"],
  seeds: [0],
  noise: [0, 0.3],
  budget: 120,
};
const SEARCHES = 2 * 12 * 2 * 2;

/** Run scripts/sweep.ts; returns the child (not awaited). */
function spawn(args: string[], env: Record<string, string> = {}) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${repo}scripts/sweep.ts`, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).spawn();
}

async function sweep(args: string[], env: Record<string, string> = {}) {
  const out = await spawn(args, env).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

/** Records by key, without wall_seconds (the one field allowed to differ). */
async function records(dir: string): Promise<Map<string, string>> {
  const lines = (await Deno.readTextFile(`${dir}/records.jsonl`)).split("\n").filter((l) => l);
  const out = new Map<string, string>();
  for (const line of lines) {
    const r = JSON.parse(line);
    assert(!out.has(r.key), `duplicate record ${r.key}`);
    assert(await Deno.stat(`${dir}/${r.image}`), `missing image of ${r.key}`);
    delete r.wall_seconds;
    out.set(r.key, JSON.stringify(r));
  }
  return out;
}

const tmp = await Deno.makeTempDir({ prefix: "sweep-test-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
const specFile = `${tmp}/spec.json`;
await Deno.writeTextFile(specFile, JSON.stringify(SPEC));
let reference: Promise<Map<string, string>> | undefined;
/** The uninterrupted, unsharded run on one worker (run once, shared by the tests). */
function referenceRun() {
  return reference ??= (async () => {
    const r = await sweep(["--spec", specFile, "--out", `${tmp}/reference`]);
    assertEquals(r.code, 0, r.stderr);
    return await records(`${tmp}/reference`);
  })();
}

Deno.test("spec: defaults, lists from flags, and one clear error per bad field", () => {
  const s = normalizeSpec({ targets: "scnn@6", layers: "sn1", neurons: 3, seeds: "0,2" });
  assertEquals([s.targets, s.neurons, s.seeds, s.methods, s.unit], [
    ["scnn@6"],
    "3",
    [0, 2],
    ["cma-diag"],
    "channel",
  ]);
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ layers: ["sn1"], neurons: "0" }, /needs "targets"/],
    [{ ...SPEC, methods: ["tt", "nope"] }, /method must be one of .*tt-b.*, got "nope"/],
    [{ ...SPEC, seeds: [-1] }, /"seeds" has an invalid entry -1/],
    [{ ...SPEC, budget: 0 }, /budget must be an integer from 1 to 1000000000, got 0/],
    [{ ...SPEC, layers: ["sn1", "sn1"] }, /"layers" lists an entry twice/],
    [{ ...SPEC, unit: "spatial" }, /spatial units need a position/],
    [{ ...SPEC, extra: 1 }, /unknown spec field "extra"; valid fields: targets/],
  ];
  for (const [input, message] of bad) {
    let error: unknown;
    try {
      normalizeSpec(input);
    } catch (e) {
      error = e;
    }
    assert(error instanceof SpecError && message.test(error.message), `${error} !~ ${message}`);
  }
});

Deno.test("shards: every group in exactly one shard, loads within one group's cost", () => {
  const neurons = new Map([["a|x", [0, 1, 2]], ["a|y", Array.from({ length: 40 }, (_, j) => j)]]);
  const cost = new Map([["a|x", 30], ["a|y", 7]]);
  const spec = {
    targets: ["a"],
    layers: ["x", "y"],
    methods: ["m1", "m2"],
    seeds: [0, 1],
    noise: [0],
  };
  const groups = planGroups(spec, neurons, cost, 100);
  // 2 methods x 2 seeds x (1 group of 3 on x + 3 groups of 16, 16, 8 on y).
  assertEquals(groups.length, 16);
  assertEquals(new Set(groups.flatMap((g) => g.keys)).size, 4 * 43);
  for (const count of [1, 2, 3, 5]) {
    const shards = Array.from({ length: count }, (_, i) => shardOf(groups, i, count));
    const all = shards.flat().map((g) => g.keys.join()).sort();
    assertEquals(all, groups.map((g) => g.keys.join()).sort());
    const loads = shards.map((s) => s.reduce((n, g) => n + g.cost, 0));
    const largest = Math.max(...groups.map((g) => g.cost));
    assert(Math.max(...loads) - Math.min(...loads) <= largest, `${loads}`);
  }
});

Deno.test("lockstep: a search with its own seed finds the same as when run alone", async () => {
  const space = { d: 6, n: 3 };
  // Three units with different optima; each search is told only its own unit's values.
  const f = (batch: Int32Array[]) => {
    const out = new Float64Array(batch.length * 3);
    batch.forEach((p, b) => {
      for (let u = 0; u < 3; u++) {
        out[b * 3 + u] = p.reduce((s, v, k) => s + (v === (u + k) % 3 ? 1 : 0), 0);
      }
    });
    return Promise.resolve(out);
  };
  const seeds = [11, 22, 33];
  const group = await optimizeLockstep("tt-b", f, {
    space,
    budget: 150,
    maximize: true,
    searches: 3,
    seeds,
  });
  // The last search alone, as an ordinary optimizer on unit 2.
  const alone = createOptimizer("tt-b", { space, budget: 150, maximize: true, seed: 33 });
  while (!alone.done) {
    const batch = alone.ask();
    const v = await f(batch);
    alone.tell(batch, Float64Array.from(batch, (_, b) => v[b * 3 + 2]));
  }
  assertEquals(group.results[2].history, alone.history);
  assertEquals(Array.from(group.results[2].best), Array.from(alone.best!.point));
});

Deno.test("store: a torn last line is dropped, a damaged middle line refused", async () => {
  const dir = `${tmp}/store`;
  const header = { format: "mei-sweep/1", spec: { a: 1 }, models: {}, searches: 3 };
  const folder = await SweepFolder.open(dir, header);
  await folder.append(['{"key":"a"}', '{"key":"b"}']);
  folder.close();
  await Deno.writeTextFile(`${dir}/records.jsonl`, '{"key":"c","x":[1,', { append: true });
  const again = await SweepFolder.open(dir, header);
  assertEquals([...again.done], ["a", "b"]);
  await again.append(['{"key":"c"}']);
  again.close();
  assertEquals(
    await Deno.readTextFile(`${dir}/records.jsonl`),
    '{"key":"a"}\n{"key":"b"}\n{"key":"c"}\n',
  );
  await Deno.writeTextFile(`${dir}/records.jsonl`, '{"key":"a"}\nnot json\n{"key":"b"}\n');
  await assertRejects(() => SweepFolder.open(dir, header), /line 2 is not a record/);
  await assertRejects(
    () => SweepFolder.open(dir, { ...header, spec: { a: 2 } }),
    /holds a different sweep \(spec field "a": 1 there, 2 now\)/,
  );
});

async function assertRejects(f: () => Promise<unknown>, message: RegExp) {
  let error: unknown;
  try {
    await f();
  } catch (e) {
    error = e;
  }
  assert(error instanceof Error && message.test(error.message), `${error} !~ ${message}`);
}

Deno.test("sweep: killed with SIGKILL three times, it completes with the uninterrupted records", async () => {
  const want = await referenceRun();
  assertEquals(want.size, SEARCHES);
  const out = `${tmp}/crashed`, args = ["--spec", specFile, "--out", out, "--workers", "2"];
  const lines = async () => {
    try {
      return (await Deno.readTextFile(`${out}/records.jsonl`)).split("\n").length - 1;
    } catch {
      return 0;
    }
  };
  for (let kill = 0; kill < 3; kill++) {
    const before = await lines();
    const child = spawn(args);
    // Wait for new records, then kill at a random moment within the next 150 ms: about one
    // lockstep group of 6 searches, of 16, so three kills leave work for the resume.
    while (await lines() === before) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, Math.random() * 150));
    child.kill("SIGKILL");
    await child.output();
    assert(await lines() < SEARCHES, "the sweep finished before the kill: make it longer");
  }
  const r = await sweep(args);
  assertEquals(r.code, 0, r.stderr);
  const got = await records(out);
  assertEquals([...got.keys()].sort(), [...want.keys()].sort());
  for (const [k, v] of want) assertEquals(got.get(k), v, k);
});

Deno.test("sweep: two shards as separate processes, merged, equal the unsharded run", async () => {
  const want = await referenceRun();
  const shardDir = `${tmp}/shard-{shard}`;
  // Both shards at once, as a Kubernetes indexed Job's pod and a SLURM array task see them.
  const [a, b] = await Promise.all([
    sweep(["--spec", specFile, "--out", shardDir, "--shards", "2"], { JOB_COMPLETION_INDEX: "0" }),
    sweep(["--spec", specFile, "--out", shardDir], {
      SLURM_ARRAY_TASK_ID: "1",
      SLURM_ARRAY_TASK_COUNT: "2",
    }),
  ]);
  assertEquals([a.code, b.code], [0, 0], a.stderr + b.stderr);
  const sizes = [(await records(`${tmp}/shard-0`)).size, (await records(`${tmp}/shard-1`)).size];
  assert(sizes[0] > 0 && sizes[1] > 0 && sizes[0] + sizes[1] === SEARCHES, `${sizes}`);
  const missing = await sweep(["merge", `${tmp}/merged-bad`, `${tmp}/shard-0`]);
  assertEquals(missing.code, 2);
  assert(/searches are in no shard: scnn@/.test(missing.stderr), missing.stderr);
  const twice = await sweep(["merge", `${tmp}/merged-bad`, `${tmp}/shard-0`, `${tmp}/shard-0`]);
  assert(twice.code === 2 && /is in both/.test(twice.stderr), twice.stderr);
  await assertRejects(() => Deno.stat(`${tmp}/merged-bad`), /No such file/);
  const m = await sweep(["merge", `${tmp}/merged`, `${tmp}/shard-0`, `${tmp}/shard-1`]);
  assertEquals(m.code, 0, m.stderr);
  const got = await records(`${tmp}/merged`);
  assertEquals([...got.keys()].sort(), [...want.keys()].sort());
  for (const [k, v] of want) assertEquals(got.get(k), v, k);
  assertEquals(
    await Deno.readTextFile(`${tmp}/merged/sweep.json`),
    await Deno.readTextFile(`${tmp}/reference/sweep.json`),
  );
});

Deno.test("sweep: bad input exits 2 with one line and writes nothing", async () => {
  const out = `${tmp}/bad`;
  const base = ["--targets", "scnn@6", "--layers", "sn1", "--neurons", "0-3", "--out", out];
  const cases: [string[], RegExp][] = [
    [["--layers", "nope"], /scnn@6 has no layer "nope"/],
    [["--methods", "tt,nope"], /method must be one of .*, got "nope"/],
    [["--neurons", "0-99"], /neuron 99 is out of range: scnn@6 "sn1" has 12 units/],
    [["--targets", "scnn@3"], /no target "scnn@3" at epoch 3; "scnn" has epochs 0, 1, 2, 4, 6/],
    [["--shard", "3/2"], /shard must be i\/N with 0 <= i < N/],
    [["--budget", "ten"], /"budget" is invalid/],
    [["--spec", `${tmp}/nowhere.json`], /cannot read the spec/],
  ];
  const k8s = await sweep(base, { JOB_COMPLETION_INDEX: "1" });
  assert(k8s.code === 2 && /give the shard count, --shards N/.test(k8s.stderr), k8s.stderr);
  for (const [extra, message] of cases) {
    const r = await sweep([...base, ...extra]);
    assertEquals(r.code, 2, extra.join(" "));
    assert(message.test(r.stderr) && r.stderr.trim().split("\n").length === 1, r.stderr);
    await assertRejects(() => Deno.stat(out), /No such file/);
  }
  await referenceRun();
  const other = await sweep([...base.slice(0, -1), `${tmp}/reference`]);
  assert(other.code === 2 && /holds a different sweep/.test(other.stderr), other.stderr);
});

Deno.test("kubernetes: the manifest parses, and its commands and shard count agree with its spec", async () => {
  const text = await Deno.readTextFile(`${repo}deploy/k8s/sweep-job.yaml`);
  const docs = parseAllDocuments(text).map((d) => {
    assertEquals(d.errors.map(String), []);
    return d.toJS();
  });
  const config = docs.find((d) => d.kind === "ConfigMap");
  const spec = normalizeSpec(JSON.parse(config.data["spec.json"]));
  const [job, merge] = docs.filter((d) => d.kind === "Job");
  assertEquals(job.spec.completionMode, "Indexed");
  const pod = job.spec.template.spec, args: string[] = pod.containers[0].command;
  const flag = (name: string) => args[args.indexOf(name) + 1];
  assertEquals(args.slice(0, 4), ["deno", "run", "-A", "scripts/sweep.ts"]);
  const shards = Number(flag("--shards"));
  assertEquals([job.spec.completions, job.spec.parallelism], [shards, shards]);
  // Every shard has work: the spec's lockstep groups dealt to the shards.
  const units = parseNeurons(spec.neurons, 1 << 20).length;
  const neurons = new Map<string, number[]>(), cost = new Map<string, number>();
  for (const t of spec.targets) {
    for (const l of spec.layers) {
      neurons.set(`${t}|${l}`, Array.from({ length: units }, (_, j) => j));
      cost.set(`${t}|${l}`, 1);
    }
  }
  const groups = planGroups(spec, neurons, cost, spec.budget);
  assertEquals(
    groups.length,
    spec.targets.length * spec.layers.length * spec.methods.length *
      spec.seeds.length * spec.noise.length * Math.ceil(units / LOCKSTEP),
  );
  for (let i = 0; i < shards; i++) assert(shardOf(groups, i, shards).length > 0, `shard ${i}`);
  // The spec file is the ConfigMap's, mounted where --spec reads it.
  const mount = (p: typeof pod, volume: (v: Record<string, unknown>) => boolean) => {
    const name = p.volumes.find(volume).name;
    return p.containers[0].volumeMounts.find((m: { name: string }) => m.name === name).mountPath;
  };
  assertEquals(
    flag("--spec"),
    `${
      mount(pod, (v) => (v.configMap as { name: string })?.name === config.metadata.name)
    }/spec.json`,
  );
  // Shards and merge share the claim; the merge reads the shard folders the Job writes.
  const claim = (v: Record<string, unknown>) =>
    (v.persistentVolumeClaim as { claimName: string })?.claimName ===
      docs.find((d) => d.kind === "PersistentVolumeClaim").metadata.name;
  const mergePod = merge.spec.template.spec;
  assertEquals(mount(pod, claim), mount(mergePod, claim));
  const out = flag("--out");
  assert(out.endsWith("/{shard}") && out.startsWith(mount(pod, claim) + "/"), out);
  const script = mergePod.containers[0].command.join(" ");
  const m = /scripts\/sweep\.ts merge (\S+) (\S+)\/\*/.exec(script);
  assert(m && m[2] === out.slice(0, -"/{shard}".length) && m[1] !== m[2], script);
});
