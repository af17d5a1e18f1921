// The closed loop end to end on shipped models (the SN-GAN and the cheapest spiking target,
// channel 0 of scnn's first spiking layer): a 2000-stimulus search through scripts/rig.ts over
// HTTP, one through the folder bridge, and one under a server SIGKILLed five times at random
// moments, each ending exactly as the same search run in process (scripts/mei.ts's job, same
// seed, no noise), with every stimulus's response logged exactly once.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { DatabaseSync } from "node:sqlite";
import { Rng } from "../src/core/rng.ts";
import { defaultSettings, runMei } from "../src/models/mei.ts";
import { ServeClient } from "../src/serve/client.ts";
import { startServer } from "../scripts/_server.ts";

const repo = new URL("..", import.meta.url).pathname;
const BUDGET = 2000, SEED = 3;
const animal = ["--target", "scnn", "--layer", "sn1", "--neuron", "0"];
const reference = (await runMei({
  ...defaultSettings,
  generator: "sngan",
  target: "scnn",
  layer: "sn1",
  neurons: "0",
  method: "tt-b",
  budget: BUDGET,
  seed: SEED,
})).result;

function rig(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${repo}scripts/rig.ts`, ...animal, "--json", ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** The rig's summary: the search's state, its id, the export folder, the retries. */
interface Summary {
  search: string;
  folder: string;
  retries: number;
  evaluations: number;
  failedTrials: number;
  best: { value: number; point: number[] };
  history: unknown;
  curve: unknown;
}

async function finished(child: Deno.ChildProcess): Promise<Summary> {
  const out = await child.output();
  const err = new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, err);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/** The search ended exactly as the in-process run. */
function sameAsInProcess(state: Summary): void {
  const ref = reference.results[0];
  assertEquals(state.evaluations, BUDGET);
  assertEquals(state.best.value, ref.value);
  assertEquals(state.best.point, Array.from(ref.best));
  assertEquals(state.history, ref.history);
  assertEquals(state.curve, reference.curves[0]);
}

/** Responses events logged so far (0 while the database is being opened by a restart). */
function answeredBatches(data: string): number {
  try {
    const db = new DatabaseSync(`${data}/serve.db`, { readOnly: true });
    const n = (db.prepare("SELECT COUNT(*) AS n FROM events WHERE kind = 'responses'").get() as {
      n: number;
    }).n;
    db.close();
    return Number(n);
  } catch {
    return 0;
  }
}

/** Each stimulus was told exactly one value in the log; returns the failed trials logged. */
function loggedOnce(data: string, id: string): number {
  const db = new DatabaseSync(`${data}/serve.db`, { readOnly: true });
  const rows = db.prepare(
    "SELECT body FROM events WHERE search = ? AND kind = 'responses' ORDER BY seq",
  )
    .all(id) as { body: string }[];
  db.close();
  const told = new Map<string, number>();
  let failed = 0;
  for (const r of rows) {
    for (const item of JSON.parse(r.body).items) {
      if (item.kind === "failed") failed++;
      else told.set(item.id, (told.get(item.id) ?? 0) + 1);
    }
  }
  assertEquals(told.size, BUDGET);
  assert([...told.values()].every((n) => n === 1));
  return failed;
}

const spec = { generator: "sngan", method: "tt-b", budget: BUDGET, seed: SEED, batchSize: 25 };
const rigSearch = [
  "--generator",
  "sngan",
  "--method",
  "tt-b",
  "--budget",
  `${BUDGET}`,
  "--seed",
  `${SEED}`,
];

Deno.test("2000 stimuli over HTTP through scripts/rig.ts: the in-process result", async () => {
  const data = await Deno.makeTempDir();
  const server = await startServer(data, 0);
  const summary = await finished(
    rig(["--server", server.url, "--token-file", `${data}/token`, ...rigSearch]),
  );
  sameAsInProcess(summary);
  assertEquals(loggedOnce(data, summary.search), 0);
  const run = JSON.parse(await Deno.readTextFile(`${summary.folder}/run.json`));
  assertEquals(run.results[0].value, reference.results[0].value);
  server.child.kill("SIGTERM");
  await server.child.status;
  await Deno.remove(data, { recursive: true });
});

Deno.test("2000 stimuli through the folder bridge: the in-process result", async () => {
  const data = await Deno.makeTempDir(), folder = await Deno.makeTempDir();
  const server = await startServer(data, 0, ["--bridge", folder, "--bridge-poll", "5"]);
  const token = (await Deno.readTextFile(`${data}/token`)).trim();
  const { id } = await new ServeClient(server.url, token).call<{ id: string }>(
    "POST",
    "/searches",
    spec,
    "e2e",
  );
  const summary = await finished(rig(["--bridge", folder, "--patience", "60"]));
  assertEquals(summary.search, id);
  sameAsInProcess(summary);
  assertEquals(loggedOnce(data, id), 0);
  await Deno.stat(`${summary.folder}/mei.png`);
  server.child.kill("SIGTERM");
  await server.child.status;
  await Deno.remove(data, { recursive: true });
  await Deno.remove(folder, { recursive: true });
});

Deno.test("server SIGKILLed 5 times under a retrying rig with dropped trials: the same result, nothing lost or doubled", async () => {
  const data = await Deno.makeTempDir();
  let server = await startServer(data, 0);
  const port = server.port;
  const player = rig([
    "--server",
    server.url,
    "--token-file",
    `${data}/token`,
    "--drop",
    "0.05",
    "--patience",
    "60",
    ...rigSearch,
  ]);
  let running = true;
  const result = finished(player).finally(() => running = false);
  // Kill at random points of the run (after k answered batches, k drawn from 4..79 of the ~84,
  // then 0-30 ms more), so that the five kills fall inside the run on fast and slow machines.
  const rng = new Rng(11);
  const at = Array.from({ length: 5 }, () => 4 + Math.floor(72 * rng.uniform())).sort((a, b) =>
    a - b
  );
  for (let kill = 0; kill < 5; kill++) {
    const target = Math.max(at[kill], kill ? at[kill - 1] + 1 : 0);
    for (let waited = 0; answeredBatches(data) < target; waited += 10) {
      assert(running, `the rig finished before kill ${kill + 1}`);
      assert(waited < 120_000, "the run stalled");
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 30 * rng.uniform()));
    assert(running, `the rig finished before kill ${kill + 1}`);
    server.child.kill("SIGKILL");
    await server.child.status;
    server = await startServer(data, port);
  }
  const summary = await result;
  sameAsInProcess(summary);
  assert(summary.retries > 0, "the rig never had to retry");
  const failed = loggedOnce(data, summary.search);
  assert(failed > 0);
  assertEquals(summary.failedTrials, failed);
  server.child.kill("SIGTERM");
  await server.child.status;
  await Deno.remove(data, { recursive: true });
});
