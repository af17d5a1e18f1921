/**
 * The plan of a sweep: its searches in lockstep groups (the neurons of one target, layer,
 * method, seed and noise level, at most `LOCKSTEP` at a time), each group's cost, and the
 * split into shards balanced by cost. The plan depends only on the spec and the networks, so
 * every shard of an array job computes the same split without talking to the others.
 *
 * @example
 * ```ts
 * import { planGroups, shardOf } from "./plan.ts";
 * const spec = { targets: ["a"], layers: ["l"], methods: ["tt"], seeds: [0, 1], noise: [0] };
 * const groups = planGroups(spec, new Map([["a|l", [0, 1, 2]]]), new Map([["a|l", 10]]), 100);
 * const [s0, s1] = [shardOf(groups, 0, 2), shardOf(groups, 1, 2)];
 * if (s0.length + s1.length !== groups.length) throw new Error();
 * ```
 * @module
 */

import type { Group } from "./_search.ts";
import { keyOf, type SweepSpec } from "./spec.ts";

/** Neurons searched in lockstep at most at once (one batched network call per step). */
export const LOCKSTEP = 16;

/** A group with its keys (one per neuron) and its estimated cost. */
export interface PlannedGroup extends Group {
  keys: string[];
  cost: number;
}

/**
 * Every search of a spec, in lockstep groups, in spec order.
 * @param spec the lists of the sweep
 * @param neurons the neurons of each `target|layer`
 * @param cost relative cost of one evaluation on each `target|layer`
 * @param budget evaluations per search
 * @returns the groups
 */
export function planGroups(
  spec: Pick<SweepSpec, "targets" | "layers" | "methods" | "seeds" | "noise">,
  neurons: Map<string, number[]>,
  cost: Map<string, number>,
  budget: number,
): PlannedGroup[] {
  const out: PlannedGroup[] = [];
  for (const target of spec.targets) {
    for (const layer of spec.layers) {
      const all = neurons.get(`${target}|${layer}`)!, w = cost.get(`${target}|${layer}`)!;
      for (const method of spec.methods) {
        for (const seed of spec.seeds) {
          for (const noise of spec.noise) {
            for (let from = 0; from < all.length; from += LOCKSTEP) {
              const part = all.slice(from, from + LOCKSTEP);
              out.push({
                target,
                layer,
                method,
                seed,
                noise,
                neurons: part,
                keys: part.map((neuron) => keyOf({ target, layer, neuron, method, seed, noise })),
                cost: part.length * budget * w,
              });
            }
          }
        }
      }
    }
  }
  return out;
}

/**
 * The groups of shard `index` of `count`: groups are dealt, most costly first, to the shard with
 * the least cost so far (ties: the lower index), so shards differ by at most one group's cost.
 * @param groups every group of the sweep (from `planGroups`)
 * @param index the shard, 0-based
 * @param count the number of shards
 * @returns the shard's groups, in spec order
 */
export function shardOf(groups: PlannedGroup[], index: number, count: number): PlannedGroup[] {
  const load = new Array<number>(count).fill(0), owner = new Array<number>(groups.length);
  const order = groups.map((_, j) => j).sort((a, b) => groups[b].cost - groups[a].cost || a - b);
  for (const j of order) {
    let s = 0;
    for (let k = 1; k < count; k++) if (load[k] < load[s]) s = k;
    owner[j] = s;
    load[s] += groups[j].cost;
  }
  return groups.filter((_, j) => owner[j] === index);
}

/**
 * Parse a shard `i/N` (0 <= i < N).
 * @param text the shard as typed
 * @returns index and count
 * @throws RangeError naming what would be valid
 * @example
 * ```ts
 * import { parseShard } from "./plan.ts";
 * if (parseShard("1/4").count !== 4) throw new Error();
 * ```
 */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(m?.[1]), count = Number(m?.[2]);
  if (!m || !(count >= 1) || !(index < count)) {
    throw new RangeError(
      `shard must be i/N with 0 <= i < N (e.g. 0/4 ... 3/4), got "${text}"`,
    );
  }
  return { index, count };
}
