/**
 * The atlas's view of the records: models (archs) with their checkpoints and layers, the
 * searches of each neuron by checkpoint and method, and the query-efficiency curves of the
 * methods. Pure functions of the records (no files).
 *
 * @module
 */

import type { SweepRecord, TargetInfo } from "./read.ts";

/** A checkpoint of a model: one target of the sweeps. */
export interface Checkpoint {
  target: string;
  epoch: number | null;
  testAccuracy?: number;
  /** Page file stem of its layer pages ("e8", or a name from the target). */
  stem: string;
  /** Text shown for it ("epoch 8", or the target). */
  text: string;
}

/** A layer of a model with the neurons searched in it. */
export interface LayerView {
  name: string;
  /** Folder name of its pages. */
  dir: string;
  neurons: number[];
}

/** A model (arch) with its checkpoints and layers. */
export interface ArchView {
  name: string;
  dir: string;
  checkpoints: Checkpoint[];
  layers: LayerView[];
}

/** The searches of one neuron at one checkpoint with one method (all seeds). */
export interface Cell {
  /** The record shown: the highest noise-free activation over seeds. */
  best: SweepRecord;
  seeds: number;
}

/** Everything the pages are made from. */
export interface AtlasModel {
  archs: ArchView[];
  /** Methods in the order the sweep specs list them. */
  methods: string[];
  /** The noise level whose searches the neuron and layer pages show (the lowest). */
  noise: number;
  /** Cells by `cellKey`. */
  cells: Map<string, Cell>;
}

/**
 * The key of a cell.
 * @param arch model
 * @param layer layer name
 * @param neuron neuron index
 * @param target checkpoint target
 * @param method method
 * @returns the key
 */
export function cellKey(
  arch: string,
  layer: string,
  neuron: number,
  target: string,
  method: string,
): string {
  return [arch, layer, neuron, target, method].join("\u0000");
}

/** File-name-safe, distinct names for a set of strings. */
class Names {
  #used = new Set<string>();
  #given = new Map<string, string>();

