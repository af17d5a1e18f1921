/**
 * The server's database: SQLite through Deno's built-in `node:sqlite`, in WAL mode with
 * `synchronous = FULL`, so a committed transaction survives a kill or a power cut. It holds
 * each search's settings and the ordered log of its events (nothing derived).
 *
 * Writes are group commits: a writer thread (`_store_writer.ts`) owns the write connection;
 * while it commits one group, the rows that callers append meanwhile gather into the next
 * group, sent as soon as the commit is done. Each caller's promise resolves only after its rows
 * are committed, and groups are committed in the order their rows were appended.
 *
 * @example
 * ```ts
 * import { Store } from "./store.ts";
 * const dir = await Deno.makeTempDir();
 * const store = Store.open(`${dir}/serve.db`);
 * await store.append([{ kind: "search", id: "a1", key: "k", spec: { budget: 1 }, created: "2026-01-01" }]);
 * await store.append([{ kind: "event", search: "a1", seq: 0, event: { kind: "stop" } }]);
 * if (store.loadSearches()[0].id !== "a1" || store.loadEvents<{ kind: string }>("a1")[0].kind !== "stop") throw new Error();
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 * @module
 */

import { DatabaseSync } from "node:sqlite";

/** A row to write: a new search, or one event of a search's log. */
export type Row =
  | { kind: "search"; id: string; key: string; spec: unknown; created: string; ordinal?: number }
  | { kind: "event"; search: string; seq: number; event: { kind: string } };

/** A stored search. */
export interface StoredSearch {
  id: string;
  key: string;
  spec: unknown;
  created: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS searches (
  id TEXT PRIMARY KEY, key TEXT NOT NULL UNIQUE, spec TEXT NOT NULL, created TEXT NOT NULL,
  ordinal INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events (
  search TEXT NOT NULL REFERENCES searches(id), seq INTEGER NOT NULL, kind TEXT NOT NULL,
  body TEXT NOT NULL, PRIMARY KEY (search, seq));`;

type Reply = { ok: true; ms: number } | { ok: false; error: string };

/** Deno's Worker, taken before any module can replace the global (onnxruntime-web does). */
const NativeWorker = globalThis.Worker;

/** The database (see the module doc). */
export class Store {
  #db: DatabaseSync;
  #writer: Worker;
  /** One callback per message sent to the writer, answered in order. */
  #replies: ((reply: Reply) => void)[] = [];
  #pending: { rows: Row[]; done: (error?: Error) => void }[] = [];
  #busy = false;
  #ordinal: number;
  /** Transactions committed, the callers' writes they held and their time, since the start. */
  readonly stats = { commits: 0, writes: 0, commitMs: 0 };

  private constructor(db: DatabaseSync, path: string) {
    this.#db = db;
    this.#ordinal = Number(
      (db.prepare("SELECT COUNT(*) AS n FROM searches").get() as { n: number }).n,
    );
    this.#writer = new NativeWorker(new URL("./_store_writer.ts", import.meta.url), {
      type: "module",
    });
    this.#writer.onmessage = (e: MessageEvent<Reply>) => this.#replies.shift()!(e.data);
    this.#send({ kind: "open", path }, () => {});
  }

  /**
   * Open (or create) the database file.
   * @param path the file
   * @returns the store
   */
  static open(path: string): Store {
    const db = new DatabaseSync(path);
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;");
    db.exec(SCHEMA);
    return new Store(db, path);
  }

  #send(message: unknown, reply: (r: Reply) => void): void {
    this.#replies.push(reply);
    this.#writer.postMessage(message);
  }

  /**
   * The searches, in the order they were created.
   * @returns id, idempotency key, settings and creation time of each
   */
  loadSearches(): StoredSearch[] {
    const rows = this.#db.prepare("SELECT id, key, spec, created FROM searches ORDER BY ordinal")
      .all() as unknown as { id: string; key: string; spec: string; created: string }[];
    return rows.map((r) => ({ ...r, spec: JSON.parse(r.spec) }));
  }

  /**
   * A search's log, in order.
   * @param search the search id
   * @returns its events
   */
  loadEvents<E>(search: string): E[] {
    const rows = this.#db.prepare("SELECT body FROM events WHERE search = ? ORDER BY seq")
      .all(search) as unknown as { body: string }[];
    return rows.map((r) => JSON.parse(r.body));
  }

  /**
   * Write rows; resolves once they are committed (grouped with other callers' rows). An empty
   * list resolves once everything appended before it is committed.
   * @param rows the rows, written in order
   * @returns a promise that resolves after the commit, or rejects if it failed
   */
  append(rows: Row[]): Promise<void> {
    for (const r of rows) if (r.kind === "search") r.ordinal = this.#ordinal++;
    return new Promise((resolve, reject) => {
      this.#pending.push({ rows, done: (e) => e ? reject(e) : resolve() });
      if (!this.#busy) this.#flush();
    });
  }

  /** Send everything pending as one transaction; the next goes when it is committed. */
  #flush(): void {
    const group = this.#pending;
    this.#pending = [];
    const rows = group.flatMap((p) => p.rows);
    if (rows.length === 0) { // nothing to write: everything before is committed
      this.#busy = false;
      for (const p of group) p.done();
      return;
    }
    this.#busy = true;
    this.#send({ kind: "write", rows }, (reply) => {
      if (reply.ok) {
        this.stats.commits++;
        this.stats.writes += group.length;
        this.stats.commitMs += reply.ms;
      }
      const error = reply.ok ? undefined : new Error(reply.error);
      for (const p of group) p.done(error);
      this.#flush();
    });
  }

  /** Close the database, after the pending writes. */
  async close(): Promise<void> {
    await this.append([]);
    await new Promise<Reply>((resolve) => this.#send({ kind: "close" }, resolve));
    this.#writer.terminate();
    this.#db.close();
  }
}
