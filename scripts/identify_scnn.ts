/**
 * Record the last fully connected LIF layer of the shipped spiking CNN (models/scnn_fmnist_e6.onnx:
 * fc2, 128 -> 10, then LIF sn4) on Fashion-MNIST test images, for `scripts/identify.ts`: its
 * input spikes (sn3's output), output spikes and potentials per time step, read from the ONNX
 * graph's intermediate tensors, and its true weights and biases, read from the initializers.
 *
 *   deno run -A scripts/identify_scnn.ts --images 3000 --out runs/scnn_fc2
 *   deno run -A scripts/identify.ts --spikes runs/scnn_fc2/spikes.npy \
 *     --inputs runs/scnn_fc2/inputs.npy --true-weights runs/scnn_fc2/true_weights.npy \
 *     --true-biases runs/scnn_fc2/true_biases.npy
 *
 * Needs Debian's `dataset-fashion-mnist`.
 * @module
 */

import { FASHION_MNIST_DIR, readIdxDataset } from "../src/data/idx.ts";
import { type Fail, failer, parseCommandLine } from "../src/io/cli.ts";
import { encodeNpy } from "../src/io/npy.ts";
import { readInitializer } from "../src/onnx/model.ts";
import { openSession } from "../src/runtime/mod.ts";

const MODEL = "models/scnn_fmnist_e6.onnx";
const T = 4, HIDDEN = 128, CLASSES = 10;
// Tensor names in the exported graph (see models/recipe/nets.py, SCNN, and common.py, LIF):
const INPUT_SPIKES = "/model/sn3/Reshape_1_output_0"; // [T * B, 128], time-major
const OUTPUT_SPIKES = "/model/sn4/Concat_1_output_0"; // [T, B, 10]
const POTENTIALS = ["Sub", "Sub_2", "Sub_4", "Sub_6"].map((s) => `/model/sn4/${s}_output_0`);

const help = "Usage: deno run -A scripts/identify_scnn.ts [--images N] [--out DIR] [--batch B]\n" +
  "Writes inputs.npy [N, 4, 128], spikes.npy [N, 4, 10], potentials.npy [N, 4, 10],\n" +
  "true_weights.npy [10, 128] and true_biases.npy [10] of the spiking CNN's fc2/sn4 layer.";
const fail: Fail = failer("identify_scnn");
const { values: v } = parseCommandLine("identify_scnn", help, {
  images: { type: "string", default: "3000" },
  out: { type: "string", default: "runs/scnn_fc2" },
  batch: { type: "string", default: "250" },
});
const n = Number(v.images), batch = Number(v.batch);
if (!Number.isInteger(n) || n < 1 || n > 10000) {
  fail(`--images must be an integer in 1..10000, got "${v.images}"`);
}
if (!Number.isInteger(batch) || batch < 1) {
  fail(`--batch must be a positive integer, got "${v.batch}"`);
}

const test = await readIdxDataset(FASHION_MNIST_DIR, "test");
const session = await openSession(MODEL, {
  backend: "wasm",
  outputs: [INPUT_SPIKES, OUTPUT_SPIKES, ...POTENTIALS],
});
const inputs = new Uint8Array(n * T * HIDDEN), spikes = new Uint8Array(n * T * CLASSES);
const potentials = new Float64Array(n * T * CLASSES);
const px = 28 * 28;
for (let start = 0; start < n; start += batch) {
  const b = Math.min(batch, n - start);
  const out = await session.run({
    image: { data: test.images.subarray(start * px, (start + b) * px), dims: [b, 1, 28, 28] },
  });
  for (let i = 0; i < b; i++) {
    for (let t = 0; t < T; t++) {
      const row = (start + i) * T + t;
      for (let j = 0; j < HIDDEN; j++) {
        inputs[row * HIDDEN + j] = out[INPUT_SPIKES].data[(t * b + i) * HIDDEN + j];
      }
      for (let c = 0; c < CLASSES; c++) {
        spikes[row * CLASSES + c] = out[OUTPUT_SPIKES].data[(t * b + i) * CLASSES + c];
        potentials[row * CLASSES + c] = out[POTENTIALS[t]].data[i * CLASSES + c];
      }
    }
  }
}
await session.release();

const bytes = await Deno.readFile(MODEL);
const w = readInitializer(bytes, "model.fc2.weight"),
  bias = readInitializer(bytes, "model.fc2.bias");
await Deno.mkdir(v.out, { recursive: true });
const write = (name: string, data: Uint8Array) => Deno.writeFile(`${v.out}/${name}`, data);
await write("inputs.npy", encodeNpy(inputs, [n, T, HIDDEN]));
await write("spikes.npy", encodeNpy(spikes, [n, T, CLASSES]));
await write("potentials.npy", encodeNpy(potentials, [n, T, CLASSES]));
await write("true_weights.npy", encodeNpy(w.data, w.dims));
await write("true_biases.npy", encodeNpy(bias.data, bias.dims));
const rate = (a: Uint8Array) => a.reduce((s, x) => s + x, 0) / a.length;
console.log(
  `${n} images x ${T} steps: input spike rate ${rate(inputs).toFixed(3)}, output spike rate ` +
    `${rate(spikes).toFixed(3)}; written to ${v.out}`,
);
