// The runtime (src/runtime/): every backend that runs here gives the same activations, an
// intermediate tensor read through the graph editor equals the exported rate it is averaged
// into, layouts, listLayers, and one clear error per kind of bad input.
//
// Tolerance. Rates are spike counts / T, so two backends agree exactly unless a membrane
// potential lands within float rounding of the threshold, where one backend may spike and the
// other not. Rates are therefore compared as counts: every difference must be a whole number of
// spikes (|d * T - round(d * T)| < 1e-4) and at most 0.1% of the entries may differ at all;
// continuous tensors (logits, currents) must agree to 1e-4 relative where no spike differs.
// Averages computed two ways (ReduceMean in the graph, unitActivations here) agree to 1e-6.
import {
  deepStrictEqual as assertEquals,
  ok as assert,
  rejects as assertRejects,
} from "node:assert";
import {
  availableBackends,
  BackendError,
  type BackendName,
  buildModel,
  listLayers,
  ModelError,
  openSession,
  type OutputTensor,
  parseModel,
  resolveLayout,
  spatialUnitIndex,
  unitActivations,
  unitCount,
} from "../src/runtime/mod.ts";
import { Rng } from "../src/core/rng.ts";
import { loadManifest, resolveModel } from "../src/models/manifest.ts";

const T = 3, THRESHOLD = 0.3;
const noLeaks = { sanitizeOps: false, sanitizeResources: false }; // backend worker threads live on

/**
 * A toy spiking layer: image [B, 1, 4, 4] -> conv (2 channels) -> the current scaled by k_t at
 * each of T = 3 steps -> spikes s_t = (k_t I >= 0.3), time-major flattened "spikes" [T*B, 2, 4, 4];
 * "tbf" [T, B, 32] (the same spikes), "rate" [B, 2, 4, 4] = mean over T, "logits" [B, 3].
 */
function toySpiking(): Uint8Array<ArrayBuffer> {
  const rng = new Rng(11);
  const w = Array.from({ length: 2 * 9 }, () => 0.5 * rng.normal());
  const u = Array.from({ length: 32 * 3 }, () => rng.normal());
  const steps = [0.5, 1, 2];
  return buildModel({
    inputs: [{ name: "image", dims: ["B", 1, 4, 4] }],
    outputs: [{ name: "logits", dims: ["B", 3] }, { name: "rate", dims: ["B", 2, 4, 4] }],
    initializers: [
      { name: "W", dims: [2, 1, 3, 3], data: w },
      { name: "U", dims: [32, 3], data: u },
      { name: "thr", dims: [], data: [THRESHOLD] },
      ...steps.map((k, t) => ({ name: `k${t}`, dims: [], data: [k] })),
      { name: "tbShape", dims: [5], data: BigInt64Array.of(BigInt(T), -1n, 2n, 4n, 4n) },
      { name: "tbfShape", dims: [3], data: BigInt64Array.of(BigInt(T), -1n, 32n) },
      { name: "flatShape", dims: [2], data: BigInt64Array.of(-1n, 32n) },
    ],
    nodes: [
      {
        opType: "Conv",
        inputs: ["image", "W"],
        outputs: ["current"],
        attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] },
      },
      ...steps.flatMap((_, t) => [
        { opType: "Mul", inputs: ["current", `k${t}`], outputs: [`i${t}`] },
        { opType: "GreaterOrEqual", inputs: [`i${t}`, "thr"], outputs: [`b${t}`] },
        { opType: "Cast", inputs: [`b${t}`], outputs: [`s${t}`], attributes: { to: 1 } },
      ]),
      {
        opType: "Concat",
        inputs: steps.map((_, t) => `s${t}`),
        outputs: ["spikes"],
        attributes: { axis: 0 },
      },
      { opType: "Reshape", inputs: ["spikes", "tbShape"], outputs: ["tb"] },
      { opType: "Reshape", inputs: ["spikes", "tbfShape"], outputs: ["tbf"] },
      {
        opType: "ReduceMean",
        inputs: ["tb"],
        outputs: ["rate"],
        attributes: { axes: [0], keepdims: 0 },
      },
      { opType: "Reshape", inputs: ["rate", "flatShape"], outputs: ["flat"] },
      { opType: "MatMul", inputs: ["flat", "U"], outputs: ["logits"] },
    ],
  });
}

