/**
 * Reading sweep folders (written by `scripts/sweep.ts`): `sweep.json` (the spec and the model
 * hashes), `records.jsonl` (one record per finished search) and `images/`. Every problem that
 * would make an analysis wrong is refused with a {@link SweepError} naming the folder, the
 * problem and what would be valid: a missing folder, no records, a cut-off or unfinished
 * sweep, a record outside its spec, a missing image, or sweeps that cannot be combined
 * (another generator, grid or unit, another checkpoint under the same name, the same search
 * twice).
 *
 * @example
 * ```ts
 * import { readSweeps, SweepError } from "./sweep.ts";
 * try {
 *   await readSweeps(["/no/such/sweep"]);
 *   throw new Error("accepted");
 * } catch (e) {
 *   if (!(e instanceof SweepError)) throw e;
 * }
 * ```
 * @module
 */
import type { SweepRecord } from "../sweep/record.ts";
import type { SweepSpec } from "../sweep/spec.ts";

/** A finished search: one line of `records.jsonl` (see `src/sweep/record.ts`). */
export type { SweepRecord };

/** The normalized spec of a sweep (`sweep.json` "spec", see `src/sweep/spec.ts`). */
export type { SweepSpec };

/** A model the sweep ran. */
export interface SweepModel {
  source: string;
  sha256: string;
  epoch?: number | null;
  test_accuracy?: number | null;
}

/** `sweep.json`. */
export interface SweepInfo {
  format: "mei-sweep/1";
  spec: SweepSpec;
  models: { generator: SweepModel; targets: Record<string, SweepModel> };
  searches: number;
  /** The inference backend the records were computed on. */
  backend?: string;
  /** "i/N" in a shard's folder (not analysable before the merge). */
  shard?: string;
}

/** A record with the folder it came from (image paths resolve against it). */
export interface LoadedRecord extends SweepRecord {
  /** The sweep folder. */
  dir: string;
}

/** The sweeps of one analysis, combined. */
export interface Sweeps {
  /** Folder and `sweep.json` of each sweep, in the order given. */
  sweeps: { dir: string; info: SweepInfo }[];
  /** Every record of every sweep. */
  records: LoadedRecord[];
  /** Each target string's model (identical in every sweep that ran it). */
  targets: Record<string, SweepModel>;
}

/** A sweep folder that cannot be analysed (the message says why and what would be valid). */
export class SweepError extends Error {
  /** @param message what is wrong and what would be valid */
  constructor(message: string) {
    super(message);
    this.name = "SweepError";
  }
}

const NUMBER_FIELDS = [
  "neuron",
  "seed",
  "noise",
  "budget",
  "evaluations",
  "activation",
  "clean_activation",
] as const;

function checkRecord(r: SweepRecord, where: string, info: SweepInfo): void {
  const bad = (what: string) => {
    throw new SweepError(`${where}: ${what}`);
  };
  if (typeof r !== "object" || r === null || Array.isArray(r)) bad("not a JSON object");
  for (const f of ["key", "target", "arch", "layer", "method", "image"] as const) {
    if (typeof r[f] !== "string") bad(`"${f}" must be a string`);
  }
  for (const f of NUMBER_FIELDS) if (typeof r[f] !== "number") bad(`"${f}" must be a number`);
  for (const f of ["latent", "history", "curve"] as const) {
    if (!Array.isArray(r[f])) bad(`"${f}" must be an array`);
  }
  if (r.epoch !== null && typeof r.epoch !== "number") bad(`"epoch" must be a number or null`);
  if (r.class_probs !== null && !Array.isArray(r.class_probs)) {
    bad(`"class_probs" must be an array or null`);
  }
  const key = [r.target, r.layer, r.neuron, r.method, r.seed, r.noise].join("|");
  if (r.key !== key) bad(`"key" is "${r.key}" but its fields make "${key}"`);
  const s = info.spec;
  const outside = (what: string, value: unknown, valid: unknown[]) =>
    bad(
      `${what} ${JSON.stringify(value)} is not in the folder's sweep.json spec ` +
        `(${valid.map((v) => JSON.stringify(v)).join(", ")}): the record is from another sweep`,
    );
  if (!s.targets.includes(r.target)) outside("target", r.target, s.targets);
  if (!s.layers.includes(r.layer)) outside("layer", r.layer, s.layers);
  if (!s.methods.includes(r.method)) outside("method", r.method, s.methods);
  if (!s.seeds.includes(r.seed)) outside("seed", r.seed, s.seeds);
  if (!s.noise.includes(r.noise)) outside("noise", r.noise, s.noise);
  if (r.budget !== s.budget) outside("budget", r.budget, [s.budget]);
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new SweepError(`${what}: not found (${path})`);
    throw new SweepError(`${what}: cannot read ${path} (${(e as Error).message})`);
  }
}

const LAYOUT = "a sweep folder holds sweep.json, records.jsonl and images/ (scripts/sweep.ts)";

/**
 * Read one sweep folder and check it (see the module doc).
 * @param dir the folder
 * @returns its sweep.json and records
 * @throws SweepError naming the problem
 */
