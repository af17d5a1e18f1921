/**
 * What clients send, checked field by field: the settings of a new search and the responses
 * to stimuli. Every check throws an {@link HttpError} 400 naming the field and what would be
 * valid, so a request is either taken whole or refused before anything changes.
 *
 * @example
 * ```ts
 * import { parseResponses, parseSpec } from "./spec.ts";
 * import "../optim/methods.ts";
 * const spec = parseSpec({ generator: "sngan", method: "tt-b", budget: 100 });
 * if (spec.batchSize !== 25 || spec.gridSize !== 64) throw new Error();
 * const items = parseResponses({ responses: [{ id: "s0", values: [1, 2] }, { id: "s1", failed: true }] });
 * if (items[0].kind !== "value" || items[0].value !== 1.5 || items[0].trials !== 2) throw new Error();
 * ```
 * @module
 */

import { defaultSettings, LIMITS } from "../models/settings.ts";
import { getMethod } from "../optim/registry.ts";
import { HttpError } from "./errors.ts";

/** The settings of a search (the rig is the target, so there is none here). */
export interface SearchSpec {
  /** A label for people (optional). */
  name?: string;
  /** Generator name: a shipped one (`sngan`, `vqvae`) or one the server was started with. */
  generator: string;
  /** Optimizer registry name. */
  method: string;
  /** Method parameters. */
  params?: Record<string, unknown>;
  /** Stimuli whose responses count (failed trials are asked again and do not count). */
  budget: number;
  seed: number;
  /** Most stimuli per batch handed to the rig. */
  batchSize: number;
  /** Latent grid: uniform on `range` or standard-normal quantiles. */
  grid: "uniform" | "gaussian";
  gridSize: number;
  range: [number, number];
}

/** One stimulus's answer: the mean of `trials` measurements, or a failed (missing) trial. */
export type ResponseItem =
  | { id: string; kind: "value"; value: number; trials: number }
  | { id: string; kind: "failed" };

/** Largest budget of one search. */
export const MAX_BUDGET = 1_000_000;
/** Largest batch. */
export const MAX_BATCH = 1000;
/** Stimuli per batch when a search does not say. */
export const DEFAULT_BATCH = 25;
/** Stimulus ids: `s` and the stimulus's number in the search. */
export const STIMULUS_ID = /^s(0|[1-9]\d{0,6})$/;
const NAME = /^[\w .:@+=-]{1,80}$/;
const GENERATOR = /^[a-z][a-z0-9_-]{0,31}$/;

