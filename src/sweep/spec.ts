/**
 * The spec of a sweep: the product targets x layers x neurons x methods x seeds x noise levels,
 * with one generator, grid, budget and unit kind. This module reads a spec (from a JSON object
 * or flags), checks everything that can be checked without the networks, and names each search
 * by its key `target|layer|neuron|method|seed|noise`, from which the search's seeds are derived.
 *
 * @example
 * ```ts
 * import { keyOf, normalizeSpec, searchSeeds } from "./spec.ts";
 * const spec = normalizeSpec({ targets: ["sresnet18@8"], layers: ["sn1"], neurons: "0-1" });
 * const key = keyOf({ target: "sresnet18@8", layer: "sn1", neuron: 1, method: spec.methods[0], seed: 0, noise: 0 });
 * const { search, noise } = await searchSeeds(key);
 * if (search === noise) throw new Error();
 * ```
 * @module
 */

import { checkSettings, defaultSettings, type MeiSettings } from "../models/mei.ts";

/** A normalized sweep spec (as written to sweep.json). */
export interface SweepSpec {
  /** Shipped names with `@epoch` (or without: the last epoch) or .onnx paths. */
  targets: string[];
  layers: string[];
  /** Neuron list in the syntax of `scripts/mei.ts --neurons`. */
  neurons: string;
  methods: string[];
  seeds: number[];
  /** Multiplicative response noise levels (sigma). */
  noise: number[];
  generator: string;
  grid: "uniform" | "gaussian";
  grid_size: number;
  range: [number, number];
  /** Evaluations per search. */
  budget: number;
  unit: "channel" | "logit" | "probability";
}

/** The coordinates of one search. */
export interface SearchKey {
  target: string;
  layer: string;
  neuron: number;
  method: string;
  seed: number;
  noise: number;
}

/** Bad spec or flags: the message names the problem and what would be valid. */
export class SpecError extends Error {}

/** The fields of a spec, in the order of sweep.json (flags spell them with "-" for "_"). */
export const SPEC_FIELDS: readonly (keyof SweepSpec)[] = [
  "targets",
  "layers",
  "neurons",
  "methods",
  "seeds",
  "noise",
  "generator",
  "grid",
  "grid_size",
  "range",
  "budget",
  "unit",
];

function list<T>(value: unknown, field: string, item: (v: unknown) => T | undefined): T[] {
  const raw = typeof value === "string" ? value.split(",").map((s) => s.trim()) : value;
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new SpecError(`"${field}" must be a non-empty list, got ${JSON.stringify(value)}`);
  }
  const out = raw.map((v) => {
    const x = item(v);
    if (x === undefined) {
      throw new SpecError(`"${field}" has an invalid entry ${JSON.stringify(v)}`);
    }
    return x;
  });
  const seen = new Set(out.map((x) => JSON.stringify(x)));
  if (seen.size !== out.length) throw new SpecError(`"${field}" lists an entry twice`);
  return out;
}

const text = (v: unknown) => typeof v === "string" && v !== "" && !v.includes("|") ? v : undefined;
const number = (v: unknown) => {
  const x = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
  return typeof x === "number" && Number.isFinite(x) ? x : undefined;
};
const integer = (v: unknown) => {
  const x = number(v);
  return x !== undefined && Number.isSafeInteger(x) && x >= 0 ? x : undefined;
};

function scalar<T>(value: unknown, field: string, read: (v: unknown) => T | undefined): T {
  const x = read(value);
  if (x === undefined) throw new SpecError(`"${field}" is invalid: ${JSON.stringify(value)}`);
  return x;
}

/**
 * Check a spec and fill in the defaults of `scripts/mei.ts` (generator, grid, budget, unit,
 * method, seed, noise). Lists may be arrays or comma-separated strings.
 * @param input the spec as read from JSON or flags
 * @returns the normalized spec
 * @throws SpecError naming the bad field and what would be valid
 * @example
 * ```ts
 * import { normalizeSpec } from "./spec.ts";
 * const s = normalizeSpec({ targets: "scnn@6", layers: "sn1", neurons: "0-3", seeds: "0,1" });
 * if (s.seeds.join() !== "0,1" || s.grid_size !== 64) throw new Error();
 * ```
 */
