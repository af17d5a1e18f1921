/**
 * The server's core, shared by the HTTP API and the folder bridge: the searches, rebuilt at
 * start by replaying each one's log, and the operations on them. Every change is written to
 * the {@link Store} and committed before the operation returns; the in-memory state is only
 * ever what the log says, so a restarted server continues exactly where it was.
 *
 * @example
 * ```ts ignore
 * import { Generators } from "./generators.ts";
 * import { Service } from "./service.ts";
 * const service = await Service.open(dataDir, new Generators());
 * const { entry } = await service.create(parseSpec(body), "key-1");
 * const batch = await service.next(entry.id);
 * ```
 * @module
 */

import { encodeBase64 } from "../io/base64.ts";
import { RunFolder } from "../io/run_folder.ts";
import { HttpError } from "./errors.ts";
import { exportSearch } from "./export.ts";
import { type LatentSpace, latentSpaceOn, type OpenGenerator } from "../models/problem.ts";
import { type Generators, pngImages } from "./generators.ts";
import { type Ack, type Batch, Search, type SearchEvent } from "./search.ts";
import type { ResponseItem, SearchSpec } from "./spec.ts";
import { Store } from "./store.ts";

/** Search ids: 12 hex digits. */
export const SEARCH_ID = /^[0-9a-f]{12}$/;

/** A search held by the server. */
export interface Entry {
  id: string;
  /** The idempotency key of the request that created it. */
  key: string;
  created: string;
  search: Search;
  /** The generator's latent space on the search's grid (its images and grid values). */
  latent: LatentSpace;
  /** Events logged so far. */
  seq: number;
  pngs: Map<number, Uint8Array>;
  exporting?: Promise<string>;
}

/** A stimulus as clients see it. */
export interface StimulusView {
  id: string;
  /** URL of its PNG image, under the search. */
  image: string;
  /** Grid indices. */
  point: number[];
  /** The generator's input (grid values, or codes). */
  latent: number[];
  /** Whether it still waits for its response (a batch stays the same until all are answered). */
  open: boolean;
  /** The PNG, base64, when asked for. */
  png?: string;
}

const PNG_CACHE = 4096;

/** The searches and their operations (see the module doc). */
export class Service {
  readonly searches = new Map<string, Entry>();
  #byKey = new Map<string, Promise<Entry>>();

  private constructor(
    readonly dataDir: string,
    readonly store: Store,
    readonly generators: Generators,
    readonly onFatal: (e: Error) => void,
  ) {}

  /**
   * Open the data folder's database and replay every search.
   * @param dataDir the data folder (created 0700 if missing)
   * @param generators the generators stimuli are rendered with
   * @param onFatal called when a commit fails (the process must stop: default exits)
   * @returns the service
   */
  static async open(
    dataDir: string,
    generators: Generators,
    onFatal: (e: Error) => void = (e) => {
      console.error(`serve: the database failed (${e.message}); stopping`);
      Deno.exit(1);
    },
  ): Promise<Service> {
    await Deno.mkdir(dataDir, { recursive: true, mode: 0o700 });
    // Exports are written there; a server killed while writing one left a partial folder.
    await RunFolder.prepare(`${dataDir}/exports`);
    // The database holds the lab's data: owner-only, like the folder.
    await Deno.writeFile(`${dataDir}/serve.db`, new Uint8Array(), { createNew: true, mode: 0o600 })
      .catch((e) => {
        if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      });
    const store = Store.open(`${dataDir}/serve.db`);
    const service = new Service(dataDir, store, generators, onFatal);
    for (const s of store.loadSearches()) {
      const spec = s.spec as SearchSpec;
      const generator = await generators.open(spec.generator);
      const entry = service.#entry(s.id, s.key, s.created, spec, generator);
      const events = store.loadEvents<SearchEvent>(s.id);
      for (const e of events) entry.search.apply(e);
      entry.seq = events.length;
      service.searches.set(s.id, entry);
      service.#byKey.set(s.key, Promise.resolve(entry));
    }
    return service;
  }

