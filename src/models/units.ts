/**
 * Parsing of neuron lists as users type them: one index (`12`), a list (`1,5,9`), a range
 * (`0-15`), combinations (`0-3,8`) or `all`.
 *
 * @example
 * ```ts
 * import { parseNeurons } from "./units.ts";
 * if (parseNeurons("0-3,8", 16).join() !== "0,1,2,3,8") throw new Error();
 * ```
 * @module
 */

/**
 * Parse a neuron list, against the number of units of a layer when it is known.
 * @param spec the list as typed
 * @param count how many units the layer has (default: unknown, only the syntax is checked)
 * @param what how to name the layer in errors
 * @returns sorted distinct indices (without a count: an empty list, the syntax checked)
 * @throws RangeError naming the bad part and what is valid (a neuron listed twice included)
 * @example
 * ```ts
 * import { parseNeurons } from "./units.ts";
 * if (parseNeurons("all", 3).join() !== "0,1,2") throw new Error();
 * ```
 */
export function parseNeurons(spec: string, count = Infinity, what = "the layer"): number[] {
  const range = Number.isFinite(count) ? `0..${count - 1}` : "indices from 0";
  const valid = `valid: ${range}, a list "1,5,9", a range "0-15" or "all"`;
  const text = spec.trim();
  if (text === "all") {
    return Number.isFinite(count) ? Array.from({ length: count }, (_, j) => j) : [];
  }
  const spans: [number, number][] = [];
  for (const part of text.split(",")) {
    const m = /^\s*(\d{1,9})\s*(?:-\s*(\d{1,9})\s*)?$/.exec(part);
    if (!m) throw new RangeError(`cannot read neuron "${part}" in "${spec}"; ${valid}`);
    const a = Number(m[1]), b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new RangeError(`neuron range "${part}" runs backwards; ${valid}`);
    if (b >= count) {
      throw new RangeError(`neuron ${b} is out of range: ${what} has ${count} units (${valid})`);
    }
    const twice = spans.find(([lo, hi]) => a <= hi && lo <= b);
    if (twice) {
      throw new RangeError(`neuron ${Math.max(a, twice[0])} is listed twice in "${spec}"`);
    }
    spans.push([a, b]);
  }
  if (!Number.isFinite(count)) return [];
  const out = spans.flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, j) => a + j));
  return out.sort((x, y) => x - y);
}
