/**
 * Load on the closed-loop server: responses accepted per second with 8 concurrent clients on
 * loopback (each on its own search, one request in flight each), for POSTs of 1 response and
 * of 25, with the p50/p99 latency of a POST, beside the cost of one bare `node:sqlite` commit
 * (WAL, synchronous FULL) measured in the same run on the same disk. Every acknowledged
 * response is committed; the ratio to one-commit-per-POST shows how many POSTs share a commit.
 *
 *   deno run -A scripts/bench_serve.ts [--posts 250]
 *
 * @module
 */

import { type Fail, failer, parseCommandLine } from "../src/io/cli.ts";
import { DatabaseSync } from "node:sqlite";
import { startServer } from "./_server.ts";

const help = `Usage: deno run -A scripts/bench_serve.ts [--posts 250] [--clients 8]

Responses accepted per second by scripts/serve.ts with concurrent clients on loopback, with
POST latencies, beside the cost of one bare SQLite commit.`;
const fail: Fail = failer("bench_serve");
const { values: v } = parseCommandLine("bench_serve", help, {
  posts: { type: "string", default: "250" },
  clients: { type: "string", default: "8" },
});
const posts = Number(v.posts), clients = Number(v.clients);
if (!Number.isInteger(posts) || posts < 10 || !Number.isInteger(clients) || clients < 1) {
  fail("--posts must be an integer >= 10 and --clients >= 1");
}
const data = await Deno.makeTempDir({ prefix: "bench-serve-" });

/** The mean time of one bare commit (one row, WAL, synchronous FULL), over 300 commits. */
function bareCommitMs(): number {
  const db = new DatabaseSync(`${data}/bare.db`);
  db.exec(
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE IF NOT EXISTS t (a INTEGER, b TEXT)",
  );
  const insert = db.prepare("INSERT INTO t VALUES (?, ?)");
  const t0 = performance.now();
  for (let i = 0; i < 300; i++) {
    db.exec("BEGIN");
    insert.run(i, '{"id":"s1","value":1.5}');
    db.exec("COMMIT");
  }
  db.close();
  return (performance.now() - t0) / 300;
}

const { child: server, url: base, log, logEnded } = await startServer(`${data}/serve`, 0, [
  "--rate",
  "1000000",
]);
const token = (await Deno.readTextFile(`${data}/serve/token`)).trim();

/**
 * A minimal HTTP/1.1 keep-alive connection (fetch's own cost would otherwise take much of the
 * two cores the server runs on): one request at a time, Content-Length bodies only.
 */
