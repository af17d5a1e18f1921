// The atlas in a real browser: headless Chromium (Debian's `chromium`, driven by
// puppeteer-core) opens the site built from the committed fixture sweeps from the file
// system, clicks from the index to a layer and a neuron page, uses the keyboard, the sort
// and the filters (with and without JavaScript), and checks on every page that each image
// loaded, that no console error occurred and that nothing was requested outside the site
// folder. It prints the load time of the 128-neuron layer page (not asserted: timings are
// reported, not tested) and saves screenshots to $ATLAS_SCREENSHOTS (default: a new temporary
// folder, printed). Ignored where Chromium is not installed (CI installs it: .ci/run).

import assert from "node:assert/strict";
import { readReport, readSweeps } from "../src/atlas/read.ts";
import { buildSite, shippedFacts, writeSite } from "../src/atlas/site.ts";

// puppeteer-core is imported by a specifier the type checker does not follow: its type
// declarations bring in the DOM library, which changes the types of every other file checked
// with this one. The little of its API used here is declared below.
const PUPPETEER = "npm:puppeteer-core@24.43.1";

/** What a page event hands over (a console message, a request, an error). */
interface Event {
  type(): string;
  text(): string;
  url(): string;
}

/** The part of puppeteer's Page used here. */
interface Page {
  setViewport(v: { width: number; height: number }): Promise<void>;
  setJavaScriptEnabled(on: boolean): Promise<void>;
  goto(url: string, opts?: { waitUntil: string }): Promise<unknown>;
  waitForNavigation(opts?: { waitUntil: string }): Promise<unknown>;
  click(selector: string): Promise<void>;
  focus(selector: string): Promise<void>;
  keyboard: { press(key: string): Promise<void> };
  evaluate(expression: string): Promise<unknown>;
  screenshot(opts: { path: string; fullPage?: boolean }): Promise<unknown>;
  url(): string;
  on(event: string, handler: (e: Event) => void): void;
}

/** The part of puppeteer's Browser used here. */
interface Browser {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

const CHROMIUM = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";
const present = await Deno.stat(CHROMIUM).then(() => true, () => false);
const FIX = "tests/fixtures/atlas";

/** Watch a page: console errors, page errors, failed requests, requests outside `root`. */
function watch(page: Page, root: string): string[] {
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console error: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
  page.on("request", (r) => {
    if (!r.url().startsWith(root)) problems.push(`request outside the site: ${r.url()}`);
  });
  return problems;
}

/** Evaluate a JavaScript expression in the page (a string: the page has the DOM, Deno not). */
async function inPage<T>(page: Page, expression: string): Promise<T> {
  return await page.evaluate(expression) as T;
}

async function checkImages(page: Page, atLeast: number): Promise<number> {
  const { total, broken } = await inPage<{ total: number; broken: string[] }>(
    page,
    `(() => {
      const imgs = [...document.images];
      return {
        total: imgs.length,
        broken: imgs.filter((i) => !i.complete || i.naturalWidth === 0).map((i) => i.src),
      };
    })()`,
  );
  assert.deepEqual(broken, [], `broken images on ${page.url()}`);
  assert.ok(total >= atLeast, `${total} images on ${page.url()}`);
  return total;
}

async function clickAndWait(page: Page, selector: string): Promise<void> {
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click(selector)]);
}

/** Cards shown (not filtered out), in the order they appear on screen. */
async function shownCards(page: Page): Promise<{ n: number; act: number }[]> {
  return await inPage(
    page,
    `[...document.querySelectorAll(".card")]
      .filter((c) => c.offsetParent !== null)
      .map((c) => ({ c, r: c.getBoundingClientRect() }))
      .sort((a, b) => a.r.top - b.r.top || a.r.left - b.r.left)
      .map(({ c }) => ({ n: Number(c.dataset.n), act: Number(c.querySelector(".act").textContent) }))`,
  );
}

