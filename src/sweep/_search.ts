// The sweep's one link to the MEI job's stages: open the generator once per process
// (openLatentSpace) and a problem per (target, layer) on it (openModel, openProblemOn), check the
// spec's layers and neurons against them, and search one lockstep group (target, layer, method,
// seed, noise, several neurons) with each search seeded from its own key (searchProblem).
// Everything else in src/sweep/ sees only this module's exports.

import { Rng } from "../core/rng.ts";
import { encodePng, tensorToRaster } from "../io/image.ts";
import { shippedName } from "../models/manifest.ts";
import {
  type LatentSpace,
  type MeiProblem,
  type OpenedModel,
  openLatentSpace,
  openModel,
  openProblemOn,
} from "../models/problem.ts";
import { searchProblem } from "../models/search.ts";
import { parseNeurons } from "../models/units.ts";
import { indicesToValues } from "../space/grids.ts";
import { type BackendChoice, parseModel, pruneGraph } from "../runtime/mod.ts";
import { settingsFor, SpecError, type SweepSpec } from "./spec.ts";

/** What sweep.json records of a model. */
export interface ModelInfo {
  source: string;
  sha256: string;
  epoch?: number | null;
  test_accuracy?: number;
}

/** What a target contributes to records: its name and epoch. */
export interface TargetInfo extends ModelInfo {
  arch: string;
}

/** One lockstep group: the searches of several neurons that share everything else. */
export interface Group {
  target: string;
  layer: string;
  method: string;
  seed: number;
  noise: number;
  neurons: number[];
}

/** The outcome of one search of a group. */
export interface SearchOutcome {
  bestIndex: number[];
  latent: number[];
  activation: number;
  cleanActivation: number;
  evaluations: number;
  history: [number, number][];
  /** The target's logits on the MEI (null for a target without logits). */
  logits: Float32Array | null;
  png: Uint8Array;
}

/** Options of a host: backend and threads of every session. */
export interface HostOptions {
  backend: BackendChoice;
  threads?: number;
}

/** Opens each model once and runs groups on them (see the module comment). */
export class SearchHost {
  readonly #spec: SweepSpec;
  readonly #opts: HostOptions;
  #latent?: Promise<LatentSpace>;
  readonly #targets = new Map<string, Promise<OpenedModel>>();
  /** Problems by `target|layer`, opened with every unit of the layer. */
  readonly #problems = new Map<string, Promise<MeiProblem>>();
  /**
   * The problem whose `logits` classify a target's MEIs (its first problem: the logits do not
   * depend on the layer, so one classifier session per target serves all its layers).
   */
  readonly #classifiers = new Map<string, Promise<MeiProblem>>();

  /**
   * @param spec the sweep
   * @param opts backend and threads
   */
  constructor(spec: SweepSpec, opts: HostOptions) {
    this.#spec = spec;
    this.#opts = opts;
  }

