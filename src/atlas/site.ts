/**
 * The atlas: a static site of every searched neuron's most exciting inputs, built from sweep
 * records (and optionally an analysis report). Pages: an index of models, checkpoints and
 * layers; per layer and checkpoint a grid of the neurons' MEIs (sort by activation or class,
 * filter by selectivity, links through training); per neuron its MEIs by method and
 * checkpoint, top natural images, class probabilities and convergence curves; a method
 * comparison. Relative links only, so it works from `file://` and any static server; images
 * are stored once under `img/`, named by their sha256. `writeSite` writes into a temporary
 * folder and renames it into place, so a failure leaves no half-written site.
 *
 * @example
 * ```ts
 * import { readSweeps } from "./read.ts";
 * import { buildSite } from "./site.ts";
 * const site = await buildSite(await readSweeps(["tests/fixtures/atlas/sweep_small"]));
 * if (!site.files.has("index.html")) throw new Error();
 * ```
 * @module
 */

import { CIFAR10_CLASSES } from "../data/cifar10.ts";
import { FASHION_MNIST_CLASSES } from "../data/idx.ts";
import { figureSvg, type Series } from "../io/plot.ts";
import { loadManifest, sha256Hex } from "../models/manifest.ts";
import { esc, type Link, page, STYLE } from "./_html.ts";
import {
  type ArchView,
  type AtlasModel,
  atlasModel,
  bestCell,
  bestSoFar,
  cellKey,
  type Checkpoint,
  efficiency,
  type LayerView,
  quartiles,
} from "./_model.ts";
import {
  AtlasInputError,
  type NeuronAnalysis,
  type Report,
  type SweepRecord,
  type Sweeps,
} from "./read.ts";

/** What the site knows of the models beyond the records (from the shipped manifest). */
export interface ModelFacts {
  /** Class names by arch (default "class k"). */
  classes: Map<string, readonly string[]>;
  /** Units (channels) of a layer, by `arch + "\0" + layer`. */
  units: Map<string, number>;
}

/** A built site: its files by relative path, and counts for the report. */
export interface Site {
  files: Map<string, string | Uint8Array>;
  pages: number;
  images: number;
}

const DATASET_CLASSES: Record<string, readonly string[]> = {
  "fashion-mnist": FASHION_MNIST_CLASSES,
  "cifar10": CIFAR10_CLASSES,
};

/**
 * Class names and layer sizes of the sweeps' targets that are shipped models (found in the
 * manifest by their sha256); targets not found get neither.
 * @param sweeps the sweeps
 * @returns the facts
 */
export async function shippedFacts(sweeps: Sweeps): Promise<ModelFacts> {
  const facts: ModelFacts = { classes: new Map(), units: new Map() };
  const manifest = await loadManifest().catch(() => undefined);
  if (!manifest) return facts;
  for (const r of sweeps.records) {
    const sha = sweeps.targets.get(r.target)?.sha256;
    const entry = manifest.models.find((m) => m.sha256 === sha);
    if (!entry) continue;
    const names = DATASET_CLASSES[entry.dataset ?? ""];
    if (names) facts.classes.set(r.arch, names);
    for (const l of entry.layers ?? []) {
      if (typeof l.shape[1] === "number") facts.units.set(`${r.arch}\0${l.name}`, l.shape[1]);
    }
  }
  return facts;
}

/** Three decimals, or a dash where the report has no value (null: not computable). */
const f3 = (v: number | null | undefined) =>
  typeof v === "number" && Number.isFinite(v) ? v.toFixed(3) : "—";
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const imageExt = (bytes: Uint8Array) => (bytes[0] === 0x89 ? "png" : "svg");

/** Everything a page builder needs. */
interface Ctx {
  model: AtlasModel;
  report?: Report;
  facts: ModelFacts;
  files: Map<string, string | Uint8Array>;
  /** Site path of an image by sha256. */
  img: Map<string, string>;
  analysis: Map<string, NeuronAnalysis>;
}

function className(ctx: Ctx, arch: string, k: number | null): string {
  if (k === null) return "no class";
  return ctx.facts.classes.get(arch)?.[k] ?? `class ${k}`;
}

