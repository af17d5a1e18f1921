/**
 * The folder bridge, for rigs that cannot speak HTTP. Each search gets a folder `DIR/<id>/`:
 *
 * - the server writes the current batch as `batch-000012/` (the PNGs `s300.png`, ... and
 *   `manifest.json` listing each stimulus's id, file, grid point and latent), written under a
 *   hidden temporary name and renamed into place, so the rig never sees half a batch;
 * - the rig writes `responses-000012.csv` (header `id,response[,trials]`; an empty response
 *   or `failed` marks a failed or missing trial) or `.json` (the body of the HTTP responses
 *   call), under another name, and renames it into place; it must list every stimulus of the
 *   batch;
 * - the bridge reads it whole, commits it exactly as the HTTP API does (idempotency key from
 *   the file's content, so a file seen again after a crash counts once), moves it to
 *   `answered/` and writes the next batch. A malformed, partial or refused file is moved to
 *   `rejected/` beside a `.report.json` saying why, and the batch stays open;
 * - a file `stop` in the folder stops the search; when a search is over the bridge exports it
 *   and writes `done.json` (the output folder and the final state).
 *
 * @example
 * ```ts ignore
 * import { Bridge } from "./bridge.ts";
 * const bridge = new Bridge(service, "rig-folder", { pollMs: 50 });
 * bridge.start(); // ... later: await bridge.stop();
 * ```
 * @module
 */

import { sha256Hex } from "../models/manifest.ts";
import { HttpError } from "./errors.ts";
import type { Service } from "./service.ts";
import { parseResponses, type ResponseItem } from "./spec.ts";

