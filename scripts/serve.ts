/**
 * The closed-loop server: ask/tell searches over HTTP (and a shared folder) for rigs that
 * measure living neurons. See docs/serve.md.
 *
 *   deno run -A scripts/serve.ts                        # http://127.0.0.1:8700/, data in serve-data/
 *   deno run -A scripts/serve.ts --bridge rig-folder    # also the folder bridge
 *   deno run -A scripts/serve.ts --help
 *
 * @module
 */

import { type Fail, failer, parseCommandLine } from "../src/io/cli.ts";
import { Bridge } from "../src/serve/bridge.ts";
import { Generators } from "../src/serve/generators.ts";
import { createHandler, ensureToken, MAX_BODY } from "../src/serve/server.ts";
import { Service } from "../src/serve/service.ts";
import "../src/optim/methods.ts";

const help = `Usage: deno run -A scripts/serve.ts [options]

Serves ask/tell searches for most exciting inputs to a rig (the rig measures the neuron):
an HTTP JSON API (OpenAPI at /openapi.json, a page listing the searches at /) and, with
--bridge, a shared folder for rigs that cannot speak HTTP. Every accepted response is
committed to an SQLite database in the data folder before it is acknowledged; a killed
server restarted on the same folder continues every search exactly where it was.

  --data DIR              data folder: database, token, exports          [serve-data]
  --port N                TCP port (0: any free port, printed)           [8700]
  --host ADDR             address to listen on                           [127.0.0.1]
  --allow-remote          allow a --host other than loopback (the token is then all
                          that protects the server; put TLS in front of it)
  --generator NAME=PATH   offer an .onnx generator under NAME (repeatable; the shipped
                          generators are always offered)
  --models-dir DIR        folder with manifest.json                      [models/]
  --backend auto|wasm|webgpu|native  for rendering stimuli               [auto]
  --threads N             inference threads                              [all cores]
  --max-body BYTES        largest request body                           [${MAX_BODY}]
  --rate N                requests per second per client address         [2000]
  --body-timeout MS       time allowed for a request body                [10000]
  --bridge DIR            also serve every search through folder DIR/<search id>/
  --bridge-poll MS        how often the bridge looks at the folder       [100]
  --help                  this text

At first start a token is generated, printed once and stored in DATA/token (owner-only);
every request must carry "Authorization: Bearer <token>".

Exit codes: 0 stopped (SIGINT/SIGTERM), 2 bad input.`;

const fail: Fail = failer("serve");

const { values: v } = parseCommandLine("serve", help, {
  data: { type: "string", default: "serve-data" },
  port: { type: "string", default: "8700" },
  host: { type: "string", default: "127.0.0.1" },
  "allow-remote": { type: "boolean" },
  generator: { type: "string", multiple: true },
  "models-dir": { type: "string" },
  backend: { type: "string", default: "auto" },
  threads: { type: "string" },
  "max-body": { type: "string", default: String(MAX_BODY) },
  rate: { type: "string", default: "2000" },
  "body-timeout": { type: "string", default: "10000" },
  bridge: { type: "string" },
  "bridge-poll": { type: "string", default: "100" },
});

function integer(text: string, what: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) fail(`${what} must be an integer >= ${min}, got "${text}"`);
  return n;
}
const port = integer(v.port!, "--port", 0);
if (port > 65535) fail(`--port must be at most 65535, got ${port}`);
const loopback = ["127.0.0.1", "::1", "localhost"].includes(v.host!) || /^127\./.test(v.host!);
if (!loopback && !v["allow-remote"]) {
  fail(`--host ${v.host} is not a loopback address; add --allow-remote to listen there`);
}
if (!["auto", "wasm", "webgpu", "native"].includes(v.backend!)) {
  fail(`--backend must be auto, wasm, webgpu or native, got "${v.backend}"`);
}
const extra: Record<string, string> = {};
for (const g of v.generator ?? []) {
  const m = /^([a-z][a-z0-9_-]{0,31})=(.+\.onnx)$/.exec(g);
  if (!m) {
    fail(
      `--generator must be NAME=PATH.onnx (NAME in lower-case letters, digits, _ -), got "${g}"`,
    );
  }
  extra[m[1]] = m[2];
}

let token: string, service: Service;
try {
  const t = await ensureToken(v.data!);
  token = t.token;
  if (t.created) {
    console.log(`serve: new access token (shown only now; stored owner-only in ${v.data}/token):`);
    console.log(token);
  }
  const generators = new Generators({
    extra,
    modelsDir: v["models-dir"],
    backend: v.backend as "auto",
    threads: v.threads === undefined ? undefined : integer(v.threads, "--threads", 1),
  });
  service = await Service.open(v.data!, generators);
} catch (e) {
  fail((e as Error).message);
}

const handler = createHandler(service, {
  token,
  maxBody: integer(v["max-body"]!, "--max-body", 1),
  rate: integer(v.rate!, "--rate", 1),
  bodyTimeoutMs: integer(v["body-timeout"]!, "--body-timeout", 1),
});
const bridge = v.bridge
  ? new Bridge(service, v.bridge, {
    pollMs: integer(v["bridge-poll"]!, "--bridge-poll", 1),
    log: (line) => console.error(`serve: ${line}`),
  })
  : undefined;

const server = Deno.serve({
  hostname: v.host,
  port,
  onListen: ({ hostname, port }) => {
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    if (!loopback) {
      console.error(`serve: WARNING: listening on ${hostname}, reachable from other machines`);
    }
    console.error(
      `serve: listening on http://${host}:${port}/ (${service.searches.size} searches, data in ${v.data})`,
    );
  },
}, handler);
bridge?.start();

const shutdown = async () => {
  await bridge?.stop();
  await server.shutdown();
  const { commits, writes } = service.store.stats;
  console.error(`serve: stopped; ${writes} writes in ${commits} commits since the start`);
  await service.close();
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", shutdown);
Deno.addSignalListener("SIGTERM", shutdown);