/** Store bytes once, named by their sha256; returns the site path. */
async function storeImage(ctx: Ctx, bytes: Uint8Array, sha?: string): Promise<string> {
  const hash = sha ?? await sha256Hex(bytes);
  let path = ctx.img.get(hash);
  if (!path) {
    path = `img/${hash}.${imageExt(bytes)}`;
    ctx.img.set(hash, path);
    ctx.files.set(path, bytes);
  }
  return path;
}

const layerPage = (a: ArchView, l: LayerView, c: Checkpoint) => `${a.dir}/${l.dir}/${c.stem}.html`;
const neuronPage = (a: ArchView, l: LayerView, n: number) => `${a.dir}/${l.dir}/n${n}.html`;

function summaryOf(ctx: Ctx, arch: string, layer: string, epoch: number | null) {
  return ctx.report?.layers.find((s) => s.arch === arch && s.layer === layer && s.epoch === epoch);
}

/** A 95% interval in brackets, or nothing. */
function ci(v?: [number | null, number | null] | null): string {
  return v ? ` <span class="note">[${f3(v[0])}, ${f3(v[1])}]</span>` : "";
}

function indexPage(ctx: Ctx, sweeps: Sweeps): string {
  const { model } = ctx;
  const budgets = [...new Set(sweeps.records.map((r) => r.budget))].sort((a, b) => a - b);
  const facts = [
    `<li><b>${sweeps.records.length}</b> searches</li>`,
    `<li>methods <b>${esc(model.methods.join(", "))}</b></li>`,
    `<li>budget <b>${budgets.join(", ")}</b> evaluations</li>`,
    sweeps.generators.length
      ? `<li>generator <b>${esc(sweeps.generators.join(", "))}</b></li>`
      : "",
    `<li>${ctx.report ? "with the analysis report" : "records only (no analysis report)"}</li>`,
  ].join("");
  const sections = model.archs.map((a) => {
    const ckRows = a.checkpoints.map((c) => {
      const n = sweeps.records.filter((r) => r.arch === a.name && r.target === c.target).length;
      return `<tr><th scope="row">${esc(c.text)}</th><td class="num">${
        c.testAccuracy === undefined ? "—" : pct(c.testAccuracy)
      }</td><td class="num">${n}</td><td>${esc(c.target)}</td></tr>`;
    }).join("");
    const withSummary = ctx.report !== undefined;
    const layerRows = a.layers.map((l) => {
      const units = ctx.facts.units.get(`${a.name}\0${l.name}`);
      const cks = a.checkpoints.filter((c) =>
        l.neurons.some((n) => bestCell(model, a.name, l.name, n, c.target))
      );
      const latest = cks.at(-1)!;
      const acts = l.neurons.flatMap((n) => {
        const r = bestCell(model, a.name, l.name, n, latest.target)?.best;
        return r ? [r.clean_activation] : [];
      });
      const preview = l.neurons.slice(0, 6).flatMap((n) => {
        const r = bestCell(model, a.name, l.name, n, latest.target)?.best;
        return r
          ? [
            `<img src="${ctx.img.get(r.image_sha256)}" width="40" height="40" alt="${
              esc(`MEI of neuron ${n}`)
            }">`,
          ]
          : [];
      }).join("");
      const links = cks.map((c) =>
        `<a href="${esc(layerPage(a, l, c))}" aria-label="${esc(`${l.name} at ${c.text}`)}">${
          c.epoch ?? esc(c.text)
        }</a>`
      ).join(" ");
      const s = summaryOf(ctx, a.name, l.name, latest.epoch);
      const summary = !withSummary
        ? ""
        : s
        ? `<td class="num">${f3(s.fraction_selective)}${ci(s.fraction_selective_ci)}</td>` +
          `<td class="num">${f3(s.median_ratio)}${ci(s.median_ratio_ci)}</td>` +
          `<td class="num">${s.stable} / ${s.labile} / ${s.non_selective}</td>`
        : `<td colspan="3" class="note">not in the analysis</td>`;
      return `<tr><th scope="row">${esc(l.name)}</th><td><a class="preview" href="${
        esc(layerPage(a, l, latest))
      }" aria-label="${
        esc(`${l.name} at ${latest.text}`)
      }">${preview}</a></td><td class="num">${l.neurons.length}${
        units ? ` <span class="note">of ${units}</span>` : ""
      }</td><td class="num">${
        f3(quartiles(acts)[1])
      }</td><td class="pills">${links}</td>${summary}</tr>`;
    }).join("");
    const summaryHead = withSummary
      ? `<th class="num">fraction selective</th><th class="num">median MEI / natural</th>` +
        `<th class="num">stable / labile / non-selective</th>`
      : "";
    return `<section aria-labelledby="m-${esc(a.dir)}">
<h2 id="m-${esc(a.dir)}">${esc(a.name)}</h2>
<h3>Checkpoints</h3>
<table><thead><tr><th>checkpoint</th><th class="num">test accuracy</th><th class="num">searches</th><th>target</th></tr></thead><tbody>${ckRows}</tbody></table>
<h3>Layers</h3>
<p class="note">Previews and median activation (of the neurons' MEIs) at each layer's latest checkpoint${
      withSummary ? "; so are the analysis's summary columns (brackets: 95% intervals)" : ""
    }.</p>
<table><thead><tr><th>layer</th><th>MEIs (latest checkpoint)</th><th class="num">neurons</th><th class="num">median MEI activation</th><th>checkpoints (epoch)</th>${summaryHead}</tr></thead><tbody>${layerRows}</tbody></table>
</section>`;
  }).join("\n");
  return page(
    { title: "Index", root: "", crumbs: [] },
    `<h1>MEI atlas</h1>
<p class="lead">The most exciting inputs (MEIs) of every searched neuron: the generated images that drove each neuron hardest, found by gradient-free searches of a generator's latent space. Pick a layer and a checkpoint to see all its neurons; each neuron has a page with its MEIs across methods and training.</p>
<ul class="facts">${facts}</ul>
<p><a href="methods.html">Compare the methods</a> (query efficiency).</p>
${sections}`,
  );
}

