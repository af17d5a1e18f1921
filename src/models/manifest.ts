/**
 * The shipped models: `models/manifest.json` (written by `models/recipe/manifest.py`), lookup
 * of a model by name, epoch or path, and loading of its bytes with a hash check. Everything is
 * read with `fetch`, so the same code works from a checkout (file: URLs) and when the toolkit
 * is imported over HTTP.
 *
 * @example
 * ```ts
 * import { loadManifest, resolveModel } from "./manifest.ts";
 * const manifest = await loadManifest();
 * const target = resolveModel(manifest, "sresnet18", "target");
 * console.log(target.file, target.epoch);
 * ```
 * @module
 */

/** A layer of a target network, as the manifest lists it (shape with "B" for the batch). */
export interface LayerInfo {
  name: string;
  shape: (number | string)[];
}

/** One model of the manifest. */
export interface ModelEntry {
  file: string;
  sha256: string;
  bytes: number;
  kind: "target" | "generator";
  arch: string;
  dataset?: string;
  epoch?: number | null;
  test_accuracy?: number;
  T?: number;
  decay?: number;
  layers?: LayerInfo[];
  input?: { name: string; shape: (number | string)[]; dtype?: string; range?: number[] };
  command?: string;
  [key: string]: unknown;
}

/** The manifest with the URL of the folder its files are in. */
export interface Manifest {
  base: URL;
  models: ModelEntry[];
}

/** The folder of the shipped models, beside this module in the repository. */
export const defaultModelsUrl: URL = new URL("../../models/", import.meta.url);

async function fetchOk(url: URL, what: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new Error(`cannot read ${what} at ${url.href}: ${(e as Error).message}`);
  }
  if (!response.ok) throw new Error(`cannot read ${what} at ${url.href}: HTTP ${response.status}`);
  return response;
}

/**
 * Read the manifest of a models folder.
 * @param base the folder (default: the repository's `models/`)
 * @returns the manifest
 * @throws Error naming the file when it is missing or not valid JSON
 * @example
 * ```ts
 * import { loadManifest } from "./manifest.ts";
 * const m = await loadManifest();
 * if (!m.models.some((e) => e.kind === "target")) throw new Error();
 * ```
 */
export async function loadManifest(base: URL = defaultModelsUrl): Promise<Manifest> {
  const url = new URL("manifest.json", base);
  const text = await (await fetchOk(url, "the model manifest")).text();
  let json: { models?: ModelEntry[] };
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${url.href} is not valid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(json.models)) throw new Error(`${url.href} has no "models" list`);
  return { base, models: json.models };
}

/**
 * The name a shipped model goes by: its file name up to the first underscore (`sresnet18` for
 * `sresnet18_fmnist_e8.onnx`, `sresnet18t50` for `sresnet18t50_fmnist_e8.onnx`).
 * @param entry the model
 * @returns the name
 * @example
 * ```ts
 * import { shippedName } from "./manifest.ts";
 * const name = shippedName({ file: "vqvae_fmnist_decoder.onnx" } as never);
 * if (name !== "vqvae") throw new Error(name);
 * ```
 */
export function shippedName(entry: ModelEntry): string {
  return entry.file.split("_")[0];
}

/**
 * Find a shipped model: by file name (`sresnet18_fmnist_e10.onnx`), by name (`sresnet18`, see
 * `shippedName`: its last epoch), or by name and epoch (`sresnet18@4`).
 * @param manifest the manifest
 * @param spec the name
 * @param kind "target" or "generator"
 * @param epoch an epoch, overriding one given in `spec`
 * @returns the entry
 * @throws Error listing the valid names when nothing matches
 * @example
 * ```ts
 * import { loadManifest, resolveModel } from "./manifest.ts";
 * const m = await loadManifest();
 * const last = resolveModel(m, "sresnet18", "target"), first = resolveModel(m, "sresnet18@0", "target");
 * if (first.epoch !== 0 || !(last.epoch! > 0)) throw new Error();
 * ```
 */
export function resolveModel(
  manifest: Manifest,
  spec: string,
  kind: "target" | "generator",
  epoch?: number,
): ModelEntry {
  const [name, at] = spec.split("@");
  const wantEpoch = epoch ?? (at !== undefined ? Number(at) : undefined);
  const ofKind = manifest.models.filter((m) => m.kind === kind);
  const byFile = ofKind.find((m) => m.file === spec);
  if (byFile) return byFile;
  const candidates = ofKind.filter((m) => shippedName(m) === name);
  const pick = wantEpoch === undefined
    ? candidates.sort((a, b) => (b.epoch ?? 0) - (a.epoch ?? 0))[0]
    : candidates.find((m) => m.epoch === wantEpoch);
  if (!pick) {
    const names = [...new Set(ofKind.map(shippedName))];
    const epochs = candidates.map((m) => m.epoch).filter((e) => e !== null && e !== undefined);
    const detail = candidates.length && wantEpoch !== undefined
      ? `"${name}" has epochs ${epochs.join(", ")}`
      : `shipped ${kind}s: ${names.join(", ")} (or a path to an .onnx file)`;
    throw new Error(
      `no ${kind} "${spec}"${wantEpoch !== undefined ? ` at epoch ${wantEpoch}` : ""}; ${detail}`,
    );
  }
  return pick;
}

/**
 * The SHA-256 of bytes as hex.
 * @param bytes the data
 * @returns 64 hex digits
 * @example
 * ```ts
 * import { sha256Hex } from "./manifest.ts";
 * const h = await sha256Hex(new TextEncoder().encode("abc"));
 * if (!h.startsWith("ba7816bf")) throw new Error();
 * ```
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The bytes of a shipped model, checked against the manifest's hash.
 * @param manifest the manifest
 * @param entry the model
 * @returns the ONNX bytes
 * @throws Error when the file is missing or its hash differs (a corrupt or stale file)
 * @example
 * ```ts
 * import { loadManifest, loadModelBytes, resolveModel } from "./manifest.ts";
 * const m = await loadManifest();
 * const bytes = await loadModelBytes(m, resolveModel(m, "sresnet18@0", "target"));
 * if (bytes.length === 0) throw new Error();
 * ```
 */
export async function loadModelBytes(manifest: Manifest, entry: ModelEntry): Promise<Uint8Array> {
  const url = new URL(entry.file, manifest.base);
  const bytes = new Uint8Array(await (await fetchOk(url, `model ${entry.file}`)).arrayBuffer());
  const hash = await sha256Hex(bytes);
  if (hash !== entry.sha256) {
    throw new Error(
      `model ${url.href} is corrupt or stale: sha256 ${hash.slice(0, 12)}..., the manifest says ` +
        `${entry.sha256.slice(0, 12)}... (re-checkout models/ or rerun models/recipe/manifest.py)`,
    );
  }
  return bytes;
}
