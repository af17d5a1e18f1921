/**
 * The generators a server can render stimuli with: the shipped ones (by manifest name) and
 * those the operator named on the command line (`name=path.onnx`). Clients only ever pass a
 * name, never a path. Each generator is opened once, through the runtime, and renders grid
 * points to PNG images at the generator's resolution.
 *
 * @example
 * ```ts ignore
 * import { Generators } from "./generators.ts";
 * const generators = new Generators({ backend: "wasm" });
 * const g = await generators.open("sngan");
 * const [png] = await g.png([new Int32Array(g.latentDim).fill(32)], g.latentValues({ grid: "uniform", gridSize: 64, range: [-4, 4] }));
 * ```
 * @module
 */

import { encodePng, tensorToRaster } from "../io/image.ts";
import { loadManifest, shippedName } from "../models/manifest.ts";
import { openModel } from "../models/mei.ts";
import { Pipeline, type SessionLike } from "../models/pipeline.ts";
import { type BackendChoice, ELEM_TYPE, openSession, type Session } from "../runtime/mod.ts";
import { gridValues } from "../space/grids.ts";
import { HttpError } from "./errors.ts";
import type { SearchSpec } from "./spec.ts";

/** An open generator. */
export interface OpenGenerator {
  name: string;
  /** Where it came from and its hash (for run.json). */
  source: string;
  sha256: string;
  session: Session;
  latentDim: number;
  /** Codebook size of a code-index generator (its grid), or 0 for continuous latents. */
  codebook: number;
  /**
   * The grid values of one coordinate for a search's settings (undefined for codes).
   * @param spec the grid settings
   */
  latentValues(spec: Pick<SearchSpec, "grid" | "gridSize" | "range">): Float64Array | undefined;
  /**
   * The search space of a search's settings.
   * @param spec the grid settings
   */
  space(spec: Pick<SearchSpec, "gridSize">): { d: number; n: number };
  /**
   * Images of grid points, through the runtime (a pipeline without a target).
   * @param values the grid values (undefined for codes)
   */
  pipeline(values: Float64Array | undefined): Pipeline;
  /**
   * PNG images of grid points.
   * @param points grid points
   * @param values the grid values (undefined for codes)
   */
  png(points: Int32Array[], values: Float64Array | undefined): Promise<Uint8Array[]>;
}

/** The generator list and how to open them. */
export interface GeneratorOptions {
  /** Operator-named generators: name -> .onnx path. */
  extra?: Record<string, string>;
  /** Folder of the shipped models' manifest (default the repository's models/). */
  modelsDir?: string;
  backend?: BackendChoice;
  threads?: number;
}

/** A pipeline renders images only; the rig is the target. */
const noTarget: SessionLike = {
  inputNames: ["image"],
  run: () => Promise.reject(new Error("the server has no target: the rig measures responses")),
};

/** Generators by name, opened on first use. */
export class Generators {
  #open = new Map<string, Promise<OpenGenerator>>();
  constructor(readonly options: GeneratorOptions = {}) {}

  /**
   * The names a client may use.
   * @returns shipped and operator-named generators
   */
  async names(): Promise<string[]> {
    const base = this.options.modelsDir
      ? new URL(this.options.modelsDir.replace(/\/?$/, "/"), `file://${Deno.cwd()}/`)
      : undefined;
    const manifest = await loadManifest(base);
    const shipped = manifest.models.filter((m) => m.kind === "generator").map(shippedName);
    return [...new Set([...shipped, ...Object.keys(this.options.extra ?? {})])];
  }

  /**
   * Open a generator by name (once; later calls share it).
   * @param name a name from {@link Generators.names}
   * @returns the open generator
   * @throws HttpError 400 for an unknown name
   */
  open(name: string): Promise<OpenGenerator> {
    let g = this.#open.get(name);
    if (!g) {
      g = this.#load(name);
      this.#open.set(name, g);
      g.catch(() => this.#open.delete(name));
    }
    return g;
  }

  async #load(name: string): Promise<OpenGenerator> {
    const names = await this.names();
    if (!names.includes(name)) {
      throw new HttpError(400, `unknown generator "${name}"; valid: ${names.join(", ")}`);
    }
    const { extra, modelsDir, backend, threads } = this.options;
    const model = await openModel(extra?.[name] ?? name, "generator", undefined, modelsDir);
    const session = await openSession(model.bytes, { backend, threads });
    const input = session.inputs[0];
    const latentDim = input.dims?.[1];
    if (typeof latentDim !== "number" || latentDim < 1) {
      throw new Error(`cannot tell the latent size of generator "${name}" from [${input.dims}]`);
    }
    const codes = input.elemType === ELEM_TYPE.INT64;
    const codebook = codes
      ? Number((model.entry?.codebook as { size?: number } | undefined)?.size ?? 0)
      : 0;
    if (codes && codebook < 2) throw new Error(`generator "${name}" takes codes of unknown range`);
    const pipeline = (values: Float64Array | undefined) =>
      new Pipeline({
        generator: session,
        target: noTarget,
        latentDim,
        latent: values ? { kind: "grid", values } : { kind: "codes" },
        selection: { kind: "channel", layer: "", units: [] },
      });
    return {
      name,
      source: model.source,
      sha256: model.sha256,
      session,
      latentDim,
      codebook,
      latentValues: (s) =>
        codes ? undefined : gridValues(
          s.grid === "gaussian"
            ? { kind: "gaussian", n: s.gridSize }
            : { kind: "uniform", n: s.gridSize, lower: s.range[0], upper: s.range[1] },
        ),
      space: (s) => ({ d: latentDim, n: codes ? codebook : s.gridSize }),
      pipeline,
      async png(points, values) {
        const out: Uint8Array[] = [];
        for (let from = 0; from < points.length; from += 32) {
          const img = await pipeline(values).images(points.slice(from, from + 32));
          const per = img.data.length / img.dims[0];
          for (let b = 0; b < img.dims[0]; b++) {
            const raster = tensorToRaster(
              img.data.subarray(b * per, (b + 1) * per),
              img.dims.slice(1),
            );
            out.push(await encodePng(raster));
          }
        }
        return out;
      },
    };
  }
}