function checkpointNav(a: ArchView, l: LayerView, current: Checkpoint, ctx: Ctx): string {
  const items = a.checkpoints.filter((c) =>
    l.neurons.some((n) => bestCell(ctx.model, a.name, l.name, n, c.target))
  ).map((c) => {
    const acc = c.testAccuracy === undefined ? "" : `<small>${pct(c.testAccuracy)}</small>`;
    return c === current
      ? `<li><span class="here" aria-current="page">${esc(c.text)}${acc}</span></li>`
      : `<li><a href="${c.stem}.html">${esc(c.text)}${acc}</a></li>`;
  }).join("");
  return `<nav class="ckpts" aria-label="Checkpoints (test accuracy)"><span>Checkpoint:</span><ol>${items}</ol></nav>`;
}

function layerPageHtml(ctx: Ctx, a: ArchView, l: LayerView, c: Checkpoint): string {
  const { model } = ctx;
  const shown = l.neurons.map((n) => ({ n, cell: bestCell(model, a.name, l.name, n, c.target) }))
    .filter((x) => x.cell !== undefined).map((x) => ({ n: x.n, r: x.cell!.best }));
  const byAct = [...shown].sort((x, y) => y.r.clean_activation - x.r.clean_activation);
  const byClass = [...shown].sort((x, y) =>
    (x.r.predicted_class ?? 1e9) - (y.r.predicted_class ?? 1e9) ||
    y.r.clean_activation - x.r.clean_activation
  );
  const hasAnalysis = shown.some(({ n }) => ctx.analysis.has(`${a.name}\0${l.name}\0${n}`));
  const cards = shown.map(({ n, r }) => {
    const an = ctx.analysis.get(`${a.name}\0${l.name}\0${n}`);
    const sel = an && c.epoch !== null
      ? an.selective_class_by_epoch[String(c.epoch)] ?? null
      : null;
    const cls = r.predicted_class === null
      ? ""
      : `${className(ctx, a.name, r.predicted_class)} ${Math.round(100 * r.class_probability!)}%`;
    const classes = ["card", an?.label ?? "", sel !== null ? "sel" : ""].filter(Boolean).join(" ");
    const alt = `MEI of neuron ${n} (${r.method}): activation ${f3(r.clean_activation)}` +
      (cls ? `, classified ${cls}` : "");
    const selText = sel === null
      ? ""
      : sel === r.predicted_class
      ? "selective"
      : `selective: ${className(ctx, a.name, sel)}`;
    const tag = an
      ? `<span class="tag ${an.label}">${an.label}</span>${
        selText ? `<span class="tag">${esc(selText)}</span>` : ""
      }`
      : "";
    const rankA = byAct.findIndex((x) => x.n === n), rankC = byClass.findIndex((x) => x.n === n);
    return `<li class="${classes}" style="--a:${rankA};--c:${rankC}" data-n="${n}" data-a="${rankA}" data-c="${rankC}"><a href="n${n}.html#${
      esc(c.stem)
    }"><img src="../../${ctx.img.get(r.image_sha256)}" width="110" height="110" alt="${
      esc(alt)
    }"><span class="n">#${n}</span><span class="act" title="activation">${
      f3(r.clean_activation)
    }</span><span class="cls">${esc(cls || "—")}</span>${tag}</a></li>`;
  }).join("");
  const s = summaryOf(ctx, a.name, l.name, c.epoch);
  const units = ctx.facts.units.get(`${a.name}\0${l.name}`);
  const methodsUsed = model.methods.filter((m) => shown.some((x) => x.r.method === m));
  const facts = [
    `<li><b>${shown.length}</b> neurons searched${units ? ` of ${units}` : ""}</li>`,
    c.testAccuracy === undefined ? "" : `<li>test accuracy <b>${pct(c.testAccuracy)}</b></li>`,
    `<li>${methodsUsed.length > 1 ? "each MEI: the best of" : "MEIs found by"} ${
      esc(methodsUsed.join(", "))
    }${model.noise ? ` at noise ${model.noise}` : ""}</li>`,
    s
      ? `<li>selective <b>${f3(s.fraction_selective)}</b>${
        ci(s.fraction_selective_ci)
      }</li><li>median MEI / natural <b>${f3(s.median_ratio)}</b>${
        ci(s.median_ratio_ci)
      }</li><li>stable <b>${s.stable}</b>, labile <b>${s.labile}</b>, non-selective <b>${s.non_selective}</b></li>`
      : "",
  ].join("");
  const radio = (name: string, id: string, value: string, text: string, checked = false) =>
    `<label><input type="radio" name="${name}" id="${id}" value="${value}"${
      checked ? " checked" : ""
    }> ${text}</label>`;
  const filters = hasAnalysis
    ? `<fieldset><legend>Show</legend>${radio("show", "show-all", "all", "all", true)}${
      radio("show", "show-sel", "sel", "selective at this checkpoint")
    }${radio("show", "show-stable", "stable", "■ stable")}${
      radio("show", "show-labile", "labile", "◆ labile")
    }${radio("show", "show-non", "non", "○ non-selective")}</fieldset>`
    : "";
  const i = a.checkpoints.indexOf(c);
  const reachable = (k: Checkpoint | undefined) =>
    k && l.neurons.some((n) => bestCell(model, a.name, l.name, n, k.target)) ? k : undefined;
  const prev = reachable(a.checkpoints[i - 1]), next = reachable(a.checkpoints[i + 1]);
  return page(
    {
      title: `${l.name}, ${c.text}`,
      root: "../../",
      crumbs: [{ href: `../../index.html#m-${a.dir}`, text: a.name }, `${l.name} · ${c.text}`],
      prev: prev && { href: `${prev.stem}.html`, text: prev.text },
      next: next && { href: `${next.stem}.html`, text: next.text },
    },
    `<h1>${esc(l.name)} <span class="sub">${esc(a.name)} · ${esc(c.text)}</span></h1>
<ul class="facts">${facts}</ul>
${checkpointNav(a, l, c, ctx)}
<div class="controls" role="group" aria-label="Sort and filter the neurons">
<fieldset><legend>Sort by</legend>${radio("sort", "sort-n", "n", "neuron", true)}${
      radio("sort", "sort-a", "a", "activation (highest first)")
    }${radio("sort", "sort-c", "c", "predicted class")}</fieldset>
${filters}
</div>
<p class="note">Each card: the neuron, its MEI's activation, the class the network assigns the MEI and its probability${
      hasAnalysis ? ", the neuron's selectivity label" : ""
    }. Open a card for the neuron's page.</p>
<div class="results">
<ul class="grid" aria-label="Neurons">${cards}</ul>
<p class="count" data-total="${shown.length}"></p>
</div>`,
  );
}