function images(batch: number, pixels: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: batch * pixels }, () => rng.uniform());
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assertEquals(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** Rates as spike counts: differences are whole spikes, on at most 0.1% of the entries. */
function assertSameRates(a: OutputTensor, b: OutputTensor, steps: number, what: string): number {
  assertEquals(a.dims, b.dims);
  let differing = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = (a.data[i] - b.data[i]) * steps;
    assert(Math.abs(d - Math.round(d)) < 1e-4, `${what}: entry ${i} differs by ${d} spikes`);
    if (Math.round(d) !== 0) differing++;
  }
  assert(
    differing <= a.data.length * 1e-3,
    `${what}: ${differing} of ${a.data.length} rates differ`,
  );
  return differing;
}

async function backendsHere(): Promise<BackendName[]> {
  const s = await availableBackends(1);
  for (const b of s) {
    if (!b.available) console.log(`  ${b.backend}: not available here (${b.detail})`);
  }
  return s.filter((b) => b.available).map((b) => b.backend);
}

Deno.test({
  name: "every available backend gives the same activations on the toy spiking layer",
  ...noLeaks,
  fn: async () => {
    const B = 5, x = images(B, 16, 1), model = toySpiking();
    const results: Record<string, Record<string, OutputTensor>> = {};
    for (const backend of await backendsHere()) {
      const s = await openSession(model, {
        backend,
        threads: 1,
        outputs: ["spikes", "tbf", "rate", "logits"],
      });
      assertEquals(s.backend, backend);
      results[backend] = await s.run({ image: { data: x, dims: [B, 1, 4, 4] } });
      await s.release();
    }
    const names = Object.keys(results);
    console.log(`  compared: ${names.join(", ")}`);
    assert(names.includes("wasm"), "the wasm backend must run everywhere");
    const ref = results[names[0]];
    assertEquals(ref.spikes.dims, [T * B, 2, 4, 4]);
    assertEquals(ref.tbf.dims, [T, B, 32]);
    for (const name of names.slice(1)) {
      const r = results[name];
      const flips = assertSameRates(r.rate, ref.rate, T, `${name} vs ${names[0]}`);
      if (flips === 0) {
        const scale = Math.max(...ref.logits.data.map(Math.abs));
        assert(maxAbsDiff(r.logits.data, ref.logits.data) <= 1e-4 * scale, `${name} logits`);
      }
    }
  },
});

Deno.test({
  name: "an intermediate tensor read through the editor equals the exported rate",
  ...noLeaks,
  fn: async () => {
    const B = 4, x = images(B, 16, 2), model = toySpiking();
    for (const prune of [true, false]) {
      const s = await openSession(model, {
        backend: "wasm",
        threads: 1,
        outputs: ["spikes", "tbf", "rate"],
        prune,
      });
      const out = await s.run({ image: { data: x, dims: [B, 1, 4, 4] } });
      await s.release();
      assertEquals(resolveLayout(out.spikes.dims, B).layout, "(TB)CHW");
      const fromSpikes = unitActivations(out.spikes, { batch: B, kind: "spatial" });
      assert(maxAbsDiff(fromSpikes, out.rate.data) < 1e-6, "spatial units of [T*B, C, H, W]");
      const fromTbf = unitActivations(out.tbf, { batch: B, layout: "TBF" });
      assert(maxAbsDiff(fromTbf, out.rate.data) < 1e-6, "[T, B, F] averaged over T");
      const channels = unitActivations(out.rate, { batch: B });
      assertEquals(channels.length, B * 2);
      assert(
        maxAbsDiff(unitActivations(out.spikes, { batch: B }), channels) < 1e-6,
        "channel means",
      );
    }
  },
});

