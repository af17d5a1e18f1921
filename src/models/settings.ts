/**
 * The settings of an MEI run, parsed and checked in one place for every way they arrive:
 * command-line flags ({@link settingsFromFlags}), a `--replay` run.json
 * ({@link settingsFromReplay}) and objects from library calls, sweep specs or server requests
 * ({@link checkSettings}). A bad value gives one {@link SettingsError} that names the field, the
 * value it got and what is valid; unknown keys are refused. Nothing here opens a model, so every
 * refusal comes before any work.
 *
 * @example
 * ```ts
 * import { checkSettings, defaultSettings, settingsFromFlags } from "./settings.ts";
 * const s = settingsFromFlags({ budget: "500", neurons: "0-3" });
 * if (s.budget !== 500 || s.layer !== defaultSettings.layer) throw new Error();
 * try {
 *   checkSettings({ ...defaultSettings, budget: 0 });
 *   throw new Error("not refused");
 * } catch (e) {
 *   if (!(e as Error).message.startsWith("budget must be an integer")) throw e;
 * }
 * ```
 * @module
 */

import { checkParams, getMethod, methodNames } from "../optim/registry.ts";
import { BACKEND_NAMES, type BackendChoice, type Layout } from "../runtime/mod.ts";
import type { UnitKind } from "./pipeline.ts";
import { parseNeurons } from "./units.ts";
import "../optim/methods.ts";

/** Everything that defines a run (written to run.json; `--replay` reads it back). */
export interface MeiSettings {
  /** Shipped generator name (`sngan`, `vqvae`) or a path or URL of an .onnx file. */
  generator: string;
  /** Shipped target name (`sresnet18`, `scnn`, `cnn`, optionally `name@epoch`) or an .onnx path or URL. */
  target: string;
  /** Checkpoint epoch of a shipped target (default: the last). */
  epoch?: number;
  /** Layer (tensor) name; "logits" for class units. */
  layer: string;
  /** Neuron list: `12`, `1,5,9`, `0-15`, `all`. */
  neurons: string;
  unit: UnitKind;
  /** (y, x) of spatial units. */
  position?: [number, number];
  /** Optimizer registry name. */
  method: string;
  /** Method parameters. */
  params?: Record<string, unknown>;
  /** Evaluations per neuron. */
  budget: number;
  seed: number;
  /** Latent grid: uniform on `range` or standard-normal quantiles. */
  grid: "uniform" | "gaussian";
  gridSize: number;
  range: [number, number];
  backend: BackendChoice;
  /** Layout of the layer output (default auto). */
  layout?: Layout;
  threads?: number;
  /** Multiplicative response noise sigma (0: none). */
  noise: number;
  /** Tell each search the responses of its neuron to every image shown. */
  shared: boolean;
  /** Folder (path or URL) of the shipped models (default: the repository's models/). */
  modelsDir?: string;
}

/** Defaults of `scripts/mei.ts`: the trained spiking ResNet18, the SN-GAN, a mid-depth layer. */
export const defaultSettings: MeiSettings = {
  generator: "sngan",
  target: "sresnet18",
  layer: "layer2.1.sn2",
  neurons: "0",
  unit: "channel",
  method: "cma-diag",
  budget: 10000,
  seed: 0,
  // The spiking-network study searched 64 points per coordinate on [-4, 4].
  grid: "uniform",
  gridSize: 64,
  range: [-4, 4],
  backend: "auto",
  noise: 0,
  shared: false,
};

/** A setting that cannot be used; the message names it, what it got and what is valid. */
export class SettingsError extends Error {
  /** @param message the whole message, ready to print */
  constructor(message: string) {
    super(message);
    this.name = "SettingsError";
  }
}

/** Bounds of the numeric settings (also what `--help` and the messages quote). */
export const LIMITS = {
  /** Evaluations per neuron. */
  budget: [1, 1e9],
  /** Points per latent coordinate (a TT core holds n r^2 numbers per coordinate). */
  gridSize: [2, 4096],
  /** Inference threads. */
  threads: [1, 256],
  /** Checkpoint epochs. */
  epoch: [0, 1e6],
} as const;

const UNITS: readonly UnitKind[] = ["channel", "spatial", "logit", "probability"];
const GRIDS = ["uniform", "gaussian"] as const;
const LAYOUTS: readonly Layout[] = ["auto", "BCHW", "BF", "TBCHW", "TBF", "(TB)CHW", "(TB)F"];
const CLASS_UNITS: readonly UnitKind[] = ["logit", "probability"];