function convergenceSvg(
  ctx: Ctx,
  a: ArchView,
  l: LayerView,
  n: number,
  rows: Checkpoint[],
): string {
  const charts = rows.map((c) => ({
    title: c.text,
    xLabel: "evaluations",
    yLabel: "best activation",
    logX: true,
    series: ctx.model.methods.flatMap((m, j): Series[] => {
      const cell = ctx.model.cells.get(cellKey(a.name, l.name, n, c.target, m));
      const curve = cell ? bestSoFar(cell.best) : [];
      return cell
        ? [{ name: m, x: curve.map((p) => p[0]), y: curve.map((p) => p[1]), dash: j % 2 === 1 }]
        : [];
    }),
  }));
  const columns = Math.min(3, charts.length);
  return figureSvg({ charts, columns, panelWidth: 300, panelHeight: 210 });
}

function neuronPageHtml(
  ctx: Ctx,
  a: ArchView,
  l: LayerView,
  n: number,
  convergence: string,
): string {
  const { model } = ctx;
  const an = ctx.analysis.get(`${a.name}\0${l.name}\0${n}`);
  const rows = a.checkpoints.filter((c) => bestCell(model, a.name, l.name, n, c.target));
  const methods = model.methods.filter((m) =>
    rows.some((c) => model.cells.has(cellKey(a.name, l.name, n, c.target, m)))
  );
  const cls = (r: SweepRecord) =>
    r.predicted_class === null
      ? ""
      : `${className(ctx, a.name, r.predicted_class)} ${f3(r.class_probability!)}`;
  const head = methods.map((m) => `<th scope="col">${esc(m)}</th>`).join("");
  const body = rows.map((c) => {
    const best = bestCell(model, a.name, l.name, n, c.target)!.best;
    const tds = methods.map((m) => {
      const cell = model.cells.get(cellKey(a.name, l.name, n, c.target, m));
      if (!cell) return `<td class="note">not searched</td>`;
      const r = cell.best, isBest = r === best;
      const alt = `MEI of neuron ${n} at ${c.text} by ${m}: activation ${f3(r.clean_activation)}${
        cls(r) ? `, classified ${cls(r)}` : ""
      }`;
      return `<td><figure class="mei${isBest ? " best" : ""}"><img src="../../${
        ctx.img.get(r.image_sha256)
      }" width="96" height="96" alt="${esc(alt)}"><figcaption><b>${f3(r.clean_activation)}</b>${
        isBest ? " ★ best" : ""
      }<br>${esc(cls(r))}${
        cell.seeds > 1 ? `<br><span class="note">best of ${cell.seeds} seeds</span>` : ""
      }</figcaption></figure></td>`;
    }).join("");
    const acc = c.testAccuracy === undefined
      ? ""
      : `<br><span class="note">${pct(c.testAccuracy)} test acc.</span>`;
    return `<tr><th scope="row" id="${esc(c.stem)}"><a href="${c.stem}.html">${
      esc(c.text)
    }</a>${acc}</th>${tds}</tr>`;
  }).join("");
  // Selectivity.
  let selectivity = "";
  if (an) {
    const epochs = Object.keys(an.selective_class_by_epoch).sort((x, y) => Number(x) - Number(y));
    const selRows = epochs.map((e) => {
      const k = an.selective_class_by_epoch[e];
      const nat = an.natural[e];
      return `<tr><th scope="row">epoch ${esc(e)}</th><td>${
        k === null ? "—" : esc(className(ctx, a.name, k))
      }</td><td class="num">${nat ? f3(nat.ratio) : "—"}</td></tr>`;
    }).join("");
    selectivity = `<section aria-labelledby="sel"><h2 id="sel">Selectivity</h2>
<p><span class="label ${an.label}">${an.label}</span> · ${
      an.first_strong_epoch === null
        ? "never strong"
        : `strong from epoch <b>${an.first_strong_epoch}</b>`
    }</p>
<table><thead><tr><th>checkpoint</th><th>selective for</th><th class="num">MEI / best natural</th></tr></thead><tbody>${selRows}</tbody></table></section>`;
  }
  // Natural images.
  let naturals = "";
  if (an && Object.keys(an.natural).length) {
    const parts = Object.entries(an.natural).sort((x, y) => Number(x[0]) - Number(y[0])).map(
      ([e, scan]) => {
        const items = scan.top.map((t) =>
          `<li><figure class="natural"><img src="../../${
            ctx.img.get(t.sha256)
          }" width="72" height="72" alt="${
            esc(`test image ${t.index}: activation ${f3(t.activation)}`)
          }"><figcaption>${
            f3(t.activation)
          }<br><span class="note">#${t.index}</span></figcaption></figure></li>`
        ).join("");
        return `<h3>epoch ${esc(e)} <span class="sub">best natural ${
          f3(scan.best)
        }, MEI / natural ${f3(scan.ratio)}</span></h3><ol class="naturals">${items}</ol>`;
      },
    ).join("");
    naturals =
      `<section aria-labelledby="nat"><h2 id="nat">Top natural test images</h2>${parts}</section>`;
  }
  // Class probabilities of the shown MEI at each checkpoint.
  const bars = rows.map((c) => {
    const r = bestCell(model, a.name, l.name, n, c.target)!.best;
    if (!r.class_probs) return "";
    const trs = r.class_probs.map((p, k) =>
      `<tr><td>${
        esc(className(ctx, a.name, k))
      }</td><td class="barbox"><span class="bar" style="width:${
        (100 * p).toFixed(1)
      }%"></span></td><td class="num">${p.toFixed(2)}</td></tr>`
    ).join("");
    return `<table><caption>${esc(c.text)} <span class="note">(${
      esc(r.method)
    })</span></caption><tbody>${trs}</tbody></table>`;
  }).join("");
  const classes = bars
    ? `<section aria-labelledby="cls"><h2 id="cls">Class probabilities of the MEI</h2><p class="note">The target network's softmax on the best MEI of each checkpoint.</p><div class="bars">${bars}</div></section>`
    : "";
  // Convergence.
  const curveRows = rows.flatMap((c) =>
    methods.flatMap((m) => {
      const cell = model.cells.get(cellKey(a.name, l.name, n, c.target, m));
      return cell
        ? [
          `<tr><th scope="row">${esc(c.text)}</th><td>${esc(m)}</td><td>${
            bestSoFar(cell.best).map(([e, v]) => `${e}: ${f3(v)}`).join(", ")
          }</td></tr>`,
        ]
        : [];
    })
  ).join("");
  const i = l.neurons.indexOf(n);
  const prev = l.neurons[i - 1], next = l.neurons[i + 1];
  const back = rows.at(-1)!;
  const link = (k: number | undefined): Link | undefined =>
    k === undefined ? undefined : { href: `n${k}.html`, text: `neuron ${k}` };
  return page(
    {
      title: `${l.name} neuron ${n}`,
      root: "../../",
      crumbs: [
        { href: `../../index.html#m-${a.dir}`, text: a.name },
        { href: `${back.stem}.html`, text: l.name },
        `neuron ${n}`,
      ],
      prev: link(prev),
      next: link(next),
    },
    `<h1>Neuron ${n} <span class="sub">${esc(l.name)} · ${esc(a.name)}</span></h1>
<p><a href="${back.stem}.html">Back to the layer</a> (${esc(back.text)})</p>
${selectivity}
<section aria-labelledby="meis"><h2 id="meis">MEIs by checkpoint and method</h2>
<p class="note">Each image: its activation (the neuron's response), the class the network assigns it and that class's probability. ★ and a frame mark the best per checkpoint.</p>
<table class="meis"><thead><tr><th>checkpoint</th>${head}</tr></thead><tbody>${body}</tbody></table></section>
${naturals}
${classes}
<section aria-labelledby="conv"><h2 id="conv">Convergence</h2>
<img class="chart" src="../../${convergence}" alt="${
      esc(
        `Best activation against evaluations (log scale) of ${
          methods.join(", ")
        } at each checkpoint; the numbers are in the table below.`,
      )
    }">
<details><summary>Numbers of the curves</summary><table><thead><tr><th>checkpoint</th><th>method</th><th>best so far at evaluations</th></tr></thead><tbody>${curveRows}</tbody></table></details>
</section>`,
  );
}

