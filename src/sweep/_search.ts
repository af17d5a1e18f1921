// The sweep's one link to the MEI job: open the generator and the targets once per process,
// check the spec's layers and neurons against them, and run one lockstep group (target, layer,
// method, seed, noise, several neurons) with each search seeded from its own key. Everything
// else in src/sweep/ sees only this module's exports.

import { Rng } from "../core/rng.ts";
import { encodePng, tensorToRaster } from "../io/image.ts";
import { openModel } from "../models/mei.ts";
import { shippedName } from "../models/manifest.ts";
import { Pipeline, selectableUnits } from "../models/pipeline.ts";
import { parseNeurons } from "../models/units.ts";
import { optimizeLockstep } from "../optim/lockstep.ts";
import { gridValues, indicesToValues } from "../space/grids.ts";
import {
  type BackendChoice,
  ELEM_TYPE,
  openSession,
  parseModel,
  pruneGraph,
  type Session,
} from "../runtime/mod.ts";
import { settingsFor, SpecError, type SweepSpec } from "./spec.ts";
import "../optim/methods.ts";

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
  classProbs: number[] | null;
  png: Uint8Array;
}

interface OpenTarget {
  info: TargetInfo;
  bytes: Uint8Array;
  /** Time steps of a shipped spiking target (1 otherwise). */
  steps: number;
  tensors: Set<string>;
  classifier?: Session;
  layers: Map<string, Session>;
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
  #generator?: Promise<{
    session: Session;
    info: ModelInfo;
    latentDim: number;
    codes: boolean;
    size: number;
    values?: Float64Array;
  }>;
  readonly #targets = new Map<string, Promise<OpenTarget>>();

  /**
   * @param spec the sweep
   * @param opts backend and threads
   */
  constructor(spec: SweepSpec, opts: HostOptions) {
    this.#spec = spec;
    this.#opts = opts;
  }

  #generatorOpen() {
    return this.#generator ??= (async () => {
      const s = this.#spec;
      const gen = await openModel(s.generator, "generator", undefined, undefined);
      const session = await openSession(gen.bytes, this.#opts);
      const input = session.inputs[0];
      const latentDim = input.dims?.[1];
      if (typeof latentDim !== "number" || latentDim < 1) {
        throw new SpecError(`cannot tell the latent size of the generator ${gen.source}`);
      }
      const codes = input.elemType === ELEM_TYPE.INT64;
      const size = codes
        ? Number((gen.entry?.codebook as { size?: number } | undefined)?.size ?? s.grid_size)
        : s.grid_size;
      const values = codes ? undefined : gridValues(
        s.grid === "gaussian"
          ? { kind: "gaussian", n: s.grid_size }
          : { kind: "uniform", n: s.grid_size, lower: s.range[0], upper: s.range[1] },
      );
      return {
        session,
        info: { source: gen.source, sha256: gen.sha256 },
        latentDim,
        codes,
        size,
        values,
      };
    })();
  }

  #target(name: string): Promise<OpenTarget> {
    let t = this.#targets.get(name);
    if (!t) {
      t = (async () => {
        const m = await openModel(name, "target", undefined, undefined);
        const graph = parseModel(m.bytes).graph;
        const info: TargetInfo = {
          source: m.source,
          sha256: m.sha256,
          arch: m.entry
            ? shippedName(m.entry)
            : m.source.replace(/^.*\//, "").replace(/\.onnx$/, ""),
          epoch: m.entry ? m.entry.epoch ?? null : null,
        };
        if (m.entry?.test_accuracy !== undefined) info.test_accuracy = m.entry.test_accuracy;
        return {
          info,
          bytes: m.bytes,
          steps: Number(m.entry?.T ?? 1),
          tensors: new Set([
            ...graph.outputs.map((o) => o.name),
            ...graph.nodes.flatMap((n) => n.outputs),
          ]),
          layers: new Map(),
        };
      })();
      this.#targets.set(name, t);
    }
    return t;
  }

  async #layer(t: OpenTarget, layer: string): Promise<Session> {
    let s = t.layers.get(layer);
    if (!s) {
      s = await openSession(t.bytes, { ...this.#opts, outputs: [layer] });
      t.layers.set(layer, s);
    }
    return s;
  }

  async #pipeline(target: Session, layer: string, units: number[], noise?: Rng[], sigma = 0) {
    const g = await this.#generatorOpen();
    return new Pipeline({
      generator: g.session,
      target,
      latentDim: g.latentDim,
      latent: g.codes ? { kind: "codes" } : { kind: "grid", values: g.values! },
      selection: { kind: this.#spec.unit, layer, units },
      noise: noise && sigma > 0 ? { sigma, streams: noise } : undefined,
    });
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
    const g = await this.#generatorOpen().catch(fail);
    // The pipeline's target is not run by images().
    const probe = await this.#pipeline(g.session, "", []);
    const image = await probe.images([new Int32Array(g.latentDim)]).catch(fail);
    const targets: Record<string, TargetInfo> = {};
    const neurons = new Map<string, number[]>(), cost = new Map<string, number>();
    for (const name of s.targets) {
      const t = await this.#target(name).catch(fail);
      targets[name] = t.info;
      const declared = (await this.#classifierOrProbe(t)).inputs[0].dims?.slice(1);
      if (
        declared?.every((v) => typeof v === "number") &&
        declared.join() !== image.dims.slice(1).join()
      ) {
        throw new SpecError(
          `the generator makes images [${image.dims.slice(1)}] but ${name} takes [${declared}]`,
        );
      }
      for (const layer of s.layers) {
        if (!t.tensors.has(layer)) {
          throw new SpecError(
            `${name} has no layer "${layer}" (scripts/mei.ts --target ${name} --list-layers ` +
              `lists them)`,
          );
        }
        const session = await this.#layer(t, layer);
        const out = (await session.run({ [session.inputNames[0]]: image }, [layer]))[layer];
        const count = selectableUnits(out.dims, 1, { kind: s.unit });
        try {
          neurons.set(`${name}|${layer}`, parseNeurons(s.neurons, count, `${name} "${layer}"`));
        } catch (e) {
          fail(e);
        }
        const nodes = parseModel(pruneGraph(t.bytes, [layer])).graph.nodes.length;
        cost.set(`${name}|${layer}`, nodes * t.steps);
      }
    }
    return { generator: g.info, targets, neurons, cost, backend: g.session.backend };
  }

  /**
   * Open the sessions a group needs (done by `run` when not yet open; separate, to time it).
   * @param target the spec's target
   * @param layer the layer
   */
  async open(target: string, layer: string): Promise<void> {
    await this.#generatorOpen();
    const t = await this.#target(target);
    await this.#layer(t, layer);
    if (t.tensors.has("logits")) await this.#classifierOrProbe(t);
  }

  /** A session of the target that reads its logits, or (without logits) any session of it. */
  async #classifierOrProbe(t: OpenTarget): Promise<Session> {
    if (t.classifier) return t.classifier;
    if (t.tensors.has("logits")) {
      t.classifier = await openSession(t.bytes, { ...this.#opts, outputs: ["logits"] });
      return t.classifier;
    }
    return await this.#layer(t, this.#spec.layers[0]);
  }

  /**
   * Run one lockstep group.
   * @param group the target, layer, method, seed, noise and neurons
   * @param seeds per neuron: the optimizer's seed and its noise stream's seed
   * @returns one outcome per neuron, in order
   */
  async run(group: Group, seeds: { search: number; noise: number }[]): Promise<SearchOutcome[]> {
    const s = this.#spec, g = await this.#generatorOpen();
    const t = await this.#target(group.target);
    const session = await this.#layer(t, group.layer);
    const noisy = await this.#pipeline(
      session,
      group.layer,
      group.neurons,
      seeds.map((x) => new Rng(x.noise)),
      group.noise,
    );
    const settings = settingsFor(s, { ...group, neuron: group.neurons[0] });
    const result = await optimizeLockstep(
      group.method,
      async (batch, owners) => (await noisy.evaluate(batch, owners)).values,
      {
        space: { d: g.latentDim, n: g.size },
        budget: settings.budget,
        maximize: true,
        params: settings.params,
        searches: group.neurons.length,
        seeds: seeds.map((x) => x.search),
      },
    );
    const best = result.results.map((r) => r.best);
    const clean = await (await this.#pipeline(session, group.layer, group.neurons)).evaluate(best);
    const u = group.neurons.length;
    let probs: number[][] | undefined;
    if (t.tensors.has("logits")) {
      const classifier = await this.#classifierOrProbe(t);
      const logits = (await classifier.run({
        [classifier.inputNames[0]]: {
          data: clean.images,
          dims: clean.imageDims,
        },
      }, ["logits"])).logits;
      const k = logits.dims[1];
      probs = best.map((_, j) => softmax(logits.data.subarray(j * k, (j + 1) * k)));
    }
    const per = clean.images.length / u, shape = clean.imageDims.slice(1);
    const out: SearchOutcome[] = [];
    for (let j = 0; j < u; j++) {
      const r = result.results[j];
      out.push({
        bestIndex: Array.from(r.best),
        latent: Array.from(g.values ? indicesToValues([r.best], g.values)[0] : r.best),
        activation: r.value,
        cleanActivation: clean.values[j * u + j],
        evaluations: r.evaluations,
        history: r.history.map((h) => [h.evaluations, h.value]),
        classProbs: probs?.[j] ?? null,
        png: await encodePng(
          tensorToRaster(clean.images.subarray(j * per, (j + 1) * per), shape),
        ),
      });
    }
    return out;
  }

  /** Free every session (a later group opens them again). */
  async release(): Promise<void> {
    const sessions: Session[] = [];
    if (this.#generator) sessions.push((await this.#generator).session);
    for (const t of this.#targets.values()) {
      const open = await t;
      sessions.push(...open.layers.values());
      if (open.classifier) sessions.push(open.classifier);
    }
    this.#generator = undefined;
    this.#targets.clear();
    for (const x of new Set(sessions)) await x.release();
  }
}

function softmax(row: Float32Array): number[] {
  const max = Math.max(...row), e = Array.from(row, (v) => Math.exp(v - max));
  const z = e.reduce((a, b) => a + b);
  return e.map((v) => v / z);
}
