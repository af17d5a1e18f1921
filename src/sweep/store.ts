/**
 * A sweep folder on disk: `sweep.json` (the spec and the models it ran), `records.jsonl` (one
 * line per finished search, appended and synced before the next) and `images/` (each MEI as a
 * PNG named by its SHA-256). A kill at any moment leaves at most a torn last line, which
 * `SweepFolder.open` drops, so a rerun finishes what is missing and duplicates nothing.
 *
 * @example
 * ```ts
 * import { SweepFolder } from "./store.ts";
 * const dir = await Deno.makeTempDir();
 * const header = { format: "mei-sweep/1", spec: {}, models: {}, searches: 1 };
 * const folder = await SweepFolder.open(`${dir}/s`, header);
 * await folder.append([JSON.stringify({ key: "a" })]);
 * await Deno.writeTextFile(`${dir}/s/records.jsonl`, '{"key":"b"', { append: true }); // torn
 * const again = await SweepFolder.open(`${dir}/s`, header);
 * if ([...again.done].join() !== "a") throw new Error();
 * again.close();
 * folder.close();
 * ```
 * @module
 */

import { sha256Hex } from "../models/manifest.ts";
import { SpecError } from "./spec.ts";

/** The contents of sweep.json. */
export interface SweepHeader {
  format: string;
  spec: unknown;
  models: unknown;
  searches: number;
  /** The inference backend the records were computed on. */
  backend?: string;
  /** "i/N" for a shard's folder; absent for a whole sweep. */
  shard?: string;
  [field: string]: unknown;
}

const encoder = new TextEncoder();

/**
 * Read a records file line by line without holding it: each complete line with the byte offset
 * just past it.
 * @param path records.jsonl
 * @yields `{ line, end }` for every line ending in a newline, then `{ line, end: -1 }` for a
 *   last line without one (a torn write)
 */
export async function* recordLines(
  path: string,
): AsyncGenerator<{ line: string; end: number }> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  const decoder = new TextDecoder();
  let rest = new Uint8Array(0), offset = 0;
  try {
    for await (const chunk of file.readable) {
      const buf = new Uint8Array(rest.length + chunk.length);
      buf.set(rest);
      buf.set(chunk, rest.length);
      let start = 0;
      for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, start)) {
        offset += i + 1 - start;
        yield { line: decoder.decode(buf.subarray(start, i)), end: offset };
        start = i + 1;
      }
      rest = buf.slice(start);
    }
  } finally {
    try {
      file.close();
    } catch { /* closed by the stream */ }
  }
  if (rest.length) yield { line: decoder.decode(rest), end: -1 };
}

/** An open sweep folder (see the module doc). */
export class SweepFolder {
  private constructor(
    readonly dir: string,
    readonly header: SweepHeader,
    /** Keys of the records already in the folder. */
    readonly done: Set<string>,
    readonly file: Deno.FsFile,
  ) {}

  /**
   * Open a sweep folder, creating it when missing, or resume one written for the same header.
   * @param dir the folder
   * @param header what sweep.json must say
   * @returns the folder, with the keys already done; a torn last line is cut off
   * @throws SpecError when the folder holds another sweep, or records that cannot be read
   */
  static async open(dir: string, header: SweepHeader): Promise<SweepFolder> {
    const want = JSON.stringify(header, null, 1) + "\n";
    let have: string | undefined;
    try {
      have = await Deno.readTextFile(`${dir}/sweep.json`);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    if (have === undefined) {
      try {
        for await (const _ of Deno.readDir(dir)) {
          throw new SpecError(`${dir} exists and is not a sweep folder (it has no sweep.json)`);
        }
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
      await Deno.mkdir(`${dir}/images`, { recursive: true });
      await writeSynced(`${dir}/sweep.json`, encoder.encode(want));
    } else if (have !== want) {
      throw new SpecError(`${dir} holds a different sweep (${difference(have, header)})`);
    }
    const done = new Set<string>();
    let good = 0, number = 0;
    const path = `${dir}/records.jsonl`;
    for await (const { line, end } of recordLines(path)) {
      number++;
      let key: unknown;
      try {
        key = JSON.parse(line).key;
      } catch {
        key = undefined;
      }
      if (end < 0 || typeof key !== "string") {
        if (end < 0) break; // torn by a kill: cut off below
        // A complete but unreadable line is only acceptable as the last one (a torn write
        // whose newline made it to disk); anything after it is damage to report.
        const more = await fileSize(path) > good + encoder.encode(line).length + 1;
        if (more) throw new SpecError(`${path} line ${number} is not a record`);
        break;
      }
      if (done.has(key)) throw new SpecError(`${path} holds "${key}" twice`);
      done.add(key);
      good = end;
    }
    const file = await Deno.open(path, { create: true, write: true, append: false });
    await file.truncate(good);
    await file.syncData();
    await file.seek(good, Deno.SeekMode.Start);
    return new SweepFolder(dir, header, done, file);
  }

  /**
   * Append finished searches' records, one line each, and sync them to disk.
   * @param lines JSON records without newlines
   */
  async append(lines: string[]): Promise<void> {
    const bytes = encoder.encode(lines.map((l) => l + "\n").join(""));
    for (let at = 0; at < bytes.length;) at += await this.file.write(bytes.subarray(at));
    await this.file.syncData();
  }

  /** Close the records file. */
  close(): void {
    this.file.close();
  }
}

/**
 * Store an image under `images/<sha256>.png` (written whole, synced, then renamed into place).
 * @param dir the sweep folder
 * @param png the PNG bytes
 * @returns the image's path relative to the folder and its SHA-256
 */
export async function writeImage(
  dir: string,
  png: Uint8Array,
): Promise<{ image: string; sha256: string }> {
  const sha256 = await sha256Hex(png), image = `images/${sha256}.png`;
  try {
    await Deno.stat(`${dir}/${image}`);
  } catch {
    await writeSynced(`${dir}/${image}`, png);
  }
  return { image, sha256 };
}

/** Write a file whole: into a uniquely named temporary file, synced, then renamed into place. */
async function writeSynced(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.partial`;
  const file = await Deno.open(tmp, { create: true, write: true, truncate: true });
  try {
    for (let at = 0; at < bytes.length;) at += await file.write(bytes.subarray(at));
    await file.syncData();
  } finally {
    file.close();
  }
  await Deno.rename(tmp, path);
}

async function fileSize(path: string): Promise<number> {
  return (await Deno.stat(path)).size;
}

/** Which top-level field of two sweep.json texts differs (for the refusal message). */
function difference(have: string, want: SweepHeader): string {
  let old: Record<string, unknown>;
  try {
    old = JSON.parse(have);
  } catch {
    return "its sweep.json is not valid JSON";
  }
  const fields = new Set([...Object.keys(old), ...Object.keys(want)]);
  const spec = (old.spec ?? {}) as Record<string, unknown>;
  const wantSpec = (want.spec ?? {}) as Record<string, unknown>;
  for (const k of Object.keys({ ...spec, ...wantSpec })) {
    if (JSON.stringify(spec[k]) !== JSON.stringify(wantSpec[k])) {
      return `spec field "${k}": ${JSON.stringify(spec[k])} there, ${
        JSON.stringify(wantSpec[k])
      } now`;
    }
  }
  for (const k of fields) {
    if (JSON.stringify(old[k]) !== JSON.stringify(want[k])) return `"${k}" differs`;
  }
  return "sweep.json differs in layout";
}
