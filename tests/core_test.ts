// The tensor-train core: exact enumeration, finite differences, WASM against the reference,
// quantized index maps.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { Rng } from "../src/core/rng.ts";
import { TensorTrain } from "../src/core/tt.ts";
import {
  adamReference,
  gradientReference,
  logProbReference,
  sampleReference,
  ttLayout,
} from "../src/core/tt_reference.ts";
import { QuantizedSpace } from "../src/space/quantize.ts";

/** All multi-indices of a grid, sample-major, last coordinate fastest. */
function enumerate(n: number[]): Int32Array {
  const total = n.reduce((a, b) => a * b, 1), d = n.length, out = new Int32Array(total * d);
  for (let s = 0; s < total; s++) {
    let rest = s;
    for (let k = d - 1; k >= 0; k--) {
      out[s * d + k] = rest % n[k];
      rest = Math.floor(rest / n[k]);
    }
  }
  return out;
}

/** A train with signed entries, so that the absolute values in the model matter. */
function signedTrain(n: number[], r: number, seed: number): TensorTrain {
  const rng = new Rng(seed);
  const tt = new TensorTrain(n, r, rng);
  tt.cores = tt.cores.map((v) => 2 * v - 0.7);
  return tt;
}

Deno.test("probabilities over the whole grid sum to 1 (WASM in f32, reference in f64)", () => {
  const n = [3, 2, 4, 3];
  const tt = signedTrain(n, 3, 1);
  const all = enumerate(n);
  const sum = (lp: Float64Array) => lp.reduce((a, v) => a + Math.exp(v), 0);
  // Each conditional is normalized by a float32 sum: 4 factors of 1 + O(2^-24).
  assert(Math.abs(sum(tt.logProb(all)) - 1) < 1e-6);
  assert(Math.abs(sum(logProbReference(tt.layout, tt.cores, all)) - 1) < 1e-12);
});

Deno.test("sampled frequencies match the model's probabilities (chi-square, d=4, n=3, r=2)", () => {
  const n = [3, 3, 3, 3], d = 4, samples = 200_000;
  const tt = signedTrain(n, 2, 2);
  const p = tt.logProb(enumerate(n)).map(Math.exp);
  const rng = new Rng(3);
  const idx = tt.sample(rng, samples);
  const counts = new Float64Array(p.length);
  for (let s = 0; s < samples; s++) {
    let flat = 0;
    for (let k = 0; k < d; k++) flat = flat * 3 + idx[s * d + k];
    counts[flat]++;
  }
  let chi2 = 0;
  for (let j = 0; j < p.length; j++) chi2 += (counts[j] - samples * p[j]) ** 2 / (samples * p[j]);
  // Upper 0.1% point of chi-square with 80 degrees of freedom (Wilson-Hilferty: 124.8).
  const df = p.length - 1, z = 3.0902;
  const critical = df * (1 - 2 / (9 * df) + z * Math.sqrt(2 / (9 * df))) ** 3;
  assert(chi2 < critical, `chi-square ${chi2.toFixed(1)} >= ${critical.toFixed(1)}`);
  assert(chi2 > 0);
});

Deno.test("the gradient matches central finite differences (f64, relative error < 1e-6)", () => {
  const n = [3, 2, 5, 2, 4];
  for (const seed of [4, 5]) {
    const tt = signedTrain(n, 3, seed);
    const cores = tt.cores;
    const idx = tt.sample(new Rng(seed), 7);
    const { loss, grad } = gradientReference(tt.layout, cores, idx);
    const meanNll = (c: Float64Array) =>
      -logProbReference(tt.layout, c, idx).reduce((a, b) => a + b, 0) / 7;
    assert(Math.abs(loss - meanNll(cores)) < 1e-12);
    let num = 0, den = 0;
    for (let j = 0; j < cores.length; j++) {
      const h = 1e-5, plus = cores.slice(), minus = cores.slice();
      plus[j] += h;
      minus[j] -= h;
      const fd = (meanNll(plus) - meanNll(minus)) / (2 * h);
      num += (fd - grad[j]) ** 2;
      den += grad[j] ** 2;
    }
    const rel = Math.sqrt(num / den);
    assert(rel < 1e-6, `relative error ${rel}`);
  }
});

/** max |a - b| / max |b|. */
function relMax(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let j = 0; j < b.length; j++) {
    num = Math.max(num, Math.abs(a[j] - b[j]));
    den = Math.max(den, Math.abs(b[j]));
  }
  return num / den;
}

