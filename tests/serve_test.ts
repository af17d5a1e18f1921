// The closed-loop server on the tiny in-memory generator: the search state machine against an
// in-process lockstep run (failed trials re-asked, never ranked; repeated measurements
// averaged), a restart that replays the log, the folder bridge's file parsing, >= 40 hostile
// requests each refused with its status and the database unchanged, and examples/client.py
// (Python standard library) against a live server.
import {
  deepStrictEqual as assertEquals,
  ok as assert,
  rejects as assertRejects,
} from "node:assert";
import { DatabaseSync } from "node:sqlite";
import { LATENT, writeToyModels } from "./_toy_models.ts";
import { Rng } from "../src/core/rng.ts";
import { optimizeLockstep } from "../src/optim/lockstep.ts";
import { Bridge, parseResponseFile } from "../src/serve/bridge.ts";
import { Generators } from "../src/serve/generators.ts";
import { Search } from "../src/serve/search.ts";
import { createHandler, ensureToken } from "../src/serve/server.ts";
import { Service } from "../src/serve/service.ts";
import { parseResponses, parseSpec, type ResponseItem } from "../src/serve/spec.ts";
import "../src/optim/methods.ts";

const toy = await writeToyModels();
const repo = new URL("..", import.meta.url).pathname;
const generators = () => new Generators({ extra: { toy: toy.generator }, backend: "wasm" });
const f = (p: Int32Array) => p.reduce((s, v, k) => s + v * (k + 1), 0) - (p[0] - 3) ** 2;

/** Drive a search with f, failing each trial with probability `drop` (seeded). */
function drive(s: Search, drop: number, seed: number, steps = Infinity): number {
  const rng = new Rng(seed);
  let posts = 0;
  while (!s.done && posts < steps) {
    const b = s.current ?? s.issue();
    if (!b) break;
    const items = b.ids.map((id, j) =>
      rng.uniform() < drop
        ? { id, kind: "failed" as const }
        : { id, kind: "value" as const, value: f(b.points[j]), trials: 1 }
    );
    s.respond(`k${posts++}`, items);
  }
  return posts;
}

Deno.test("a search with failed trials ends as the in-process lockstep run; failures never ranked", async () => {
  const spec = parseSpec({
    generator: "toy",
    method: "tt-b",
    budget: 300,
    seed: 4,
    batchSize: 7,
    gridSize: 8,
  });
  const s = new Search(spec, { d: 4, n: 8 });
  drive(s, 0.2, 9);
  const ref = await optimizeLockstep(
    "tt-b",
    (batch) => Promise.resolve(Float64Array.from(batch, f)),
    {
      space: { d: 4, n: 8 },
      budget: 300,
      seed: 4,
      maximize: true,
      searches: 1,
    },
  );
  assert(s.failures > 20, `${s.failures} failures`);
  assertEquals(s.optimizer.evaluations, 300);
  assertEquals(Array.from(s.optimizer.best!.point), Array.from(ref.results[0].best));
  assertEquals(s.history, ref.results[0].history);
  assertEquals(s.curve, ref.curves[0]);
  assertEquals(
    s.top.map((t) => [Array.from(t.point), t.value]),
    ref.top[0].map((t) => [Array.from(t.point), t.value]),
  );
  assertEquals(s.improvements.map((i) => i.images), ref.improvements[0].map((i) => i.images));
  // Every stimulus told exactly one value; trials add up to the budget.
  assertEquals(s.trials.filter((t) => t === 1).length, 300);
  assertEquals(s.values[s.bestStimulus], ref.results[0].value);
});

Deno.test("repeated measurements are averaged with their count; a batch stays until answered", () => {
  const [a, b] = parseResponses({
    responses: [{ id: "s0", values: [1, 2, 4] }, { id: "s1", value: 3, trials: 5 }],
  });
  assertEquals(a, { id: "s0", kind: "value", value: 7 / 3, trials: 3 });
  assertEquals(b, { id: "s1", kind: "value", value: 3, trials: 5 });
  const s = new Search(
    parseSpec({
      generator: "toy",
      method: "random",
      params: { batch: 4 },
      budget: 8,
      batchSize: 4,
    }),
    { d: 2, n: 4 },
  );
  const first = s.issue()!;
  s.respond("a", [a, b]);
  assertEquals(s.current!.ids, ["s0", "s1", "s2", "s3"]); // the same batch until answered
  assertEquals(s.current!.open, ["s2", "s3"]);
  assertEquals([s.values[0], s.trials[0], s.trials[1]], [7 / 3, 3, 5]);
  assertEquals(first.ids, ["s0", "s1", "s2", "s3"]);
});

