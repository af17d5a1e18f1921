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
import { type DigitCode, QuantizedSpace } from "../space/quantize.ts";
import { EliteArchive, type Scored } from "./_elite.ts";
import { priorCores } from "./_prior_start.ts";
import { registerMethod } from "./registry.ts";
import type { Minimizer, MinimizerContext, ParamSpec, ResolvedSpace } from "./types.ts";

/** Defaults of a preset: K, k_top, lr and p always; the others where they differ. */
interface PresetDefaults {
  k: number;
  k_top: number;
  lr: number;
  p: number;
  k_gd?: number;
  r?: number;
  code?: DigitCode;
  elite?: number;
  restart?: number;
}

function protesParams(defaults: PresetDefaults) {
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
    k_gd: { default: defaults.k_gd ?? 1, type: "integer", min: 1, doc: "Adam steps per iteration" },
    lr: { default: defaults.lr, min: 0, exclusiveMin: true, doc: "Adam learning rate" },
    r: { default: defaults.r ?? 5, type: "integer", min: 1, doc: "tensor-train rank" },
    p: {
      default: defaults.p,
      type: "integer",
      min: 0,
      doc: "digit size of quantized modes (0: no quantization; 2: binary modes)",
    },
    code: {
      default: defaults.code ?? "binary",
      type: "string",
      choices: ["binary", "gray"],
      doc: "digits of quantized modes: plain or reflected Gray code (neighbours one digit apart)",
    },
    elite: {
      default: defaults.elite ?? 0,
      type: "integer",
      min: 0,
      doc: "best distinct points seen so far that join every update's ranking (0: none)",
    },
    local: {
      default: 0,
      type: "integer",
      min: 0,
      doc: "local-search candidates per iteration: the best point with a few coordinates " +
        "moved by up to `radius` grid steps (0: none)",
    },
    moves: {
      default: 2,
      type: "integer",
      min: 1,
      doc: "mean number of coordinates a local-search candidate moves",
    },
    restart: {
      default: defaults.restart ?? 0,
      min: 0,
      max: 1,
      doc: "restart from a fresh model (and empty archive) when fewer than this fraction of " +
        "a batch's K candidates are distinct (0: never)",
    },
    ties: {
      default: false,
      type: "boolean",
      doc: "also train on every candidate tied with the k_top-th best (coarse firing rates tie)",
    },
    radius: { default: 1, type: "integer", min: 1, doc: "largest grid step of a local move" },
    prior: {
      default: undefined,
      type: "numbers",
      min: 0,
      doc: "weights of one coordinate's values 0..n-1: start the model shaped like this " +
        "distribution on every coordinate instead of uniform random cores (quantized modes)",
    },
  } satisfies Record<string, ParamSpec>;
}

