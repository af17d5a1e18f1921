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

Deno.test("probabilities over the whole grid sum to 1 (WASM and reference)", () => {
  const n = [3, 2, 4, 3];
  const tt = signedTrain(n, 3, 1);
  const all = enumerate(n);
  const sum = (lp: Float64Array) => lp.reduce((a, v) => a + Math.exp(v), 0);
  assert(Math.abs(sum(tt.logProb(all)) - 1) < 1e-12);
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

Deno.test("the gradient matches central finite differences (relative error < 1e-6)", () => {
  const n = [3, 2, 5, 2, 4];
  for (const seed of [4, 5]) {
    const tt = signedTrain(n, 3, seed);
    const cores = tt.cores;
    const idx = tt.sample(new Rng(seed), 7);
    const { loss, grad } = tt.gradient(idx);
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

Deno.test("the WASM core agrees with the TypeScript reference", () => {
  const n = [2, 5, 3, 2, 2, 4];
  const tt = signedTrain(n, 4, 6);
  const cores = tt.cores;
  // Sampling: identical indices and generator state, also for an odd count.
  for (const m of [1, 8, 11]) {
    const a = new Rng(7), b = new Rng(7);
    assertEquals(Array.from(tt.sample(a, m)), Array.from(sampleReference(tt.layout, cores, b, m)));
    assertEquals(Array.from(a.state), Array.from(b.state));
  }
  const idx = tt.sample(new Rng(8), 9);
  const lp = tt.logProb(idx), lpRef = logProbReference(tt.layout, cores, idx);
  lp.forEach((v, s) => assert(Math.abs(v - lpRef[s]) < 1e-12 * Math.abs(lpRef[s])));
  const g = tt.gradient(idx), gRef = gradientReference(tt.layout, cores, idx);
  assert(Math.abs(g.loss - gRef.loss) < 1e-12 * gRef.loss);
  g.grad.forEach((v, j) =>
    assert(Math.abs(v - gRef.grad[j]) < 1e-10 * (1 + Math.abs(gRef.grad[j])))
  );
  // Three Adam steps.
  const params = cores.slice();
  const state = { m: new Float64Array(params.length), v: new Float64Array(params.length), t: 0 };
  for (let t = 0; t < 3; t++) {
    tt.adamStep(idx, 0.05);
    adamReference(params, gradientReference(tt.layout, params, idx).grad, state, 0.05);
  }
  tt.cores.forEach((v, j) => assert(Math.abs(v - params[j]) < 1e-12));
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
  }
  // The worked example of algorithms.md §1.
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
