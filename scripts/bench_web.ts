/**
 * Images per second of the default MEI problem (SN-GAN -> spiking ResNet18 up to layer2.1.sn2,
 * batches of 25 grid points, `imagesPerSecond`) in the web page's worker in headless Chromium
 * (wasm on 1 and 2 threads, webgpu on SwiftShader) beside the same figures under Deno (wasm on 1
 * and 2 threads, webgpu where Deno has an adapter, native for reference), with the page/Deno
 * ratios. Every figure is the best of 3 rounds after a warm-up (10 s by default: a page's first
 * worker compiles onnxruntime's 14 MB of WebAssembly, and V8 tiers it up in the background,
 * which takes seconds on a loaded machine); run it in one command so that the ratios share the
 * machine's load.
 *
 * Usage: `deno run -A scripts/bench_web.ts [--batch 25] [--seconds 2] [--warmup 10] [--json]`
 * @module
 */

import { type Fail, failer, parseCommandLine } from "../src/io/cli.ts";
import { imagesPerSecond } from "../src/bench/throughput.ts";
import { openProblem } from "../src/models/problem.ts";
import { checkSettings, defaultSettings, type MeiSettings } from "../src/models/settings.ts";
import type { FromWorker, ToWorker } from "../src/web/_messages.ts";
import { openPage } from "./_browser.ts";

const help =
  `Usage: deno run -A scripts/bench_web.ts [--batch 25] [--seconds 2] [--warmup 10] [--json]

Images per second of the default MEI problem in the web page's worker in headless Chromium
beside the same figures under Deno, with the page/Deno ratios.`;
const fail: Fail = failer("bench_web");
const { values } = parseCommandLine("bench_web", help, {
  batch: { type: "string", default: "25" },
  seconds: { type: "string", default: "2" },
  warmup: { type: "string", default: "10" },
  json: { type: "boolean", default: false },
  // Internal: time one Deno configuration in this process and print it as JSON.
  one: { type: "string" },
});
const batch = Number(values.batch), seconds = Number(values.seconds);
const warmup = Number(values.warmup);
if (!Number.isInteger(batch) || batch < 1 || !(seconds > 0) || !(warmup >= 0)) {
  fail("--batch must be an integer >= 1, --seconds > 0 and --warmup >= 0");
}

/** A configuration: backend and threads. */
interface Config {
  backend: "wasm" | "webgpu" | "native";
  threads: number;
}

/** A measured figure (or why there is none). */
interface Figure extends Config {
  where: "page" | "deno";
  imagesPerSecond?: number;
  /** Threads the sessions really got. */
  got?: number;
  error?: string;
}

const settingsOf = (c: Config): MeiSettings =>
  checkSettings({ ...defaultSettings, backend: c.backend, threads: c.threads });

/** One Deno configuration, in this process (the wasm thread count is fixed per process). */
async function denoOne(c: Config): Promise<Figure> {
  try {
    const problem = await openProblem(settingsOf(c), { wasmThreads: true });
    const r = await imagesPerSecond(problem, { batch, seconds, warmup });
    await problem.close();
    return { where: "deno", ...c, imagesPerSecond: r.imagesPerSecond, got: problem.threads };
  } catch (e) {
    return { where: "deno", ...c, error: (e as Error).message };
  }
}

if (values.one) {
  const [backend, threads] = values.one.split(":");
  console.log(JSON.stringify(await denoOne({ backend, threads: Number(threads) } as Config)));
  Deno.exit(0);
}

/** One Deno configuration in a fresh process. */
async function deno(c: Config): Promise<Figure> {
  const args = ["run", "-A", import.meta.filename!, "--batch", String(batch)];
  args.push("--seconds", String(seconds), "--warmup", String(warmup));
  args.push("--one", `${c.backend}:${c.threads}`);
  const r = await new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "piped" })
    .output();
  const out = new TextDecoder().decode(r.stdout).trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(out);
  } catch {
    const why = new TextDecoder().decode(r.stderr).trim().split("\n").pop();
    return { where: "deno", ...c, error: why || `exit code ${r.code}` };
  }
}

const CONFIGS: Config[] = [
  { backend: "wasm", threads: 1 },
  { backend: "wasm", threads: 2 },
  { backend: "webgpu", threads: 1 },
];
const log = (s: string) => values.json ? console.error(s) : console.log(s);
const figures: Figure[] = [];

const browser = await openPage();
try {
  for (const c of CONFIGS) {
    log(`  page: ${c.backend}, ${c.threads} thread(s) ...`);
    const message: ToWorker = {
      kind: "bench",
      settings: settingsOf(c),
      ort: "",
      files: [],
      batch,
      seconds,
      warmup,
    };
    const m = await browser.page.evaluate((msg) =>
      new Promise<FromWorker>((resolve) => {
        const w = new Worker("dist/worker.js", { type: "module" });
        w.onmessage = (e) => {
          if (e.data.kind !== "bench" && e.data.kind !== "error") return;
          w.terminate();
          resolve(e.data);
        };
        w.postMessage({ ...msg, ort: new URL("ort/", location.href).href });
      }), message);
    figures.push(
      m.kind === "bench"
        ? { where: "page", ...c, imagesPerSecond: m.imagesPerSecond, got: m.threads }
        : { where: "page", ...c, error: m.kind === "error" ? m.message : m.kind },
    );
  }
} finally {
  await browser.close();
}
for (
  const c of [...CONFIGS, { backend: "native", threads: 1 }, { backend: "native", threads: 2 }]
) {
  log(`  deno: ${c.backend}, ${c.threads} thread(s) ...`);
  figures.push(await deno(c as Config));
}

if (values.json) {
  console.log(JSON.stringify({ batch, seconds, figures }));
} else {
  const cell = (f?: Figure) =>
    !f
      ? "-"
      : f.error !== undefined
      ? `n/a (${f.error.slice(0, 60)})`
      : `${f.imagesPerSecond!.toFixed(1)}${f.got !== f.threads ? ` (${f.got} thr)` : ""}`;
  console.log(`\nimages/s, batches of ${batch} (best of 3 rounds of ${seconds} s)`);
  console.log("| backend | threads | page | Deno | page / Deno |");
  console.log("| ------- | ------: | ---: | ---: | ----------: |");
  for (
    const c of [...CONFIGS, { backend: "native", threads: 1 }, { backend: "native", threads: 2 }]
  ) {
    const at = (where: string) =>
      figures.find((f) => f.where === where && f.backend === c.backend && f.threads === c.threads);
    const page = at("page"), den = at("deno");
    const ratio = page?.imagesPerSecond && den?.imagesPerSecond
      ? `${(page.imagesPerSecond / den.imagesPerSecond).toFixed(2)}x`
      : "-";
    console.log(`| ${c.backend} | ${c.threads} | ${cell(page)} | ${cell(den)} | ${ratio} |`);
  }
}
