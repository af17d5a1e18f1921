/**
 * The generators a server can render stimuli with: the shipped ones (by manifest name) and
 * those the operator named on the command line (`name=path.onnx`). Clients only ever pass a
 * name, never a path. Each generator is opened once (`openGenerator`, as the MEI job opens
 * it); each search makes its latent space on it (`latentSpaceOn`) for its own grid, and
 * {@link pngImages} renders grid points to PNG images at the generator's resolution.
 *
 * @example
 * ```ts ignore
 * import { latentSpaceOn } from "../models/problem.ts";
 * import { Generators, pngImages } from "./generators.ts";
 * const generators = new Generators({ backend: "wasm" });
 * const g = await generators.open("sngan");
 * const latent = latentSpaceOn(g, { grid: "uniform", gridSize: 64, range: [-4, 4] });
 * const [png] = await pngImages(latent, [new Int32Array(latent.space.d).fill(32)]);
 * ```
 * @module
 */

import { encodePng } from "../io/image.ts";
import { loadManifest, shippedName } from "../models/manifest.ts";
import {
  type LatentSpace,
  type OpenGenerator,
  openGenerator,
  openModel,
} from "../models/problem.ts";
import { drawPoints } from "../models/report.ts";
import type { BackendChoice } from "../runtime/mod.ts";
import { HttpError } from "./errors.ts";

/** The generator list and how to open them. */
export interface GeneratorOptions {
  /** Operator-named generators: name -> .onnx path. */
  extra?: Record<string, string>;
  /** Folder of the shipped models' manifest (default the repository's models/). */
  modelsDir?: string;
  backend?: BackendChoice;
  threads?: number;
}

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
    return await openGenerator(model, { backend, threads });
  }
}

/**
 * PNG images of grid points, at the generator's resolution.
 * @param latent the latent space the points are on
 * @param points grid points
 * @returns one PNG per point
 */
export async function pngImages(
  latent: Pick<LatentSpace, "images">,
  points: Int32Array[],
): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const raster of await drawPoints(latent, points)) out.push(await encodePng(raster));
  return out;
}