  #entry(
    id: string,
    key: string,
    created: string,
    spec: SearchSpec,
    generator: OpenGenerator,
  ): Entry {
    const latent = latentSpaceOn(generator, spec);
    let search: Search;
    try {
      search = new Search(spec, latent.space);
    } catch (e) {
      throw new HttpError(400, (e as Error).message);
    }
    return { id, key, created, search, latent, seq: 0, pngs: new Map() };
  }

  async #commit(entry: Entry, event?: SearchEvent): Promise<void> {
    const rows = event
      ? [{ kind: "event" as const, search: entry.id, seq: entry.seq++, event }]
      : [];
    try {
      await this.store.append(rows);
    } catch (e) {
      this.onFatal(e as Error);
      throw new HttpError(500, "the database failed; the server is stopping");
    }
  }

  /**
   * Create a search, or return the one an earlier request with the same key created.
   * @param spec the settings
   * @param key the request's idempotency key
   * @returns the search, and whether this call created it
   */
  async create(spec: SearchSpec, key: string): Promise<{ entry: Entry; created: boolean }> {
    const earlier = this.#byKey.get(key);
    if (earlier) {
      const entry = await earlier;
      if (JSON.stringify(entry.search.spec) !== JSON.stringify(spec)) {
        throw new HttpError(409, `idempotency key "${key}" created a search with other settings`);
      }
      await this.#commit(entry);
      return { entry, created: false };
    }
    const make = (async () => {
      const generator = await this.generators.open(spec.generator);
      const id = Array.from(
        crypto.getRandomValues(new Uint8Array(6)),
        (b) => b.toString(16).padStart(2, "0"),
      ).join("");
      const entry = this.#entry(id, key, new Date().toISOString(), spec, generator);
      await this.store.append([{ kind: "search", id, key, spec, created: entry.created }]);
      this.searches.set(id, entry);
      return entry;
    })();
    this.#byKey.set(key, make);
    try {
      return { entry: await make, created: true };
    } catch (e) {
      this.#byKey.delete(key);
      throw e;
    }
  }

  /**
   * A search by id.
   * @param id the id
   * @returns the search
   * @throws HttpError 404 when unknown
   */
  get(id: string): Entry {
    const entry = this.searches.get(id);
    if (!entry) throw new HttpError(404, `no search "${id}" (GET /searches lists them)`);
    return entry;
  }

  /**
   * The current batch, handing out a new one when none is open.
   * @param id the search
   * @returns the batch, or undefined once the search is done
   */
  async next(id: string): Promise<Batch | undefined> {
    const entry = this.get(id);
    const s = entry.search;
    let batch = s.current;
    if (!batch && !s.done) {
      batch = s.issue();
      if (batch) await this.#commit(entry, { kind: "batch", ids: batch.ids });
      else await this.#commit(entry);
    } else await this.#commit(entry);
    return batch;
  }

  /**
   * Take responses (committed before this resolves).
   * @param id the search
   * @param key the request's idempotency key
   * @param items the responses
   * @returns the acknowledgement, and whether it repeats an earlier one
   */
  async respond(
    id: string,
    key: string,
    items: ResponseItem[],
  ): Promise<{ ack: Ack; replayed: boolean }> {
    const entry = this.get(id);
    const result = entry.search.respond(key, items);
    await this.#commit(entry, result.replayed ? undefined : { kind: "responses", key, items });
    return result;
  }

  /**
   * Stop a search and write its output folder (once; later calls return the same folder).
   * @param id the search
   * @returns the folder, or null when no generation of responses is complete yet
   */
  async stop(id: string): Promise<string | null> {
    const entry = this.get(id);
    if (!entry.search.stopped) {
      entry.search.stop();
      await this.#commit(entry, { kind: "stop" });
    } else await this.#commit(entry);
    if (!entry.search.optimizer.best) return null;
    entry.exporting ??= (async () => {
      const root = `${this.dataDir}/exports`; // prepared by open()
      try {
        await Deno.lstat(`${root}/${id}`);
        return `${root}/${id}`;
      } catch {
        return await exportSearch(entry, root);
      }
    })();
    try {
      return await entry.exporting;
    } catch (e) {
      entry.exporting = undefined;
      throw e;
    }
  }

  /**
   * Stimuli as clients see them.
   * @param entry the search
   * @param ids stimulus ids
   * @param base64 include the PNGs
   * @returns one view per id
   */
  async views(entry: Entry, ids: string[], base64: boolean): Promise<StimulusView[]> {
    const pngs = base64 ? await this.pngs(entry, ids) : [];
    const open = new Set(entry.search.current?.open);
    const values = entry.latent.latentValues;
    return ids.map((sid, j) => {
      const point = entry.search.points[Number(sid.slice(1))];
      return {
        id: sid,
        open: open.has(sid),
        image: `/searches/${entry.id}/stimuli/${sid}.png`,
        point: Array.from(point),
        latent: Array.from(point, (v) => values ? values[v] : v),
        ...(base64 ? { png: encodeBase64(pngs[j]) } : {}),
      };
    });
  }

  /**
   * PNG images of stimuli (rendered once, then cached).
   * @param entry the search
   * @param ids stimulus ids that exist
   * @returns the PNGs
   */
  async pngs(entry: Entry, ids: string[]): Promise<Uint8Array[]> {
    const ks = ids.map((sid) => Number(sid.slice(1)));
    const missing = [...new Set(ks.filter((k) => !entry.pngs.has(k)))];
    if (missing.length) {
      const made = await pngImages(entry.latent, missing.map((k) => entry.search.points[k]));
      missing.forEach((k, j) => entry.pngs.set(k, made[j]));
      for (const k of entry.pngs.keys()) {
        if (entry.pngs.size <= PNG_CACHE) break;
        entry.pngs.delete(k);
      }
    }
    return ks.map((k) => entry.pngs.get(k)!);
  }

  /**
   * A search's state as clients see it.
   * @param entry the search
   * @returns the state
   */
  async state(entry: Entry): Promise<Record<string, unknown>> {
    await this.#commit(entry);
    const s = entry.search, k = s.bestStimulus;
    const best = k < 0 ? null : {
      ...(await this.views(entry, [`s${k}`], false))[0],
      value: s.values[k],
      trials: s.trials[k],
    };
    return {
      id: entry.id,
      created: entry.created,
      spec: s.spec,
      evaluations: s.optimizer.evaluations,
      budget: s.spec.budget,
      trials: s.trials.reduce((a, b) => a + b, 0),
      failedTrials: s.failures,
      batches: s.batches,
      openBatch: s.current?.index ?? null,
      done: s.done,
      stopped: s.stopped,
      best,
      history: s.history,
      curve: s.curve,
    };
  }

  /** Close the database. */
  async close(): Promise<void> {
    await this.store.close();
  }
}
