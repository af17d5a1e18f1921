// The web page in headless Chromium (Debian's `chromium`, driven by puppeteer-core), served by
// scripts/web.ts on a free port: shared by tests/web_test.ts and scripts/bench_web.ts.
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { copyOrt } from "./build_web.ts";
import { serveFile } from "./web.ts";

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