async function methodsPage(ctx: Ctx, sweeps: Sweeps): Promise<string> {
  const eff = efficiency(sweeps.records);
  const panels = [...new Set(eff.map((e) => `${e.noise} ${e.budget}`))].map((k) => k.split(" "))
    .map(([noise, budget]) => ({ noise: Number(noise), budget: Number(budget) }));
  const charts = panels.map(({ noise, budget }) => ({
    title: `noise ${noise}, budget ${budget}`,
    xLabel: "evaluations",
    yLabel: "best / best of any method",
    logX: true,
    series: eff.filter((e) => e.noise === noise && e.budget === budget).map((e) => ({
      name: e.method,
      dash: ctx.model.methods.indexOf(e.method) % 2 === 1,
      x: e.x,
      y: e.median,
      lower: e.q1,
      upper: e.q3,
    })),
  }));
  const svg = figureSvg({ charts, columns: Math.min(2, charts.length) });
  const path = await storeImage(ctx, new TextEncoder().encode(svg));
  const rows = eff.map((e) =>
    `<tr><th scope="row">${
      esc(e.method)
    }</th><td class="num">${e.noise}</td><td class="num">${e.budget}</td><td class="num">${e.searches}</td><td class="num">${
      e.median.length ? f3(e.median.at(-1)!) : "—"
    }</td><td class="num">${Number.isNaN(e.evalsTo90) ? "—" : Math.round(e.evalsTo90)}</td></tr>`
  ).join("");
  let analysis = "";
  if (ctx.report) {
    const mrows = ctx.report.methods.map((m) =>
      `<tr><th scope="row">${esc(m.method)}</th><td class="num">${m.noise}</td><td class="num">${
        f3(m.median_final_vs_portfolio)
      }${ci(m.ci)}</td><td class="num">${m.median_evals_to_portfolio ?? "—"}</td></tr>`
    ).join("");
    const figs = ctx.report.figures.map((f) =>
      `<figure><img class="chart" src="${ctx.img.get(f.sha256)}" alt="${
        esc(`Figure ${f.name} of the analysis report`)
      }"><figcaption class="note">${esc(f.name)}</figcaption></figure>`
    ).join("");
    analysis = `<section aria-labelledby="an"><h2 id="an">From the analysis</h2>
${
      mrows
        ? `<table><thead><tr><th>method</th><th class="num">noise</th><th class="num">median final / portfolio</th><th class="num">median evaluations to portfolio</th></tr></thead><tbody>${mrows}</tbody></table>`
        : ""
    }${figs}</section>`;
  }
  return page(
    { title: "Methods", root: "", crumbs: ["Methods"] },
    `<h1>Methods</h1>
<p class="lead">Query efficiency from the records: each search's best activation so far, divided by the best final activation any method reached on the same neuron, checkpoint, seed and noise level. Lines: the median over searches; bands: the interquartile range.</p>
<img class="chart" src="${path}" alt="${
      esc(
        `Query-efficiency curves of ${
          eff.map((e) => e.method).filter((m, j, all) => all.indexOf(m) === j).join(", ")
        }: median fraction of the best activation against evaluations (log scale); the final values are in the table below.`,
      )
    }">
<table><thead><tr><th>method</th><th class="num">noise</th><th class="num">budget</th><th class="num">searches</th><th class="num">median final fraction</th><th class="num">median evaluations to 90% of its own final</th></tr></thead><tbody>${rows}</tbody></table>
${analysis}`,
  );
}

