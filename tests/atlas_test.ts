// The atlas (scripts/atlas.ts, src/atlas/): the site built from the committed fixture sweeps
// is complete (every relative link and image resolves inside the site, every record's MEI
// is stored once under its sha256), shows what the records and the report say, and bad input
// gets exit code 2 with nothing written. The browser test is tests/atlas_browser_test.ts.

import assert from "node:assert/strict";
import { readReport, readSweeps } from "../src/atlas/read.ts";
import { buildSite, writeSite } from "../src/atlas/site.ts";
import { bestSoFar, efficiency, quartiles } from "../src/atlas/_model.ts";
import type { SweepRecord } from "../src/atlas/read.ts";
import { sha256Hex } from "../src/models/manifest.ts";

const FIX = "tests/fixtures/atlas";
const SMALL = `${FIX}/sweep_small`, WIDE = `${FIX}/sweep_wide`, REPORT = `${FIX}/report`;

function records(dir: string): SweepRecord[] {
  return Deno.readTextFileSync(`${dir}/records.jsonl`).trim().split("\n").map((l) => JSON.parse(l));
}

async function atlas(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "scripts/atlas.ts", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Every file under a folder, relative paths. */
function listFiles(root: string, under = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(`${root}/${under}`)) {
    const rel = under ? `${under}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...listFiles(root, rel));
    else out.push(rel);
  }
  return out;
}

/** Resolve a relative reference of a page (no scheme, no leading slash) to a site path. */
function resolve(pagePath: string, ref: string): string {
  const parts = pagePath.split("/").slice(0, -1);
  for (const seg of ref.split("#")[0].split("/")) {
    if (seg === "..") parts.pop();
    else if (seg !== "." && seg !== "") parts.push(seg);
  }
  return parts.join("/");
}

/** Check that every reference of every page is relative and resolves; returns their number. */
function checkReferences(files: Set<string>, read: (page: string) => string): number {
  let refs = 0;
  for (const p of [...files].filter((f) => f.endsWith(".html"))) {
    const html = read(p);
    for (const [, ref] of html.matchAll(/(?:href|src)="([^"]*)"/g)) {
      assert.ok(!/^[a-z]+:|^\/\//i.test(ref), `${p}: absolute reference ${ref}`);
      if (ref.startsWith("#")) continue;
      assert.ok(files.has(resolve(p, decodeURIComponent(ref))), `${p}: ${ref} does not resolve`);
      refs++;
    }
    // Every image has alt text.
    for (const [tag] of html.matchAll(/<img [^>]*>/g)) assert.match(tag, / alt="[^"]+"/);
  }
  return refs;
}

Deno.test("atlas: every link and image of the site resolves inside it; MEIs stored once", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const r = await atlas(SMALL, WIDE, "--analysis", REPORT, "--out", `${tmp}/site`);
    assert.equal(r.code, 0, r.stderr);
    const files = new Set(listFiles(`${tmp}/site`));
    const pages = [...files].filter((f) => f.endsWith(".html"));
    const refs = checkReferences(files, (p) => Deno.readTextFileSync(`${tmp}/site/${p}`));
    assert.ok(refs > 1000, `${refs} references checked`);
    // Pages: index, methods, one per neuron, one per layer and checkpoint.
    const all = [...records(SMALL), ...records(WIDE)];
    const neurons = new Set(all.map((x) => `${x.layer}/${x.neuron}`));
    const layerPages = new Set(all.map((x) => `${x.layer}/${x.epoch}`));
    assert.equal(pages.length, 2 + neurons.size + layerPages.size);
    // Each record's image once, under its sha256, with the same bytes.
    const shas = new Set(all.map((x) => x.image_sha256));
    for (const sha of shas) {
      const bytes = Deno.readFileSync(`${tmp}/site/img/${sha}.png`);
      assert.equal(await sha256Hex(bytes), sha);
    }
    const imgs = [...files].filter((f) => f.startsWith("img/"));
    for (const f of imgs) {
      assert.equal(await sha256Hex(Deno.readFileSync(`${tmp}/site/${f}`)), f.slice(4, 68));
    }
    // Natural images + MEIs + one convergence chart per neuron + figures: no duplicates.
    assert.equal(new Set(imgs.map((f) => f.slice(4, 68))).size, imgs.length);
    // The 128-neuron layer page has 128 cards.
    const wide = Deno.readTextFileSync(`${tmp}/site/sresnet18/layer4.1.sn2/e8.html`);
    assert.equal(wide.match(/<li class="card/g)?.length, 128);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("atlas: pages show the records' numbers, class names and the report's labels", async () => {
  const sweeps = await readSweeps([SMALL]);
  const report = await readReport(REPORT);
  const site = await buildSite(sweeps, report, {
    classes: new Map([["sresnet18", ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"]]]),
    units: new Map(),
  });
  const rec = records(SMALL);
  const analysis = JSON.parse(Deno.readTextFileSync(`${REPORT}/neurons.json`));
  for (const n of [0, 3]) {
    const html = site.files.get(`sresnet18/layer2.1.sn2/n${n}.html`) as string;
    for (const r of rec.filter((x) => x.neuron === n)) {
      // Each MEI's activation, class name and probability, and its image.
      assert.ok(html.includes(`img/${r.image_sha256}.png`));
      assert.ok(html.includes(`${r.clean_activation.toFixed(3)}`));
      assert.ok(html.includes(`c${r.predicted_class} ${r.class_probability!.toFixed(3)}`));
    }
    const a = analysis.find((x: { neuron: number }) => x.neuron === n);
    assert.ok(html.includes(`<span class="label ${a.label}">${a.label}</span>`));
    assert.equal(html.match(/<figure class="natural">/g)?.length, 9 * 2);
    assert.equal(html.includes('rel="prev" href="n2.html"'), n === 3);
    assert.ok(html.includes(`rel="next" href="n${n + 1}.html"`));
  }
  // The layer page at epoch 8: the best method's MEI per neuron, tagged with the labels.
  const layer = site.files.get("sresnet18/layer2.1.sn2/e8.html") as string;
  for (let n = 0; n < 6; n++) {
    const best = rec.filter((x) => x.neuron === n && x.epoch === 8)
      .reduce((p, q) => (q.clean_activation > p.clean_activation ? q : p));
    const card = layer.split('<li class="card').find((c) => c.includes(`data-n="${n}"`))!;
    assert.ok(card.includes(best.image_sha256));
    const label = analysis[n].label;
    assert.ok(card.startsWith(` ${label}`), card.slice(0, 40));
  }
  // The index: the median of the neurons' best activations at the layer's latest checkpoint.
  const bests = [0, 1, 2, 3, 4, 5].map((n) =>
    Math.max(...rec.filter((x) => x.neuron === n && x.epoch === 8).map((x) => x.clean_activation))
  ).sort((p, q) => p - q);
  const index = site.files.get("index.html") as string;
  assert.ok(index.includes(`<td class="num">${((bests[2] + bests[3]) / 2).toFixed(3)}</td>`));
  // Sort ranks: data-a ranks activation from the highest.
  const ranks = [...layer.matchAll(/data-n="(\d+)" data-a="(\d+)"/g)].map((m) => [+m[1], +m[2]]);
  const acts = ranks.map(([n]) =>
    Math.max(...rec.filter((x) => x.neuron === n && x.epoch === 8).map((x) => x.clean_activation))
  );
  const order = ranks.map(([, a], j) => [a, acts[j]]).sort((p, q) => p[0] - q[0]).map((p) => p[1]);
  assert.deepEqual(order, [...order].sort((p, q) => q - p));
});

Deno.test("atlas: without a report, no labels, filters or natural images", async () => {
  const site = await buildSite(await readSweeps([SMALL]));
  const neuron = site.files.get("sresnet18/layer2.1.sn2/n0.html") as string;
  const layer = site.files.get("sresnet18/layer2.1.sn2/e1.html") as string;
  assert.ok(!neuron.includes("natural") && !neuron.includes("Selectivity"));
  assert.ok(neuron.includes("Class probabilities") && neuron.includes("Convergence"));
  assert.ok(!layer.includes('name="show"') && layer.includes('name="sort"'));
  const first = records(SMALL).find((r) => r.epoch === 1 && r.neuron === 0)!;
  assert.match(layer, new RegExp(`class ${first.predicted_class} \\d+%`), "classes without names");
});

Deno.test("atlas: an unshipped target, odd layer names and no class outputs still link up", async () => {
  const sweeps = await readSweeps([SMALL]);
  sweeps.records = sweeps.records.map((r) => ({
    ...r,
    target: r.epoch === 1 ? "/models/my net.onnx" : r.target,
    arch: r.epoch === 1 ? "my net" : r.arch,
    epoch: r.epoch === 1 ? null : r.epoch,
    // Two names that map to the same file name but for case: they must stay apart.
    layer: r.neuron < 3 ? "/block/relu" : ":Block:relu",
    class_probs: null,
    predicted_class: null,
    class_probability: null,
  }));
  const site = await buildSite(sweeps);
  const files = new Set(site.files.keys());
  assert.ok(checkReferences(files, (p) => site.files.get(p) as string) > 50);
  const pages = [...files].filter((f) => f.endsWith(".html"));
  // Two archs x two layers x (one checkpoint + 3 neurons), index, methods; no class bars.
  assert.equal(pages.length, 2 + 2 * 2 * (1 + 3));
  assert.ok(pages.every((p) => !/[^\w./@-]/.test(p)), pages.join(" "));
  assert.ok(pages.every((p) => !(site.files.get(p) as string).includes("Class probabilities")));
});

Deno.test("atlas: best-so-far grids and query-efficiency quartiles by exact enumeration", () => {
  const base = {
    target: "t@1",
    arch: "t",
    epoch: 1,
    layer: "l",
    seed: 0,
    noise: 0,
    budget: 10,
    evaluations: 10,
    class_probs: null,
    predicted_class: null,
    class_probability: null,
    image: "x",
    image_sha256: "0".repeat(64),
  };
  const rec = (neuron: number, method: string, history: [number, number][], r90: number) => ({
    ...base,
    key: `${neuron}${method}`,
    neuron,
    method,
    activation: history.at(-1)![1],
    clean_activation: history.at(-1)![1],
    history,
    reached: { "90": r90 },
  });
  // Grid 1, 2, 5, 10; neuron 0: a ends at 4, b at 2 (reference 4); neuron 1: a 3, b 6 (6).
  const n0a = rec(0, "a", [[1, 1], [4, 2], [10, 4]], 10);
  assert.deepEqual(bestSoFar(n0a), [[1, 1], [2, 1], [5, 2], [10, 4]]);
  const n1a = rec(1, "a", [[2, 3]], 2);
  assert.deepEqual(bestSoFar(n1a), [[2, 3], [5, 3], [10, 3]]);
  const eff = efficiency([
    n0a,
    rec(0, "b", [[1, 2]], 1),
    n1a,
    rec(1, "b", [[1, 1], [6, 6]], 6),
  ]);
  const a = eff.find((e) => e.method === "a")!, b = eff.find((e) => e.method === "b")!;
  // Neuron 1's search a had no value at 1 evaluation: the curve starts at 2.
  assert.deepEqual(a.x, [2, 5, 10]);
  assert.deepEqual(a.median, [(1 / 4 + 3 / 6) / 2, (2 / 4 + 3 / 6) / 2, (1 + 3 / 6) / 2]);
  assert.deepEqual(b.x, [1, 2, 5, 10]);
  assert.deepEqual(b.median.at(-1), (2 / 4 + 1) / 2);
  assert.equal(a.evalsTo90, 6);
  assert.deepEqual(quartiles([4, 1, 3, 2, 5]), [2, 3, 4]);
});

Deno.test("atlas: bad input exits 2 with one message and writes nothing", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const out = `${tmp}/site`;
    const cases: [string[], RegExp][] = [
      [[`${tmp}/nope`, "--out", out], /no sweep at .*nope/],
      [["--out", out], /no sweep folder given/],
      [[SMALL], /--out SITE_DIR is required/],
    ];
    // An empty sweep: sweep.json, no records.
    await Deno.mkdir(`${tmp}/empty/images`, { recursive: true });
    await Deno.copyFile(`${SMALL}/sweep.json`, `${tmp}/empty/sweep.json`);
    await Deno.writeTextFile(`${tmp}/empty/records.jsonl`, "");
    cases.push([[`${tmp}/empty`, "--out", out], /no finished searches yet/]);
    // A record pointing at a missing image (second folder, after a good one).
    const lines = Deno.readTextFileSync(`${SMALL}/records.jsonl`).trim().split("\n");
    await Deno.mkdir(`${tmp}/broken/images`, { recursive: true });
    await Deno.copyFile(`${SMALL}/sweep.json`, `${tmp}/broken/sweep.json`);
    const gone = JSON.parse(lines[0]);
    gone.key = "other|key";
    await Deno.writeTextFile(`${tmp}/broken/records.jsonl`, JSON.stringify(gone) + "\n");
    cases.push([
      [SMALL, `${tmp}/broken`, "--out", out],
      /points at .*images\/.*\.png, which is missing/,
    ]);
    // A malformed line in the middle.
    await Deno.mkdir(`${tmp}/bad`);
    await Deno.copyFile(`${SMALL}/sweep.json`, `${tmp}/bad/sweep.json`);
    await Deno.writeTextFile(`${tmp}/bad/records.jsonl`, `{"key": 1}\n${lines[0]}\n`);
    cases.push([[`${tmp}/bad`, "--out", out], /records.jsonl line 1: "key" must be/]);
    // A report without neurons.json.
    await Deno.mkdir(`${tmp}/report`);
    cases.push([[SMALL, "--analysis", `${tmp}/report`, "--out", out], /neurons.json is missing/]);
    // An existing folder that is not an atlas.
    await Deno.mkdir(`${tmp}/taken`);
    cases.push([[SMALL, "--out", `${tmp}/taken`], /exists and is not an atlas/]);
    for (const [args, message] of cases) {
      const r = await atlas(...args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.ok(!/ at .*\.ts:\d+/.test(r.stderr), "no stack trace");
    }
    // Nothing was written: no site, no partial folder.
    assert.deepEqual(
      [...Deno.readDirSync(tmp)].map((e) => e.name).sort(),
      ["bad", "broken", "empty", "report", "taken"],
    );
    assert.deepEqual([...Deno.readDirSync(`${tmp}/taken`)], []);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("atlas: a truncated last line is skipped; a rebuild replaces the old atlas", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const lines = Deno.readTextFileSync(`${SMALL}/records.jsonl`).trim().split("\n");
    await Deno.mkdir(`${tmp}/sweep`);
    await Deno.copyFile(`${SMALL}/sweep.json`, `${tmp}/sweep/sweep.json`);
    await Deno.symlink(Deno.realPathSync(`${SMALL}/images`), `${tmp}/sweep/images`);
    await Deno.writeTextFile(
      `${tmp}/sweep/records.jsonl`,
      lines.slice(0, 3).join("\n") + "\n" + lines[3].slice(0, 50),
    );
    const sweeps = await readSweeps([`${tmp}/sweep`]);
    assert.equal(sweeps.records.length, 3);
    assert.match(sweeps.skipped[0], /line 4: truncated/);
    const out = `${tmp}/site`;
    await writeSite(await buildSite(sweeps), out);
    const first = listFiles(out).length;
    await writeSite(await buildSite(await readSweeps([SMALL])), out);
    assert.ok(listFiles(out).length > first);
    assert.deepEqual([...Deno.readDirSync(tmp)].map((e) => e.name).sort(), ["site", "sweep"]);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("atlas: a report's nulls (no natural scan, no Portfolio run) show as dashes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/natural`);
    for (const e of Deno.readDirSync(`${REPORT}/natural`)) {
      await Deno.copyFile(`${REPORT}/natural/${e.name}`, `${dir}/natural/${e.name}`);
    }
    const summary = JSON.parse(await Deno.readTextFile(`${REPORT}/summary.json`));
    for (const l of summary.layers) Object.assign(l, { median_ratio: null, median_ratio_ci: null });
    for (const m of summary.methods ?? []) {
      Object.assign(m, { median_final_vs_portfolio: null, ci: null });
    }
    await Deno.writeTextFile(`${dir}/summary.json`, JSON.stringify(summary));
    const neurons = JSON.parse(await Deno.readTextFile(`${REPORT}/neurons.json`));
    for (const n of neurons) {
      for (const scan of Object.values(n.natural) as { ratio: unknown }[]) scan.ratio = null;
    }
    await Deno.writeTextFile(`${dir}/neurons.json`, JSON.stringify(neurons));
    const site = await buildSite(await readSweeps([SMALL]), await readReport(dir));
    const index = site.files.get("index.html") as string;
    const neuron = site.files.get("sresnet18/layer2.1.sn2/n0.html") as string;
    assert.ok(!index.includes("NaN") && !neuron.includes("NaN"));
    assert.match(neuron, /MEI \/ natural —/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
