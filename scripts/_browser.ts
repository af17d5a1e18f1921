// The web page in headless Chromium (Debian's `chromium`, driven by puppeteer-core), served by
// scripts/web.ts on a free port: shared by tests/web_test.ts and scripts/bench_web.ts.
//
// The slice of puppeteer's API used here is typed structurally and the package is imported by a
// computed name, so that its types (which bring npm's @types/node, whose node:assert typings
// differ from Deno's) stay out of the programs that `deno check` builds.
import { copyOrt } from "./build_web.ts";
import { serveFile } from "./web.ts";

/** An element of the page. */
export interface ElementHandle {
  uploadFile(...paths: string[]): Promise<void>;
}

/** A browser tab (puppeteer's Page, the part used here). */
export interface Page {
  goto(url: string): Promise<unknown>;
  setViewport(viewport: { width: number; height: number }): Promise<void>;
  on(event: "console", fn: (m: { type(): string; text(): string }) => void): unknown;
  on(event: "pageerror", fn: (e: unknown) => void): unknown;
  evaluate<T, A>(fn: (arg: A) => T | Promise<T>, arg: A): Promise<T>;
  evaluate(expression: string): Promise<unknown>;
  waitForFunction(expression: string, options: { timeout: number }): Promise<unknown>;
  click(selector: string): Promise<void>;
  $(selector: string): Promise<ElementHandle | null>;
  screenshot(options: { path: string }): Promise<unknown>;
}

/** The browser (puppeteer's Browser, the part used here). */
export interface Browser {
  newPage(): Promise<Page>;
  target(): {
    createCDPSession(): Promise<{ send(method: string, params: unknown): Promise<unknown> }>;
  };
  close(): Promise<void>;
}

/** Where Debian installs Chromium. */
export const CHROMIUM = "/usr/bin/chromium";

/** WebGPU on SwiftShader, the software adapter Chromium ships. */
export const WEBGPU_FLAGS = [
  "--enable-unsafe-webgpu",
  "--enable-features=Vulkan",
  "--use-angle=swiftshader",
  "--use-webgpu-adapter=swiftshader",
];

/** The page open in a browser. */
export interface OpenPage {
  browser: Browser;
  page: Page;
  /** Console errors and uncaught exceptions of the page and its workers. */
  errors: string[];
  /** Close the browser and the server. */
  close(): Promise<void>;
}

/**
 * Serve the page and open it in headless Chromium (with WebGPU on SwiftShader).
 * @returns the browser, the page, its console errors and a close function
 * @throws Error when Chromium is not installed
 */
export async function openPage(): Promise<OpenPage> {
  await Deno.stat(CHROMIUM).catch(() => {
    throw new Error(`${CHROMIUM} is missing: apt-get install chromium (see .ci/run)`);
  });
  await copyOrt();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, serveFile);
  const name = "puppeteer-core"; // computed: see the top of this file
  const puppeteer = (await import(name)).default as {
    launch(
      options: { executablePath: string; headless: boolean; args: string[] },
    ): Promise<Browser>;
  };
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", ...WEBGPU_FLAGS],
  });
  const page = await browser.newPage();
  await page.setViewport({ width: 1100, height: 900 });
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`http://127.0.0.1:${server.addr.port}/web/`);
  return {
    browser,
    page,
    errors,
    close: async () => {
      await browser.close();
      await server.shutdown();
    },
  };
}