  /** The settings of scripts/mei.ts for a (target, layer) of the spec, on this host's sessions. */
  #settings(target: string, layer: string) {
    const s = this.#spec;
    return {
      ...settingsFor(s, {
        target,
        layer,
        neuron: 0,
        method: s.methods[0],
        seed: s.seeds[0],
        noise: 0,
      }),
      neurons: "all",
      backend: this.#opts.backend,
      threads: this.#opts.threads,
    };
  }

  #latentSpace(): Promise<LatentSpace> {
    return this.#latent ??= openLatentSpace(
      this.#settings(this.#spec.targets[0], this.#spec.layers[0]),
      this.#opts,
    );
  }

  #target(name: string): Promise<OpenedModel> {
    let t = this.#targets.get(name);
    if (!t) {
      t = openModel(name, "target", undefined, undefined);
      this.#targets.set(name, t);
    }
    return t;
  }

  #problem(target: string, layer: string): Promise<MeiProblem> {
    const key = `${target}|${layer}`;
    let p = this.#problems.get(key);
    if (!p) {
      p = (async () =>
        await openProblemOn(
          await this.#latentSpace(),
          this.#settings(target, layer),
          await this.#target(target),
        ))();
      this.#problems.set(key, p);
      if (!this.#classifiers.has(target)) this.#classifiers.set(target, p);
    }
    return p;
  }

  /**
   * Check every target and layer of the spec against the networks and list what the sweep runs.
   * @returns the generator's and targets' hashes, the neurons of each (target, layer), a
   *   relative cost per evaluation of each (target, layer) (nodes of the graph up to the layer
   *   times the target's time steps) and the backend the sessions run on
   * @throws SpecError naming an unknown layer, a neuron out of range or an unreadable model
   */
  async describe(): Promise<{
    generator: ModelInfo;
    targets: Record<string, TargetInfo>;
    neurons: Map<string, number[]>;
    cost: Map<string, number>;
    backend: string;
  }> {
    const s = this.#spec;
    const fail = (e: unknown): never => {
      throw e instanceof SpecError ? e : new SpecError((e as Error).message);
    };
    const latent = await this.#latentSpace().catch(fail);
    const targets: Record<string, TargetInfo> = {};
    const neurons = new Map<string, number[]>(), cost = new Map<string, number>();
    for (const name of s.targets) {
      const t = await this.#target(name).catch(fail);
      targets[name] = targetInfo(t);
      const graph = t.info.graph;
      const tensors = new Set([
        ...graph.outputs.map((o) => o.name),
        ...graph.nodes.flatMap((n) => n.outputs),
      ]);
      for (const layer of s.layers) {
        if (!tensors.has(layer)) {
          throw new SpecError(
            `${name} has no layer "${layer}" (scripts/mei.ts --target ${name} --list-layers ` +
              `lists them)`,
          );
        }
        // Prefixed with the spec's name of the target: not every message of the problem names it.
        const problem = await this.#problem(name, layer).catch((e) =>
          fail(new SpecError(`${name}: ${(e as Error).message}`))
        );
        try {
          neurons.set(
            `${name}|${layer}`,
            parseNeurons(s.neurons, problem.neurons.length, `${name} "${layer}"`),
          );
        } catch (e) {
          fail(e);
        }
        const nodes = parseModel(pruneGraph(t.bytes, [layer])).graph.nodes.length;
        cost.set(`${name}|${layer}`, nodes * Number(t.entry?.T ?? 1));
      }
    }
    return {
      generator: { source: latent.model.source, sha256: latent.model.sha256 },
      targets,
      neurons,
      cost,
      backend: latent.generator.backend,
    };
  }

  /**
   * Open the sessions a group needs (done by `run` when not yet open; separate, to time it).
   * @param target the spec's target
   * @param layer the layer
   */
  async open(target: string, layer: string): Promise<void> {
    await this.#problem(target, layer);
  }

  /**
   * Run one lockstep group.
   * @param group the target, layer, method, seed, noise and neurons
   * @param seeds per neuron: the optimizer's seed and its noise stream's seed
   * @returns one outcome per neuron, in order
   */
  async run(group: Group, seeds: { search: number; noise: number }[]): Promise<SearchOutcome[]> {
    const problem = await this.#problem(group.target, group.layer);
    const noisy = problem.pipelineFor(
      group.neurons,
      group.noise > 0
        ? { sigma: group.noise, streams: seeds.map((x) => new Rng(x.noise)) }
        : undefined,
    );
    const { result } = await searchProblem(
      {
        space: problem.space,
        neurons: group.neurons,
        objective: async (batch, owners) => (await noisy.evaluate(batch, owners)).values,
      },
      settingsFor(this.#spec, { ...group, neuron: group.neurons[0] }),
      { seeds: seeds.map((x) => x.search) },
    );
    const best = result.results.map((r) => r.best);
    const clean = await problem.pipelineFor(group.neurons).evaluate(best);
    const logits = await (await this.#classifiers.get(group.target))?.logits?.(best);
    const u = group.neurons.length;
    const per = clean.images.length / u, shape = clean.imageDims.slice(1);
    const out: SearchOutcome[] = [];
    for (let j = 0; j < u; j++) {
      const r = result.results[j];
      out.push({
        bestIndex: Array.from(r.best),
        latent: Array.from(
          problem.latentValues ? indicesToValues([r.best], problem.latentValues)[0] : r.best,
        ),
        activation: r.value,
        cleanActivation: clean.values[j * u + j],
        evaluations: r.evaluations,
        history: r.history.map((h) => [h.evaluations, h.value]),
        logits: logits?.[j] ?? null,
        png: await encodePng(
          tensorToRaster(clean.images.subarray(j * per, (j + 1) * per), shape),
        ),
      });
    }
    return out;
  }

  /** Free every session (a later group opens them again). */
  async release(): Promise<void> {
    const opened = async <T>(p: Promise<T> | undefined) => await p?.catch(() => undefined);
    const problems = await Promise.all([...this.#problems.values()].map(opened));
    const latent = await opened(this.#latent);
    this.#problems.clear();
    this.#classifiers.clear();
    this.#targets.clear();
    this.#latent = undefined;
    for (const p of problems) await p?.close();
    await latent?.generator.release();
  }
}

/** What sweep.json and the records say of a target. */
function targetInfo(m: OpenedModel): TargetInfo {
  const info: TargetInfo = {
    source: m.source,
    sha256: m.sha256,
    arch: m.entry ? shippedName(m.entry) : m.source.replace(/^.*\//, "").replace(/\.onnx$/, ""),
    epoch: m.entry ? m.entry.epoch ?? null : null,
  };
  if (m.entry?.test_accuracy !== undefined) info.test_accuracy = m.entry.test_accuracy;
  return info;
}
