// The web page (web/, src/web/) in headless Chromium (Debian's `chromium`, driven by
// puppeteer-core): a search moves, stops, restarts and downloads its run.json without a console
// error; bad input gives a message on the page and leaves it usable; a run.json of
// scripts/mei.ts --backend wasm replays in the page to the same history.json, byte for byte;
// and WebGPU in the page (SwiftShader, a software adapter) gives the activations wasm gives,
// within the runtime tests' tolerance for spiking rates (tests/runtime_test.ts).
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { openPage, type Page } from "../scripts/_browser.ts";
import { loadManifest, resolveModel } from "../src/models/manifest.ts";
import { openProblem } from "../src/models/problem.ts";
import { checkSettings } from "../src/models/settings.ts";

const repo = new URL("../", import.meta.url);
const noLeaks = { sanitizeOps: false, sanitizeResources: false }; // the browser's pipes live on

interface Session {
  page: Page;
  /** Console errors and uncaught exceptions of the page and its workers. */
  errors: string[];
  /** Where the browser saves downloads. */
  downloads: string;
}

/** Serve the page, open it in headless Chromium, run `fn`, close everything. */
async function withPage(fn: (s: Session) => Promise<void>): Promise<void> {
  const { browser, page, errors, close } = await openPage();
  const downloads = await Deno.makeTempDir();
  try {
    const cdp = await browser.target().createCDPSession();
    await cdp.send("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: downloads });
    await layersReady(page);
    await fn({ page, errors, downloads });
  } finally {
    await close();
    await Deno.remove(downloads, { recursive: true });
  }
}

/** Wait until the layer list is filled (a worker listed the target's layers). */
async function layersReady(page: Page): Promise<void> {
  await until(
    page,
    `!$("#layer").disabled && $("#layer").options.length > 0 || $("#error").textContent !== ""`,
  );
}

// The page's side is written as expressions (the tests are type-checked without the DOM's
// types); `$(selector)` is document.querySelector there.
const DOLLAR = "const $ = (s) => document.querySelector(s);";

/** The value of an expression in the page. */
function js<T>(page: Page, expression: string): Promise<T> {
  return page.evaluate(`(() => { ${DOLLAR} return ${expression}; })()`) as Promise<T>;
}

/** Wait until an expression holds in the page. */
async function until(page: Page, expression: string, timeout = 60_000): Promise<void> {
  await page.waitForFunction(`(() => { ${DOLLAR} return ${expression}; })()`, { timeout });
}

const text = (page: Page, selector: string) =>
  js<string>(page, `$(${JSON.stringify(selector)}).textContent`);

async function setValue(page: Page, selector: string, value: string): Promise<void> {
  await js(
    page,
    `(() => { const e = $(${JSON.stringify(selector)}); e.value = ${JSON.stringify(value)}; ` +
      `e.dispatchEvent(new Event("change")); })()`,
  );
}

/** Evaluations done so far, as the page shows them. */
async function evaluations(page: Page): Promise<number> {
  return Number((await text(page, "#evaluations")).split(" ")[0]) || 0;
}

/** Wait for the page to show more evaluations than `than`. */
async function progressBeyond(page: Page, than: number): Promise<number> {
  await until(page, `Number($("#evaluations").textContent.split(" ")[0]) > ${than}`);
  return await evaluations(page);
}

/** Wait until a run ends (its downloads appear, or an error shows). */
async function finished(page: Page, timeout = 120_000): Promise<void> {
  await until(page, `$("#download-history") !== null || $("#error").textContent !== ""`, timeout);
}

/** The text of a file the page offers for download (the blob behind its link). */
function offered(page: Page, id: string): Promise<string> {
  return js(page, `fetch($("#${id}").href).then((r) => r.text())`);
}

Deno.test({
  name: "page: a search moves, stops, downloads run.json and restarts, without console errors",
  ...noLeaks,
  fn: () =>
    withPage(async ({ page, errors, downloads }) => {
      assert(await js(page, "crossOriginIsolated"), "the page is cross-origin isolated");
      await setValue(page, "#budget", "500");
      await page.click("#start");
      const first = await progressBeyond(page, 0);
      await progressBeyond(page, first); // it moves
      assert(
        (await text(page, "#best-caption")).startsWith("best image after"),
      );
      assert(Number(await text(page, "#rate")) > 0);
      await page.click("#stop");
      await finished(page);
      assertEquals(await text(page, "#error"), "");
      assert((await text(page, "#status")).startsWith("Stopped"));
      const stopped = await evaluations(page);
      assert(stopped < 500, `stopped at ${stopped} of 500`);
      await page.click("#download-run");
      const file = `${downloads}/run.json`;
      for (let i = 0; i < 100 && !(await Deno.stat(file).catch(() => null)); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const run = JSON.parse(await Deno.readTextFile(file));
      assertEquals(run.settings.budget, 500);
      assertEquals([run.interrupted, run.results[0].evaluations], [true, stopped]);
      assertEquals(run.backend, "wasm");
      // Restart: a fresh search from the start.
      await page.click("#start");
      await until(page, `$("#download-history") === null`);
      await progressBeyond(page, await progressBeyond(page, 0));
      const shot = Deno.env.get("WEB_SCREENSHOT");
      if (shot) await page.screenshot({ path: shot });
      await page.click("#stop");
      await finished(page);
      assert((await text(page, "#status")).startsWith("Stopped"));
      assertEquals(errors, []);
    }),
});

Deno.test({
  name: "page: bad input (a broken ONNX file, a missing layer, budget 0) gives a message",
  ...noLeaks,
  fn: () =>
    withPage(async ({ page }) => {
      const usable = async () => {
        assert(!(await js(page, `$("#start").disabled`)));
      };
      await setValue(page, "#budget", "0");
      await page.click("#start");
      await finished(page);
      assert((await text(page, "#error")).includes("budget must be an integer from 1"));
      await usable();

      await setValue(page, "#budget", "100");
      await js(page, `$("#layer").add(new Option("x", "no.such"))`);
      await setValue(page, "#layer", "no.such");
      await page.click("#start");
      await until(page, `$("#status").textContent === "Failed."`);
      const missing = await text(page, "#error");
      assert(missing.includes('"no.such"'), missing);
      await usable();

      const broken = await Deno.makeTempFile({ suffix: ".onnx" });
      await Deno.writeTextFile(broken, "not an onnx model");
      await setValue(page, "#target", "file");
      const input = (await page.$("#file"))!;
      await input.uploadFile(broken);
      await until(page, `$("#error").textContent.includes("not a valid ONNX file")`);
      const message = await text(page, "#error");
      assert(!message.includes("blob:"), message);
      assert(message.includes(broken.split("/").pop()!), message);
      await usable();
      await Deno.remove(broken);
    }),
});

Deno.test({
  name: "page: a run.json of scripts/mei.ts --backend wasm replays to the same history.json",
  ...noLeaks,
  fn: async () => {
    const out = await Deno.makeTempDir();
    const args = ["run", "-A", "scripts/mei.ts", "--backend", "wasm", "--threads", "1"];
    args.push("--budget", "120", "--seed", "7", "--neurons", "3,9", "--out", out, "--name", "cli");
    const cli = await new Deno.Command(Deno.execPath(), { args, cwd: repo, stderr: "piped" })
      .output();
    assert(cli.success, new TextDecoder().decode(cli.stderr));
    const expected = await Deno.readTextFile(`${out}/cli/history.json`);
    await withPage(async ({ page, errors }) => {
      const input = (await page.$("#replay"))!;
      await input.uploadFile(`${out}/cli/run.json`);
      await finished(page);
      assertEquals(await text(page, "#error"), "");
      const history = await offered(page, "download-history");
      assert(history === expected, "history.json differs from the command line's");
      const run = JSON.parse(await offered(page, "download-run"));
      assertEquals([run.backend, run.threads], ["wasm", 1]);
      assertEquals(errors, []);
    });
    await Deno.remove(out, { recursive: true });
  },
});

Deno.test({
  name: "page: webgpu (SwiftShader) activations agree with wasm within the runtime tolerance",
  ...noLeaks,
  fn: () =>
    withPage(async ({ page, errors }) => {
      const hasGpu = await js<boolean>(page, `!$('#backend option[value="webgpu"]').disabled`);
      if (!hasGpu) {
        console.log("  no WebGPU adapter in this Chromium: skipped");
        return;
      }
      await setValue(page, "#backend", "webgpu");
      await setValue(page, "#budget", "20");
      await setValue(page, "#neurons", "0-1");
      await page.click("#start");
      await finished(page, 300_000);
      assertEquals(await text(page, "#error"), "");
      const run = JSON.parse(await offered(page, "download-run"));
      assertEquals(run.backend, "webgpu");
      const history = JSON.parse(await offered(page, "download-history"));
      // The same points on wasm under Deno: rates are spike counts / (T H W) of the channel.
      const entry = resolveModel(await loadManifest(), "sresnet18", "target");
      const shape = entry.layers!.find((l) => l.name === run.settings.layer)!.shape;
      const spikes = entry.T! * Number(shape[2]) * Number(shape[3]);
      const problem = await openProblem(checkSettings({ ...run.settings, backend: "wasm" }));
      const points = history.neurons.flatMap((n: { top: { best: number[] }[] }) =>
        n.top.map((t) => Int32Array.from(t.best))
      );
      const wasm = await problem.objective(points);
      await problem.close();
      let row = 0, flipped = 0;
      history.neurons.forEach((n: { top: { value: number }[] }, j: number) => {
        for (const t of n.top) {
          const d = (t.value - wasm[row++ * 2 + j]) * spikes;
          assert(Math.abs(d - Math.round(d)) < 1e-3, `neuron ${j}: differs by ${d} spikes`);
          flipped += Math.abs(Math.round(d));
        }
      });
      assert(flipped <= row * spikes * 1e-3, `${flipped} of ${row * spikes} spikes differ`);
      console.log(`  webgpu vs wasm: ${flipped} of ${row * spikes} spikes differ`);
      assertEquals(errors, []);
    }),
});
