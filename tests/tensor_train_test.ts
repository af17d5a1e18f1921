// The levers of the tensor-train search (docs/tensor_train.md): the Gray code of quantized
// modes, elitism, the prior-shaped start and the local-search candidates, each against an
// independent expectation.
import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert";
import { QuantizedSpace } from "../src/space/quantize.ts";
import { EliteArchive, type Scored } from "../src/optim/_elite.ts";
import { priorCores } from "../src/optim/_prior_start.ts";
import { TensorTrain } from "../src/core/tt.ts";
import { Rng } from "../src/core/rng.ts";
import { gridValues } from "../src/space/grids.ts";
import { createOptimizer } from "../src/optim/optimize.ts";
import "../src/optim/methods.ts";

Deno.test("Gray code: round-trips, neighbours one digit apart by one, binary = v xor v>>1", () => {
  for (const [n, p] of [[64, 2], [12, 2], [45, 3], [18, 2], [2, 2], [27, 3], [512, 2]]) {
    const q = new QuantizedSpace([n], p, "gray");
    let previous: Int32Array | undefined;
    for (let v = 0; v < n; v++) {
      const digits = q.toDigits(Int32Array.of(v));
      assertEquals(q.fromDigits(digits)[0], v, `n=${n} p=${p} v=${v}`);
      digits.forEach((g, j) => assert(g >= 0 && g < q.digitN[j]));
      if (previous) {
        const changed = digits.map((g, j) => Math.abs(g - previous![j]));
        assertEquals(changed.filter((c) => c !== 0).length, 1, `n=${n} v=${v}`);
        assertEquals(Math.max(...changed), 1, `n=${n} v=${v}`);
      }
      previous = digits;
      if (n === 64) {
        // The classic binary reflected Gray code, little-endian digits.
        const g = v ^ (v >> 1);
        assertEquals(Array.from(digits), Array.from({ length: 6 }, (_, j) => (g >> j) & 1));
      }
    }
  }
});

Deno.test("elitism: every update holds the best point seen so far", () => {
  const rng = new Rng(7);
  for (const [size, kTop, batchSize] of [[1, 1, 5], [4, 3, 10], [10, 5, 25]]) {
    const elite = new EliteArchive(size);
    let best: Scored | undefined;
    for (let step = 0; step < 200; step++) {
      // Coarse values (many ties) over a small space (points come back), as firing rates do.
      const batch = Array.from({ length: batchSize }, () => {
        const digits = Int32Array.of(rng.int(4), rng.int(4), rng.int(4));
        return { digits, value: ((digits[0] * 7 + digits[1] * 3 + digits[2] * 5) % 11) / 2 };
      });
      for (const s of batch) if (!best || s.value < best.value) best = s;
      const chosen = elite.select(batch, kTop);
      assert(chosen.length === Math.min(kTop, chosen.length));
      assert(chosen.some((c) => c.value === best!.value), `size ${size} step ${step}`);
      assert(chosen.every((c) => c.value >= best!.value));
      // The chosen points are distinct.
      assertEquals(new Set(chosen.map((c) => c.digits.join())).size, chosen.length);
    }
  }
});

Deno.test("ties: every candidate tied with the k-th best joins the update", () => {
  const batch = [3, 2, 1, 2, 2, 4].map((value, j) => ({ digits: Int32Array.of(j), value }));
  assertEquals(new EliteArchive(0).select(batch, 2, true).map((c) => c.value), [1, 2, 2, 2]);
  assertEquals(new EliteArchive(0).select(batch, 2).map((c) => c.value), [1, 2]);
  assertEquals(new EliteArchive(0).select(batch, 10, true).length, 6);
});

Deno.test("without elitism, an update ranks only the batch (PROTES)", () => {
  const elite = new EliteArchive(0);
  elite.select([{ digits: Int32Array.of(0), value: -5 }], 1);
  const chosen = elite.select([{ digits: Int32Array.of(1), value: 3 }], 1);
  assertEquals(chosen.map((c) => c.value), [3]);
});

/** Chi-square statistic of counts against probabilities, bins merged to >= 5 expected. */
function chiSquare(counts: number[], p: number[], m: number): { chi: number; df: number } {
  let chi = 0, bins = 0, expected = 0, observed = 0;
  p.forEach((pv, v) => {
    expected += pv * m;
    observed += counts[v];
    if (expected >= 5 || v === p.length - 1) {
      chi += (observed - expected) ** 2 / expected;
      bins++;
      expected = observed = 0;
    }
  });
  return { chi, df: bins - 1 };
}

/** The 0.999 quantile of chi-square with df degrees of freedom (Wilson-Hilferty). */
function chiCritical(df: number): number {
  const z = 3.090232; // standard-normal 0.999 quantile
  return df * (1 - 2 / (9 * df) + z * Math.sqrt(2 / (9 * df))) ** 3;
}