Deno.test({
  name:
    "shipped target: backends agree on rates, and a LIF layer's spikes average to its exported rate",
  ...noLeaks,
  fn: async () => {
    const entry = resolveModel(await loadManifest(), "sresnet18", "target");
    const path = `models/${entry.file}`, steps = entry.T!;
    const B = 5, x = images(B, 784, 3), layer = "layer2.0.sn1";
    const info = parseModel(await Deno.readFile(path));
    // The exported rate is ReduceMean over T of the spikes: read the spikes themselves.
    const mean = info.graph.nodes.find((n) => n.outputs.includes(layer))!;
    const spikes = mean.inputs[0];
    const results: Record<string, Record<string, OutputTensor>> = {};
    for (const backend of (await backendsHere()).filter((b) => b !== "webgpu")) {
      const s = await openSession(path, {
        backend,
        threads: 1,
        outputs: [layer, spikes, "logits"],
        prune: false,
      });
      results[backend] = await s.run({ image: { data: x, dims: [B, 1, 28, 28] } });
      await s.release();
    }
    for (const [backend, r] of Object.entries(results)) {
      const rate = unitActivations(r[spikes], { batch: B, kind: "spatial" });
      assert(maxAbsDiff(rate, r[layer].data) < 1e-6, `${backend}: spikes of ${spikes} vs ${layer}`);
      assertEquals(unitCount(r[layer].dims, { batch: B }), 32);
    }
    if (results.native && results.wasm) {
      const flips = assertSameRates(
        results.native[layer],
        results.wasm[layer],
        steps,
        "native vs wasm",
      );
      if (flips === 0) {
        assert(maxAbsDiff(results.native.logits.data, results.wasm.logits.data) < 1e-3);
      }
    }
    // Pruned to the layer: the same values, with the later layers never run.
    const pruned = await openSession(path, { backend: "wasm", threads: 1, outputs: [layer] });
    const p = await pruned.run({ image: { data: x, dims: [B, 1, 28, 28] } });
    await pruned.release();
    assert(maxAbsDiff(p[layer].data, results.wasm[layer].data) === 0, "pruned graph");
  },
});

Deno.test({
  name: "listLayers measures shapes and layouts of every candidate",
  ...noLeaks,
  fn: async () => {
    const layers = await listLayers(toySpiking(), { backend: "wasm", threads: 1 });
    const by = new Map(layers.map((l) => [l.name, l]));
    assertEquals(layers.slice(0, 2).map((l) => l.name), ["logits", "rate"]); // named outputs first
    assertEquals(by.get("spikes")!.dims, ["3*B", 2, 4, 4]);
    assertEquals(by.get("spikes")!.layout, "(TB)CHW");
    assertEquals(by.get("spikes")!.T, 3);
    assertEquals(by.get("tbf")!.dims, [3, "B", 32]);
    assertEquals(by.get("tbf")!.layout, "TBF");
    assertEquals([by.get("rate")!.layout, by.get("rate")!.units], ["BCHW", 2]);
    assertEquals([by.get("logits")!.layout, by.get("logits")!.units], ["BF", 3]);
    assertEquals(by.get("current")!.opType, "Conv");
    assert(!by.has("tbShape") && !by.has("thr"), "constants are not layers");
    const names = await listLayers(toySpiking(), { shapes: false });
    assert(names.every((l) => l.dims === null));
    assertEquals(names.map((l) => l.name).sort(), layers.map((l) => l.name).sort());
  },
});

Deno.test("unitActivations: layouts, kinds, buffer reuse and shape errors", () => {
  // [B=2, C=2, H=1, W=2]
  const bchw = { data: [1, 0, 0, 0, 1, 1, 0, 1], dims: [2, 2, 1, 2] };
  assertEquals([...unitActivations(bchw, { batch: 2 })], [0.5, 0, 1, 0.5]);
  assertEquals([...unitActivations(bchw, { batch: 2, kind: "spatial" })], [1, 0, 0, 0, 1, 1, 0, 1]);
  // [T=2, B=1, C=1, H=1, W=2] time-major, and the same flattened [T*B, ...]
  const tb = { data: [1, 0, 1, 1], dims: [2, 1, 1, 1, 2] };
  assertEquals([...unitActivations(tb, { batch: 1 })], [0.75]);
  assertEquals([...unitActivations({ data: tb.data, dims: [2, 1, 1, 2] }, { batch: 1 })], [0.75]);
  assertEquals([...unitActivations(tb, { batch: 1, kind: "spatial" })], [1, 0.5]);
  // [B, F]
  assertEquals([...unitActivations({ data: [1, 2, 3, 4], dims: [2, 2] }, { batch: 2 })], [
    1,
    2,
    3,
    4,
  ]);
  const buf = new Float32Array(16);
  const r = unitActivations(bchw, { batch: 2 }, buf);
  assert(r.buffer === buf.buffer && r.length === 4, "writes into the given buffer");
  assertEquals(unitCount([8, 16, 7, 7], { batch: 2 }), 16);
  assertEquals(resolveLayout([8, 16, 7, 7], 2).T, 4);
  assertEquals(resolveLayout([4, 2, 10], 2).layout, "TBF");
  assertEquals(spatialUnitIndex([2, 4, 4], 1, 2, 3), 16 + 8 + 3);
  let msg = "";
  try {
    unitActivations({ data: [1, 2, 3], dims: [3, 1] }, { batch: 2 });
  } catch (e) {
    msg = (e as Error).message;
  }
  assert(/does not fit layout auto at batch 2/.test(msg), msg);
  let msg2 = "";
  try {
    resolveLayout([5, 16, 7, 7], 5, "TBCHW");
  } catch (e) {
    msg2 = (e as Error).message;
  }
  assert(/second dim 16 is not the batch/.test(msg2), msg2);
});

