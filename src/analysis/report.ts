/**
 * The study's report from sweep records (docs/study.md): per neuron its selectivity over the
 * checkpoints and its natural-image control, per layer and checkpoint the aggregates with 95%
 * bootstrap intervals (resampling neurons), per method the query efficiency, and the figures
 * with their CSVs (`figures.ts`). `scripts/analysis.ts` writes the result as a report folder.
 *
 * @example
 * ```ts ignore
 * import { readSweeps } from "./sweep.ts";
 * import { analyse } from "./report.ts";
 * const report = await analyse(await readSweeps(["runs/sweep"]), { isRate: () => true });
 * console.log(report.summary.layers[0]);
 * ```
 * @module
 */

import type { ImageSet } from "../data/idx.ts";
import { encodePng, tensorToRaster } from "../io/image.ts";
import type { SessionLike } from "../models/pipeline.ts";
import { type Complexity, imageComplexity } from "./complexity.ts";
import { methodDistances } from "./diversity.ts";
import { type MethodSummary, queryEfficiency } from "./efficiency.ts";
import { figures } from "./figures.ts";
import { cachedScan, type NaturalImage } from "./natural.ts";
import {
  checkpointOf,
  type CheckpointVerdict,
  CONFIDENT,
  isTensorTrain,
  type Label,
  type NeuronSelectivity,
  selectivity,
  STRONG,
} from "./selectivity.ts";
import { estimate, mean, median } from "./stats.ts";
import type { Sweeps } from "./sweep.ts";
import { groupBy } from "./_group.ts";

/** Where the natural images come from, and how to run a target over them. */
export interface NaturalSource {
  /** Short name of the image set, used in file names ("fmnist"). */
  name: string;
  /** The images (the test split). */
  set: ImageSet;
  /** Cache folder of the scans. */
  cacheDir: string;
  /** Open a session of a target (by its sweep name) that returns the given layers. */
  open: (
    target: string,
    layers: string[],
  ) => Promise<SessionLike & { release?(): Promise<void> }>;
}

