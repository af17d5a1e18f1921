/**
 * PROTES: probabilistic optimization with tensor sampling (`docs/algorithms.md`, "PROTES"),
 * and the presets of the spiking-network study on quantized binary modes.
 *
 * Each iteration:
 *   1. sample K candidates from the tensor-train model P (the WASM core);
 *   2. evaluate them in one batch;
 *   3. keep the k_top best (smallest, since every optimizer minimizes internally);
 *   4. take k_gd Adam steps on L = mean_{i in top} -log P(i) (Adam state persists).
 * Points told through `inform` (e.g. other neurons' images in a shared search) join the
 * ranking of step 3 at the next update.
 * With `p` >= 2 the model lives on quantized modes: each coordinate's mode is split into
 * digits (`src/space/quantize.ts`), and candidates are mapped back to coordinates.
 *
 * @example
 * ```ts
 * import { optimize } from "./optimize.ts";
 * import "./methods.ts";
 * const r = await optimize("tt-b", (b) => b.map((i) => -Math.abs(i[0] - 40) - Math.abs(i[1] - 9)), {
 *   space: { d: 2, n: 64 }, budget: 2000, seed: 0, maximize: true,
 * });
 * if (r.value !== 0) throw new Error(`found ${r.value}`);
 * ```
 * @module
 */

import { TensorTrain } from "../core/tt.ts";
import { QuantizedSpace } from "../space/quantize.ts";
import { smallest } from "./_rank.ts";
import { registerMethod } from "./registry.ts";
import type { Minimizer, MinimizerContext, ParamSpec } from "./types.ts";

function protesParams(defaults: { k: number; k_top: number; lr: number; p: number }) {
  return {
    k: {
      default: defaults.k,
      type: "integer",
      min: 1,
      doc: "candidates sampled per iteration (K)",
    },
    k_top: {
      default: defaults.k_top,
      type: "integer",
      min: 1,
      doc: "best candidates kept for the update",
    },
    k_gd: { default: 1, type: "integer", min: 1, doc: "Adam steps per iteration" },
    lr: { default: defaults.lr, min: 0, exclusiveMin: true, doc: "Adam learning rate" },
    r: { default: 5, type: "integer", min: 1, doc: "tensor-train rank" },
    p: {
      default: defaults.p,
      type: "integer",
      min: 0,
      doc: "digit size of quantized modes (0: no quantization; 2: binary modes)",
    },
  } satisfies Record<string, ParamSpec>;
}

function createProtes({ space, rng, params }: MinimizerContext): Minimizer {
  if (space.kind !== "grid") throw new Error("PROTES searches grid spaces");
  const { k, k_top: kTop, k_gd: kGd, lr, r, p } = params as Record<string, number>;
  const quantized = p >= 2 ? new QuantizedSpace(space.n, p) : undefined;
  const modes = quantized ? quantized.digitN : space.n;
  const tt = new TensorTrain(modes, r, rng);
  const dm = modes.length;
  let asked: Int32Array | undefined; // the model's multi-indices of the last batch
  let foreign: { digits: Int32Array; value: number }[] = []; // informed since the last update
  return {
    ask() {
      let coords: Int32Array;
      if (quantized) {
        ({ digits: asked, coordinates: coords } = tt.sampleCoordinates(rng, k, quantized));
      } else coords = (asked = tt.sample(rng, k)).slice();
      // Views of one fresh array per batch (no copy per candidate).
      return Array.from({ length: k }, (_, s) => coords.subarray(s * space.d, (s + 1) * space.d));
    },
    // Foreign points (other searches' candidates measured on this objective) are ranked
    // together with the next batch of own candidates.
    inform(points, values) {
      points.forEach((p, j) => {
        foreign.push({
          digits: quantized ? quantized.toDigits(p as Int32Array) : p.slice() as Int32Array,
          value: values[j],
        });
      });
    },
    tell(points, values) {
      const all = Float64Array.of(...values, ...foreign.map((f) => f.value));
      const top = smallest(all, Math.min(kTop, all.length));
      const chosen = new Int32Array(top.length * dm);
      top.forEach((s, j) => {
        const digits = s < points.length
          ? asked!.subarray(s * dm, (s + 1) * dm)
          : foreign[s - points.length].digits;
        chosen.set(digits, j * dm);
      });
      foreign = [];
      for (let step = 0; step < kGd; step++) tt.adamStep(chosen, lr);
    },
  };
}

function checkProtes(params: Record<string, unknown>): string | undefined {
  const { k, k_top } = params as Record<string, number>;
  if (k < k_top) return `params.k (${k}) must be >= params.k_top (${k_top})`;
  if (params.p === 1) return "params.p must be 0 (no quantization) or >= 2";
}

registerMethod({
  name: "protes",
  description: "PROTES with the reference defaults (K=100, k_top=10, k_gd=1, lr=0.05, r=5)",
  spaces: ["grid"],
  // Defaults of the PROTES reference implementation.
  params: protesParams({ k: 100, k_top: 10, lr: 0.05, p: 0 }),
  check: checkProtes,
  create: createProtes,
});

/** Presets of the spiking-network study: binary quantized modes, rank 5 (§2 table). */
const presets: [string, number, number, number][] = [
  ["tt", 10, 1, 0.05],
  ["tt-s", 5, 1, 0.05],
  ["tt-b", 25, 5, 0.05],
  ["tt-exp", 100, 10, 0.1],
];
for (const [name, k, kTop, lr] of presets) {
  registerMethod({
    name,
    description:
      `PROTES preset ${name.toUpperCase()} (K=${k}, k_top=${kTop}, lr=${lr}, binary modes)`,
    spaces: ["grid"],
    params: protesParams({ k, k_top: kTop, lr, p: 2 }),
    check: checkProtes,
    create: createProtes,
  });
}
