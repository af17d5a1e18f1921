/**
 * `oneplusone`: the (1+1) evolution strategy of nevergrad's OnePlusOne. The first ask is the
 * start point x0; afterwards each ask mutates the incumbent by sigma N(0, I), and the child
 * replaces the incumbent when at least as good. sigma starts at sigma0 (1, nevergrad's
 * default), is doubled on success and multiplied by 0.84 otherwise (nevergrad's constants; a
 * one-fifth success rule, since 2^(1/5) 0.84^(4/5) ~ 1). One point per ask (no population).
 *
 * Spaces: grids and boxes through the genotype of `_encoding.ts` (grid index =
 * floor(n Phi(u)); bounded box coordinates through lower + (upper - lower) Phi(u)).
 * Ties count as success, so on a grid a step too small to leave the cell grows again.
 *
 * @example
 * ```ts
 * import { optimize } from "./optimize.ts";
 * import "./oneplusone.ts";
 * const sphere = (b: Float64Array[]) => b.map((x) => x.reduce((s, v) => s + v * v, 0));
 * const r = await optimize<Float64Array>("oneplusone", sphere, {
 *   space: { d: 3 }, budget: 1000, seed: 0, params: { x0: 1 },
 * });
 * if (!(r.value < 1e-6)) throw new Error(`reached ${r.value}`);
 * ```
 * @module
 */

import type { Rng } from "../core/rng.ts";
import { registerMethod } from "./registry.ts";
import { checkX0, Encoding, startParams } from "./_encoding.ts";
import type { MinimizerContext, Point } from "./types.ts";

/**
 * The (1+1)-ES with the doubling / 0.84 step-size rule (registered as `oneplusone`).
 * @example
 * ```ts
 * import { OnePlusOne } from "./oneplusone.ts";
 * import { Rng } from "../core/rng.ts";
 * const space = { kind: "box" as const, d: 1, lower: Float64Array.of(-Infinity), upper: Float64Array.of(Infinity) };
 * const es = new OnePlusOne({ space, budget: 3, rng: new Rng(0), maximize: false, params: { sigma0: 1 } });
 * es.tell(es.ask(), Float64Array.of(1)); // the start point
 * es.tell(es.ask(), Float64Array.of(0)); // a success doubles sigma
 * if (es.sigma !== 2) throw new Error();
 * ```
 */
export class OnePlusOne {
  readonly #enc: Encoding;
  readonly #rng: Rng;
  /** The incumbent genotype. */
  x: Float64Array;
  /** The incumbent's value (Infinity before the first tell). */
  value: number = Infinity;
  /** The current mutation step. */
  sigma: number;
  #pending: Float64Array | undefined;
  readonly #sigma0: number;

  /**
   * Start at x0 with step sigma0.
   * @param ctx the validated space, generator and parameters (x0, sigma0)
   */
  constructor(ctx: MinimizerContext) {
    this.#enc = new Encoding(ctx.space);
    this.#rng = ctx.rng;
    this.x = this.#enc.mean0(ctx.params.x0);
    this.sigma = this.#sigma0 = ctx.params.sigma0 as number;
  }

  /**
   * The start point first, then one mutation of the incumbent.
   * @returns one point
   */
  ask(): Point[] {
    this.#pending = this.value === Infinity
      ? this.x.slice()
      : this.#enc.sample(this.#rng, this.x, this.sigma);
    return [this.#enc.decode(this.#pending)];
  }

  /**
   * Accept the point if at least as good; adapt sigma.
   * @param points the asked point (or none, when the budget cut it)
   * @param values its value
   */
  tell(points: Point[], values: Float64Array): void {
    if (points.length === 0) return;
    const first = this.value === Infinity;
    if (values[0] <= this.value) {
      this.x = this.#pending!;
      this.value = values[0];
      // nevergrad OnePlusOne: doubling on success (capped: ties on a plateau would overflow it)
      if (!first) this.sigma = Math.min(2 * this.sigma, 1e12 * this.#sigma0);
    } else {
      // nevergrad OnePlusOne: 0.84 on failure (kept above 0, from where doubling could not recover)
      this.sigma = Math.max(0.84 * this.sigma, 1e-300);
    }
  }
}

registerMethod({
  name: "oneplusone",
  description: "(1+1)-ES, sigma doubled on success and times 0.84 otherwise (nevergrad)",
  spaces: ["grid", "box"],
  params: startParams,
  check: checkX0,
  create: (ctx) => new OnePlusOne(ctx),
});
