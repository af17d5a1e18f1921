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
 * Parse a neuron list against the number of units of a layer.
 * @param spec the list as typed
 * @param count how many units the layer has
 * @param what how to name the layer in errors
 * @returns sorted distinct indices
 * @throws RangeError naming the bad part and the valid range
 * @example
 * ```ts
 * import { parseNeurons } from "./units.ts";
 * if (parseNeurons("all", 3).join() !== "0,1,2") throw new Error();
 * ```
 */
export function parseNeurons(spec: string, count: number, what = "the layer"): number[] {
  const valid = `valid: 0..${count - 1}, a list "1,5,9", a range "0-15" or "all"`;
  const text = spec.trim();
  if (text === "all") return Array.from({ length: count }, (_, j) => j);
  const out = new Set<number>();
  for (const part of text.split(",")) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new RangeError(`cannot read neuron "${part}" in "${spec}"; ${valid}`);
    const a = Number(m[1]), b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new RangeError(`neuron range "${part}" runs backwards; ${valid}`);
    if (b >= count) {
      throw new RangeError(`neuron ${b} is out of range: ${what} has ${count} units (${valid})`);
    }
    for (let j = a; j <= b; j++) out.add(j);
  }
  return [...out].sort((x, y) => x - y);
}