const RESPONSES = /^responses-(\d{1,9})\.(csv|json)$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The name of batch n's folder (and, with `responses-`, of its answer). */
export function batchName(n: number): string {
  return `batch-${String(n).padStart(6, "0")}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Write a file atomically: a temporary name in the same folder, then a rename. */
async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path.replace(/[^/]*$/, "")}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
}

/**
 * Read a responses file: CSV `id,response[,trials]` or the JSON body of the HTTP call.
 * @param name the file name (its extension says the format)
 * @param text its content
 * @returns the responses
 * @throws HttpError 400 naming the bad line or field
 */
export function parseResponseFile(name: string, text: string): ResponseItem[] {
  if (name.endsWith(".json")) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new HttpError(400, "not valid JSON (is the file complete?)");
    }
    return parseResponses(body);
  }
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "");
  const header = (lines.shift() ?? "").toLowerCase().split(",").map((c) => c.trim());
  if (header.join() !== "id,response" && header.join() !== "id,response,trials") {
    throw new HttpError(
      400,
      'the first line must be the header "id,response" or "id,response,trials"',
    );
  }
  const responses = lines.map((line, j) => {
    const cells = line.split(",").map((c) => c.trim());
    const at = `line ${j + 2}`;
    if (cells.length !== header.length) {
      throw new HttpError(400, `${at} has ${cells.length} fields, the header ${header.length}`);
    }
    const [id, response, trials] = cells;
    if (response === "" || response.toLowerCase() === "failed") {
      if (trials !== undefined && trials !== "") {
        throw new HttpError(400, `${at}: a failed trial has no trial count`);
      }
      return { id, failed: true };
    }
    if (!NUMBER.test(response)) {
      throw new HttpError(400, `${at}: response "${response}" is not a number`);
    }
    if (trials !== undefined && trials !== "" && !/^\d{1,7}$/.test(trials)) {
      throw new HttpError(400, `${at}: trials "${trials}" is not a whole number`);
    }
    return { id, value: Number(response), ...(trials ? { trials: Number(trials) } : {}) };
  });
  return parseResponses({ responses });
}

/** Options of the bridge. */
export interface BridgeOptions {
  /** How often the folder is looked at, in ms (default 100). */
  pollMs?: number;
  /** Called with a line for the log when something happens. */
  log?: (line: string) => void;
}

/** The folder bridge (see the module doc). */
export class Bridge {
  #running = false;
  #loop: Promise<void> | undefined;
  #finished = new Set<string>();

  /**
   * @param service the searches
   * @param dir the shared folder
   * @param options polling and logging
   */
  constructor(
    readonly service: Service,
    readonly dir: string,
    readonly options: BridgeOptions = {},
  ) {}

  /** Start watching the folder. */
  start(): void {
    this.#running = true;
    this.#loop = (async () => {
      await Deno.mkdir(this.dir, { recursive: true });
      while (this.#running) {
        await this.poll();
        if (this.#running) await new Promise((r) => setTimeout(r, this.options.pollMs ?? 100));
      }
    })();
  }

  /** Stop watching (after the current pass). */
  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  /** One pass over every search's folder. */
  async poll(): Promise<void> {
    for (const id of this.service.searches.keys()) {
      if (this.#finished.has(id)) continue;
      try {
        await this.#pass(id);
      } catch (e) {
        this.options.log?.(`bridge: search ${id}: ${(e as Error).message}`);
      }
    }
  }

  async #pass(id: string): Promise<void> {
    const folder = `${this.dir}/${id}`;
    const entry = this.service.get(id);
    if (!(await exists(`${folder}/search.json`))) {
      await Deno.mkdir(`${folder}/answered`, { recursive: true });
      await Deno.mkdir(`${folder}/rejected`, { recursive: true });
      await writeAtomic(
        `${folder}/search.json`,
        JSON.stringify({ id, ...entry.search.spec }, null, 1),
      );
    }
    if (!entry.search.done && await exists(`${folder}/stop`)) await this.service.stop(id);
    for (let steps = 0; steps < 1000 && !entry.search.done; steps++) {
      const batch = (await this.service.next(id))!;
      const name = batchName(batch.index);
      if (!(await exists(`${folder}/${name}`))) await this.#writeBatch(id, folder, name, batch.ids);
      const answered = await this.#answers(id, folder, batch.index, batch.ids);
      if (!answered) break;
    }
    if (entry.search.done) {
      const done = { folder: await this.service.stop(id), state: await this.service.state(entry) };
      await writeAtomic(`${folder}/done.json`, JSON.stringify(done, null, 1) + "\n");
      await this.#clearBatches(folder, Infinity);
      this.#finished.add(id);
      this.options.log?.(`bridge: search ${id} is done (${folder}/done.json)`);
    }
  }

  async #writeBatch(id: string, folder: string, name: string, ids: string[]): Promise<void> {
    const entry = this.service.get(id);
    const tmp = `${folder}/.${name}.${crypto.randomUUID().slice(0, 8)}.tmp`;
    await Deno.mkdir(tmp);
    const pngs = await this.service.pngs(entry, ids);
    const views = await this.service.views(entry, ids, false);
    for (let j = 0; j < ids.length; j++) await Deno.writeFile(`${tmp}/${ids[j]}.png`, pngs[j]);
    const manifest = {
      search: id,
      batch: Number(name.slice(6)),
      respond_to: `responses-${name.slice(6)}.csv (or .json)`,
      stimuli: views.map((v) => ({
        id: v.id,
        file: `${v.id}.png`,
        point: v.point,
        latent: v.latent,
      })),
    };
    await Deno.writeTextFile(`${tmp}/manifest.json`, JSON.stringify(manifest) + "\n");
    await Deno.rename(tmp, `${folder}/${name}`);
    await this.#clearBatches(folder, Number(name.slice(6)));
  }

  /** Remove batch folders before batch `before` (answered ones) and half-written ones. */
  async #clearBatches(folder: string, before: number): Promise<void> {
    for await (const f of Deno.readDir(folder)) {
      const m = /^batch-(\d+)$/.exec(f.name);
      const stale = m ? Number(m[1]) < before : /^\.batch-\d+\.\w+\.tmp$/.test(f.name);
      if (stale) await Deno.remove(`${folder}/${f.name}`, { recursive: true });
    }
  }

  /** Take the responses files in the folder; returns whether the current batch was answered. */
  async #answers(id: string, folder: string, index: number, ids: string[]): Promise<boolean> {
    const files: string[] = [];
    for await (const f of Deno.readDir(folder)) {
      if (f.isFile && RESPONSES.test(f.name)) files.push(f.name);
    }
    let answered = false;
    for (const file of files.sort()) {
      const path = `${folder}/${file}`;
      try {
        const text = await Deno.readTextFile(path);
        const n = Number(RESPONSES.exec(file)![1]);
        const key = `bridge-${n}-${(await sha256Hex(new TextEncoder().encode(text))).slice(0, 24)}`;
        const items = parseResponseFile(file, text);
        if (n === index) {
          const listed = new Set(items.map((i) => i.id));
          const missing = ids.filter((s) => !listed.has(s));
          if (missing.length) {
            throw new HttpError(
              400,
              `partial file: no row for ${
                missing.join(", ")
              } (list every stimulus; an empty response marks a failed trial)`,
            );
          }
        }
        const { replayed } = await this.service.respond(id, key, items);
        await Deno.rename(path, await this.#free(`${folder}/answered/${file}`));
        if (n === index) answered = true;
        this.options.log?.(`bridge: search ${id}: ${file} ${replayed ? "seen before" : "taken"}`);
      } catch (e) {
        if (!(e instanceof HttpError) || e.status >= 500) throw e;
        const moved = await this.#free(`${folder}/rejected/${file}`);
        await Deno.rename(path, moved);
        const report = {
          file,
          status: e.status,
          error: e.message,
          batch: index,
          moved_to: moved,
          at: new Date().toISOString(),
        };
        await writeAtomic(`${moved}.report.json`, JSON.stringify(report, null, 1) + "\n");
        this.options.log?.(`bridge: search ${id}: ${file} rejected: ${e.message}`);
      }
    }
    return answered;
  }

  /** A path that does not exist yet: the path, or with -2, -3, ... before the extension. */
  async #free(path: string): Promise<string> {
    for (let k = 1;; k++) {
      const p = k === 1 ? path : path.replace(/(\.\w+)$/, `-${k}$1`);
      if (!(await exists(p))) return p;
    }
  }
}