Deno.test("the WASM core agrees with the TypeScript reference", () => {
  // Mode sizes 2 (the binary path) and others (the gather path); rank 5 (a partial vector).
  const n = [2, 5, 3, 2, 2, 4, 2, 2];
  const tt = signedTrain(n, 5, 6);
  const cores = tt.cores;
  // Sampling: bit-identical to the float32 reference, indices and generator state, for counts
  // that fill whole groups of four and counts that do not.
  for (const m of [1, 3, 8, 11]) {
    const a = new Rng(7), b = new Rng(7);
    const ref = sampleReference(tt.layout, cores, b, m, "f32");
    assertEquals(Array.from(tt.sample(a, m)), Array.from(ref));
    assertEquals(Array.from(a.state), Array.from(b.state));
  }
  // Log-probabilities: the float32 recursion, logarithms in f64 (an ulp apart at most).
  const idx = tt.sample(new Rng(8), 9);
  const lp = tt.logProb(idx), lp32 = logProbReference(tt.layout, cores, idx, "f32");
  lp.forEach((v, s) => assert(Math.abs(v - lp32[s]) < 1e-12 * Math.abs(lp32[s])));
  // The gradient against the f64 reference: float32 rounding only (measured: within 1.1e-6 of
  // the largest entry).
  for (const m of [1, 5, 9]) {
    const sub = idx.subarray(0, m * n.length);
    const g = tt.gradient(sub), gRef = gradientReference(tt.layout, cores, sub);
    assert(Math.abs(g.loss - gRef.loss) < 1e-5 * gRef.loss, `loss ${g.loss} vs ${gRef.loss}`);
    const rel = relMax(g.grad, gRef.grad);
    assert(rel < 1e-5, `gradient of ${m} samples: relative error ${rel}`);
  }
  // Adam: three steps against the reference's, both fed the core's gradient (Adam's arithmetic
  // is what is compared; a float32 gradient entry near zero may differ in sign from the float64
  // one, and Adam's first steps move every entry by about lr whatever its size).
  const params = cores.slice();
  const state = { m: new Float64Array(params.length), v: new Float64Array(params.length), t: 0 };
  for (let t = 0; t < 3; t++) {
    adamReference(params, tt.gradient(idx).grad, state, 0.05);
    tt.adamStep(idx, 0.05);
  }
  const moved = relMax(tt.cores.map((v, j) => v - cores[j]), params.map((v, j) => v - cores[j]));
  assert(moved < 5e-5, `three Adam steps: relative error of the moves ${moved}`); // measured 7e-6
});

Deno.test("Adam steps raise the likelihood of the chosen indices", () => {
  const tt = signedTrain([4, 4, 4], 2, 9);
  const target = Int32Array.of(3, 0, 2, 1, 1, 1);
  const before = tt.logProb(target).reduce((a, b) => a + b);
  for (let t = 0; t < 50; t++) tt.adamStep(target, 0.05);
  assert(tt.logProb(target).reduce((a, b) => a + b) > before + 1);
});

Deno.test("quantized maps round-trip every index; the WASM map agrees", () => {
  for (const [n, p] of [[[64, 16], 2], [[12, 10, 7], 2], [[27, 10], 3]] as [number[], number][]) {
    const q = new QuantizedSpace(n, p);
    assertEquals(q.digitN.reduce((a, b) => a * b, 1), n.reduce((a, b) => a * b, 1));
    const all = enumerate(n), d = n.length, dq = q.digitN.length;
    const digits = new Int32Array((all.length / d) * dq);
    for (let s = 0; s < all.length / d; s++) {
      const dig = q.toDigits(all.subarray(s * d, (s + 1) * d));
      dig.forEach((v, j) => assert(v >= 0 && v < q.digitN[j]));
      digits.set(dig, s * dq);
      assertEquals(Array.from(q.fromDigits(dig)), Array.from(all.subarray(s * d, (s + 1) * d)));
    }
    const tt = new TensorTrain(q.digitN, 2, new Rng(0));
    assertEquals(Array.from(tt.toCoordinates(digits, q)), Array.from(all));
    // Sampling and mapping in one call: the same digits as `sample`, mapped as above.
    const both = tt.sampleCoordinates(new Rng(5), 9, q), alone = tt.sample(new Rng(5), 9);
    assertEquals(Array.from(both.digits), Array.from(alone));
    assertEquals(Array.from(both.coordinates), Array.from(tt.toCoordinates(alone, q)));
  }
  // The worked example of docs/algorithms.md, "Quantized modes".
  assertEquals(Array.from(new QuantizedSpace([64], 2).toDigits(Int32Array.of(37))), [
    1,
    0,
    1,
    0,
    0,
    1,
  ]);
});

Deno.test("the generator is reproducible and uniform", () => {
  const a = new Rng(123), b = new Rng(123), c = new Rng(124);
  const xs = Array.from({ length: 10_000 }, () => a.uniform());
  assertEquals(xs.slice(0, 5), Array.from({ length: 5 }, () => b.uniform()));
  assert(xs[0] !== c.uniform());
  const mean = xs.reduce((s, x) => s + x) / xs.length;
  assert(Math.abs(mean - 0.5) < 0.01);
  assert(xs.every((x) => x >= 0 && x < 1));
});

Deno.test("bad core inputs are rejected with the reason", () => {
  const tt = new TensorTrain([2, 3], 2, new Rng(0));
  let message = "";
  try {
    tt.logProb(Int32Array.of(0, 3));
  } catch (e) {
    message = (e as Error).message;
  }
  assert(message.includes("out of range 0..2"), message);
  let m2 = "";
  try {
    ttLayout([2, 2], 0);
  } catch (e) {
    m2 = (e as Error).message;
  }
  assert(m2.includes("rank"), m2);
});