/** Options of {@link analyse}. */
export interface AnalysisOptions {
  /** Whether an architecture's activations are firing rates (maximum possible 1); else the
   * largest MEI activation of the layer in the sweeps is the maximum. */
  isRate: (arch: string) => boolean;
  /** The natural-image control (left out when absent). */
  natural?: NaturalSource;
  /** Bootstrap seed (default 0). */
  seed?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** Natural-image control of one neuron at one checkpoint. */
export interface NeuronNatural {
  top: { index: number; activation: number; image: string }[];
  best: number;
  /** MEI activation / best natural activation (null when the best is 0). */
  ratio: number | null;
}

/** An entry of neurons.json. */
export interface NeuronEntry {
  arch: string;
  layer: string;
  neuron: number;
  label: Label;
  selective_class_by_epoch: Record<string, number | null>;
  first_strong_epoch: number | null;
  /** The MEI activation (best clean activation over methods) per checkpoint. */
  activation_by_epoch: Record<string, number>;
  natural: Record<string, NeuronNatural>;
}

type Ci = [number, number];

/** A row of summary.json "layers": one layer at one checkpoint. */
export interface LayerRow {
  arch: string;
  layer: string;
  epoch: number | null;
  checkpoint: string;
  test_accuracy: number | null;
  neurons: number;
  fraction_strong: number;
  fraction_strong_ci: Ci;
  fraction_selective: number;
  fraction_selective_ci: Ci;
  median_activation: number;
  median_activation_ci: Ci;
  median_entropy: number | null;
  median_entropy_ci: Ci | null;
  median_ratio: number | null;
  median_ratio_ci: Ci | null;
  euclidean: number | null;
  euclidean_ci: Ci | null;
  cosine: number | null;
  cosine_ci: Ci | null;
  jpeg_ratio: number;
  jpeg_ratio_ci: Ci;
  deflate_ratio: number;
  deflate_ratio_ci: Ci;
  stable: number;
  labile: number;
  non_selective: number;
}

/** summary.json. */
export interface Summary {
  format: "mei-analysis/1";
  sweeps: { dir: string; searches: number }[];
  records: number;
  criteria: {
    strong: number;
    confident: number;
    tensor_train_methods: string[];
    rate_archs: string[];
  };
  bootstrap: { seed: number; resamples: number; level: number; resampled: "neurons" };
  layers: LayerRow[];
  first_strong: {
    arch: string;
    layer: string;
    neurons: number;
    never: number;
    median_first_strong_epoch: number | null;
    ci: [number | null, number | null];
  }[];
  labels: {
    arch: string;
    layer: string;
    neurons: number;
    non_selective: number;
    stable: number;
    labile: number;
    fraction_labile: number;
    fraction_labile_ci: Ci;
  }[];
  methods: MethodSummary[];
  natural: {
    dataset: string;
    images: number;
    k: number;
    scans: {
      target: string;
      layers: string[];
      cached: string[];
      images: number;
      seconds: number;
      images_per_second: number | null;
    }[];
  } | { skipped: string };
  figures: string[];
  figures_skipped: { figure: string; reason: string }[];
}

/** A finished analysis: summary.json, neurons.json and every other file of the report. */
export interface Analysis {
  summary: Summary;
  neurons: NeuronEntry[];
  /** Files by relative path (figures, CSVs, natural images). */
  files: Map<string, string | Uint8Array>;
}

/** Per-neuron values of one layer at one checkpoint, gathered for the aggregates. */
interface LayerCell {
  arch: string;
  layer: string;
  checkpoint: string;
  epoch: number | null;
  verdicts: CheckpointVerdict[];
  ratios: (number | null)[];
  /** Mean distances per neuron (neurons with two methods or more). */
  euclidean: number[];
  cosine: number[];
  /** Per neuron, the complexities of its noise-free MEIs. */
  jpeg: number[][];
  deflate: number[][];
}

const K = 9;
const nullable = (v: number): number | null => (Number.isFinite(v) ? v : null);
const ciOrNull = (c: Ci): Ci | null => (Number.isFinite(c[0]) ? c : null);

/**
 * Analyse sweeps (see the module doc).
 * @param sweeps the records, from `readSweeps`
 * @param options maximum activation rule, natural-image source, bootstrap seed, progress
 * @returns summary, neurons and files of the report
 */
export async function analyse(sweeps: Sweeps, options: AnalysisOptions): Promise<Analysis> {
  const seed = options.seed ?? 0, log = options.log ?? (() => {});
  const records = sweeps.records;
  const clean = records.filter((r) => r.noise === 0);
  const layerMax = new Map<string, number>();
  for (const r of clean) {
    const k = `${r.arch}|${r.layer}`;
    layerMax.set(k, Math.max(layerMax.get(k) ?? -Infinity, r.clean_activation));
  }
  const maxActivation = (arch: string, layer: string) =>
    options.isRate(arch) ? 1 : layerMax.get(`${arch}|${layer}`)!;
  // Neurons in depth order: architectures as they appear, layers as the specs list them.
  const archOrder = [...new Set(records.map((r) => r.arch))];
  const layerOrder = [...new Set(sweeps.sweeps.flatMap((s) => s.info.spec.layers))];
  const neurons = selectivity(records, maxActivation).sort((a, b) =>
    archOrder.indexOf(a.arch) - archOrder.indexOf(b.arch) ||
    layerOrder.indexOf(a.layer) - layerOrder.indexOf(b.layer) || a.neuron - b.neuron
  );

  log(`complexity of ${clean.length} MEIs`);
  const complexity = new Map<string, Complexity>();
  for (const r of clean) {
    if (!complexity.has(r.image_sha256)) {
      complexity.set(
        r.image_sha256,
        await imageComplexity(await Deno.readFile(`${r.dir}/${r.image}`)),
      );
    }
  }
  const distances = new Map(
    methodDistances(records).map((d) => [`${d.arch}|${d.layer}|${d.neuron}|${d.checkpoint}`, d]),
  );

  // The natural-image control, one scan per target over the layers it was searched on.
  const natural = new Map<string, NaturalImage[]>(); // target|layer|neuron -> top
  const files = new Map<string, string | Uint8Array>();
  let naturalSummary: Summary["natural"];
  const unit = sweeps.sweeps[0].info.spec.unit;
  if (!options.natural) naturalSummary = { skipped: "no image set given (--no-natural)" };
  else if (unit !== "channel") {
    naturalSummary = {
      skipped: `the natural control scores channel units; this sweep has ${unit}`,
    };
  } else {
    const src = options.natural;
    const scans: Extract<Summary["natural"], { scans: unknown }>["scans"] = [];
    for (const [target, rs] of groupBy(clean, (r) => r.target)) {
      const layers = [...new Set(rs.map((r) => r.layer))];
      log(`natural images: ${target} over ${src.set.shape[0]} images, ${layers.length} layers`);
      const scan = await cachedScan(
        (ls) => src.open(target, ls),
        src.set,
        layers,
        { sha256: sweeps.targets[target].sha256, dataset: src.name, k: K },
        src.cacheDir,
      );
      for (const layer of layers) {
        scan.top[layer].forEach((top, c) => natural.set(`${target}|${layer}|${c}`, top));
      }
      scans.push({
        target,
        layers,
        cached: scan.cached,
        images: scan.images,
        seconds: scan.seconds,
        images_per_second: scan.seconds > 0 ? scan.images / scan.seconds : null,
      });
    }
    naturalSummary = { dataset: src.name, images: src.set.shape[0], k: K, scans };
  }

  const imageName = (index: number) => `natural/${options.natural!.name}_${index}.png`;
  const targetOf = new Map(clean.map((r) => [`${r.arch}|${checkpointOf(r)}`, r.target]));
  const entries: NeuronEntry[] = [];
  const ratioOf = new Map<string, number | null>();
  for (const n of neurons) {
    const entry: NeuronEntry = {
      arch: n.arch,
      layer: n.layer,
      neuron: n.neuron,
      label: n.label,
      selective_class_by_epoch: {},
      first_strong_epoch: n.firstStrongEpoch,
      activation_by_epoch: {},
      natural: {},
    };
    for (const v of n.checkpoints) {
      entry.selective_class_by_epoch[v.checkpoint] = v.selectiveClass;
      entry.activation_by_epoch[v.checkpoint] = v.activation;
      const target = targetOf.get(`${n.arch}|${v.checkpoint}`);
      const top = natural.get(`${target}|${n.layer}|${n.neuron}`);
      if (!top) continue;
      const best = top[0].activation;
      const ratio = best > 0 ? v.activation / best : null;
      ratioOf.set(`${n.arch}|${n.layer}|${n.neuron}|${v.checkpoint}`, ratio);
      entry.natural[v.checkpoint] = {
        top: top.map((t) => ({ ...t, image: imageName(t.index) })),
        best,
        ratio,
      };
      for (const t of top) {
        const name = imageName(t.index);
        if (files.has(name)) continue;
        const [, c, h, w] = options.natural!.set.shape, per = c * h * w;
        const pixels = options.natural!.set.images.subarray(t.index * per, (t.index + 1) * per);
        files.set(name, await encodePng(tensorToRaster(pixels, [c, h, w])));
      }
    }
    entries.push(entry);
  }

  // Per layer and checkpoint.
  const cells: LayerCell[] = [];
  const byNeuronCheckpoint = groupBy(
    clean,
    (r) => `${r.arch}|${r.layer}|${r.neuron}|${checkpointOf(r)}`,
  );
  for (
    const group of groupBy(
      neurons.flatMap((n) => n.checkpoints.map((v) => ({ n, v }))),
      ({ n, v }) => `${n.arch}|${n.layer}|${v.checkpoint}`,
    ).values()
  ) {
    const { n: n0, v: v0 } = group[0];
    const cell: LayerCell = {
      arch: n0.arch,
      layer: n0.layer,
      checkpoint: v0.checkpoint,
      epoch: v0.epoch,
      verdicts: group.map((g) => g.v),
      ratios: [],
      euclidean: [],
      cosine: [],
      jpeg: [],
      deflate: [],
    };
    for (const { n, v } of group) {
      const key = `${n.arch}|${n.layer}|${n.neuron}|${v.checkpoint}`;
      cell.ratios.push(ratioOf.get(key) ?? null);
      const d = distances.get(key);
      if (d && Number.isFinite(d.euclidean)) cell.euclidean.push(d.euclidean);
      if (d && Number.isFinite(d.cosine)) cell.cosine.push(d.cosine);
      const cs = byNeuronCheckpoint.get(key)!.map((r) => complexity.get(r.image_sha256)!);
      cell.jpeg.push(cs.map((c) => c.jpegRatio));
      cell.deflate.push(cs.map((c) => c.deflateRatio));
    }
    cells.push(cell);
  }
  const labelsBy = groupBy(neurons, (n) => `${n.arch}|${n.layer}`);
  const count = (ns: NeuronSelectivity[], l: Label) => ns.filter((n) => n.label === l).length;
  const layers: LayerRow[] = cells.map((c) => {
    const one = (f: (v: CheckpointVerdict) => number) => c.verdicts.map((v) => [f(v)]);
    const strong = estimate(one((v) => Number(v.strong)), mean, seed);
    const selective = estimate(one((v) => Number(v.selectiveClass !== null)), mean, seed);
    const act = estimate(one((v) => v.activation), median, seed);
    const ent = estimate(
      c.verdicts.filter((v) => Number.isFinite(v.entropy)).map((v) => [v.entropy]),
      median,
      seed,
    );
    const ratio = estimate(
      c.ratios.filter((r): r is number => r !== null).map((r) => [r]),
      median,
      seed,
    );
    const eu = estimate(c.euclidean.map((v) => [v]), median, seed);
    const co = estimate(c.cosine.map((v) => [v]), median, seed);
    const jpeg = estimate(c.jpeg, median, seed), deflate = estimate(c.deflate, median, seed);
    const ns = labelsBy.get(`${c.arch}|${c.layer}`)!;
    const target = targetOf.get(`${c.arch}|${c.checkpoint}`)!;
    return {
      arch: c.arch,
      layer: c.layer,
      epoch: c.epoch,
      checkpoint: c.checkpoint,
      test_accuracy: sweeps.targets[target]?.test_accuracy ?? null,
      neurons: c.verdicts.length,
      fraction_strong: strong.value,
      fraction_strong_ci: strong.ci,
      fraction_selective: selective.value,
      fraction_selective_ci: selective.ci,
      median_activation: act.value,
      median_activation_ci: act.ci,
      median_entropy: nullable(ent.value),
      median_entropy_ci: ciOrNull(ent.ci),
      median_ratio: nullable(ratio.value),
      median_ratio_ci: ciOrNull(ratio.ci),
      euclidean: nullable(eu.value),
      euclidean_ci: ciOrNull(eu.ci),
      cosine: nullable(co.value),
      cosine_ci: ciOrNull(co.ci),
      jpeg_ratio: jpeg.value,
      jpeg_ratio_ci: jpeg.ci,
      deflate_ratio: deflate.value,
      deflate_ratio_ci: deflate.ci,
      stable: count(ns, "stable"),
      labile: count(ns, "labile"),
      non_selective: count(ns, "non-selective"),
    };
  });
  const firstStrong = [...labelsBy.values()].map((ns) => {
    const epochs = ns.map((n) => n.firstStrongEpoch ?? Infinity);
    const e = estimate(epochs.map((v) => [v]), median, seed);
    return {
      arch: ns[0].arch,
      layer: ns[0].layer,
      neurons: ns.length,
      never: epochs.filter((v) => v === Infinity).length,
      median_first_strong_epoch: nullable(e.value),
      ci: [nullable(e.ci[0]), nullable(e.ci[1])] as [number | null, number | null],
    };
  });
  const labels = [...labelsBy.values()].map((ns) => {
    const labile = estimate(ns.map((n) => [Number(n.label === "labile")]), mean, seed);
    return {
      arch: ns[0].arch,
      layer: ns[0].layer,
      neurons: ns.length,
      non_selective: count(ns, "non-selective"),
      stable: count(ns, "stable"),
      labile: count(ns, "labile"),
      fraction_labile: labile.value,
      fraction_labile_ci: labile.ci,
    };
  });
  const efficiency = queryEfficiency(records, seed);
  const figs = await figures({
    records,
    neurons,
    rows: layers,
    firstStrong,
    efficiency,
    sweeps,
  });
  for (const [name, data] of figs.files) files.set(name, data);
  const summary: Summary = {
    format: "mei-analysis/1",
    sweeps: sweeps.sweeps.map((s) => ({ dir: s.dir, searches: s.info.searches })),
    records: records.length,
    criteria: {
      strong: STRONG,
      confident: CONFIDENT,
      tensor_train_methods: [...new Set(records.map((r) => r.method))].filter(isTensorTrain),
      rate_archs: [...new Set(records.map((r) => r.arch))].filter(options.isRate),
    },
    bootstrap: { seed, resamples: 2000, level: 0.95, resampled: "neurons" },
    layers,
    first_strong: firstStrong,
    labels,
    methods: efficiency.methods,
    natural: naturalSummary,
    figures: figs.written,
    figures_skipped: figs.skipped,
  };
  return { summary, neurons: entries, files };
}
