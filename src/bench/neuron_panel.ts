/**
 * The neuron benchmark panel (`docs/tensor_train.md`, "The neuron panel"): MEI searches on
 * channels of a shipped spiking ResNet, all neurons of a layer in lockstep, through a memo of
 * the network (a point asked again, which collapsed distributions do often, is not run again:
 * the networks are deterministic), and the statistics the panel prints: medians of ratios to
 * a reference method with percentile-bootstrap intervals, and evaluations to reach a value.
 *
 * @example
 * ```ts
 * import { bootstrapMedian, evaluationsToReach } from "./neuron_panel.ts";
 * const h = [{ evaluations: 1, value: 0.2 }, { evaluations: 40, value: 0.5 }];
 * if (evaluationsToReach(h, 0.4, 100) !== 40 || evaluationsToReach(h, 0.6, 100) !== 100) {
 *   throw new Error();
 * }
 * const { median } = bootstrapMedian([1, 2, 3], 100, 0);
 * if (median !== 2) throw new Error();
 * ```
 * @module
 */

import { Rng } from "../core/rng.ts";
import { openModel } from "../models/mei.ts";
import { Pipeline } from "../models/pipeline.ts";
import { optimizeLockstep } from "../optim/lockstep.ts";
import type { HistoryEntry, OptimizeOptions } from "../optim/optimize.ts";
import { getMethod, resolveParams, resolveSpace } from "../optim/registry.ts";
import { type BackendChoice, openSession } from "../runtime/mod.ts";
import { gridValues } from "../space/grids.ts";
import { quantile } from "./compare.ts";

/** A generator and its latent grid. */
export interface PanelConfig {
  generator: "sngan" | "vqvae";
  /** Latent grid of a continuous generator (the study's 64 points on [-4, 4], or quantiles). */
  grid?: "uniform" | "gaussian";
}

/** The panel's generator/grid configurations by name. */
export const PANEL_CONFIGS: Record<string, PanelConfig> = {
  "sngan-uniform": { generator: "sngan", grid: "uniform" },
  "sngan-gaussian": { generator: "sngan", grid: "gaussian" },
  "vqvae": { generator: "vqvae" },
};

/** The per-coordinate weights of the standard-normal prior on a grid's values (sum 1). */
function priorWeights(values: Float64Array): number[] {
  const w = Array.from(values, (x) => Math.exp(-x * x / 2));
  const z = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / z);
}

/** One layer's neurons behind one generator, ready to be searched. */
export interface PanelNetwork {
  /** The search space of the latent grid. */
  space: { d: number; n: number };
  /** Number of neurons (one search each). */
  units: number;
  /**
   * The generator's prior as weights over one coordinate's grid values (continuous generators:
   * the standard normal at the grid values; absent for code grids, whose prior is unknown).
   */
  prior?: number[];
  /** Activations of the neurons for a batch: `values[b * units + u]`. */
  evaluate(batch: Int32Array[]): Promise<Float64Array>;
  /** Network images run so far, and points answered from the memo. */
  counts: { run: number; memo: number };
  /** Forget the memo (between runs, to bound memory). */
  clear(): void;
}

/**
 * Open a generator and a target cut at a layer, for the given channels.
 * @param target shipped target name (`sresnet18`, `sresnet18t50`)
 * @param config generator and grid
 * @param layer layer name
 * @param neurons channel indices
 * @param backend inference backend
 * @returns the network with its memo
 */
export async function openPanelNetwork(
  target: string,
  config: PanelConfig,
  layer: string,
  neurons: number[],
  backend: BackendChoice = "auto",
): Promise<PanelNetwork> {
  const [gen, tgt] = await Promise.all([
    openModel(config.generator, "generator", undefined, undefined),
    openModel(target, "target", undefined, undefined),
  ]);
  const generator = await openSession(gen.bytes, { backend });
  const session = await openSession(tgt.bytes, { backend, outputs: [layer] });
  const d = generator.inputs[0].dims?.[1] as number;
  const codes = config.generator === "vqvae";
  const n = codes ? Number((gen.entry?.codebook as { size: number }).size) : 64;
  const values = codes ? undefined : gridValues(
    config.grid === "gaussian" ? { kind: "gaussian", n } : {
      kind: "uniform",
      n,
      lower: -4,
      upper: 4,
    },
  );
  const pipeline = new Pipeline({
    generator,
    target: session,
    latentDim: d,
    latent: values ? { kind: "grid", values } : { kind: "codes" },
    selection: { kind: "channel", layer, units: neurons },
  });
  const u = neurons.length, memo = new Map<string, Float64Array>();
  const counts = { run: 0, memo: 0 };
  return {
    space: { d, n },
    units: u,
    prior: values ? priorWeights(values) : undefined,
    counts,
    clear: () => memo.clear(),
    async evaluate(batch) {
      const keys = batch.map((p) => p.join());
      const fresh = [...new Set(keys.filter((key) => !memo.has(key)))];
      const points = fresh.map((key) => batch[keys.indexOf(key)]);
      if (points.length) {
        const { values } = await pipeline.evaluate(points);
        fresh.forEach((key, b) => memo.set(key, values.slice(b * u, (b + 1) * u)));
      }
      counts.run += points.length;
      counts.memo += batch.length - points.length;
      const out = new Float64Array(batch.length * u);
      keys.forEach((key, b) => out.set(memo.get(key)!, b * u));
      return out;
    },
  };
}

