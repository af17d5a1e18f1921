// The protobuf reader/writer and the ONNX graph editor (src/onnx/), without any runtime.
import { deepStrictEqual as assertEquals, ok as assert, throws as assertThrows } from "node:assert";
import { loadManifest, resolveModel } from "../src/models/manifest.ts";
import {
  fields,
  ProtoError,
  ProtoWriter,
  readPackedVarints,
  readVarint,
} from "../src/onnx/proto.ts";
import {
  addGraphOutputs,
  buildModel,
  ELEM_TYPE,
  OnnxFormatError,
  parseModel,
  pruneGraph,
} from "../src/onnx/model.ts";

/** x -> Relu (h) -> Neg (y); h -> Sigmoid (s), s is a dead end. */
function chain(): Uint8Array {
  return buildModel({
    inputs: [{ name: "x", dims: ["B", 3] }],
    outputs: [{ name: "y", dims: ["B", 3] }],
    initializers: [{ name: "unused", dims: [1], data: [1] }],
    nodes: [
      { opType: "Relu", inputs: ["x"], outputs: ["h"], name: "relu" },
      { opType: "Neg", inputs: ["h"], outputs: ["y"], name: "neg" },
      { opType: "Sigmoid", inputs: ["h"], outputs: ["s"], name: "sig" },
    ],
  });
}

Deno.test("varints round-trip, including values past 2^32 and negative int64", () => {
  for (const v of [0, 1, 127, 128, 300, 2 ** 31, 2 ** 32 + 5, 2 ** 50]) {
    const b = new ProtoWriter().varint(1, v).finish();
    const [f] = [...fields(b)];
    assertEquals(f.value, v);
  }
  const neg = new ProtoWriter().varint(1, -1).finish();
  assertEquals(neg.length, 11); // tag + 10 bytes of two's complement
  assertEquals(readVarint(new Uint8Array([0xac, 0x02]), 0), [300, 2]);
  const packed = new ProtoWriter().packedVarints(4, [1, 2, 70000]).finish();
  assertEquals(readPackedVarints(packed, [...fields(packed)][0]), [1, 2, 70000]);
});

Deno.test("truncated or malformed protobuf is rejected with the offset", () => {
  assertThrows(() => [...fields(new Uint8Array([0x0a, 0x05, 1, 2]))], ProtoError);
  assertThrows(() => [...fields(new Uint8Array([0x80]))], /truncated varint/);
  assertThrows(() => [...fields(new Uint8Array([0x0b]))], /wire type 3/); // a group
  assertThrows(() => [...fields(new Uint8Array([0x00]))], /field number 0/);
});

Deno.test("parseModel reads what buildModel wrote", () => {
  const m = parseModel(chain());
  assertEquals(m.irVersion, 8);
  assertEquals(m.opsets, { "": 17 });
  assertEquals(m.graph.nodes.map((n) => [n.name, n.opType, n.inputs, n.outputs]), [
    ["relu", "Relu", ["x"], ["h"]],
    ["neg", "Neg", ["h"], ["y"]],
    ["sig", "Sigmoid", ["h"], ["s"]],
  ]);
  assertEquals(m.graph.inputs, [{ name: "x", elemType: ELEM_TYPE.FLOAT, dims: ["B", 3] }]);
  assertEquals(m.graph.outputs, [{ name: "y", elemType: ELEM_TYPE.FLOAT, dims: ["B", 3] }]);
  assertEquals(m.graph.initializers, ["unused"]);
});

Deno.test("addGraphOutputs appends a second graph field that protobuf merges", () => {
  const base = chain();
  const more = addGraphOutputs(base, ["h", "s", "y", "h"]);
  assertEquals(more.subarray(0, base.length), base); // the original bytes are untouched
  const m = parseModel(more);
  assertEquals(m.graph.outputs.map((o) => o.name), ["y", "h", "s"]);
  assertEquals(m.graph.outputs[1].elemType, 0); // no value_info: the type is left to the runtime
  assertEquals(m.graph.nodes.length, 3); // nodes are not duplicated by the merge
  const typed = parseModel(addGraphOutputs(base, [{ name: "h", elemType: ELEM_TYPE.FLOAT }]));
  assertEquals(typed.graph.outputs[1], { name: "h", elemType: ELEM_TYPE.FLOAT, dims: null });
  assert(addGraphOutputs(base, ["y"]) === base); // nothing to add: same bytes
});

Deno.test("pruneGraph keeps only what the outputs need", () => {
  const p = parseModel(pruneGraph(chain(), ["h"]));
  assertEquals(p.graph.nodes.map((n) => n.name), ["relu"]);
  assertEquals(p.graph.outputs.map((o) => o.name), ["h"]);
  assertEquals(p.graph.initializers, []);
  assertEquals(p.graph.inputs.map((i) => i.name), ["x"]);
  const both = parseModel(pruneGraph(chain(), ["s", "y"]));
  assertEquals(both.graph.nodes.map((n) => n.name), ["relu", "neg", "sig"]);
  assertEquals(both.graph.outputs.map((o) => o.name), ["s", "y"]);
  assertThrows(() => pruneGraph(chain(), ["nope"]), /no tensor named "nope"/);
});

Deno.test("bytes that are not a model give an OnnxFormatError", () => {
  assertThrows(
    () => parseModel(new TextEncoder().encode("hello, this is not onnx")),
    OnnxFormatError,
  );
  assertThrows(() => parseModel(new Uint8Array(0)), /no graph/);
  const good = chain();
  assertThrows(() => parseModel(good.subarray(0, good.length - 7)), OnnxFormatError);
});

Deno.test("a shipped target parses: exported rate outputs and their ReduceMean nodes", async () => {
  const path = `models/${resolveModel(await loadManifest(), "sresnet18", "target").file}`;
  const m = parseModel(await Deno.readFile(path));
  const outputs = m.graph.outputs.map((o) => o.name);
  assert(outputs.includes("logits") && outputs.includes("layer2.0.sn1"), outputs.join());
  const producer = m.graph.nodes.find((n) => n.outputs.includes("layer2.0.sn1"))!;
  assertEquals(producer.opType, "ReduceMean");
  assertEquals(m.graph.inputs.map((i) => [i.name, i.dims]), [["image", ["B", 1, 28, 28]]]);
});