/**
 * Build the site in memory.
 * @param sweeps the sweeps (see `readSweeps`)
 * @param report the analysis report, if any (see `readReport`)
 * @param facts class names and layer sizes (default: none, classes shown as "class k")
 * @returns the files and counts
 */
export async function buildSite(
  sweeps: Sweeps,
  report?: Report,
  facts: ModelFacts = { classes: new Map(), units: new Map() },
): Promise<Site> {
  const model = atlasModel(sweeps.records, sweeps.targets, sweeps.specs);
  const ctx: Ctx = {
    model,
    report,
    facts,
    files: new Map(),
    img: new Map(),
    analysis: new Map(report?.neurons.map((n) => [`${n.arch}\0${n.layer}\0${n.neuron}`, n])),
  };
  for (const [sha, bytes] of [...sweeps.images, ...(report?.images ?? [])]) {
    await storeImage(ctx, bytes, sha);
  }
  let pages = 0;
  const put = (path: string, html: string) => (ctx.files.set(path, html), pages++);
  for (const a of model.archs) {
    for (const l of a.layers) {
      for (const c of a.checkpoints) {
        if (l.neurons.some((n) => bestCell(model, a.name, l.name, n, c.target))) {
          put(layerPage(a, l, c), layerPageHtml(ctx, a, l, c));
        }
      }
      for (const n of l.neurons) {
        const rows = a.checkpoints.filter((c) => bestCell(model, a.name, l.name, n, c.target));
        if (rows.length === 0) continue;
        const svg = await storeImage(
          ctx,
          new TextEncoder().encode(convergenceSvg(ctx, a, l, n, rows)),
        );
        put(neuronPage(a, l, n), neuronPageHtml(ctx, a, l, n, svg));
      }
    }
  }
  put("methods.html", await methodsPage(ctx, sweeps));
  put("index.html", indexPage(ctx, sweeps));
  ctx.files.set("style.css", STYLE);
  ctx.files.set(
    "atlas.json",
    JSON.stringify(
      {
        format: "mei-atlas/1",
        searches: sweeps.records.length,
        pages,
        images: ctx.img.size,
        analysis: report !== undefined,
      },
      null,
      1,
    ) + "\n",
  );
  return { files: ctx.files, pages, images: ctx.img.size };
}

