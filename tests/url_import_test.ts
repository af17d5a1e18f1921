// mod.ts works when imported by URL: the repository is served on a loopback port and a program
// outside it imports mod.ts and the models over HTTP and runs a short MEI search.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { toyGenerator, toyTarget } from "./_toy_models.ts";

const repo = new URL("..", import.meta.url).pathname;
const toy = new Map([["/toy/gen.onnx", toyGenerator()], ["/toy/target.onnx", toyTarget()]]);

Deno.test("a program imports mod.ts and the models over HTTP and runs an MEI search", async () => {
  const served: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    served.push(path);
    const bytes = toy.get(path) ??
      await Deno.readFile(`${repo}${path.slice(1)}`).catch(() => undefined);
    if (!bytes || path.includes("..")) return new Response("not found", { status: 404 });
    const type = path.endsWith(".ts") ? "application/typescript" : "application/octet-stream";
    return new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { "content-type": type } });
  });
  const origin = `http://127.0.0.1:${server.addr.port}`;
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/program.ts`,
    `import { defaultSettings, runMei } from "${origin}/mod.ts";
const run = await runMei({ ...defaultSettings, generator: "${origin}/toy/gen.onnx",
  target: "${origin}/toy/target.onnx", layer: "feat", neurons: "0-1", gridSize: 8, budget: 200,
  backend: "wasm" });
console.log(JSON.stringify(run.result.results.map((r) => r.value)));
`,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-config",
      "--unstable-raw-imports",
      `--allow-import=127.0.0.1:${server.addr.port}`,
      `--allow-net=127.0.0.1:${server.addr.port}`,
      "--allow-env=IMAGESCRIPT_WASM_SIMD",
      `${dir}/program.ts`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  await server.shutdown();
  await Deno.remove(dir, { recursive: true });
  const stderr = new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, stderr);
  const values = JSON.parse(new TextDecoder().decode(out.stdout));
  assertEquals(values.length, 2);
  assert(values.every((v: number) => v > 0), String(values));
  assert(served.includes("/mod.ts") && served.includes("/toy/gen.onnx"), served.join(" "));
});