export function normalizeSpec(input: Record<string, unknown>): SweepSpec {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new SpecError("a sweep spec must be a JSON object");
  }
  for (const k of Object.keys(input)) {
    if (!(SPEC_FIELDS as readonly string[]).includes(k)) {
      throw new SpecError(`unknown spec field "${k}"; valid fields: ${SPEC_FIELDS.join(", ")}`);
    }
  }
  for (const k of ["targets", "layers", "neurons"]) {
    if (input[k] === undefined) throw new SpecError(`the spec needs "${k}"`);
  }
  const d = defaultSettings;
  const range = input.range === undefined ? d.range : list(input.range, "range", number);
  if (range.length !== 2) throw new SpecError(`"range" must be two numbers [low, high]`);
  const neurons = input.neurons;
  if (typeof neurons !== "string" && typeof neurons !== "number") {
    throw new SpecError(`"neurons" must be a string such as "0-15", "1,5,9" or "all"`);
  }
  const unit = input.unit ?? "channel";
  if (unit !== "channel" && unit !== "logit" && unit !== "probability") {
    throw new SpecError(
      `"unit" must be channel, logit or probability (spatial units need a position, which a ` +
        `sweep does not take), got ${JSON.stringify(unit)}`,
    );
  }
  const spec: SweepSpec = {
    targets: list(input.targets, "targets", text),
    layers: list(input.layers, "layers", text),
    neurons: String(neurons),
    methods: list(input.methods ?? [d.method], "methods", text),
    seeds: list(input.seeds ?? [d.seed], "seeds", integer),
    noise: list(input.noise ?? [d.noise], "noise", number),
    generator: scalar(input.generator ?? d.generator, "generator", text),
    grid: scalar(input.grid ?? d.grid, "grid", text) as SweepSpec["grid"],
    grid_size: scalar(input.grid_size ?? d.gridSize, "grid_size", integer),
    range: range as [number, number],
    budget: scalar(input.budget ?? d.budget, "budget", integer),
    unit,
  };
  if (unit !== "channel" && spec.layers.join() !== "logits") {
    throw new SpecError(`class units (unit ${unit}) need layers ["logits"]`);
  }
  // The same checks as scripts/mei.ts, once per method and noise level.
  for (const method of spec.methods) {
    for (const noise of spec.noise) {
      try {
        checkSettings(settingsFor(spec, { ...firstKey(spec), method, noise }));
      } catch (e) {
        throw new SpecError((e as Error).message);
      }
    }
  }
  return spec;
}

function firstKey(spec: SweepSpec): SearchKey {
  return {
    target: spec.targets[0],
    layer: spec.layers[0],
    neuron: 0,
    method: spec.methods[0],
    seed: spec.seeds[0],
    noise: spec.noise[0],
  };
}

/**
 * The settings of `scripts/mei.ts` for one search of a sweep.
 * @param spec the sweep
 * @param key the search
 * @returns the settings (backend auto, not shared)
 */
export function settingsFor(spec: SweepSpec, key: SearchKey): MeiSettings {
  return {
    ...defaultSettings,
    generator: spec.generator,
    target: key.target,
    layer: key.layer,
    neurons: String(key.neuron),
    unit: spec.unit,
    method: key.method,
    budget: spec.budget,
    seed: key.seed,
    grid: spec.grid,
    gridSize: spec.grid_size,
    range: spec.range,
    noise: key.noise,
  };
}

/**
 * The key of a search: `target|layer|neuron|method|seed|noise`.
 * @param k the search
 * @returns the key
 * @example
 * ```ts
 * import { keyOf } from "./spec.ts";
 * const k = keyOf({ target: "scnn@6", layer: "sn1", neuron: 3, method: "tt", seed: 0, noise: 0.1 });
 * if (k !== "scnn@6|sn1|3|tt|0|0.1") throw new Error(k);
 * ```
 */
export function keyOf(k: SearchKey): string {
  return [k.target, k.layer, k.neuron, k.method, k.seed, k.noise].join("|");
}

async function hashSeed(text: string): Promise<number> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
  );
  // 48 bits: a safe integer, as the optimizers' generators take.
  return digest.slice(0, 6).reduce((a, b) => a * 256 + b, 0);
}

/**
 * The seeds of one search, derived from its key alone (SHA-256 of the key, first 48 bits): the
 * optimizer's seed and the seed of its response-noise stream.
 * @param key the search's key
 * @returns both seeds
 */
export async function searchSeeds(key: string): Promise<{ search: number; noise: number }> {
  return { search: await hashSeed(`search|${key}`), noise: await hashSeed(`noise|${key}`) };
}
