/**
 * A simulated rig: a shipped spiking network plays the animal in a closed-loop experiment run
 * by `scripts/serve.ts`, over HTTP or through the folder bridge. Each stimulus is generated
 * from its grid point (the float image the PNG was made from) and the chosen unit's
 * activation is the response, optionally with multiplicative noise, dropped trials, repeated
 * measurements and a delay per batch. Over HTTP it retries through server restarts.
 *
 *   deno run -A scripts/rig.ts --server http://127.0.0.1:8700 --token-file serve-data/token \
 *     --generator sngan --method tt-b --budget 2000 --target sresnet18 --layer layer2.1.sn2
 *   deno run -A scripts/rig.ts --bridge rig-folder --target scnn --layer sn1
 *   deno run -A scripts/rig.ts --help
 *
 * @module
 */

import { type Fail, failer, parseCommandLine } from "../src/io/cli.ts";
import { Rng } from "../src/core/rng.ts";
import { openProblem } from "../src/models/problem.ts";
import {
  defaultSettings,
  type MeiSettings,
  SettingsError,
  settingsFromFlags,
} from "../src/models/settings.ts";
import { batchName } from "../src/serve/bridge.ts";
import { ServeClient } from "../src/serve/client.ts";
import type { SearchSpec } from "../src/serve/spec.ts";

const help =
  `Usage: deno run -A scripts/rig.ts (--server URL --token-file FILE | --bridge DIR) [options]

Plays a closed-loop experiment against scripts/serve.ts with a network as the animal, until
the search's budget is spent; then stops the search (the server exports it) and prints a
summary. Over HTTP it creates a search (or joins --search ID); through the bridge it plays
the search folder in DIR (or DIR/ID with --search).

Server
  --server URL            the server                                  [http://127.0.0.1:8700]
  --token-file FILE       file holding the token                      [serve-data/token]
  --bridge DIR            play through the bridge folder instead of HTTP
  --search ID             join this search instead of creating one
  --patience S            keep retrying an unreachable server this long [120]
A new search (HTTP)
  --generator NAME        generator offered by the server             [sngan]
  --method NAME           optimizer                               [${defaultSettings.method}]
  --param KEY=VALUE       method parameter (repeatable)
  --budget N              responses told                              [2000]
  --seed N                the search's seed                           [0]
  --batch-size N          stimuli per batch                           [25]
  --grid uniform|gaussian, --grid-size N, --range LO,HI               [uniform, 64, -4,4]
  --name TEXT             a label
The animal
  --target NAME|PATH      shipped target or .onnx                     [sresnet18]
  --layer NAME            layer                                       [layer2.1.sn2]
  --neuron N              unit (channel) index                        [0]
  --unit KIND             channel, spatial, logit, probability        [channel]
  --position Y,X          position of a spatial unit
  --generator-file PATH   the generator's .onnx when it is not a shipped one
  --models-dir DIR, --backend auto|wasm|webgpu|native
  --noise SIGMA           response y max(0, 1 + sigma N(0,1))         [0]
  --repeats K             measurements per stimulus (averaged)        [1]
  --drop P                probability that a trial fails               [0]
  --latency MS            time per batch before answering             [0]
  --rig-seed N            seed of the noise and the drops             [1]
  --json                  print the summary as JSON on stdout
  --help                  this text

Exit codes: 0 done, 1 the server refused or vanished, 2 bad input.`;

const fail: Fail = failer("rig");

const { values: v } = parseCommandLine("rig", help, {
  server: { type: "string", default: "http://127.0.0.1:8700" },
  "token-file": { type: "string", default: "serve-data/token" },
  bridge: { type: "string" },
  search: { type: "string" },
  patience: { type: "string", default: "120" },
  generator: { type: "string", default: "sngan" },
  method: { type: "string", default: defaultSettings.method },
  param: { type: "string", multiple: true },
  budget: { type: "string", default: "2000" },
  seed: { type: "string", default: "0" },
  "batch-size": { type: "string", default: "25" },
  grid: { type: "string", default: "uniform" },
  "grid-size": { type: "string", default: "64" },
  range: { type: "string", default: "-4,4" },
  name: { type: "string" },
  target: { type: "string", default: "sresnet18" },
  layer: { type: "string", default: "layer2.1.sn2" },
  neuron: { type: "string", default: "0" },
  unit: { type: "string", default: "channel" },
  position: { type: "string" },
  "generator-file": { type: "string" },
  "models-dir": { type: "string" },
  backend: { type: "string", default: "auto" },
  noise: { type: "string", default: "0" },
  repeats: { type: "string", default: "1" },
  drop: { type: "string", default: "0" },
  latency: { type: "string", default: "0" },
  "rig-seed": { type: "string", default: "1" },
  json: { type: "boolean" },
});