class Connection {
  #conn: Deno.TcpConn;
  #buffer = new Uint8Array(0);
  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }
  static async open(): Promise<Connection> {
    const url = new URL(base);
    return new Connection(await Deno.connect({ hostname: url.hostname, port: Number(url.port) }));
  }
  async call(method: string, path: string, body?: unknown, key?: string, refused = false) {
    const payload = body === undefined ? "" : JSON.stringify(body);
    const head = `${method} ${path} HTTP/1.1\r\nhost: bench\r\nauthorization: Bearer ${token}\r\n` +
      `content-type: application/json\r\ncontent-length: ${payload.length}\r\n` +
      (key ? `idempotency-key: ${key}\r\n` : "") + "\r\n";
    await this.#conn.write(new TextEncoder().encode(head + payload));
    let end: number;
    while ((end = this.#find()) < 0) await this.#more();
    const header = new TextDecoder().decode(this.#buffer.subarray(0, end));
    const status = Number(header.slice(9, 12));
    const length = Number(/content-length: (\d+)/i.exec(header)![1]);
    while (this.#buffer.length < end + 4 + length) await this.#more();
    const text = new TextDecoder().decode(this.#buffer.subarray(end + 4, end + 4 + length));
    this.#buffer = this.#buffer.slice(end + 4 + length);
    const json = JSON.parse(text);
    if ((status >= 300) !== refused) {
      throw new Error(`${method} ${path}: ${status} ${json.error ?? "accepted"}`);
    }
    return json;
  }
  #find(): number {
    const b = this.#buffer;
    for (let i = 0; i + 3 < b.length; i++) {
      if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
    }
    return -1;
  }
  async #more(): Promise<void> {
    const chunk = new Uint8Array(65536);
    const n = await this.#conn.read(chunk);
    if (n === null) throw new Error("the server closed the connection");
    const joined = new Uint8Array(this.#buffer.length + n);
    joined.set(this.#buffer);
    joined.set(chunk.subarray(0, n), this.#buffer.length);
    this.#buffer = joined;
  }
  close() {
    this.#conn.close();
  }
}

/**
 * 8 clients, each posting `perPost` responses at a time, `posts` times. `refused`: each POST
 * answers a stimulus never issued, so the server reads, parses and checks it as any other and
 * refuses it (422) before the search or the database: the cost of a POST without its commit.
 */
async function load(perPost: number, refused = false) {
  const latencies: number[] = [];
  const connections = await Promise.all(Array.from({ length: clients }, () => Connection.open()));
  const searches: { id: string }[] = await Promise.all(
    connections.map((api, c) =>
      api.call("POST", "/searches", {
        generator: "sngan",
        method: "random",
        params: { batch: 100 },
        budget: 1_000_000,
        batchSize: 25,
        seed: c,
      }, `bench-${perPost}-${c}`)
    ),
  );
  const t0 = performance.now();
  await Promise.all(searches.map(async ({ id }, c) => {
    const api = connections[c];
    let open: string[] = [];
    for (let p = 0; p < posts; p++) {
      if (refused) {
        const responses = [{ id: `s${9_000_000 + p}`, value: 1 }];
        const t = performance.now();
        await api.call("POST", `/searches/${id}/responses`, { responses }, `r${c}-${p}`, true);
        latencies.push(performance.now() - t);
        continue;
      }
      if (open.length < perPost) {
        open = (await api.call("GET", `/searches/${id}/next`)).stimuli.map((s: { id: string }) =>
          s.id
        );
      }
      const responses = open.splice(0, perPost).map((sid) => ({ id: sid, value: Math.random() }));
      const t = performance.now();
      await api.call("POST", `/searches/${id}/responses`, { responses }, `c${c}-${p}`);
      latencies.push(performance.now() - t);
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  for (const c of connections) c.close();
  latencies.sort((a, b) => a - b);
  const q = (f: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(f * latencies.length))];
  return {
    perSecond: clients * posts * perPost / seconds,
    postsPerSecond: clients * posts / seconds,
    p50: q(0.5),
    p99: q(0.99),
  };
}

try {
  // The bare commit is timed before and after each load (disk and processor time vary on a
  // shared machine); each load is set against the mean of the two beside it.
  const commits = [bareCommitMs()];
  const refused = await load(1, true);
  const single = await load(1);
  commits.push(bareCommitMs());
  const batch = await load(25);
  commits.push(bareCommitMs());
  console.log(
    `bare node:sqlite commit (WAL, synchronous FULL), before, between and after the loads: ${
      commits.map((c) => c.toFixed(3)).join(", ")
    } ms`,
  );
  console.log(
    `${clients} clients x ${posts} POSTs each, loopback, every acknowledged response committed:`,
  );
  /** Bare commits per second, from the two timings beside load k. */
  const commitRate = (k: number) => 2000 / (commits[k] + commits[k + 1]);
  for (
    const [name, r, k] of [["1 response per POST", single, 0], [
      "25 responses per POST",
      batch,
      1,
    ]] as const
  ) {
    console.log(
      `  ${name}: ${r.perSecond.toFixed(0)} responses/s (${r.postsPerSecond.toFixed(0)} POSTs/s, ` +
        `${(r.postsPerSecond / commitRate(k)).toFixed(2)}x one commit per POST at ${
          commitRate(k).toFixed(0)
        }/s), latency p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms`,
    );
  }
  console.log(
    `  refused POSTs (read, parsed and checked, then refused before the search and the ` +
      `database): ${refused.postsPerSecond.toFixed(0)}/s, p50 ${refused.p50.toFixed(2)} ms: no ` +
      `POST is answered faster here; 4x one commit per POST would be ${
        (4 * commitRate(0)).toFixed(0)
      }/s`,
  );
  server.kill("SIGTERM");
  await server.status;
  await logEnded;
  const m = /(\d+) writes in (\d+) commits/.exec(log());
  if (m) {
    console.log(
      `server: ${m[1]} writes (POSTs and batches) in ${m[2]} commits, ${
        (Number(m[1]) / Number(m[2])).toFixed(1)
      } per commit`,
    );
  }
} finally {
  try {
    server.kill("SIGTERM");
  } catch { /* already stopped */ }
  await server.status;
  await Deno.remove(data, { recursive: true });
}