Deno.test("a restarted service replays its log: two searches in the same state, the same next batches", async () => {
  const dir = await Deno.makeTempDir();
  const spec = parseSpec({
    generator: "toy",
    method: "tt-b",
    budget: 200,
    seed: 2,
    batchSize: 10,
    gridSize: 8,
  });
  const s1 = await Service.open(dir, generators());
  const { entry } = await s1.create(spec, "c1");
  // A second search, answered by another client at the same time.
  const other = (await s1.create({ ...spec, method: "random", params: { batch: 12 } }, "c2")).entry;
  const rng = new Rng(5);

  const client = async (e: typeof entry, name: string) => {
    for (let step = 0; step < 30; step++) {
      const b = (await s1.next(e.id))!;
      const some = b.open.slice(0, 1 + (step % 3 === 0 ? 0 : b.open.length >> 1));
      await s1.respond(
        e.id,
        `${name}${step}`,
        some.map((id) =>
          rng.uniform() < 0.2
            ? { id, kind: "failed" }
            : { id, kind: "value", value: f(e.search.points[Number(id.slice(1))]), trials: 1 }
        ),
      );
    }
  };
  await Promise.all([client(entry, "r"), client(other, "o")]);
  const before = await s1.state(entry), otherBefore = await s1.state(other);
  assert((before.evaluations as number) > 0 && (before.failedTrials as number) > 0);
  assert((otherBefore.evaluations as number) > 0);
  await s1.close();
  const s2 = await Service.open(dir, generators());
  const again = s2.get(entry.id);
  assertEquals(await s2.state(again), before);
  assertEquals(await s2.state(s2.get(other.id)), otherBefore);
  // Uninterrupted twin: the logged events on a fresh search, then the same responses.
  const twin = new Search(spec, { d: LATENT, n: spec.gridSize });
  for (const e of s2.store.loadEvents<Parameters<Search["apply"]>[0]>(entry.id)) twin.apply(e);
  let items: ResponseItem[] = [];
  for (let step = 0; step < 3; step++) {
    const b = (await s2.next(entry.id))!;
    const t = twin.current ?? twin.issue()!;
    assertEquals(b, t);
    items = b.open.map((id) => ({
      id,
      kind: "value",
      value: f(b.points[b.ids.indexOf(id)]),
      trials: 1,
    }));
    await s2.respond(entry.id, `q${step}`, items);
    twin.respond(`q${step}`, items);
  }
  // A retried POST after the restart is acknowledged without being counted.
  const evaluations = again.search.optimizer.evaluations;
  assert((await s2.respond(entry.id, "q2", items)).replayed);
  assertEquals(again.search.optimizer.evaluations, evaluations);
  await s2.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("bridge files: CSV and JSON read whole, malformed ones refused with the line", () => {
  assertEquals(
    parseResponseFile("responses-000001.csv", "id,response,trials\ns4,1.5,3\ns5,,\ns6,failed,\n"),
    [
      { id: "s4", kind: "value", value: 1.5, trials: 3 },
      { id: "s5", kind: "failed" },
      { id: "s6", kind: "failed" },
    ],
  );
  assertEquals(parseResponseFile("r.json", '{"responses":[{"id":"s1","value":2}]}'), [
    { id: "s1", kind: "value", value: 2, trials: 1 },
  ]);
  for (
    const [text, message] of [
      ["id,value\ns1,2\n", /header/],
      ["id,response\ns1,2,3\n", /line 2 has 3 fields/],
      ["id,response\ns1,NaN\n", /line 2: response "NaN" is not a number/],
      ["id,response\ns1,1e999\n", /finite/],
      ["id,response,trials\ns1,2,0\n", /trials must be an integer from 1/],
      ["id,response\n../s1,2\n", /stimulus id/],
    ] as const
  ) {
    try {
      parseResponseFile("responses-000001.csv", text);
      throw new Error(`accepted ${text}`);
    } catch (e) {
      assert(message.test((e as Error).message), (e as Error).message);
    }
  }
});

/** Every row of the database, for before/after comparisons. */
function dump(path: string): string {
  const db = new DatabaseSync(path, { readOnly: true });
  const rows = [
    db.prepare("SELECT * FROM searches ORDER BY ordinal").all(),
    db.prepare("SELECT * FROM events ORDER BY search, seq").all(),
  ];
  db.close();
  return JSON.stringify(rows);
}

Deno.test("hostile requests: each refused with the right status, the database unchanged", async () => {
  const dir = await Deno.makeTempDir();
  const { token } = await ensureToken(dir);
  assertEquals((await Deno.stat(`${dir}/token`)).mode! & 0o777, 0o600);
  const service = await Service.open(dir, generators());
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    createHandler(service, {
      token,
      maxBody: 64 * 1024,
      bodyTimeoutMs: 1000,
      rate: 400,
      burst: 400,
    }),
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  const auth = { authorization: `Bearer ${token}` };
  const jsonHeaders = { ...auth, "content-type": "application/json" };
  const created = await (await fetch(`${base}/searches`, {
    method: "POST",
    headers: { ...jsonHeaders, "idempotency-key": "create-1" },
    body: JSON.stringify({
      generator: "toy",
      method: "tt-b",
      budget: 60,
      batchSize: 10,
      gridSize: 8,
    }),
  })).json();
  const id = created.id as string;
  const batch = await (await fetch(`${base}/searches/${id}/next`, { headers: auth })).json();
  assertEquals(batch.stimuli.length, 10);
  const answer = (body: unknown, key: string) =>
    fetch(`${base}/searches/${id}/responses`, {
      method: "POST",
      headers: { ...jsonHeaders, "idempotency-key": key },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  const ok = await answer({ responses: [{ id: "s0", value: 0.5 }] }, "k0");
  assertEquals(ok.status, 200);
  await ok.body?.cancel();
  const before = dump(`${dir}/serve.db`);

  const resp = (body: unknown) => ({ responses: body });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) => ({
    method: "POST",
    path,
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: {
      ...jsonHeaders,
      "idempotency-key": "h-" + crypto.randomUUID().slice(0, 8),
      ...headers,
    },
  });
  const search = (over: Record<string, unknown>) =>
    post("/searches", { generator: "toy", method: "tt-b", budget: 10, gridSize: 8, ...over });
  const R = `/searches/${id}/responses`;
  const cases: [
    string,
    number,
    { method?: string; path: string; body?: string; headers?: Record<string, string> },
  ][] = [
    ["no token", 401, { path: "/searches", headers: {} }],
    ["wrong token", 401, {
      path: "/searches",
      headers: { authorization: `Bearer ${"0".repeat(64)}` },
    }],
    ["token prefix", 401, {
      path: "/searches",
      headers: { authorization: `Bearer ${token.slice(0, 10)}` },
    }],
    ["empty bearer", 401, { path: "/searches", headers: { authorization: "Bearer " } }],
    ["basic, wrong password", 401, {
      path: "/",
      headers: { authorization: `Basic ${btoa("u:nope")}` },
    }],
    ["token in the query", 401, { path: `/searches?token=${token}`, headers: {} }],
    ["POST without token", 401, {
      ...post(R, resp([{ id: "s1", value: 1 }])),
      headers: { "content-type": "application/json" },
    }],
    ["unknown route", 404, { path: "/admin" }],
    ["unknown search", 404, { path: "/searches/000000000000" }],
    ["dot-dot path", 404, { path: "/searches/../token" }],
    ["encoded dot-dot", 400, { path: "/searches/%2e%2e%2ftoken" }],
    ["search id with capitals", 400, { path: "/searches/ABCDEF012345/next" }],
    ["stimulus path trick", 400, { path: `/searches/${id}/stimuli/..%2f..%2ftoken.png` }],
    ["stimulus not a png", 400, { path: `/searches/${id}/stimuli/s0.txt` }],
    ["stimulus never asked", 404, { path: `/searches/${id}/stimuli/s999999.png` }],
    ["unknown action", 404, { path: `/searches/${id}/delete` }],
    ["DELETE", 405, { method: "DELETE", path: `/searches/${id}` }],
    ["GET on responses", 405, { path: R }],
    ["bad images option", 400, { path: `/searches/${id}/next?images=raw` }],
    ["unknown query", 400, { path: "/searches?all=1" }],
    ["create without key", 400, { ...search({}), headers: jsonHeaders }],
    ["bad JSON", 400, post("/searches", "{generator: toy}")],
    ["text/plain body", 415, {
      ...search({}),
      headers: { ...auth, "content-type": "text/plain", "idempotency-key": "x1" },
    }],
    ["unknown method", 400, search({ method: "gradient-descent" })],
    ["negative budget", 400, search({ budget: -5 })],
    ["budget as a string", 400, search({ budget: "100" })],
    ["missing generator", 400, search({ generator: undefined })],
    ["generator path", 400, search({ generator: "../../etc/passwd" })],
    ["unknown generator", 400, search({ generator: "nosuch" })],
    ["unknown field", 400, search({ target: "sresnet18" })],
    ["unknown method parameter", 400, search({ params: { k: 25, learning: 1 } })],
    ["empty range", 400, search({ range: [4, -4] })],
    ["body is an array", 400, post("/searches", [1, 2])],
    ["NaN literal", 400, post(R, '{"responses":[{"id":"s1","value":NaN}]}')],
    ["Infinity", 400, post(R, '{"responses":[{"id":"s1","value":1e999}]}')],
    ["value as a string", 400, post(R, resp([{ id: "s1", value: "1.5" }]))],
    ["missing id", 400, post(R, resp([{ value: 1 }]))],
    ["id path trick", 400, post(R, resp([{ id: "../s1", value: 1 }]))],
    ["unissued stimulus", 422, post(R, resp([{ id: "s999", value: 1 }]))],
    [
      "valid and unissued together",
      422,
      post(R, resp([{ id: "s1", value: 1 }, { id: "s999", value: 1 }])),
    ],
    ["answered with another key", 409, post(R, resp([{ id: "s0", value: 0.5 }]))],
    [
      "key reused for other responses",
      409,
      post(R, resp([{ id: "s1", value: 2 }]), { "idempotency-key": "k0" }),
    ],
    [
      "duplicate id in a request",
      400,
      post(R, resp([{ id: "s1", value: 1 }, { id: "s1", value: 2 }])),
    ],
    ["value and failed", 400, post(R, resp([{ id: "s1", value: 1, failed: true }]))],
    ["failed: false", 400, post(R, resp([{ id: "s1", failed: false }]))],
    ["no responses", 400, post(R, resp([]))],
    ["zero trials", 400, post(R, resp([{ id: "s1", value: 1, trials: 0 }]))],
    [
      "bad key characters",
      400,
      post(R, resp([{ id: "s1", value: 1 }]), { "idempotency-key": "a/b" }),
    ],
    [
      "unknown search, responses",
      404,
      post("/searches/0123456789ab/responses", resp([{ id: "s1", value: 1 }])),
    ],
    [
      "huge body",
      413,
      post(R, JSON.stringify(resp([{ id: "s1", value: 1 }])) + " ".repeat(100_000)),
    ],
    ["not UTF-8", 400, post(R, "\xff")],
  ];
  assert(cases.length >= 40);
  for (const [what, status, c] of cases) {
    const headers = c.headers ?? auth;
    const body = c.body === "\xff" ? new Uint8Array([0xff, 0xfe]) : c.body;
    const res = await fetch(`${base}${c.path}`, {
      method: c.method ?? (c.body ? "POST" : "GET"),
      headers,
      body,
    });
    const text = await res.text();
    assertEquals([what, res.status], [what, status], `${what}: ${text}`);
    assert(typeof JSON.parse(text).error === "string", `${what}: ${text}`);
    if (status === 401) assert(res.headers.get("www-authenticate")?.includes("Bearer"));
  }
  // A body sent in chunks past the limit, and one that stalls.
  const chunked = await fetch(`${base}${R}`, {
    method: "POST",
    headers: { ...jsonHeaders, "idempotency-key": "chunks" },
    body: ReadableStream.from((function* () {
      for (let i = 0; i < 100; i++) yield new TextEncoder().encode(" ".repeat(1024));
    })()),
  });
  assertEquals(chunked.status, 413, await chunked.text());
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
  await conn.write(new TextEncoder().encode(
    `POST ${R} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\n` +
      `idempotency-key: slow\r\ncontent-length: 60\r\n\r\n{"responses":[`,
  ));
  const reply = new Uint8Array(4096);
  const n = await conn.read(reply);
  conn.close();
  assert(/^HTTP\/1.1 408/.test(new TextDecoder().decode(reply.subarray(0, n ?? 0))));
  // A flood on a second listener limited to 1 request per second after a burst of 10: 40
  // requests at once take well under 30 s, so some must be refused, with a Retry-After.
  const strict = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    createHandler(service, { token, rate: 1, burst: 10 }),
  );
  const t0 = performance.now();
  const flood = await Promise.all(
    Array.from(
      { length: 40 },
      () =>
        fetch(`http://127.0.0.1:${strict.addr.port}/searches/${id}`, { headers: auth }).then(
          async (r) => {
            await r.body?.cancel();
            return [r.status, r.headers.get("retry-after")] as const;
          },
        ),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  const limited = flood.filter(([s]) => s === 429);
  assert(flood.every(([s]) => s === 200 || s === 429));
  assert(
    limited.length >= 40 - 10 - Math.ceil(seconds),
    `${limited.length} limited in ${seconds} s`,
  );
  assert(limited.every(([, after]) => Number(after) >= 1));
  await strict.shutdown();
  assertEquals(dump(`${dir}/serve.db`), before);
  await server.shutdown();
  await service.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("examples/client.py runs a search against a live server", async () => {
  const dir = await Deno.makeTempDir();
  const { token } = await ensureToken(dir);
  const service = await Service.open(dir, generators());
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    createHandler(service, { token }),
  );
  const out = await new Deno.Command("python3", {
    args: [
      `${repo}examples/client.py`,
      "--server",
      `http://127.0.0.1:${server.addr.port}`,
      "--token-file",
      `${dir}/token`,
      "--generator",
      "toy",
      "--budget",
      "150",
      "--grid-size",
      "8",
    ],
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, stderr);
  const summary = JSON.parse(new TextDecoder().decode(out.stdout));
  assertEquals(summary.evaluations, 150);
  // The best response is the client's function of the best stimulus's latent.
  const expect = -summary.best.latent.reduce((s: number, x: number) => s + (x - 1) ** 2, 0);
  assertEquals(summary.best.value, expect);
  for (const file of ["mei.png", "history.json", "latent.npy", "run.json", "convergence.svg"]) {
    await Deno.stat(`${summary.folder}/${file}`);
  }
  await server.shutdown();
  await service.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the folder bridge: whole batches, malformed and partial files moved aside with a report", async () => {
  const dir = await Deno.makeTempDir(), folder = await Deno.makeTempDir();
  const service = await Service.open(dir, generators());
  const spec = parseSpec({
    generator: "toy",
    method: "tt-b",
    budget: 50,
    batchSize: 25,
    gridSize: 8,
  });
  const { entry } = await service.create(spec, "b1");
  const bridge = new Bridge(service, folder);
  const at = `${folder}/${entry.id}`;
  await bridge.poll();
  const manifest = JSON.parse(await Deno.readTextFile(`${at}/batch-000000/manifest.json`));
  assertEquals(manifest.stimuli.length, 25);
  for (const s of manifest.stimuli) await Deno.stat(`${at}/batch-000000/${s.file}`);
  const rows = manifest.stimuli.map((s: { id: string; point: number[] }) =>
    `${s.id},${f(Int32Array.from(s.point))}`
  );
  const tries: [string, string, RegExp][] = [
    ["responses-000000.csv", `id,response\n${rows.join("\n")}\ns0,oops\n`, /not a number/],
    [
      "responses-000000.csv",
      `id,response\n${rows.slice(1).join("\n")}\n`,
      /partial file: no row for s0/,
    ],
    ["responses-000000.json", '{"responses": [', /not valid JSON/],
  ];
  for (const [name, text, why] of tries) {
    await Deno.writeTextFile(`${at}/${name}`, text);
    await bridge.poll();
    const reports = [];
    for await (const e of Deno.readDir(`${at}/rejected`)) {
      if (e.name.endsWith(".report.json")) {
        reports.push(JSON.parse(await Deno.readTextFile(`${at}/rejected/${e.name}`)).error);
      }
    }
    assert(reports.some((r) => why.test(r)), reports.join(" | "));
    assertEquals(entry.search.optimizer.evaluations, 0); // nothing taken, the batch still open
    await Deno.stat(`${at}/batch-000000/manifest.json`);
  }
  await Deno.writeTextFile(`${at}/responses-000000.csv`, `id,response\n${rows.join("\n")}\n`);
  await bridge.poll();
  assertEquals(entry.search.optimizer.evaluations, 25);
  await Deno.stat(`${at}/answered/responses-000000.csv`);
  await Deno.stat(`${at}/batch-000001/manifest.json`);
  await assertRejects(() => Deno.stat(`${at}/batch-000000`));
  await service.close();
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(folder, { recursive: true });
});