/** One method's searches of every neuron of a network (lockstep, independent searches). */
export interface PanelRun {
  /** Final best activation per neuron. */
  finals: number[];
  /** Best-so-far history per neuron (evaluations of that neuron's search). */
  histories: HistoryEntry[][];
}

/**
 * Search every neuron of a panel network with one method, one search per neuron in lockstep
 * (search u uses seed + u).
 * @param net the network
 * @param method registry name
 * @param opts budget per neuron, seed, method parameters
 * @returns finals and histories
 */
export async function runPanel(
  net: PanelNetwork,
  method: string,
  opts: Pick<OptimizeOptions, "budget" | "seed" | "params">,
): Promise<PanelRun> {
  const r = await optimizeLockstep(method, (b) => net.evaluate(b), {
    space: net.space,
    budget: opts.budget,
    seed: opts.seed,
    params: opts.params,
    maximize: true,
    searches: net.units,
  });
  net.clear();
  return { finals: r.results.map((x) => x.value), histories: r.results.map((x) => x.history) };
}

/**
 * The best value of a history after a number of evaluations.
 * @param history best-so-far entries (maximizing: values increase)
 * @param evaluations how many evaluations
 * @returns the best value by then (-Infinity before the first)
 */
export function bestAt(history: HistoryEntry[], evaluations: number): number {
  let best = -Infinity;
  for (const h of history) if (h.evaluations <= evaluations) best = h.value;
  return best;
}

/**
 * Evaluations a search needed to reach a value (maximizing), capped.
 * @param history best-so-far entries
 * @param value the value to reach
 * @param cap returned when the search never reached it (the budget)
 * @returns the evaluation count
 */
export function evaluationsToReach(history: HistoryEntry[], value: number, cap: number): number {
  return history.find((h) => h.value >= value)?.evaluations ?? cap;
}

/**
 * The median and its 95% percentile-bootstrap interval.
 * @param xs the sample
 * @param resamples bootstrap resamples
 * @param seed generator seed
 * @returns median, lower and upper end
 */
export function bootstrapMedian(
  xs: number[],
  resamples = 2000,
  seed = 0,
): { median: number; lower: number; upper: number } {
  const sorted = [...xs].sort((a, b) => a - b);
  const rng = new Rng(seed), meds: number[] = [];
  for (let b = 0; b < resamples; b++) {
    const s = Array.from({ length: xs.length }, () => xs[rng.int(xs.length)]).sort((a, b) => a - b);
    meds.push(quantile(s, 0.5));
  }
  meds.sort((a, b) => a - b);
  return {
    median: quantile(sorted, 0.5),
    lower: quantile(meds, 0.025),
    upper: quantile(meds, 0.975),
  };
}

/**
 * Whether a method's behaviour depends on the budget (a default or the factory reads it): such
 * a method needs its own run per budget, the others can be read off the longest run's history.
 * @param method registry name
 * @param space a grid
 * @returns true when the budget is read
 * @example
 * ```ts
 * import { readsBudget } from "./neuron_panel.ts";
 * import "../optim/methods.ts";
 * if (!readsBudget("portfolio", { d: 4, n: 8 }) || readsBudget("tt-b", { d: 4, n: 8 })) {
 *   throw new Error();
 * }
 * ```
 */
export function readsBudget(method: string, space: { d: number; n: number }): boolean {
  const descriptor = getMethod(method), resolved = resolveSpace(space);
  let read = false;
  const ctx = {
    space: resolved,
    rng: new Rng(0),
    maximize: true,
    params: {} as Record<string, unknown>,
    get budget() {
      read = true;
      return 1000;
    },
  };
  ctx.params = resolveParams(descriptor, {}, ctx);
  descriptor.create(ctx);
  return read;
}