  name(s: string): string {
    const known = this.#given.get(s);
    if (known !== undefined) return known;
    const base = s.replace(/[^A-Za-z0-9._@-]+/g, "_").replace(/^\.+/, "_").slice(0, 80) || "_";
    let out = base;
    for (let k = 2; this.#used.has(out.toLowerCase()); k++) out = `${base}-${k}`;
    this.#used.add(out.toLowerCase());
    this.#given.set(s, out);
    return out;
  }
}

const byEpoch = (a: Checkpoint, b: Checkpoint) =>
  (a.epoch ?? Infinity) - (b.epoch ?? Infinity) || a.target.localeCompare(b.target);

/**
 * Group records into models, checkpoints, layers and cells.
 * @param records the records (each key once)
 * @param targets checkpoint facts by target name (epoch, test accuracy)
 * @param specs the sweep specs (for the order of the methods)
 * @returns the model of the site
 */
export function atlasModel(
  records: SweepRecord[],
  targets: Map<string, TargetInfo>,
  specs: Record<string, unknown>[],
): AtlasModel {
  const noise = Math.min(...records.map((r) => r.noise));
  const listed = specs.flatMap((s) => (Array.isArray(s.methods) ? s.methods.map(String) : []));
  const methods = [...new Set([...listed, ...records.map((r) => r.method).sort()])]
    .filter((m) => records.some((r) => r.method === m));
  const archNames = new Names();
  const archs = new Map<string, ArchView & { layerNames: Names; stems: Names }>();
  const cells = new Map<string, Cell>();
  for (const r of records) {
    let arch = archs.get(r.arch);
    if (!arch) {
      arch = {
        name: r.arch,
        dir: archNames.name(r.arch),
        checkpoints: [],
        layers: [],
        layerNames: new Names(),
        stems: new Names(),
      };
      archs.set(r.arch, arch);
    }
    if (!arch.checkpoints.some((c) => c.target === r.target)) {
      arch.checkpoints.push({
        target: r.target,
        epoch: r.epoch,
        testAccuracy: targets.get(r.target)?.test_accuracy,
        stem: arch.stems.name(r.epoch === null ? `t-${r.target}` : `e${r.epoch}`),
        text: r.epoch === null ? r.target : `epoch ${r.epoch}`,
      });
    }
    let layer = arch.layers.find((l) => l.name === r.layer);
    if (!layer) {
      layer = { name: r.layer, dir: arch.layerNames.name(r.layer), neurons: [] };
      arch.layers.push(layer);
    }
    if (!layer.neurons.includes(r.neuron)) layer.neurons.push(r.neuron);
    if (r.noise !== noise) continue;
    const key = cellKey(r.arch, r.layer, r.neuron, r.target, r.method);
    const cell = cells.get(key);
    if (!cell) cells.set(key, { best: r, seeds: 1 });
    else {
      cell.seeds++;
      if (r.clean_activation > cell.best.clean_activation) cell.best = r;
    }
  }
  for (const a of archs.values()) {
    a.checkpoints.sort(byEpoch);
    for (const l of a.layers) l.neurons.sort((x, y) => x - y);
  }
  return {
    archs: [...archs.values()].map(({ name, dir, checkpoints, layers }) => ({
      name,
      dir,
      checkpoints,
      layers,
    })),
    methods,
    noise,
    cells,
  };
}

/**
 * The neuron's MEI at a checkpoint: the best cell over methods.
 * @param model the atlas model
 * @param arch model name
 * @param layer layer name
 * @param neuron neuron index
 * @param target checkpoint target
 * @returns the cell, or undefined when the neuron was not searched there
 */
export function bestCell(
  model: AtlasModel,
  arch: string,
  layer: string,
  neuron: number,
  target: string,
): Cell | undefined {
  let best: Cell | undefined;
  for (const m of model.methods) {
    const c = model.cells.get(cellKey(arch, layer, neuron, target, m));
    if (c && (!best || c.best.clean_activation > best.best.clean_activation)) best = c;
  }
  return best;
}

/**
 * A search's best so far at 1, 2, 5, 10, 20, 50, ... evaluations below its budget and at the
 * evaluations it spent, from its history of improvements.
 * @param r the record
 * @returns [evaluations, best so far] pairs (counts before the first improvement left out)
 */
export function bestSoFar(r: SweepRecord): [number, number][] {
  const at: number[] = [];
  for (let m = 1; m < r.evaluations; m *= 10) {
    for (const k of [1, 2, 5]) if (k * m < r.evaluations) at.push(k * m);
  }
  at.push(r.evaluations);
  const out: [number, number][] = [];
  let j = -1;
  for (const e of at) {
    while (j + 1 < r.history.length && r.history[j + 1][0] <= e) j++;
    if (j >= 0) out.push([e, r.history[j][1]]);
  }
  return out;
}

/** Quartiles of a sample (linear interpolation between order statistics). */
export function quartiles(values: number[]): [number, number, number] {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => {
    const i = p * (s.length - 1), lo = Math.floor(i), hi = Math.ceil(i);
    return s[lo] + (s[hi] - s[lo]) * (i - lo);
  };
  return [q(0.25), q(0.5), q(0.75)];
}

/** A method's query-efficiency curve at one noise level and budget. */
export interface Efficiency {
  method: string;
  noise: number;
  budget: number;
  /** Searches that entered the curve. */
  searches: number;
  /** Evaluation counts, and the lower quartile, median and upper quartile of the fraction. */
  x: number[];
  q1: number[];
  median: number[];
  q3: number[];
  /** Median evaluations to 90% of the search's own final best (`reached["90"]`). */
  evalsTo90: number;
}

/**
 * Query-efficiency curves: for every search, its best so far (`bestSoFar`) divided by the best
 * final value that any method reached on the same target, layer, neuron, seed and noise level; per
 * method, noise level and budget the quartiles over searches at each evaluation count of the
 * curves.
 * @param records the records
 * @returns one curve per method, noise level and budget (noise and budget rising, methods in
 *   first-seen order)
 */
export function efficiency(records: SweepRecord[]): Efficiency[] {
  const group = (r: SweepRecord) => [r.target, r.layer, r.neuron, r.seed, r.noise].join("\u0000");
  const reference = new Map<string, number>();
  for (const r of records) {
    reference.set(group(r), Math.max(reference.get(group(r)) ?? -Infinity, r.activation));
  }
  const out: Efficiency[] = [];
  const rising = (v: number[]) => [...new Set(v)].sort((a, b) => a - b);
  const methods = [...new Set(records.map((r) => r.method))];
  for (const noise of rising(records.map((r) => r.noise))) {
    for (const budget of rising(records.map((r) => r.budget))) {
      for (const method of methods) {
        const rs = records.filter((r) =>
          r.method === method && r.noise === noise && r.budget === budget
        );
        const usable = rs.filter((r) => (reference.get(group(r)) ?? 0) > 0);
        if (usable.length === 0) continue;
        const at = new Map<number, number[]>();
        for (const r of usable) {
          const ref = reference.get(group(r))!;
          for (const [e, v] of bestSoFar(r)) {
            if (!at.has(e)) at.set(e, []);
            at.get(e)!.push(v / ref);
          }
        }
        // Evaluation counts that every search reached (curves end early when a method stops).
        const xs = [...at.keys()].filter((e) => at.get(e)!.length === usable.length)
          .sort((a, b) => a - b);
        const qs = xs.map((e) => quartiles(at.get(e)!));
        const to90 = rs.map((r) => r.reached["90"]).filter((v) => typeof v === "number");
        out.push({
          method,
          noise,
          budget,
          searches: usable.length,
          x: xs,
          q1: qs.map((q) => q[0]),
          median: qs.map((q) => q[1]),
          q3: qs.map((q) => q[2]),
          evalsTo90: to90.length ? quartiles(to90)[1] : NaN,
        });
      }
    }
  }
  return out;
}
