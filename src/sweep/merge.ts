/**
 * Merging the shard folders of a sweep into one folder: the shards must have run the same spec
 * on the same models, and together hold every key of the spec exactly once. The merged folder
 * appears only when complete.
 *
 * @example
 * ```ts ignore
 * import { mergeSweeps } from "./merge.ts";
 * const { records } = await mergeSweeps("sweeps/demo", ["sweeps/demo-0", "sweeps/demo-1"]);
 * console.log(records, "records merged");
 * ```
 * @module
 */

import { RunFolder } from "../io/run_folder.ts";
import { exists } from "../io/fs.ts";
import { prepareSweep } from "./run.ts";
import { normalizeSpec, SpecError } from "./spec.ts";
import { recordLines, type SweepHeader } from "./store.ts";
import type { BackendChoice } from "../runtime/mod.ts";

async function readHeader(dir: string): Promise<SweepHeader> {
  try {
    return JSON.parse(await Deno.readTextFile(`${dir}/sweep.json`));
  } catch (e) {
    throw new SpecError(`${dir} is not a sweep folder: ${(e as Error).message}`);
  }
}

/**
 * Merge shard folders into a new sweep folder.
 * @param out the merged folder (must not exist)
 * @param shards the shard folders
 * @returns the number of records written
 * @throws SpecError when the shards differ in spec or models, a key is missing or repeated, or
 *   `out` exists; nothing is written then
 */
export async function mergeSweeps(out: string, shards: string[]): Promise<{ records: number }> {
  if (shards.length === 0) throw new SpecError("merge needs at least one shard folder");
  if (await exists(out)) throw new SpecError(`${out} exists; merge writes a new folder`);
  const headers = await Promise.all(shards.map(readHeader));
  const strip = ({ shard: _, ...rest }: SweepHeader) => rest;
  const first = JSON.stringify(strip(headers[0]));
  headers.forEach((h, j) => {
    if (JSON.stringify(strip(h)) !== first) {
      throw new SpecError(
        `${shards[j]} ran a different spec or models than ${shards[0]} (compare their sweep.json)`,
      );
    }
  });
  const base = strip(headers[0]);
  // The keys of the spec, from the models as they are now: they must be those the shards ran.
  const prepared = await prepareSweep(normalizeSpec(base.spec as Record<string, unknown>), {
    backend: (base.backend ?? "auto") as BackendChoice,
    threads: 1,
  });
  await prepared.host.release();
  if (JSON.stringify(prepared.header.models) !== JSON.stringify(base.models)) {
    throw new SpecError("the models differ from those the shards ran (compare sweep.json)");
  }
  const expected = new Set(prepared.groups.flatMap((g) => g.keys));
  const slash = out.lastIndexOf("/");
  const folder = await RunFolder.create(
    slash >= 0 ? out.slice(0, slash) || "/" : ".",
    out.slice(slash + 1),
  );
  try {
    await Deno.mkdir(`${folder.partial}/images`);
    const file = await Deno.open(`${folder.partial}/records.jsonl`, {
      create: true,
      write: true,
    });
    const seen = new Map<string, string>();
    const encoder = new TextEncoder();
    try {
      for (const dir of shards) {
        for await (const { line, end } of recordLines(`${dir}/records.jsonl`)) {
          let rec: { key?: unknown; image?: unknown };
          try {
            rec = JSON.parse(line);
          } catch {
            if (end < 0) break; // a torn last line: its search counts as missing
            throw new SpecError(`${dir}/records.jsonl has a line that is not a record`);
          }
          const key = String(rec.key);
          if (!expected.has(key)) throw new SpecError(`${dir} has "${key}", not a key of the spec`);
          if (seen.has(key)) {
            throw new SpecError(`"${key}" is in both ${seen.get(key)} and ${dir}`);
          }
          seen.set(key, dir);
          const image = String(rec.image);
          if (!(await exists(`${folder.partial}/${image}`))) {
            await Deno.copyFile(`${dir}/${image}`, `${folder.partial}/${image}`);
          }
          await file.write(encoder.encode(line + "\n"));
        }
      }
      await file.syncData();
    } finally {
      file.close();
    }
    const missing = [...expected].filter((k) => !seen.has(k));
    if (missing.length) {
      throw new SpecError(
        `${missing.length} of ${expected.size} searches are in no shard: ${
          missing.slice(0, 5).join(", ")
        }${missing.length > 5 ? ", ..." : ""}`,
      );
    }
    await folder.write("sweep.json", JSON.stringify(base, null, 1) + "\n");
    await folder.commit();
    return { records: seen.size };
  } catch (e) {
    await folder.discard();
    throw e;
  }
}
