/** Tests of the study's analyses on small hand-made records with independently known answers. */

import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { deflateSync, inflateSync } from "node:zlib";
import { Rng } from "../src/core/rng.ts";
import { blankRaster, encodePng, type Raster } from "../src/io/image.ts";
import { bootstrapCi, mean, median, normalizedEntropy, quantile } from "../src/analysis/stats.ts";
import { neuronLabel, selectivity } from "../src/analysis/selectivity.ts";
import { cosineDistance, euclidean, methodDistances } from "../src/analysis/diversity.ts";
import { encodeJpeg, imageComplexity, JPEG_QUALITY } from "../src/analysis/complexity.ts";
import { bestAt, evaluationsToReach, queryEfficiency } from "../src/analysis/efficiency.ts";

const close = (a: number, b: number, tol = 1e-12) => Math.abs(a - b) <= tol;

Deno.test("class entropy of known distributions", () => {
  assert(close(normalizedEntropy(Array(10).fill(0.1)), 1));
  assertEquals(normalizedEntropy([0, 0, 1, 0, 0, 0, 0, 0, 0, 0]), 0);
  // Two equally likely classes of four: log 2 / log 4 = 1/2.
  assert(close(normalizedEntropy([0.5, 0, 0.5, 0]), 0.5));
  // Four of sixteen equally likely: log 4 / log 16 = 1/2.
  assert(close(normalizedEntropy([...Array(4).fill(0.25), ...Array(12).fill(0)]), 0.5));
  // p = (0.9, 0.1): the binary entropy in nats over log 2.
  const h = -(0.9 * Math.log(0.9) + 0.1 * Math.log(0.1)) / Math.log(2);
  assert(close(normalizedEntropy([0.9, 0.1]), h) && close(h, 0.4689955935892812, 1e-12));
});

/** A noise-free tensor-train record of neuron `neuron` at `epoch`. */
const rec = (
  neuron: number,
  epoch: number,
  method: string,
  act: number,
  cls: number,
  p: number,
) => {
  const probs = Array(10).fill((1 - p) / 9);
  probs[cls] = p;
  return {
    arch: "net",
    layer: "l1",
    neuron,
    method,
    noise: 0,
    seed: 0,
    epoch,
    target: `net@${epoch}`,
    clean_activation: act,
    class_probs: probs,
  };
};

Deno.test("composite criterion: a labile neuron, a stable one, and three ways to fail", () => {
  const tt = ["tt", "tt-s", "tt-b"];
  const records = [
    // neuron 0: class 2 at epoch 0, weak at epoch 4, class 5 at epoch 8 -> labile
    ...tt.map((m) => rec(0, 0, m, 0.8, 2, 0.9)),
    ...tt.map((m) => rec(0, 4, m, 0.5, 2, 0.9)),
    ...tt.map((m) => rec(0, 8, m, 0.95, 5, 0.8)),
    // neuron 1: weak at 0, class 7 at epochs 4 and 8 -> stable, first strong epoch 4
    ...tt.map((m) => rec(1, 0, m, 0.7, 7, 0.99)),
    ...tt.map((m) => rec(1, 4, m, 0.76, 7, 0.99)),
    ...tt.map((m) => rec(1, 8, m, 0.9, 7, 0.76)),
    // neuron 2: strong and confident, but tt-b's MEI is another class -> never selective
    ...tt.map((m) => rec(2, 8, m, 0.9, m === "tt-b" ? 4 : 3, 0.9)),
    // neuron 3: strong and agreeing, one MEI not confident (0.74) -> never selective
    ...tt.map((m) => rec(3, 8, m, 0.9, 3, m === "tt" ? 0.74 : 0.9)),
    // neuron 4: confident but weak (best MEI 0.74) -> never strong, never selective
    ...tt.map((m) => rec(4, 8, m, m === "tt" ? 0.74 : 0.2, 3, 0.99)),
    // neuron 5: a non-TT method disagrees, which stability ignores -> stable
    ...tt.map((m) => rec(5, 8, m, 0.8, 1, 0.9)),
    rec(5, 8, "portfolio", 0.99, 6, 0.99),
    // a noisy record of neuron 4 that would make it selective is ignored
    { ...rec(4, 8, "tt", 0.99, 3, 0.99), noise: 0.5 },
  ];
  const out = selectivity(records, () => 1);
  const by = new Map(out.map((n) => [n.neuron, n]));
  assertEquals(by.get(0)!.checkpoints.map((c) => c.selectiveClass), [2, null, 5]);
  assertEquals(by.get(0)!.label, "labile");
  assertEquals(by.get(0)!.firstStrongEpoch, 0);
  assertEquals(by.get(1)!.checkpoints.map((c) => c.selectiveClass), [null, 7, 7]);
  assertEquals([by.get(1)!.label, by.get(1)!.firstStrongEpoch], ["stable", 4]);
  for (const n of [2, 3, 4]) assertEquals(by.get(n)!.label, "non-selective", `neuron ${n}`);
  assertEquals([by.get(2)!.firstStrongEpoch, by.get(4)!.firstStrongEpoch], [8, null]);
  assertEquals(by.get(5)!.label, "stable");
  assertEquals(by.get(5)!.checkpoints[0].activation, 0.99); // the best MEI of any method
  // Against another maximum: 0.8 of 2 is not strong.
  assertEquals(selectivity(records, () => 2).find((n) => n.neuron === 0)!.label, "non-selective");
  // Mean entropy of the three TT MEIs of neuron 3: (h(0.74) + 2 h(0.9)) / 3.
  const h = (p: number) => normalizedEntropy([p, ...Array(9).fill((1 - p) / 9)]);
  assert(close(by.get(3)!.checkpoints[0].entropy, (h(0.74) + 2 * h(0.9)) / 3));
  assertEquals(
    [neuronLabel([]), neuronLabel([null, 1, null, 1]), neuronLabel([1, 2])],
    ["non-selective", "stable", "labile"],
  );
});