function createProtes({ space, rng, params }: MinimizerContext): Minimizer {
  if (space.kind !== "grid") throw new Error("PROTES searches grid spaces");
  const { k, k_top: kTop, k_gd: kGd, lr, r, p, elite, local, moves, radius, restart } =
    params as Record<
      string,
      number
    >;
  const code = params.code as DigitCode;
  const quantized = p >= 2 ? new QuantizedSpace(space.n, p, code) : undefined;
  const modes = quantized ? quantized.digitN : space.n;
  const start = () => {
    const model = new TensorTrain(modes, r, rng);
    if (params.prior) model.cores = priorCores(quantized!, r, params.prior as number[], rng);
    return model;
  };
  let tt = start();
  const dm = modes.length, d = space.d;
  const toModel = (point: Int32Array) => quantized ? quantized.toDigits(point) : point.slice();
  let archive = new EliteArchive(elite);
  let asked: Int32Array[] = []; // the model's multi-indices of the last batch
  let foreign: Scored[] = []; // informed since the last update
  // A local-search candidate: the best point so far with about `moves` coordinates moved.
  const neighbour = (from: Int32Array) => {
    const point = from.slice(), moved = new Set<number>();
    do {
      const c = rng.int(d), step = 1 + rng.int(radius), sign = rng.uniform() < 0.5 ? -1 : 1;
      if (moved.has(c)) continue;
      moved.add(c);
      point[c] = Math.min(space.n[c] - 1, Math.max(0, point[c] + sign * step));
    } while (rng.uniform() > 1 / moves && moved.size < d);
    return point;
  };
  return {
    ask() {
      let coords: Int32Array, digits: Int32Array;
      if (quantized && code === "binary") {
        ({ digits, coordinates: coords } = tt.sampleCoordinates(rng, k, quantized));
      } else if (quantized) {
        digits = tt.sample(rng, k);
        coords = new Int32Array(k * d);
        for (let s = 0; s < k; s++) {
          coords.set(quantized.fromDigits(digits.subarray(s * dm, (s + 1) * dm)), s * d);
        }
      } else coords = (digits = tt.sample(rng, k)).slice();
      // Views of one fresh array per batch (no copy per candidate).
      const points = Array.from({ length: k }, (_, s) => coords.subarray(s * d, (s + 1) * d));
      asked = points.map((_, s) => digits.subarray(s * dm, (s + 1) * dm));
      // A collapsed model (few distinct candidates) starts afresh, archive included; the best
      // point seen so far stays the run's best (the driver keeps it).
      if (restart > 0 && new Set(asked.map((a) => a.join())).size < restart * k) {
        tt = start();
        archive = new EliteArchive(elite);
      }

      const best = archive.entries[0];
      if (local > 0 && best) {
        const centre = quantized ? quantized.fromDigits(best.digits) : best.digits;
        for (let j = 0; j < local; j++) {
          const point = neighbour(centre);
          points.push(point);
          asked.push(toModel(point));
        }
      }
      return points;
    },
    // Foreign points (other searches' candidates measured on this objective) are ranked
    // together with the next batch of own candidates.
    inform(points, values) {
      points.forEach((p, j) =>
        foreign.push({ digits: toModel(p as Int32Array), value: values[j] })
      );
    },
    tell(points, values) {
      const batch = [
        ...points.map((_, s) => ({ digits: asked[s], value: values[s] })),
        ...foreign,
      ];
      foreign = [];
      const top = archive.select(batch, kTop, params.ties as boolean);
      const chosen = new Int32Array(top.length * dm);
      top.forEach((s, j) => chosen.set(s.digits, j * dm));
      for (let step = 0; step < kGd; step++) tt.adamStep(chosen, lr);
    },
  };
}

function checkProtes(
  params: Record<string, unknown>,
  { space }: { space: ResolvedSpace },
): string | undefined {
  const { k, k_top } = params as Record<string, number>;
  if (k < k_top) return `params.k (${k}) must be >= params.k_top (${k_top})`;
  if (params.p === 1) return "params.p must be 0 (no quantization) or >= 2";
  if (params.local as number > 0 && params.elite === 0) {
    return "params.local needs params.elite >= 1 (local moves start from the best point kept)";
  }
  const prior = params.prior as number[] | undefined;
  if (prior) {
    const n = space.kind === "grid" ? space.n : [];
    if (params.p as number < 2) return "params.prior needs quantized modes (params.p >= 2)";
    if (n.some((nk) => nk !== prior.length)) {
      return `params.prior must have one weight per grid value (${n[0]}) on every coordinate, ` +
        `got ${prior.length}`;
    }
    if (!prior.some((w) => w > 0)) return "params.prior needs a positive weight";
  }
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

// The preset that came out of the neuron panel (docs/tensor_train.md, "What was kept").
registerMethod({
  name: "tt-elite",
  description: "PROTES on Gray-coded binary modes, rank 1, elitism (10 best seen), 8 Adam steps " +
    "per iteration (K=25, k_top=5, lr=0.05)",
  spaces: ["grid"],
  params: protesParams({
    k: 25,
    k_top: 5,
    lr: 0.05,
    p: 2,
    k_gd: 8,
    r: 1,
    code: "binary",
    elite: 10,
    restart: 0.5,
  }),
  check: checkProtes,
  create: createProtes,
});