const bad = (message: string) => new HttpError(400, message);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function integer(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw bad(`${field} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function finite(v: unknown, field: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw bad(`${field} must be a finite number, got ${JSON.stringify(v) ?? String(v)}`);
  }
  return v;
}

function onlyKeys(o: Record<string, unknown>, keys: string[], what: string): void {
  for (const k of Object.keys(o)) {
    if (!keys.includes(k)) throw bad(`unknown field "${k}" in ${what}; valid: ${keys.join(", ")}`);
  }
}

/**
 * Check the body of "create a search" and fill in defaults (method parameters are checked
 * against the method once the generator's latent size is known).
 * @param body the parsed JSON body
 * @returns the settings
 * @throws HttpError 400 naming the bad field
 */
export function parseSpec(body: unknown): SearchSpec {
  if (!isObject(body)) throw bad("the body must be a JSON object with the search's settings");
  onlyKeys(body, [
    "name",
    "generator",
    "method",
    "params",
    "budget",
    "seed",
    "batchSize",
    "grid",
    "gridSize",
    "range",
  ], "a search");
  const { name, generator, method, params } = body;
  if (name !== undefined && (typeof name !== "string" || !NAME.test(name))) {
    throw bad("name must be 1-80 letters, digits, spaces or ._:@+=-");
  }
  if (typeof generator !== "string" || !GENERATOR.test(generator)) {
    throw bad(
      `generator must be a generator name such as "sngan", got ${JSON.stringify(generator)}`,
    );
  }
  if (typeof method !== "string") throw bad(`method must be a string, e.g. "tt-b"`);
  try {
    getMethod(method);
  } catch (e) {
    throw bad((e as Error).message);
  }
  if (params !== undefined && !isObject(params)) throw bad("params must be a JSON object");
  const grid = body.grid ?? "uniform";
  if (grid !== "uniform" && grid !== "gaussian") {
    throw bad(`grid must be "uniform" or "gaussian", got ${JSON.stringify(grid)}`);
  }
  const range = body.range ?? defaultSettings.range;
  if (!Array.isArray(range) || range.length !== 2) throw bad("range must be [low, high]");
  const [lo, hi] = [finite(range[0], "range[0]"), finite(range[1], "range[1]")];
  if (!(lo < hi)) throw bad(`range must have low < high, got [${lo}, ${hi}]`);
  return {
    ...(name === undefined ? {} : { name }),
    generator,
    method,
    ...(params === undefined ? {} : { params }),
    budget: integer(body.budget, "budget", 1, MAX_BUDGET),
    seed: integer(body.seed ?? 0, "seed", 0, 2 ** 31 - 1),
    batchSize: integer(body.batchSize ?? DEFAULT_BATCH, "batchSize", 1, MAX_BATCH),
    grid,
    gridSize: integer(body.gridSize ?? defaultSettings.gridSize, "gridSize", ...LIMITS.gridSize),
    range: [lo, hi],
  };
}

/**
 * Check the body of "responses": `{ responses: [{ id, value } | { id, value, trials } |
 * { id, values: [...] } | { id, failed: true }] }`; repeated measurements are averaged.
 * @param body the parsed JSON body
 * @returns one item per stimulus
 * @throws HttpError 400 naming the bad item
 */
export function parseResponses(body: unknown): ResponseItem[] {
  if (!isObject(body) || !Array.isArray(body.responses)) {
    throw bad('the body must be { "responses": [{ "id": "s0", "value": 1.5 }, ...] }');
  }
  onlyKeys(body, ["responses"], "the body");
  if (body.responses.length === 0) throw bad("responses is empty");
  if (body.responses.length > MAX_BATCH) {
    throw bad(`at most ${MAX_BATCH} responses per request, got ${body.responses.length}`);
  }
  const seen = new Set<string>();
  return body.responses.map((r: unknown, j: number): ResponseItem => {
    const at = `responses[${j}]`;
    if (!isObject(r)) throw bad(`${at} must be an object { "id", "value" }`);
    onlyKeys(r, ["id", "value", "values", "trials", "failed"], at);
    const { id } = r;
    if (typeof id !== "string" || !STIMULUS_ID.test(id)) {
      throw bad(`${at}.id must be a stimulus id such as "s12", got ${JSON.stringify(id)}`);
    }
    if (seen.has(id)) throw bad(`${at}: stimulus ${id} is answered twice in one request`);
    seen.add(id);
    const given = ["value", "values", "failed"].filter((k) => r[k] !== undefined);
    if (given.length !== 1) {
      throw bad(`${at} needs exactly one of "value", "values" or "failed", got ${given.length}`);
    }
    if (r.failed !== undefined) {
      if (r.failed !== true || r.trials !== undefined) {
        throw bad(`${at}.failed must be true (and comes without trials)`);
      }
      return { id, kind: "failed" };
    }
    if (r.values !== undefined) {
      if (!Array.isArray(r.values) || r.values.length < 1 || r.values.length > 10000) {
        throw bad(`${at}.values must be an array of 1 to 10000 measurements`);
      }
      if (r.trials !== undefined) throw bad(`${at}: trials comes with "value", not "values"`);
      const v = r.values.map((x, k) => finite(x, `${at}.values[${k}]`));
      return {
        id,
        kind: "value",
        value: v.reduce((a, b) => a + b, 0) / v.length,
        trials: v.length,
      };
    }
    return {
      id,
      kind: "value",
      value: finite(r.value, `${at}.value`),
      trials: r.trials === undefined ? 1 : integer(r.trials, `${at}.trials`, 1, 1_000_000),
    };
  });
}