Deno.test("distances of known vectors, averaged over method pairs of the same seed", () => {
  assertEquals(euclidean([1, 2, 3], [1, 2, 3]), 0);
  assertEquals(euclidean([0, 0, 0, 0], [1, 1, 1, 1]), 2);
  assert(close(cosineDistance([1, 1], [1, 0]), 1 - Math.SQRT1_2));
  assertEquals([cosineDistance([2, 0], [5, 0]), cosineDistance([1, 0], [-3, 0])], [0, 2]);
  assert(Number.isNaN(cosineDistance([0, 0], [1, 0])));
  const r = (method: string, seed: number, latent: number[], noise = 0) => ({
    arch: "a",
    layer: "l",
    neuron: 1,
    epoch: 3,
    target: "a@3",
    seed,
    noise,
    method,
    latent,
  });
  const [d] = methodDistances([
    r("tt", 0, [0, 0, 1]),
    r("tt-b", 0, [3, 4, 1]), // pair 1: euclidean 5, cosine 1 - 1/sqrt(26)
    r("tt", 1, [1, 0, 0]),
    r("tt-s", 1, [0, 1, 0]), // pair 2: euclidean sqrt 2, cosine 1
    r("tt-s", 2, [7, 7, 7]), // alone in its seed: no pair
    r("portfolio", 0, [9, 9, 9], 0.5), // noisy: left out
  ]);
  assertEquals(d.pairs, 2);
  assert(close(d.euclidean, (5 + Math.SQRT2) / 2));
  assert(close(d.cosine, (1 - 1 / Math.sqrt(26) + 1) / 2));
});

function raster(w: number, h: number, pixel: (x: number, y: number) => number): Raster {
  const img = blankRaster(w, h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = pixel(x, y), o = 4 * (y * w + x);
      img.rgba.set([v, v, v, 255], o);
    }
  }
  return img;
}

Deno.test("complexity: JPEG and deflate sizes equal the codecs run directly", async () => {
  const rng = new Rng(5);
  const flat = raster(28, 28, () => 128);
  const noisy = raster(28, 28, () => rng.int(256));
  const stripes = raster(28, 28, (x) => (x % 2 ? 255 : 0));
  const sizes = [];
  for (const img of [flat, stripes, noisy]) {
    const c = await imageComplexity(await encodePng(img));
    const grey = Uint8Array.from({ length: 28 * 28 }, (_, i) => img.rgba[4 * i]);
    const deflated = deflateSync(grey, { level: 9 });
    assertEquals(Array.from(inflateSync(deflated)), Array.from(grey));
    const jpeg = await encodeJpeg(img.rgba, 28, 28, JPEG_QUALITY);
    assertEquals([jpeg[0], jpeg[1]], [0xff, 0xd8]); // a JPEG stream
    assertEquals([c.channels, c.raw, c.deflate, c.jpeg], [1, 784, deflated.length, jpeg.length]);
    assert(close(c.deflateRatio, deflated.length / 784) && close(c.jpegRatio, jpeg.length / 784));
    sizes.push(c);
  }
  // Random pixels do not compress; a flat image does.
  assert(sizes[0].deflateRatio < 0.05 && sizes[2].deflateRatio > 0.95, JSON.stringify(sizes));
  assert(sizes[0].jpeg < sizes[1].jpeg && sizes[1].jpeg < sizes[2].jpeg);
  // A colour image counts three bytes a pixel.
  const colour = blankRaster(4, 4, [255, 0, 0, 255]);
  assertEquals((await imageComplexity(await encodePng(colour))).raw, 48);
});