function num(text: string, what: string, min: number, max = Infinity, int = false): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max || (int && !Number.isInteger(n))) {
    const range = max === Infinity ? `>= ${min}` : `from ${min} to ${max}`;
    fail(`${what} must be ${int ? "an integer" : "a number"} ${range}, got "${text}"`);
  }
  return n;
}
const noise = num(v.noise!, "--noise", 0);
const repeats = num(v.repeats!, "--repeats", 1, 10000, true);
const drop = num(v.drop!, "--drop", 0, 0.9);
const latency = num(v.latency!, "--latency", 0, 600_000);
const rng = new Rng(num(v["rig-seed"]!, "--rig-seed", 0, 2 ** 31 - 1, true));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The animal: the MEI job's problem (generator and target, opened as `scripts/mei.ts` opens
 * them) on the search's grid; the unit's activation for grid points.
 */
async function openAnimal(
  spec: SearchSpec,
): Promise<(points: Int32Array[]) => Promise<Float64Array>> {
  let settings: MeiSettings;
  try {
    settings = settingsFromFlags({
      target: v.target,
      layer: v.layer,
      neurons: String(num(v.neuron!, "--neuron", 0, 1e9, true)),
      unit: v.unit,
      position: v.position,
      backend: v.backend,
      "models-dir": v["models-dir"],
    }, {
      ...defaultSettings,
      generator: v["generator-file"] ?? spec.generator,
      grid: spec.grid,
      gridSize: spec.gridSize,
      range: spec.range,
    });
  } catch (e) {
    if (e instanceof SettingsError) fail(e.message);
    throw e;
  }
  const { objective } = await openProblem(settings);
  return (points) => objective(points, new Int32Array(points.length)); // one unit owns all
}

/** Responses of the animal to a batch: noise, repeats and dropped trials. */
async function measure(
  animal: (points: Int32Array[]) => Promise<Float64Array>,
  stimuli: { id: string; point: number[] }[],
): Promise<{ id: string; values?: number[]; value?: number; failed?: true }[]> {
  const clean = await animal(stimuli.map((s) => Int32Array.from(s.point)));
  if (latency > 0) await sleep(latency);
  return stimuli.map((s, j) => {
    if (drop > 0 && rng.uniform() < drop) return { id: s.id, failed: true };
    const trials = Array.from(
      { length: repeats },
      () => noise > 0 ? clean[j] * Math.max(0, 1 + noise * rng.normal()) : clean[j],
    );
    return repeats === 1 ? { id: s.id, value: trials[0] } : { id: s.id, values: trials };
  });
}

