/**
 * Times one PROTES iteration (sample K, keep the k_top best, one Adam step on them) on the
 * WASM core and on the TypeScript reference, in the same process, and prints their ratio.
 * Defaults are the spiking-network study's setting: d = 768 binary modes (128 latent
 * coordinates x 6 digits), r = 5, K = 25, k_top = 5 (the TT-b preset).
 *
 * Usage: `deno task bench` or `deno run scripts/bench_core.ts [--d 768] [--r 5] [--k 25]
 * [--k-top 5] [--iterations 100]`
 * @module
 */

import { type Fail, failer, parseCommandLine } from "../src/io/cli.ts";
import { Rng } from "../src/core/rng.ts";
import { TensorTrain } from "../src/core/tt.ts";
import { adamReference, gradientReference, sampleReference } from "../src/core/tt_reference.ts";
import { smallest } from "../src/optim/_rank.ts";

const help =
  `Usage: deno run scripts/bench_core.ts [--d 768] [--r 5] [--k 25] [--k-top 5] [--iterations 100]

Times one PROTES iteration on the WASM core and on the TypeScript reference, and prints their
ratio.`;
const fail: Fail = failer("bench_core");
const { values } = parseCommandLine("bench_core", help, {
  d: { type: "string", default: "768" },
  r: { type: "string", default: "5" },
  k: { type: "string", default: "25" },
  "k-top": { type: "string", default: "5" },
  iterations: { type: "string", default: "100" },
});
const [d, r, k, kTop, iterations] = [
  values.d,
  values.r,
  values.k,
  values["k-top"],
  values.iterations,
]
  .map(Number);
for (const [name, v] of Object.entries({ d, r, k, "k-top": kTop, iterations })) {
  if (!Number.isInteger(v) || v < 1) {
    fail(`--${name} must be a positive integer, got ${v}`);
  }
}

// The objective's values are not the optimizer's work: a fixed table of pseudo-random values
// stands in for them (PROTES uses only their ranking), so an iteration is ranking, sampling and
// the update.
const table = Float64Array.from({ length: 997 }, (_, j) => Math.sin(j * 12.9898) * 43758.5453 % 1);
let cursor = 0;
function topRows(idx: Int32Array): Int32Array {
  const values = Array.from({ length: k }, () => table[cursor++ % table.length]);
  const top = smallest(values, kTop), out = new Int32Array(kTop * d);
  top.forEach((s, j) => out.set(idx.subarray(s * d, (s + 1) * d), j * d));
  return out;
}

/**
 * The fastest of 10 blocks of `count` steps (other processes, and this machine's slow spells,
 * only ever add time).
 */
function timeIt(label: string, count: number, step: () => void): number {
  for (let i = 0; i < Math.min(200, count); i++) step(); // warm up the JIT (WASM tier-up)
  let best = Infinity;
  for (let block = 0; block < 10; block++) {
    const t0 = performance.now();
    for (let i = 0; i < count; i++) step();
    best = Math.min(best, (performance.now() - t0) / count);
  }
  console.log(`${label.padEnd(28)} ${best.toFixed(4)} ms / iteration (fastest of 10 blocks)`);
  return best;
}

const n = new Array(d).fill(2);
const wasmRng = new Rng(0);
const tt = new TensorTrain(n, r, wasmRng);
const wasm = timeIt("WASM SIMD core", iterations, () => {
  tt.adamStep(topRows(tt.sample(wasmRng, k)), 0.05);
});

const refRng = new Rng(0);
const ref = new TensorTrain(n, r, refRng);
const cores = ref.cores, layout = ref.layout;
const state = { m: new Float64Array(layout.size), v: new Float64Array(layout.size), t: 0 };
// The reference is ~100x slower: a tenth of the iterations per block.
const reference = timeIt("TypeScript reference", Math.max(5, Math.round(iterations / 10)), () => {
  const top = topRows(sampleReference(layout, cores, refRng, k));
  adamReference(cores, gradientReference(layout, cores, top).grad, state, 0.05);
});

console.log(
  `\nd=${d} binary modes, r=${r}, K=${k}, k_top=${kTop}, ${iterations} iterations per WASM block`,
);
console.log(`speed-up of the WASM core over the reference: ${(reference / wasm).toFixed(2)}x`);