/** How one setting is read from text and checked. */
interface Field {
  /** The command-line flag. */
  flag: string;
  /** What is valid, as the messages say it. */
  valid: string;
  /** Whether a complete settings object must have it. */
  required: boolean;
  /** Text (a flag's value) to a value; undefined when the text cannot be read. */
  read(text: string): unknown;
  /** Whether a value is valid. */
  ok(v: unknown): boolean;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const readNumber = (t: string) => NUMBER.test(t.trim()) ? Number(t) : undefined;
const readPair = (t: string) => {
  const parts = t.split(",").map(readNumber);
  return parts.length === 2 && parts.every((x) => x !== undefined) ? parts : undefined;
};
const text = (t: string) => t;
const nonEmpty = (v: unknown) => typeof v === "string" && v.trim() !== "";
const integer = ([lo, hi]: readonly [number, number]) => (v: unknown) =>
  Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;
const oneOf = (list: readonly unknown[]) => (v: unknown) => list.includes(v);
const field = (
  flag: string,
  valid: string,
  ok: (v: unknown) => boolean,
  read: (t: string) => unknown = text,
  required = true,
): Field => ({ flag, valid, ok, read, required });
const optional = (f: Field): Field => ({ ...f, required: false });

const FIELDS: Record<keyof MeiSettings, Field> = {
  generator: field("--generator", "a shipped generator (sngan, vqvae) or an .onnx file", nonEmpty),
  target: field("--target", "a shipped target (e.g. sresnet18) or an .onnx file", nonEmpty),
  epoch: optional(
    field("--epoch", `an integer from 0 to ${LIMITS.epoch[1]}`, integer(LIMITS.epoch), readNumber),
  ),
  modelsDir: optional(field("--models-dir", "a folder path or URL", nonEmpty)),
  layer: field("--layer", "a tensor name of the target (--list-layers prints them)", nonEmpty),
  neurons: field(
    "--neurons",
    'a neuron list such as "12", "1,5,9", "0-15" or "all"',
    (v) => typeof v === "string" && neuronListError(v) === undefined,
  ),
  unit: field("--unit", UNITS.join(", "), oneOf(UNITS)),
  position: optional(
    field(
      "--position",
      'two integers >= 0 "y,x"',
      (v) => Array.isArray(v) && v.length === 2 && v.every(integer([0, 1e6])),
      readPair,
    ),
  ),
  method: field("--method", `one of ${methodNames().join(", ")}`, oneOf(methodNames())),
  params: optional(
    field(
      "--param",
      "KEY=VALUE pairs of the method's parameters",
      (v) => typeof v === "object" && v !== null && !Array.isArray(v),
    ),
  ),
  budget: field(
    "--budget",
    `an integer from ${LIMITS.budget[0]} to ${LIMITS.budget[1]}`,
    integer(LIMITS.budget),
    readNumber,
  ),
  seed: field(
    "--seed",
    "an integer from 0 to 2^53 - 1",
    (v) => Number.isSafeInteger(v) && (v as number) >= 0,
    readNumber,
  ),
  grid: field("--grid", GRIDS.join(" or "), oneOf(GRIDS)),
  gridSize: field(
    "--grid-size",
    `an integer from ${LIMITS.gridSize[0]} to ${LIMITS.gridSize[1]}`,
    integer(LIMITS.gridSize),
    readNumber,
  ),
  range: field(
    "--range",
    'two finite numbers "low,high" with low < high',
    (v) =>
      Array.isArray(v) && v.length === 2 && v.every(Number.isFinite) &&
      (v[0] as number) < (v[1] as number),
    readPair,
  ),
  backend: field(
    "--backend",
    `one of auto, ${BACKEND_NAMES.join(", ")}`,
    oneOf(["auto", ...BACKEND_NAMES]),
  ),
  layout: optional(field("--layout", LAYOUTS.join(", "), oneOf(LAYOUTS))),
  threads: optional(
    field(
      "--threads",
      `an integer from ${LIMITS.threads[0]} to ${LIMITS.threads[1]}`,
      integer(LIMITS.threads),
      readNumber,
    ),
  ),
  noise: field(
    "--noise",
    "a finite number >= 0",
    (v) => Number.isFinite(v) && (v as number) >= 0,
    readNumber,
  ),
  shared: field("--shared", "true or false", (v) => typeof v === "boolean"),
};

function neuronListError(spec: string): string | undefined {
  try {
    parseNeurons(spec);
  } catch (e) {
    return (e as Error).message;
  }
}

function show(v: unknown): string {
  if (typeof v === "string") return `"${v}"`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** How messages name a setting: by its flag (command line) or its key (objects). */
type Naming = "flag" | "key";

/**
 * Check a complete settings object (a library call, a replay, a sweep spec merged over the
 * defaults, a server request) and return a normalized copy: class units read the "logits"
 * layer (a layer other than the default one is refused with them).
 * @param input the settings
 * @param naming name fields by key (`gridSize`, default) or by flag (`--grid-size`)
 * @returns the checked settings
 * @throws {SettingsError} the first bad, missing or unknown field, with what is valid
 */
export function checkSettings(input: unknown, naming: Naming = "key"): MeiSettings {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new SettingsError(`settings must be an object, got ${show(input)}`);
  }
  const s = input as Record<string, unknown>;
  const name = (k: keyof MeiSettings) => naming === "flag" ? FIELDS[k].flag : k;
  for (const key of Object.keys(s)) {
    if (!(key in FIELDS)) {
      const keys = Object.keys(FIELDS).join(", ");
      throw new SettingsError(`unknown setting "${key}"; valid: ${keys}`);
    }
  }
  for (const [key, f] of Object.entries(FIELDS) as [keyof MeiSettings, Field][]) {
    const v = s[key];
    if (v === undefined && !f.required) continue;
    if (v === undefined) throw new SettingsError(`${name(key)} is missing; valid: ${f.valid}`);
    if (!f.ok(v)) {
      const detail = key === "neurons" && typeof v === "string" ? `: ${neuronListError(v)}` : "";
      throw new SettingsError(`${name(key)} must be ${f.valid}, got ${show(v)}${detail}`);
    }
  }
  const out = { ...s } as unknown as MeiSettings;
  if (out.unit === "spatial" && !out.position) {
    throw new SettingsError(
      `${name("unit")} spatial needs ${name("position")} (${FIELDS.position.valid})`,
    );
  }
  if (out.unit !== "spatial" && out.position) {
    throw new SettingsError(
      `${name("position")} applies only to ${name("unit")} spatial, not to ${show(out.unit)}`,
    );
  }
  if (CLASS_UNITS.includes(out.unit)) {
    if (out.layer !== "logits" && out.layer !== defaultSettings.layer) {
      throw new SettingsError(
        `${name("layer")} ${show(out.layer)} does not apply to ${name("unit")} ${out.unit}, ` +
          `which reads the target's "logits" output`,
      );
    }
    out.layer = "logits";
  }
  try {
    checkParams(getMethod(out.method), out.params);
  } catch (e) {
    throw new SettingsError((e as Error).message);
  }
  return out;
}

/** Command-line flags as `node:util` parseArgs returns them (strings, booleans, lists). */
export type Flags = Record<string, string | boolean | string[] | undefined>;

/**
 * Settings from command-line flags over a base (the defaults, or a replayed run).
 * @param flags flag values by flag name without dashes (`grid-size`, `param`: a list of KEY=VALUE)
 * @param base the settings the flags change (default {@link defaultSettings})
 * @returns the checked settings
 * @throws {SettingsError} naming the flag, the text it got and what is valid
 */
export function settingsFromFlags(flags: Flags, base: MeiSettings = defaultSettings): MeiSettings {
  const out: Record<string, unknown> = { ...base };
  for (const [key, f] of Object.entries(FIELDS) as [keyof MeiSettings, Field][]) {
    const given = flags[f.flag.slice(2)];
    if (given === undefined || key === "params") continue;
    if (typeof given === "boolean") {
      out[key] = given;
      continue;
    }
    const value = f.read(String(given));
    if (value === undefined) {
      throw new SettingsError(`${f.flag} must be ${f.valid}, got "${given}"`);
    }
    out[key] = value;
  }
  if (flags.param !== undefined) out.params = { ...base.params, ...readParams(flags.param) };
  return checkSettings(out, "flag");
}

/** `--param KEY=VALUE` texts to values: numbers, true/false, else the text. */
function readParams(list: string | boolean | string[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const p of Array.isArray(list) ? list : [String(list)]) {
    const m = /^([\w-]+)=(.+)$/.exec(p);
    if (!m) throw new SettingsError(`--param must be KEY=VALUE with a value, got "${p}"`);
    const raw = m[2];
    params[m[1]] = raw === "true" ? true : raw === "false" ? false : readNumber(raw) ?? raw;
  }
  return params;
}

/** A replayed run: its settings, and the backend it actually ran on. */
export interface Replay {
  settings: MeiSettings;
  /** The backend the run used (run.json `backend`), when recorded. */
  backend?: string;
}

/**
 * Read the settings of a run.json (for `--replay`).
 * @param json the parsed file
 * @returns the checked settings and the backend the run used
 * @throws {SettingsError} when it is not a run.json or a setting is bad or unknown
 */
export function settingsFromReplay(json: unknown): Replay {
  const record = json as { settings?: unknown; backend?: unknown } | null;
  if (typeof record !== "object" || record === null || !("settings" in record)) {
    throw new SettingsError(
      `it has no "settings" object (a run.json written by scripts/mei.ts has one)`,
    );
  }
  if (typeof record.settings !== "object" || record.settings === null) {
    throw new SettingsError(`"settings" must be an object, got ${show(record.settings)}`);
  }
  const settings = checkSettings(record.settings);
  const backend = typeof record.backend === "string" ? record.backend : undefined;
  return { settings, backend };
}
