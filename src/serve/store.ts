/**
 * The server's database: SQLite through Deno's built-in `node:sqlite`, in WAL mode with
 * `synchronous = FULL`, so a committed transaction survives a kill or a power cut. It holds
 * each search's settings and the ordered log of its events (nothing derived). Writes are
 * grouped: everything appended while a commit is under way goes into the next transaction,
 * and each caller's promise resolves only after its rows are committed.
 *
 * @example
 * ```ts
 * import { Store } from "./store.ts";
 * const dir = await Deno.makeTempDir();
 * const store = Store.open(`${dir}/serve.db`);
 * await store.append([{ kind: "search", id: "a1", key: "k", spec: { budget: 1 }, created: "2026-01-01" }]);
 * await store.append([{ kind: "event", search: "a1", seq: 0, event: { kind: "stop" } }]);
 * if (store.loadSearches()[0].id !== "a1" || store.loadEvents<{ kind: string }>("a1")[0].kind !== "stop") throw new Error();
 * store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";

/** A row to write: a new search, or one event of a search's log. */
export type Row =
  | { kind: "search"; id: string; key: string; spec: unknown; created: string }
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

/** The database (see the module doc). */
export class Store {
  #db: DatabaseSync;
  #insertSearch: StatementSync;
  #insertEvent: StatementSync;
  #pending: { rows: Row[]; done: (error?: Error) => void }[] = [];
  #scheduled = false;
  #ordinal: number;
  /** Transactions committed and the callers' writes they held, since the store was opened. */
  readonly stats = { commits: 0, writes: 0 };

  private constructor(db: DatabaseSync) {
    this.#db = db;
    this.#insertSearch = db.prepare(
      "INSERT INTO searches (id, key, spec, created, ordinal) VALUES (?, ?, ?, ?, ?)",
    );
    this.#insertEvent = db.prepare(
      "INSERT INTO events (search, seq, kind, body) VALUES (?, ?, ?, ?)",
    );
    this.#ordinal = Number(
      (db.prepare("SELECT COUNT(*) AS n FROM searches").get() as { n: number }).n,
    );
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
    return new Store(db);
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
   * Write rows; resolves once they are committed (grouped with other callers' rows).
   * @param rows the rows, written in order
   * @returns a promise that resolves after the commit, or rejects if it failed
   */
  append(rows: Row[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ rows, done: (e) => e ? reject(e) : resolve() });
      if (!this.#scheduled) {
        this.#scheduled = true;
        // A macrotask later: requests that arrived meanwhile join this transaction.
        setTimeout(() => this.#flush(), 0);
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const group = this.#pending;
    this.#pending = [];
    let error: Error | undefined;
    try {
      this.#db.exec("BEGIN IMMEDIATE");
      for (const { rows } of group) {
        for (const r of rows) {
          if (r.kind === "search") {
            this.#insertSearch.run(
              r.id,
              r.key,
              JSON.stringify(r.spec),
              r.created,
              this.#ordinal++,
            );
          } else this.#insertEvent.run(r.search, r.seq, r.event.kind, JSON.stringify(r.event));
        }
      }
      this.#db.exec("COMMIT");
      this.stats.commits++;
      this.stats.writes += group.length;
    } catch (e) {
      error = e as Error;
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
    }
    for (const p of group) p.done(error);
  }

  /** Close the database (after the pending writes). */
  close(): void {
    if (this.#pending.length) this.#flush();
    this.#db.close();
  }
}