Deno.test({
  name: "atlas in Chromium: index -> layer -> neuron from file://, images, keys, sort, filters",
  ignore: !present,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const tmp = await Deno.makeTempDir();
    const shots = Deno.env.get("ATLAS_SCREENSHOTS") ??
      await Deno.makeTempDir({ prefix: "atlas-screenshots-" });
    await Deno.mkdir(shots, { recursive: true });
    let browser: Browser | undefined;
    try {
      const sweeps = await readSweeps([`${FIX}/sweep_small`, `${FIX}/sweep_wide`]);
      const site = `${Deno.realPathSync(tmp)}/site`;
      await writeSite(
        await buildSite(sweeps, await readReport(`${FIX}/report`), await shippedFacts(sweeps)),
        site,
      );
      const root = `file://${site}/`;
      const { default: puppeteer } = await import(PUPPETEER);
      const launched: Browser = await puppeteer.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ["--no-sandbox", "--disable-gpu"],
      });
      browser = launched;
      const page = await launched.newPage();
      await page.setViewport({ width: 1200, height: 900 });
      const problems = watch(page, root);

      // The index, then a click to the 128-neuron layer page.
      await page.goto(`${root}index.html`, { waitUntil: "load" });
      await page.screenshot({ path: `${shots}/index.png`, fullPage: true });
      const navigation = `performance.getEntriesByType("navigation")[0]`;
      const indexMs = await inPage<number>(page, `${navigation}.loadEventEnd`);
      const t0 = performance.now();
      await clickAndWait(page, 'a[href="sresnet18/layer4.1.sn2/e8.html"]');
      const clickMs = performance.now() - t0;
      assert.equal(page.url(), `${root}sresnet18/layer4.1.sn2/e8.html`);
      // A timing the browser has not reported (first paint can come after the load event)
      // arrives as null.
      const [ready, paint, loaded] = await inPage<(number | null)[]>(
        page,
        `[${navigation}.domContentLoadedEventEnd,
          performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null,
          ${navigation}.loadEventEnd]`,
      );
      const ms = (t: number | null) => t === null ? "not reported" : t.toFixed(0);
      assert.equal(await checkImages(page, 128), 128);
      console.log(
        `layer page with 128 neurons, ms after navigation start: DOM ready ${ms(ready)}, ` +
          `first paint ${ms(paint)}, all images loaded ${ms(loaded)} ` +
          `(${clickMs.toFixed(0)} ms from the click as puppeteer sees it); ` +
          `the index for reference: loaded ${indexMs.toFixed(0)}`,
      );
      await page.screenshot({ path: `${shots}/layer_128.png` });

      // Sorting by activation puts the highest first (the script reorders the document).
      await page.click("#sort-a");
      const sorted = await shownCards(page);
      assert.equal(sorted.length, 128);
      assert.deepEqual(sorted.map((c) => c.act), sorted.map((c) => c.act).sort((a, b) => b - a));
      const firstInDom = await inPage<number>(
        page,
        `Number(document.querySelector(".card").dataset.n)`,
      );
      assert.equal(firstInDom, sorted[0].n, "tab order follows the sort");

      // Keyboard: Tab leaves the radio group for the first card's link, Enter opens it.
      await page.focus("#sort-a");
      await page.keyboard.press("Tab");
      const focused = await inPage<string | null>(
        page,
        `document.activeElement?.getAttribute("href")`,
      );
      assert.ok(focused?.startsWith(`n${sorted[0].n}.html`), `focus on ${focused}`);
      await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
      assert.ok(page.url().startsWith(`${root}sresnet18/layer4.1.sn2/n${sorted[0].n}.html`));
      await checkImages(page, 2);

      // The neuron page of the small sweep, with the report: MEIs, naturals, chart.
      await page.goto(`${root}sresnet18/layer2.1.sn2/n3.html`, { waitUntil: "load" });
      // 2 checkpoints x 2 methods MEIs, 2 x 9 natural images, the convergence chart.
      assert.equal(await checkImages(page, 4 + 18 + 1), 4 + 18 + 1);
      await page.screenshot({ path: `${shots}/neuron.png`, fullPage: true });
      // Right arrow: the next neuron; "back to the layer" link.
      await Promise.all([page.waitForNavigation(), page.keyboard.press("ArrowRight")]);
      assert.equal(page.url(), `${root}sresnet18/layer2.1.sn2/n4.html`);
      await clickAndWait(page, "main a[href='e8.html']");
      assert.equal(page.url(), `${root}sresnet18/layer2.1.sn2/e8.html`);

      // Filters: "stable" shows exactly the neurons the report calls stable.
      const labels = JSON.parse(Deno.readTextFileSync(`${FIX}/report/neurons.json`)) as {
        neuron: number;
        label: string;
      }[];
      const stable = labels.filter((l) => l.label === "stable").map((l) => l.neuron);
      await page.click("#show-stable");
      assert.deepEqual((await shownCards(page)).map((c) => c.n).sort(), stable.sort());
      await page.screenshot({ path: `${shots}/layer_filtered.png` });
      // The checkpoint link to epoch 1 and the methods page.
      await clickAndWait(page, '.ckpts a[href="e1.html"]');
      await checkImages(page, 6);
      await page.goto(`${root}methods.html`, { waitUntil: "load" });
      await checkImages(page, 2);
      await page.screenshot({ path: `${shots}/methods.png`, fullPage: true });
      assert.deepEqual(problems, []);

      // Without JavaScript: sorting and filtering are CSS.
      const plain = await launched.newPage();
      await plain.setJavaScriptEnabled(false);
      const plainProblems = watch(plain, root);
      await plain.goto(`${root}sresnet18/layer2.1.sn2/e8.html`, { waitUntil: "load" });
      await plain.click("#sort-a");
      const noJs = await shownCards(plain);
      assert.deepEqual(noJs.map((c) => c.act), noJs.map((c) => c.act).sort((a, b) => b - a));
      await plain.click("#show-stable");
      assert.deepEqual((await shownCards(plain)).map((c) => c.n).sort(), stable.sort());
      assert.deepEqual(plainProblems, []);
      console.log(`screenshots in ${shots}`);
    } finally {
      await browser?.close();
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
