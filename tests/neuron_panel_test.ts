// The neuron panel's machinery (src/bench/neuron_panel.ts): the memo answers exactly what the
// network does, the bootstrap interval against an exact enumeration, evaluations to a value.
import { deepStrictEqual as assertEquals } from "node:assert";
import {
  bestAt,
  bootstrapMedian,
  evaluationsToReach,
  openPanelNetwork,
  PANEL_CONFIGS,
  readsBudget,
} from "../src/bench/neuron_panel.ts";
import { Pipeline } from "../src/models/pipeline.ts";
import { openModel } from "../src/models/mei.ts";
import { openSession } from "../src/runtime/mod.ts";
import { gridValues } from "../src/space/grids.ts";
import { Rng } from "../src/core/rng.ts";
import "../src/optim/methods.ts";

Deno.test("the panel's memo returns what the networks return, and runs each point once", async () => {
  const layer = "layer4.1.sn2", units = [0, 3, 5];
  const net = await openPanelNetwork("sresnet18", PANEL_CONFIGS["sngan-uniform"], layer, units);
  const rng = new Rng(4);
  const a = Int32Array.from({ length: 128 }, () => rng.int(64));
  const b = Int32Array.from({ length: 128 }, () => rng.int(64));
  const batch = [a, b, a.slice(), a];
  const got = await net.evaluate(batch);
  assertEquals(net.counts, { run: 2, memo: 2 });
  // The same networks opened directly, without the memo.
  const [gen, tgt] = await Promise.all([
    openModel("sngan", "generator", undefined, undefined),
    openModel("sresnet18", "target", undefined, undefined),
  ]);
  const pipeline = new Pipeline({
    generator: await openSession(gen.bytes),
    target: await openSession(tgt.bytes, { outputs: [layer] }),
    latentDim: 128,
    latent: { kind: "grid", values: gridValues({ kind: "uniform", n: 64, lower: -4, upper: 4 }) },
    selection: { kind: "channel", layer, units },
  });
  const want = (await pipeline.evaluate(batch)).values;
  assertEquals(Array.from(got), Array.from(want));
  await net.evaluate([b]);
  assertEquals(net.counts, { run: 2, memo: 3 });
});

Deno.test("bootstrap interval of the median against exact enumeration", () => {
  // The median of 3 draws with replacement from {1, 2, 3} is 1 or 3 with probability 7/27 each
  // (more than 2.5%), so the 95% interval spans [1, 3].
  const r = bootstrapMedian([1, 2, 3], 20000, 1);
  assertEquals([r.median, r.lower, r.upper], [2, 1, 3]);
  // From {1, 1, 1, 1, 5}: the median of 5 draws is 5 only when 3 or more draws are the 5:
  // P = sum_{j>=3} C(5,j) 0.2^j 0.8^(5-j) = 0.05792 > 2.5%, so the upper end is 5; 1 otherwise.
  const s = bootstrapMedian([1, 1, 1, 1, 5], 20000, 2);
  assertEquals([s.median, s.lower, s.upper], [1, 1, 5]);
  // With {1 x 9, 5}: P(median of 10 draws > 1) needs >= 5 fives: 0.0064 < 2.5%, so [1, 1].
  const t = bootstrapMedian([1, 1, 1, 1, 1, 1, 1, 1, 1, 5], 20000, 3);
  assertEquals([t.median, t.lower, t.upper], [1, 1, 1]);
});

Deno.test("evaluations to reach a value, best at a count, budget-dependent methods", () => {
  const h = [{ evaluations: 3, value: 0.1 }, { evaluations: 50, value: 0.4 }];
  assertEquals(evaluationsToReach(h, 0.1, 99), 3);
  assertEquals(evaluationsToReach(h, 0.2, 99), 50);
  assertEquals(evaluationsToReach(h, 0.5, 99), 99);
  assertEquals([bestAt(h, 2), bestAt(h, 49), bestAt(h, 50)], [-Infinity, 0.1, 0.4]);
  const space = { d: 4, n: 8 };
  assertEquals(
    ["portfolio", "spsa", "hammersley", "cma-diag", "tt-b", "protes"].map((m) =>
      readsBudget(m, space)
    ),
    [true, true, true, false, false, false],
  );
});
