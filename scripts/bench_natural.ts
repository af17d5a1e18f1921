/**
 * Speed of the natural-image scan (src/analysis/natural.ts) against the bare batched session it
 * runs on: the same checkpoint, layers and test images, batches of 32, in the same process.
 * Prints images per second of both and their ratio (1 = the top-9 bookkeeping costs nothing).
 *
 *   deno run -A scripts/bench_natural.ts [--images 2000] [--backend native] [--target sresnet18@8]
 *
 * @module
 */

import { parseCommandLine } from "../src/io/cli.ts";
import { FASHION_MNIST_DIR, readIdxDataset } from "../src/data/idx.ts";
import { openModel } from "../src/models/mei.ts";
import { type BackendChoice, openSession } from "../src/runtime/mod.ts";
import { scanImages } from "../src/analysis/natural.ts";

const help = `Usage: deno run -A scripts/bench_natural.ts [--images 2000] [--backend native]
  [--target sresnet18@8] [--layers sn1,layer4.1.sn2]

Images per second of the natural-image scan against the bare batched session, and their ratio.`;
const { values: v } = parseCommandLine("bench_natural", help, {
  images: { type: "string", default: "2000" },
  backend: { type: "string", default: "native" },
  target: { type: "string", default: "sresnet18@8" },
  layers: { type: "string", default: "sn1,layer4.1.sn2" },
});
const n = Number(v.images), layers = v.layers.split(",");
const full = await readIdxDataset(FASHION_MNIST_DIR, "test");
const [, c, h, w] = full.shape, per = c * h * w;
const set = {
  images: full.images.slice(0, n * per),
  labels: full.labels.slice(0, n),
  shape: [n, c, h, w] as [number, number, number, number],
};
const model = await openModel(v.target, "target", undefined, undefined);
const session = await openSession(model.bytes, {
  backend: v.backend as BackendChoice,
  outputs: layers,
});
const batch = (from: number) => ({
  data: set.images.subarray(from * per, Math.min(n, from + 32) * per),
  dims: [Math.min(32, n - from), c, h, w],
});
await session.run({ [session.inputNames[0]]: batch(0) }, layers); // warm-up
for (let rep = 0; rep < 2; rep++) {
  const t0 = performance.now();
  for (let from = 0; from < n; from += 32) {
    await session.run({ [session.inputNames[0]]: batch(from) }, layers);
  }
  const bare = (performance.now() - t0) / 1000;
  const scan = await scanImages(session, set, layers);
  console.log(
    `${v.target} ${layers.join(",")} on ${session.backend}: bare session ${
      (n / bare).toFixed(0)
    } ` +
      `images/s, scan ${(n / scan.seconds).toFixed(0)} images/s, ratio ${
        (bare / scan.seconds).toFixed(2)
      }`,
  );
}
await session.release();