Deno.test("a prior-shaped start samples the prior's marginals (chi-square, alpha 0.001)", () => {
  // The standard-normal prior of SN-GAN's latents on the study's grid: 64 points on [-4, 4].
  const x = gridValues({ kind: "uniform", n: 64, lower: -4, upper: 4 });
  const w = Array.from(x, (v) => Math.exp(-v * v / 2)), z = w.reduce((a, b) => a + b);
  const prior = w.map((v) => v / z);
  const d = 4, m = 4000;
  const q = new QuantizedSpace(new Array(d).fill(64), 2, "gray");
  const marginals = (tt: TensorTrain) => {
    const digits = tt.sample(new Rng(5), m), dq = q.digitN.length;
    const counts = Array.from({ length: d }, () => new Array(64).fill(0));
    for (let s = 0; s < m; s++) {
      q.fromDigits(digits.subarray(s * dq, (s + 1) * dq)).forEach((v, k) => counts[k][v]++);
    }
    return counts.map((c) => chiSquare(c, prior, m));
  };
  const shaped = new TensorTrain(q.digitN, 5, new Rng(1));
  shaped.cores = priorCores(q, 5, prior, new Rng(2));
  for (const { chi, df } of marginals(shaped)) {
    assert(chi < chiCritical(df), `chi2 ${chi} df ${df}`);
  }
  // The same test rejects the uniform random start.
  for (const { chi, df } of marginals(new TensorTrain(q.digitN, 5, new Rng(1)))) {
    assert(chi > chiCritical(df), `uniform start: chi2 ${chi} df ${df}`);
  }
});

Deno.test("local-search candidates are the best point with coordinates moved by <= radius", () => {
  const space = { d: 16, n: 64 }, k = 10, local = 6, radius = 3;
  const opt = createOptimizer("tt-b", {
    space,
    budget: 1000,
    seed: 3,
    params: { k, k_top: 3, code: "gray", elite: 4, local, radius },
  });
  const f = (i: Int32Array) => i.reduce((s, v, j) => s + Math.abs(v - 4 * j), 0);
  const first = opt.ask() as Int32Array[];
  assertEquals(first.length, k); // no best point yet: no local candidates
  opt.tell(first, first.map(f));
  for (let step = 0; step < 5; step++) {
    const best = opt.best!.point;
    const batch = opt.ask() as Int32Array[];
    assertEquals(batch.length, k + local);
    for (const c of batch.slice(k)) {
      assert(Array.from(c).every((v, j) => Math.abs(v - best[j]) <= radius));
      assert(Array.from(c).every((v) => v >= 0 && v < 64));
    }
    opt.tell(batch, batch.map(f));
  }
});

Deno.test("the lever parameters are checked with clear messages", () => {
  const space = { d: 2, n: 8 };
  throws(
    () => createOptimizer("tt-b", { space, budget: 10, params: { local: 2 } }),
    /params\.local needs params\.elite >= 1/,
  );
  throws(
    () => createOptimizer("tt-b", { space, budget: 10, params: { prior: [1, 1] } }),
    /params\.prior must have one weight per grid value \(8\)/,
  );
  throws(
    () => createOptimizer("protes", { space, budget: 10, params: { prior: new Array(8).fill(1) } }),
    /params\.prior needs quantized modes/,
  );
  throws(
    () => createOptimizer("tt-b", { space, budget: 10, params: { code: "grey" } }),
    /params\.code of "tt-b" must be one of binary, gray/,
  );
});

Deno.test("restart: a collapsed model starts afresh; without restart it stays collapsed", () => {
  // Minimizing the number of ones over 24 bits: rank 1 with elitism and 8 Adam steps settles
  // on the all-zero string within a few hundred evaluations.
  const distinctPerBatch = (restart: number) => {
    const opt = createOptimizer("tt-elite", {
      space: { d: 24, n: 2 },
      budget: 3000,
      seed: 1,
      params: { restart },
    });
    const distinct: number[] = [];
    while (opt.evaluations < 3000) {
      const batch = opt.ask() as Int32Array[];
      distinct.push(new Set(batch.map((p) => p.join())).size / batch.length);
      opt.tell(batch, batch.map((p) => p.reduce((a, b) => a + b, 0)));
    }
    assertEquals(opt.best!.value, 0);
    return distinct;
  };
  // The batch that follows a collapsed one (fewer than half of its candidates distinct).
  const next = (fractions: number[]) =>
    fractions.flatMap((f, j) => f < 0.5 && j + 1 < fractions.length ? [fractions[j + 1]] : []);
  const kept = next(distinctPerBatch(0)), restarted = next(distinctPerBatch(0.5));
  // Without restarts the model stays collapsed; with them the next batch comes from a fresh
  // model (nearly uniform over 2^24 points: all or nearly all distinct).
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert(kept.length > 0 && mean(kept) < 0.7, `${kept}`);
  assert(restarted.length > 0 && restarted.every((f) => f >= 0.9), `${restarted}`);
});