async function overHttp(): Promise<Record<string, unknown>> {
  let token: string;
  try {
    token = (await Deno.readTextFile(v["token-file"]!)).trim();
  } catch (e) {
    fail(`cannot read the token: ${(e as Error).message}`);
  }
  const client = new ServeClient(v.server!, token, num(v.patience!, "--patience", 1) * 1000);
  const run = crypto.randomUUID().slice(0, 8);
  let id = v.search;
  if (!id) {
    const params: Record<string, unknown> = {};
    for (const p of v.param ?? []) {
      const m = /^([\w-]+)=(.*)$/.exec(p);
      if (!m) fail(`--param must be KEY=VALUE, got "${p}"`);
      params[m[1]] = Number.isFinite(Number(m[2])) ? Number(m[2]) : m[2];
    }
    const created = await client.call<{ id: string }>("POST", "/searches", {
      ...(v.name ? { name: v.name } : {}),
      generator: v.generator,
      method: v.method,
      ...(v.param ? { params } : {}),
      budget: Number(v.budget),
      seed: Number(v.seed),
      batchSize: Number(v["batch-size"]),
      grid: v.grid,
      gridSize: Number(v["grid-size"]),
      range: v.range!.split(",").map(Number),
    }, `rig-${run}-create`);
    id = created.id;
  }
  const spec = (await client.call<{ spec: SearchSpec }>("GET", `/searches/${id}`)).spec;
  const animal = await openAnimal(spec);
  for (let step = 0; step < 100 * spec.budget + 100; step++) {
    const b = await client.call<
      { batch: number; done: boolean; stimuli: { id: string; point: number[] }[] }
    >(
      "GET",
      `/searches/${id}/next`,
    );
    if (b.done) break;
    const responses = await measure(animal, b.stimuli);
    await client.call(
      "POST",
      `/searches/${id}/responses`,
      { responses },
      `rig-${run}-${id}-b${b.batch}`,
    );
  }
  const stopped = await client.call<{ folder: string; state: Record<string, unknown> }>(
    "POST",
    `/searches/${id}/stop`,
  );
  return { search: id, folder: stopped.folder, retries: client.retries, ...stopped.state };
}

async function throughFolder(dir: string): Promise<Record<string, unknown>> {
  const patience = num(v.patience!, "--patience", 1) * 1000;
  let id = v.search;
  let waited = 0;
  while (!id) {
    const found: string[] = [];
    try {
      for await (const f of Deno.readDir(dir)) if (f.isDirectory) found.push(f.name);
    } catch { /* not there yet */ }
    if (found.length > 1) {
      fail(`${dir} holds several searches (${found.join(", ")}); pick one with --search`);
    }
    if (found.length === 1) id = found[0];
    else if ((waited += 100) > patience) fail(`no search folder appeared in ${dir}`);
    else await sleep(100);
  }
  const folder = `${dir}/${id}`;
  const read = async (path: string) => {
    try {
      return JSON.parse(await Deno.readTextFile(path));
    } catch {
      return undefined;
    }
  };
  let spec: SearchSpec | undefined;
  for (waited = 0; !(spec = await read(`${folder}/search.json`)); waited += 50) {
    if (waited > patience) fail(`${folder}/search.json did not appear`);
    await sleep(50);
  }
  const animal = await openAnimal(spec);
  let answered = -1, idle = 0;
  for (let step = 0; step < 100 * spec.budget + 100; step++) {
    const done = await read(`${folder}/done.json`);
    if (done) return { search: id, ...done.state, folder: done.folder };
    let newest = -1;
    for await (const f of Deno.readDir(folder)) {
      const m = /^batch-(\d+)$/.exec(f.name);
      if (m) newest = Math.max(newest, Number(m[1]));
    }
    if (newest > answered) {
      const manifest = await read(`${folder}/${batchName(newest)}/manifest.json`);
      if (manifest) {
        const responses = await measure(animal, manifest.stimuli);
        const csv = [
          "id,response,trials",
          ...responses.map((r) =>
            r.failed
              ? `${r.id},,`
              : `${r.id},${r.value ?? r.values!.reduce((a, b) => a + b, 0) / repeats},${repeats}`
          ),
        ].join("\n") + "\n";
        const name = `responses-${batchName(newest).slice(6)}.csv`;
        await Deno.writeTextFile(`${folder}/.${name}.tmp`, csv);
        await Deno.rename(`${folder}/.${name}.tmp`, `${folder}/${name}`);
        answered = newest;
        idle = 0;
        continue;
      }
    }
    if ((idle += 10) > patience) throw new Error(`the bridge wrote nothing for ${patience} ms`);
    await sleep(10);
  }
  throw new Error("the search did not finish");
}

try {
  const summary = v.bridge ? await throughFolder(v.bridge) : await overHttp();
  if (v.json) console.log(JSON.stringify(summary));
  else {
    const best = summary.best as { value: number; id: string } | null;
    console.error(
      `rig: search ${summary.search} done: ${summary.evaluations} responses, best ${best?.value} (${best?.id}); results in ${summary.folder}`,
    );
  }
} catch (e) {
  console.error(`rig: ${(e as Error).message}`);
  Deno.exit(1);
}