Deno.test({
  name: "bad input: missing file, corrupt bytes, unknown layer, wrong feeds, HTTP errors",
  ...noLeaks,
  fn: async () => {
    await assertRejects(openSession("no/such/model.onnx", { backend: "wasm" }), (e: Error) => {
      assert(
        e instanceof ModelError && e.message === "model file not found: no/such/model.onnx",
        e.message,
      );
      return true;
    });
    await assertRejects(
      openSession(new TextEncoder().encode("definitely not a protobuf"), { backend: "wasm" }),
      (e: Error) =>
        e instanceof ModelError &&
        /not an ONNX model.*corrupt or not an \.onnx file/.test(e.message),
    );
    await assertRejects(openSession(new Uint8Array(0)), /empty file/);
    await assertRejects(
      openSession(toySpiking(), { backend: "wasm", outputs: ["spike"] }),
      (e: Error) =>
        e instanceof ModelError &&
        e.message.includes(`unknown layer "spike"`) &&
        e.message.includes("Named outputs: logits, rate") &&
        e.message.includes("Close matches: spikes") &&
        e.message.includes("--list-layers"),
    );
    const s = await openSession(toySpiking(), { backend: "wasm", threads: 1 });
    await assertRejects(
      s.run({ image: { data: new Float32Array(9), dims: [1, 1, 3, 3] } }),
      /input "image" of <bytes> has shape \[B, 1, 4, 4\], got \[1, 1, 3, 3\]/,
    );
    await assertRejects(s.run({}), /missing input "image"/);
    await assertRejects(
      s.run({ image: { data: new Float32Array(3), dims: [1, 1, 4, 4] } }),
      /3 values for dims \[1, 1, 4, 4\]/,
    );
    await assertRejects(
      s.run({ image: { data: new Int32Array(16), dims: [1, 1, 4, 4] } }),
      /is float32, got int32 data/,
    );
    await s.release();
    // Models over HTTP (fetch), and a clear message for a missing one.
    const bytes = toySpiking();
    const ac = new AbortController();
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
      (req) =>
        new URL(req.url).pathname === "/toy.onnx"
          ? new Response(bytes)
          : new Response("no", { status: 404 }),
    );
    try {
      const base = `http://127.0.0.1:${server.addr.port}`;
      const h = await openSession(`${base}/toy.onnx`, {
        backend: "wasm",
        threads: 1,
        outputs: ["rate"],
      });
      assertEquals(h.source, `${base}/toy.onnx`);
      const { rate } = await h.run({ image: { data: images(1, 16, 5), dims: [1, 1, 4, 4] } });
      assertEquals(rate.dims, [1, 2, 4, 4]);
      await h.release();
      await assertRejects(
        openSession(`${base}/missing.onnx`),
        /cannot load the model .*missing\.onnx: HTTP 404/,
      );
    } finally {
      ac.abort();
      await server.finished;
    }
  },
});

Deno.test({
  name: "without --allow-ffi: auto picks wasm, native says which flag it needs",
  ...noLeaks,
  fn: async () => {
    const script = `
      import { openSession, buildModel } from "${
      new URL("../src/runtime/mod.ts", import.meta.url).href
    }";
      const m = buildModel({ inputs: [{ name: "x", dims: [2] }], outputs: [{ name: "y", dims: [2] }],
        nodes: [{ opType: "Relu", inputs: ["x"], outputs: ["y"] }] });
      const s = await openSession(m, { threads: 1 });
      console.log("auto=" + s.backend + " notes=" + s.notes.join(";"));
      try { await openSession(m, { backend: "native" }); } catch (e) { console.log(e.name + ": " + e.message); }
    `;
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--config",
        new URL("../deno.json", import.meta.url).pathname,
        "-",
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = out.stdin.getWriter();
    await w.write(new TextEncoder().encode(script));
    await w.close();
    const r = await out.output();
    const text = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
    assert(text.includes("auto=wasm notes=auto: no --allow-ffi, using wasm"), text);
    assert(
      text.includes("BackendError: native backend not available") && text.includes("--allow-ffi"),
      text,
    );
    assert(BackendError.name === "BackendError");
  },
});
