/**
 * Tests of scripts/analysis.ts: the tiny committed sweep reproduces the committed CSVs, a
 * hand-made labile neuron gets its figure, and bad sweep folders are refused with one clear
 * message, exit code 2 and nothing written.
 */

import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import type { NeuronEntry, Summary } from "../src/analysis/report.ts";

const repo = new URL("../", import.meta.url).pathname;
const fixture = `${repo}tests/fixtures/sweep_tiny`;
const expected = `${repo}tests/fixtures/sweep_tiny_report`;
/** The committed sweep was made by: deno run -A scripts/sweep.ts --targets
 * sresnet18@0,sresnet18@8 --layers sn1,layer4.1.sn2 --neurons 0-1 --methods tt,tt-b,portfolio
 * --seeds 0 --noise 0,0.5 --budget 60 --backend wasm --out tests/fixtures/sweep_tiny
 * and the committed CSVs by: deno task analysis tests/fixtures/sweep_tiny
 * --out tests/fixtures/sweep_tiny_report --natural-images 200 --backend wasm (CSVs kept). */
const NATURAL = ["--natural-images", "200", "--backend", "wasm"];

async function analysis(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${repo}scripts/analysis.ts`, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("the tiny committed sweep reproduces the committed CSVs", async () => {
  const tmp = await Deno.makeTempDir();
  const r = await analysis([
    fixture,
    "--out",
    `${tmp}/report`,
    "--cache",
    `${tmp}/cache`,
    ...NATURAL,
  ]);
  assertEquals(r.code, 0, r.stderr);
  const csvs = [...Deno.readDirSync(expected)].map((e) => e.name).filter((n) => n.endsWith(".csv"))
    .sort();
  assert(csvs.length >= 10, csvs.join());
  for (const name of csvs) {
    assertEquals(
      await Deno.readTextFile(`${tmp}/report/${name}`),
      await Deno.readTextFile(`${expected}/${name}`),
      name,
    );
    const stem = name.replace(/\.csv$/, "");
    if (!["layers", "methods"].includes(stem)) {
      assert((await Deno.readTextFile(`${tmp}/report/${stem}.svg`)).startsWith("<svg"));
      const png = await Deno.readFile(`${tmp}/report/${stem}.png`);
      assertEquals(Array.from(png.subarray(1, 4)), [0x50, 0x4e, 0x47]);
    }
  }
  // The folder format the atlas reads.
  const summary: Summary = JSON.parse(await Deno.readTextFile(`${tmp}/report/summary.json`));
  const neurons: NeuronEntry[] = JSON.parse(await Deno.readTextFile(`${tmp}/report/neurons.json`));
  assertEquals(summary.layers.length, 4); // 2 layers x 2 checkpoints
  assertEquals(neurons.length, 4); // 2 layers x 2 neurons
  for (const n of neurons) {
    assertEquals(Object.keys(n.selective_class_by_epoch), ["0", "8"]);
    for (const nat of Object.values(n.natural)) {
      assertEquals(nat.top.length, 9);
      assertEquals(nat.best, nat.top[0].activation);
      for (const t of nat.top) await Deno.stat(`${tmp}/report/${t.image}`);
    }
  }
  // A second run reads the scans from the cache.
  const again = await analysis([
    fixture,
    "--out",
    `${tmp}/again`,
    "--cache",
    `${tmp}/cache`,
    ...NATURAL,
  ]);
  assertEquals(again.code, 0, again.stderr);
  assert(again.stdout.includes("cached"), again.stdout);
  assertEquals(
    await Deno.readTextFile(`${tmp}/again/layers.csv`),
    await Deno.readTextFile(`${expected}/layers.csv`),
  );
  await Deno.remove(tmp, { recursive: true });
});

/** A copy of the fixture whose records are passed through `edit` (and files removed). */
async function variant(
  edit: (lines: string[]) => string[],
  change?: (dir: string) => Promise<void>,
): Promise<string> {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/images`);
  for (const e of Deno.readDirSync(`${fixture}/images`)) {
    await Deno.copyFile(`${fixture}/images/${e.name}`, `${dir}/images/${e.name}`);
  }
  await Deno.copyFile(`${fixture}/sweep.json`, `${dir}/sweep.json`);
  const lines = (await Deno.readTextFile(`${fixture}/records.jsonl`)).trimEnd().split("\n");
  await Deno.writeTextFile(`${dir}/records.jsonl`, edit(lines).map((l) => l + "\n").join(""));
  await change?.(dir);
  return dir;
}

