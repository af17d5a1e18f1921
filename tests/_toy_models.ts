// Tiny ONNX models for tests, built in memory with deterministic weights:
// a generator z [B, 4] -> image [B, 1, 8, 8] = sigmoid(z W) and a target
// image -> feat [B, 4, 4, 4] = relu(x V) -> logits [B, 3] = feat U.
import { Rng } from "../src/core/rng.ts";
import { buildModel } from "../src/runtime/mod.ts";

const weights = (rows: number, cols: number, seed: number, scale: number) => {
  const rng = new Rng(seed);
  return Float32Array.from({ length: rows * cols }, () => scale * rng.normal());
};

export const LATENT = 4;

export function toyGenerator(): Uint8Array {
  return buildModel({
    inputs: [{ name: "z", dims: ["B", LATENT] }],
    outputs: [{ name: "image", dims: ["B", 1, 8, 8] }],
    initializers: [
      { name: "W", dims: [LATENT, 64], data: weights(LATENT, 64, 1, 0.8) },
      { name: "shape", dims: [4], data: BigInt64Array.of(-1n, 1n, 8n, 8n) },
    ],
    nodes: [
      { opType: "MatMul", inputs: ["z", "W"], outputs: ["h"] },
      { opType: "Sigmoid", inputs: ["h"], outputs: ["flat"] },
      { opType: "Reshape", inputs: ["flat", "shape"], outputs: ["image"] },
    ],
  });
}

export function toyTarget(): Uint8Array {
  return buildModel({
    inputs: [{ name: "image", dims: ["B", 1, 8, 8] }],
    outputs: [{ name: "logits", dims: ["B", 3] }, { name: "feat", dims: ["B", 4, 4, 4] }],
    initializers: [
      { name: "flatShape", dims: [2], data: BigInt64Array.of(-1n, 64n) },
      { name: "V", dims: [64, 64], data: weights(64, 64, 2, 0.3) },
      { name: "featShape", dims: [4], data: BigInt64Array.of(-1n, 4n, 4n, 4n) },
      { name: "U", dims: [64, 3], data: weights(64, 3, 3, 0.5) },
    ],
    nodes: [
      { opType: "Reshape", inputs: ["image", "flatShape"], outputs: ["x"] },
      { opType: "MatMul", inputs: ["x", "V"], outputs: ["pre"] },
      { opType: "Relu", inputs: ["pre"], outputs: ["act"] },
      { opType: "Reshape", inputs: ["act", "featShape"], outputs: ["feat"] },
      { opType: "MatMul", inputs: ["act", "U"], outputs: ["logits"] },
    ],
  });
}

/** A target taking 28 x 28 images (a shape mismatch with the toy generator). */
export function toyTarget28(): Uint8Array {
  return buildModel({
    inputs: [{ name: "image", dims: ["B", 1, 28, 28] }],
    outputs: [{ name: "feat", dims: ["B", 1, 28, 28] }],
    nodes: [{ opType: "Relu", inputs: ["image"], outputs: ["feat"] }],
  });
}

/** A target whose layer is NaN for every image in [0, 1]: sqrt(x - 2). */
export function toyTargetNaN(): Uint8Array {
  return buildModel({
    inputs: [{ name: "image", dims: ["B", 1, 8, 8] }],
    outputs: [{ name: "feat", dims: ["B", 1, 8, 8] }],
    initializers: [{ name: "two", dims: [], data: Float32Array.of(2) }],
    nodes: [
      { opType: "Sub", inputs: ["image", "two"], outputs: ["shifted"] },
      { opType: "Sqrt", inputs: ["shifted"], outputs: ["feat"] },
    ],
  });
}

/** Write both models into a fresh folder; returns their paths. */
export async function writeToyModels(): Promise<
  { dir: string; generator: string; target: string }
> {
  const dir = await Deno.makeTempDir({ prefix: "mei-toy-" });
  await Deno.writeFile(`${dir}/gen.onnx`, toyGenerator());
  await Deno.writeFile(`${dir}/target.onnx`, toyTarget());
  await Deno.writeFile(`${dir}/target28.onnx`, toyTarget28());
  await Deno.writeFile(`${dir}/target_nan.onnx`, toyTargetNaN());
  return { dir, generator: `${dir}/gen.onnx`, target: `${dir}/target.onnx` };
}