export async function readSweep(
  dir: string,
): Promise<{ info: SweepInfo; records: LoadedRecord[] }> {
  try {
    if (!(await Deno.stat(dir)).isDirectory) throw new SweepError(`${dir} is not a folder`);
  } catch (e) {
    if (e instanceof SweepError) throw e;
    throw new SweepError(`no sweep folder at ${dir}: ${LAYOUT}`);
  }
  const infoText = await readText(`${dir}/sweep.json`, `${dir} is not a sweep folder`);
  let info: SweepInfo;
  try {
    info = JSON.parse(infoText);
  } catch {
    throw new SweepError(`${dir}/sweep.json is not valid JSON: ${LAYOUT}`);
  }
  if (info?.format !== "mei-sweep/1" || typeof info.spec !== "object" || !info.models?.targets) {
    throw new SweepError(
      `${dir}/sweep.json is not a sweep description (expected "format": "mei-sweep/1" with ` +
        `"spec", "models" and "searches")`,
    );
  }
  const text = await readText(`${dir}/records.jsonl`, `${dir} has no records.jsonl`);
  if (text.trim() === "") {
    throw new SweepError(`${dir} has no finished searches yet (records.jsonl is empty)`);
  }
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  else {
    throw new SweepError(
      `${dir}/records.jsonl ends in a cut-off line (line ${lines.length}): the sweep was ` +
        `interrupted while writing; run scripts/sweep.ts on the folder again to finish it`,
    );
  }
  const records: LoadedRecord[] = [];
  const seen = new Set<string>();
  for (const [i, line] of lines.entries()) {
    const where = `${dir}/records.jsonl line ${i + 1}`;
    let r: SweepRecord;
    try {
      r = JSON.parse(line);
    } catch {
      throw new SweepError(`${where} is not valid JSON: each line must be one record`);
    }
    checkRecord(r, where, info);
    if (seen.has(r.key)) throw new SweepError(`${where}: search "${r.key}" is recorded twice`);
    seen.add(r.key);
    records.push({ ...r, dir });
  }
  const shard = info.shard;
  if (shard !== undefined) {
    throw new SweepError(
      `${dir} is shard ${shard} of a sweep: merge the shards (scripts/sweep.ts merge OUT ` +
        `SHARD_DIR...) and analyse the merged folder`,
    );
  }
  if (records.length < info.searches) {
    throw new SweepError(
      `${dir} is unfinished: ${records.length} of ${info.searches} searches have records; ` +
        `run scripts/sweep.ts on the folder again to finish it before analysing`,
    );
  }
  for (const r of records) {
    try {
      await Deno.stat(`${dir}/${r.image}`);
    } catch {
      throw new SweepError(`${dir}: the image of "${r.key}" is missing (${r.image})`);
    }
  }
  return { info, records };
}

/** Spec fields that every combined sweep must share (the same search space and units). */
const SHARED = ["generator", "grid", "grid_size", "range", "unit"] as const;

/**
 * Read sweep folders and combine them: they must share the generator, grid and unit kind,
 * a target name must mean the same checkpoint (same SHA-256) in each, and no search may be in
 * two of them.
 * @param dirs the sweep folders
 * @returns the combined records
 * @throws SweepError naming the folder and the problem
 */
export async function readSweeps(dirs: readonly string[]): Promise<Sweeps> {
  if (dirs.length === 0) throw new SweepError("no sweep folder given");
  const sweeps: Sweeps["sweeps"] = [];
  const records: LoadedRecord[] = [];
  const targets: Record<string, SweepModel & { dir: string }> = {};
  const owner = new Map<string, string>();
  for (const dir of dirs) {
    const { info, records: rs } = await readSweep(dir);
    const first = sweeps[0];
    if (first) {
      for (const f of SHARED) {
        const a = JSON.stringify(first.info.spec[f]), b = JSON.stringify(info.spec[f]);
        if (a !== b) {
          throw new SweepError(
            `${dir} and ${first.dir} are sweeps of different specs (${f} ${b} vs ${a}): ` +
              `only sweeps with the same generator, grid and unit can be analysed together`,
          );
        }
      }
      if (info.models.generator.sha256 !== first.info.models.generator.sha256) {
        throw new SweepError(
          `${dir} and ${first.dir} ran different generator files under the same name`,
        );
      }
    }
    for (const [name, m] of Object.entries(info.models.targets)) {
      const known = targets[name];
      if (known && known.sha256 !== m.sha256) {
        throw new SweepError(
          `target "${name}" is a different checkpoint in ${dir} and ${known.dir} ` +
            `(SHA-256 ${m.sha256.slice(0, 12)} vs ${known.sha256.slice(0, 12)})`,
        );
      }
      targets[name] = { ...m, dir };
    }
    for (const r of rs) {
      const other = owner.get(r.key);
      if (other !== undefined) {
        throw new SweepError(
          `search "${r.key}" is in both ${other} and ${dir}: analyse sweeps that overlap separately`,
        );
      }
      owner.set(r.key, dir);
    }
    sweeps.push({ dir, info });
    records.push(...rs);
  }
  const plain = Object.fromEntries(
    Object.entries(targets).map(([k, { dir: _, ...m }]) => [k, m]),
  );
  return { sweeps, records, targets: plain };
}