Deno.test("a labile neuron constructed by hand gets its sheet of MEIs", async () => {
  // Neuron 1 of sn1: the tensor-train MEIs made strong and confident for class 2 at epoch 0
  // and class 6 at epoch 8.
  const dir = await variant((lines) =>
    lines.map((l) => {
      const r = JSON.parse(l);
      if (r.layer === "sn1" && r.neuron === 1 && r.noise === 0 && r.method !== "portfolio") {
        const k = r.epoch === 0 ? 2 : 6;
        r.class_probs = Array.from({ length: 10 }, (_, i) => (i === k ? 0.91 : 0.01));
        r.predicted_class = k;
        r.class_probability = 0.91;
        r.clean_activation = 0.8;
      }
      return JSON.stringify(r);
    })
  );
  const r = await analysis([dir, "--out", `${dir}/report`, "--no-natural"]);
  assertEquals(r.code, 0, r.stderr);
  const neurons: NeuronEntry[] = JSON.parse(await Deno.readTextFile(`${dir}/report/neurons.json`));
  const n = neurons.find((n) => n.layer === "sn1" && n.neuron === 1)!;
  assertEquals([n.label, n.selective_class_by_epoch], ["labile", { "0": 2, "8": 6 }]);
  const csv = await Deno.readTextFile(`${dir}/report/labile_neuron.csv`);
  assertEquals(csv.trimEnd().split("\n").length, 1 + 2 * 3); // 2 checkpoints x 3 methods
  const svg = await Deno.readTextFile(`${dir}/report/labile_neuron.svg`);
  assertEquals(svg.match(/<image /g)?.length, 6);
  assert(svg.includes("class 2 (p 0.91)") && svg.includes("class 6 (p 0.91)"));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("bad sweep folders: one clear message, exit 2, nothing written", async () => {
  const cases: [string, () => Promise<string[]>, RegExp][] = [
    ["missing", () => Promise.resolve(["/no/such/sweep"]), /no sweep folder at \/no\/such\/sweep/],
    ["empty", async () => [await variant(() => [])], /no finished searches yet/],
    [
      "cut off",
      async () => [
        await variant((l) => l, async (d) => {
          const text = await Deno.readTextFile(`${d}/records.jsonl`);
          await Deno.writeTextFile(`${d}/records.jsonl`, text.slice(0, -40));
        }),
      ],
      /cut-off line \(line 48\).*interrupted/,
    ],
    ["unfinished", async () => [await variant((l) => l.slice(0, 30))], /unfinished: 30 of 48/],
    [
      "another spec",
      async () => [
        await variant((l) => [...l.slice(0, 47), l[47].replace(/"budget":60/, '"budget":61')]),
      ],
      /budget 61 is not in the folder's sweep\.json spec.*another sweep/,
    ],
    [
      "missing image",
      async () => [await variant((l) => l, (d) => Deno.remove(`${d}/images`, { recursive: true }))],
      /the image of ".*" is missing/,
    ],
    [
      "shard",
      async () => [
        await variant((l) => l.slice(0, 20), async (d) => {
          const info = JSON.parse(await Deno.readTextFile(`${d}/sweep.json`));
          await Deno.writeTextFile(`${d}/sweep.json`, JSON.stringify({ ...info, shard: "1/2" }));
        }),
      ],
      /is shard 1\/2 of a sweep: merge the shards/,
    ],
    ["overlap", () => Promise.resolve([fixture, fixture]), /is in both/],
    [
      "other generator",
      async () => [
        fixture,
        await variant((l) => l.map((x) => x.replaceAll("sresnet18@", "other@")), async (d) => {
          const info = JSON.parse(await Deno.readTextFile(`${d}/sweep.json`));
          info.spec.generator = "vqvae";
          info.spec.targets = ["other@0", "other@8"];
          await Deno.writeTextFile(`${d}/sweep.json`, JSON.stringify(info));
        }),
      ],
      /different specs \(generator "vqvae" vs "sngan"\)/,
    ],
  ];
  const tmp = await Deno.makeTempDir();
  for (const [name, dirs, message] of cases) {
    const out = `${tmp}/${name.replace(/ /g, "_")}`;
    const r = await analysis([...(await dirs()), "--out", out, "--no-natural"]);
    assertEquals(r.code, 2, `${name}: ${r.stderr}`);
    assert(message.test(r.stderr), `${name}: ${r.stderr}`);
    assert(r.stderr.trim().split("\n").length === 1 && !/Error:|\.ts:\d/.test(r.stderr), r.stderr);
    assert(![...Deno.readDirSync(tmp)].some((e) => e.name.includes(name.replace(/ /g, "_"))));
  }
  const exists = await analysis([fixture, "--out", tmp, "--no-natural"]);
  assertEquals(exists.code, 2);
  assert(/exists: choose another --out, or --force/.test(exists.stderr), exists.stderr);
  await Deno.remove(tmp, { recursive: true });
});
