// The store's writer thread: it owns the database's write connection and commits each group of
// rows it is sent in one transaction (WAL, synchronous FULL), answering every message in order
// with { ok, ms } or { ok: false, error }. The main thread keeps serving while a commit is on disk.
/// <reference lib="deno.worker" />
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { Row } from "./store.ts";

let db: DatabaseSync | undefined;
let insertSearch: StatementSync, insertEvent: StatementSync;

type Message = { kind: "open"; path: string } | { kind: "write"; rows: Row[] } | { kind: "close" };

self.onmessage = (e: MessageEvent<Message>) => {
  const msg = e.data;
  const t0 = performance.now();
  try {
    if (msg.kind === "open") {
      db = new DatabaseSync(msg.path);
      db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;");
      insertSearch = db.prepare(
        "INSERT INTO searches (id, key, spec, created, ordinal) VALUES (?, ?, ?, ?, ?)",
      );
      insertEvent = db.prepare("INSERT INTO events (search, seq, kind, body) VALUES (?, ?, ?, ?)");
    } else if (msg.kind === "close") {
      db?.close();
      db = undefined;
    } else {
      db!.exec("BEGIN IMMEDIATE");
      try {
        for (const r of msg.rows) {
          if (r.kind === "search") {
            insertSearch.run(r.id, r.key, JSON.stringify(r.spec), r.created, r.ordinal!);
          } else insertEvent.run(r.search, r.seq, r.event.kind, JSON.stringify(r.event));
        }
        db!.exec("COMMIT");
      } catch (e) {
        if (db!.isTransaction) db!.exec("ROLLBACK");
        throw e;
      }
    }
    self.postMessage({ ok: true, ms: performance.now() - t0 });
  } catch (e) {
    self.postMessage({ ok: false, error: (e as Error).message });
  }
};