/**
 * Write a site into `out`: into a temporary folder beside it, then renamed into place. An
 * existing atlas at `out` (it has `atlas.json`) is replaced; any other existing path is left
 * alone and is an error.
 * @param site the built site
 * @param out the site folder
 * @returns the total size of the files in bytes
 * @throws AtlasInputError when `out` exists and is not an atlas
 */
export async function writeSite(site: Site, out: string): Promise<number> {
  const existing = await Deno.lstat(out).catch(() => undefined);
  if (existing) {
    const isAtlas = existing.isDirectory &&
      await Deno.stat(`${out}/atlas.json`).then(() => true, () => false);
    if (!isAtlas) {
      throw new AtlasInputError(`${out} exists and is not an atlas: choose a new folder for --out`);
    }
  }
  const slash = out.replace(/\/+$/, "").lastIndexOf("/");
  const parent = slash < 0 ? "." : out.slice(0, slash) || "/";
  await Deno.mkdir(parent, { recursive: true });
  const tmp = await Deno.makeTempDir({ dir: parent, prefix: ".atlas-partial-" });
  let bytes = 0;
  try {
    const dirs = new Set<string>();
    for (const [path, data] of site.files) {
      const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
      if (dir && !dirs.has(dir)) {
        (await Deno.mkdir(`${tmp}/${dir}`, { recursive: true }), dirs.add(dir));
      }
      const b = typeof data === "string" ? new TextEncoder().encode(data) : data;
      await Deno.writeFile(`${tmp}/${path}`, b);
      bytes += b.length;
    }
    await Deno.chmod(tmp, 0o755);
    if (existing) {
      const old = `${tmp}.old`;
      await Deno.rename(out, old);
      await Deno.rename(tmp, out).catch(async (e) => {
        await Deno.rename(old, out);
        throw e;
      });
      await Deno.remove(old, { recursive: true });
    } else await Deno.rename(tmp, out);
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
  return bytes;
}
