/**
 * Dataset readers: IDX (raw and gzip) and CIFAR-10 binary batches, on small files this test
 * writes into a temporary directory (bytes written, read back, compared).
 */

import { deepStrictEqual, ok as assert, rejects, throws } from "node:assert";
import { parseIdx, readIdxDataset, readIdxFile, readIdxImages } from "../src/data/idx.ts";
import { CIFAR10_RECORD, parseCifar10, readCifar10 } from "../src/data/cifar10.ts";

/** Deterministic bytes (LCG). */
function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

function idxBytes(type: number, dims: number[], payload: Uint8Array): Uint8Array {
  const head = new Uint8Array(4 + 4 * dims.length);
  const v = new DataView(head.buffer);
  head[2] = type;
  head[3] = dims.length;
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return out;
}

async function gzip(b: Uint8Array): Promise<Uint8Array> {
  const s = new Blob([b as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(s).arrayBuffer());
}

Deno.test("IDX: uint8 images and labels, raw and gzip, round trip", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mei-idx-" });
  try {
    const n = 5, h = 28, w = 28;
    const px = bytes(n * h * w, 1);
    const lab = Uint8Array.of(3, 0, 9, 1, 7);
    const img = idxBytes(0x08, [n, h, w], px);
    const lbl = idxBytes(0x08, [n], lab);
    // train split gzip-compressed, test split raw
    await Deno.writeFile(`${dir}/train-images-idx3-ubyte.gz`, await gzip(img));
    await Deno.writeFile(`${dir}/train-labels-idx1-ubyte.gz`, await gzip(lbl));
    await Deno.writeFile(`${dir}/t10k-images-idx3-ubyte`, img);
    await Deno.writeFile(`${dir}/t10k-labels-idx1-ubyte`, lbl);
    for (const split of ["train", "test"] as const) {
      const set = await readIdxDataset(dir, split);
      deepStrictEqual(set.shape, [n, 1, h, w]);
      deepStrictEqual(Array.from(set.labels), Array.from(lab));
      assert(set.images.length === px.length);
      for (let i = 0; i < px.length; i++) {
        assert(set.images[i] === Math.fround(px[i] / 255), `pixel ${i}`);
      }
    }
    const raw = await readIdxFile(`${dir}/t10k-images-idx3-ubyte`);
    deepStrictEqual(raw.dims, [n, h, w]);
    deepStrictEqual(Array.from(raw.data as Uint8Array), Array.from(px));
    // a label count that does not match the images is an error
    await Deno.writeFile(`${dir}/bad-labels`, idxBytes(0x08, [n - 1], lab.subarray(1)));
    await rejects(readIdxImages(`${dir}/t10k-images-idx3-ubyte`, `${dir}/bad-labels`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("IDX: big-endian multi-byte types", () => {
  const vals = [1, -2, 300000, -7];
  const p32 = new Uint8Array(16);
  const v = new DataView(p32.buffer);
  vals.forEach((x, i) => v.setInt32(4 * i, x, false));
  deepStrictEqual(Array.from(parseIdx(idxBytes(0x0c, [2, 2], p32)).data), vals);
  const f = [0.5, -1.25, 3.0];
  const pf = new Uint8Array(12);
  const vf = new DataView(pf.buffer);
  f.forEach((x, i) => vf.setFloat32(4 * i, x, false));
  const a = parseIdx(idxBytes(0x0d, [3], pf));
  assert(a.data instanceof Float32Array);
  deepStrictEqual(Array.from(a.data), f);
  const p16 = Uint8Array.of(0xff, 0xfe, 0x01, 0x00);
  deepStrictEqual(Array.from(parseIdx(idxBytes(0x0b, [2], p16)).data), [-2, 256]);
  throws(() => parseIdx(Uint8Array.of(1, 0, 8, 1, 0, 0, 0, 1, 0)), /magic/);
  throws(() => parseIdx(idxBytes(0x08, [10], new Uint8Array(3))), /truncated/);
});

Deno.test("CIFAR-10: binary batches, train concatenated in batch order, test", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mei-cifar-" });
  try {
    const mk = (n: number, seed: number) => {
      const b = bytes(n * CIFAR10_RECORD, seed);
      for (let r = 0; r < n; r++) b[r * CIFAR10_RECORD] = (seed + r) % 10;
      return b;
    };
    const b1 = mk(3, 1), b2 = mk(2, 2), b10 = mk(1, 10), test = mk(4, 5);
    // written out of order, and batch 10 must sort after batch 2
    await Deno.writeFile(`${dir}/data_batch_10.bin`, b10);
    await Deno.writeFile(`${dir}/data_batch_2.bin`, b2);
    await Deno.writeFile(`${dir}/data_batch_1.bin`, b1);
    await Deno.writeFile(`${dir}/test_batch.bin`, test);
    await Deno.writeFile(`${dir}/batches.meta.txt`, new TextEncoder().encode("airplane\n"));
    const tr = await readCifar10(dir, "train");
    deepStrictEqual(tr.shape, [6, 3, 32, 32]);
    const all = new Uint8Array([...b1, ...b2, ...b10]);
    for (let r = 0; r < 6; r++) {
      assert(tr.labels[r] === all[r * CIFAR10_RECORD]);
      for (let i = 0; i < 3072; i += 97) {
        assert(tr.images[r * 3072 + i] === Math.fround(all[r * CIFAR10_RECORD + 1 + i] / 255));
      }
    }
    const te = await readCifar10(dir, "test");
    deepStrictEqual(te.shape, [4, 3, 32, 32]);
    deepStrictEqual(Array.from(te.labels), [5, 6, 7, 8]);
    // channel-major layout: byte 1 + c*1024 + y*32 + x is pixel (c, y, x)
    const c = 2, y = 5, x = 9;
    assert(te.images[c * 1024 + y * 32 + x] === Math.fround(test[1 + c * 1024 + y * 32 + x] / 255));
    throws(() => parseCifar10(new Uint8Array(CIFAR10_RECORD + 1)), /multiple/);
    const badLabel = new Uint8Array(CIFAR10_RECORD);
    badLabel[0] = 10;
    throws(() => parseCifar10(badLabel), /label/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
