/** Tests of the natural-image control: the scan finds the images a toy target prefers by construction. */

import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { Rng } from "../src/core/rng.ts";
import type { ImageSet } from "../src/data/idx.ts";
import { buildModel, openSession } from "../src/runtime/mod.ts";
import { cachedScan, scanImages } from "../src/analysis/natural.ts";

/**
 * A target whose channel c of "feat" [B, 3, 1, 1] is the mean brightness of a region: the left
 * half, the right half, and the top-left pixel.
 */
function regionTarget(): Uint8Array {
  const w = new Float32Array(784 * 3);
  for (let p = 0; p < 784; p++) {
    const left = p % 28 < 14;
    w[p * 3] = left ? 1 / 392 : 0;
    w[p * 3 + 1] = left ? 0 : 1 / 392;
  }
  w[2] = 1;
  return buildModel({
    inputs: [{ name: "image", dims: ["B", 1, 28, 28] }],
    outputs: [{ name: "feat", dims: ["B", 3, 1, 1] }],
    initializers: [
      { name: "flat", dims: [2], data: BigInt64Array.of(-1n, 784n) },
      { name: "W", dims: [784, 3], data: w },
      { name: "shape", dims: [4], data: BigInt64Array.of(-1n, 3n, 1n, 1n) },
    ],
    nodes: [
      { opType: "Reshape", inputs: ["image", "flat"], outputs: ["x"] },
      { opType: "MatMul", inputs: ["x", "W"], outputs: ["y"] },
      { opType: "Reshape", inputs: ["y", "shape"], outputs: ["feat"] },
    ],
  });
}

/** 100 random images in [0, 0.8]; image 37 is white on the left half, image 71 on the right. */
function imageSet(): ImageSet {
  const rng = new Rng(4), n = 100;
  const images = Float32Array.from({ length: n * 784 }, () => 0.8 * rng.uniform());
  for (let p = 0; p < 784; p++) {
    images[37 * 784 + p] = p % 28 < 14 ? 1 : 0;
    images[71 * 784 + p] = p % 28 < 14 ? 0 : 1;
  }
  return { images, labels: new Uint8Array(n), shape: [n, 1, 28, 28] };
}

Deno.test("natural scan: the toy target's most activating images are found, in order", async () => {
  const set = imageSet();
  const session = await openSession(regionTarget(), { backend: "wasm", outputs: ["feat"] });
  const scan = await scanImages(session, set, ["feat"], { k: 9, batch: 16 });
  await session.release();
  const [left, right, corner] = scan.top.feat;
  assertEquals([left[0].index, right[0].index], [37, 71]);
  assert(Math.abs(left[0].activation - 1) < 1e-5 && Math.abs(right[0].activation - 1) < 1e-5);
  // The rest of each list, against the means computed here directly.
  const mean = (i: number, half: 0 | 1) => {
    let s = 0;
    for (let p = 0; p < 784; p++) if ((p % 28 < 14) === (half === 0)) s += set.images[i * 784 + p];
    return s / 392;
  };
  const expected = Array.from({ length: 100 }, (_, i) => i)
    .sort((a, b) => mean(b, 0) - mean(a, 0)).slice(0, 9);
  assertEquals(left.map((t) => t.index), expected);
  assertEquals(left.length, 9);
  // The corner pixel: the brightest first pixel (ties broken by the lower index).
  const firsts = Array.from({ length: 100 }, (_, i) => set.images[i * 784]);
  assertEquals(corner[0].index, firsts.indexOf(Math.max(...firsts)));
  assertEquals(scan.images, 100);
});

Deno.test("natural scan: cached per checkpoint and layer; a cached layer opens no session", async () => {
  const set = imageSet(), dir = await Deno.makeTempDir();
  let opened = 0;
  const open = async (layers: string[]) => {
    opened++;
    return await openSession(regionTarget(), { backend: "wasm", outputs: layers });
  };
  const key = { sha256: "ab".repeat(32), dataset: "toy", k: 3 };
  const first = await cachedScan(open, set, ["feat"], key, dir);
  const again = await cachedScan(open, set, ["feat"], key, dir);
  assertEquals([opened, first.cached, again.cached], [1, [], ["feat"]]);
  assertEquals(again.top, first.top);
  assertEquals(first.top.feat[0].map((t) => t.index)[0], 37);
  // Another checkpoint (hash) is not served from this one's cache.
  await cachedScan(open, set, ["feat"], { ...key, sha256: "cd".repeat(32) }, dir);
  assertEquals(opened, 2);
  await Deno.remove(dir, { recursive: true });
});