Deno.test("bootstrap: the interval of a mean matches the normal theory within tolerance", () => {
  const rng = new Rng(11);
  const sample = Array.from({ length: 400 }, () => 3 + 2 * rng.normal());
  const m = mean(sample);
  const sd = Math.sqrt(sample.reduce((s, v) => s + (v - m) ** 2, 0) / (sample.length - 1));
  const half = 1.959964 * sd / Math.sqrt(sample.length);
  const [lo, hi] = bootstrapCi(sample.map((v) => [v]), mean, { seed: 1, resamples: 4000 });
  assert(
    Math.abs(lo - (m - half)) < 0.12 * half && Math.abs(hi - (m + half)) < 0.12 * half,
    `${lo} ${hi} vs ${m} ± ${half}`,
  );
  // Seeded: the same seed gives the same interval, another seed a slightly different one.
  assertEquals(bootstrapCi(sample.map((v) => [v]), mean, { seed: 1, resamples: 4000 }), [lo, hi]);
  // Clusters are resampled whole: a cluster of ten identical values is one draw, so the
  // interval is as wide as with one value per cluster (not sqrt(10) narrower).
  const clustered = sample.slice(0, 40).map((v) => Array(10).fill(v));
  const single = sample.slice(0, 40).map((v) => [v]);
  const w = (ci: number[]) => ci[1] - ci[0];
  const ratio = w(bootstrapCi(clustered, mean, { seed: 2 })) /
    w(bootstrapCi(single, mean, { seed: 2 }));
  assert(ratio > 0.85 && ratio < 1.15, `${ratio}`);
  assertEquals([median([3, 1, 2]), quantile([1, 2, 3, 4, 5], 0.25)], [2, 2]);
});

Deno.test("query efficiency: curves, final vs Portfolio, evaluations to reach it, noise on clean", () => {
  const r = (
    method: string,
    neuron: number,
    history: [number, number][],
    noise = 0,
    clean = history.at(-1)![1],
  ) => ({
    target: "t@8",
    layer: "l",
    neuron,
    seed: 0,
    noise,
    method,
    budget: 1000,
    history,
    activation: history.at(-1)![1],
    clean_activation: clean,
  });
  const records = [
    r("portfolio", 0, [[1, 0.2], [900, 0.5]]),
    r("portfolio", 1, [[1, 0.4], [500, 0.8]]),
    r("portfolio", 2, [[1, 0.5]]),
    r("tt-b", 0, [[1, 0.3], [100, 0.6]]), // reaches 0.5 at 100, final 1.2 x
    r("tt-b", 1, [[1, 0.5], [300, 0.9]]), // reaches 0.8 at 300, final 1.125 x
    r("tt-b", 2, [[1, 0.4]]), // never reaches 0.5, final 0.8 x
    // Under noise the observed best is inflated; the comparison uses the clean value.
    r("portfolio", 0, [[1, 0.9]], 0.5, 0.3),
    r("tt-b", 0, [[1, 2.0]], 0.5, 0.45),
  ];
  const { curves, methods } = queryEfficiency(records, 0);
  const tt = methods.find((m) => m.method === "tt-b" && m.noise === 0)!;
  assert(close(tt.median_final_vs_portfolio!, 1.125));
  assertEquals(tt.median_evals_to_portfolio, 300);
  assert(close(tt.fraction_reaching_portfolio!, 2 / 3));
  const port = methods.find((m) => m.method === "portfolio" && m.noise === 0)!;
  assertEquals([port.median_final_vs_portfolio, port.median_evals_to_portfolio], [1, 500]);
  const noisy = methods.find((m) => m.method === "tt-b" && m.noise === 0.5)!;
  assert(close(noisy.median_final_vs_portfolio!, 1.5) && noisy.median_evals_to_portfolio === null);
  assertEquals(noisy.median_final, 0.45);
  const curve = curves.find((c) => c.method === "tt-b" && c.noise === 0)!;
  assertEquals(curve.evaluations, [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]);
  assert(close(curve.median[0], 0.4) && close(curve.median.at(-1)!, 0.6));
  assertEquals([bestAt([[3, 1]], 2), evaluationsToReach([[3, 1], [8, 2]], 1.5)], [NaN, 8]);
});
