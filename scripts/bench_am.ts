/**
 * The neuron benchmark panel (`docs/tensor_train.md`, "The neuron panel"): MEI searches on
 * channels of the e8 spiking ResNet18 (all neurons of a layer in lockstep), for every layer x
 * generator/grid configuration x seed x budget, with each method. Prints, per budget and method,
 * the median over the panel of the final activation divided by cma-diag's and by portfolio's on
 * the same neuron and seed (95% percentile-bootstrap interval), and the median evaluations the
 * method needs to reach their final values (capped at the budget); then the same on the T = 50
 * network for one layer. Writes runs.jsonl (one line per finished run, so a kill loses no
 * finished result), table.md and convergence.svg / .png to --out.
 *
 *   deno run -A scripts/bench_am.ts [--methods cma-diag,portfolio,tt-b] \
 *     [--method 'label=name:{"param":value}'] [--layers LIST] [--neurons 0-7] \
 *     [--configs sngan-uniform,sngan-gaussian,vqvae] [--seeds 3] [--budgets 2000,10000] \
 *     [--t50-layer layer2.1.sn2 | none] [--t50-seeds 1] [--out runs/bench_am]
 *
 * Methods whose behaviour depends on the budget (`readsBudget`: portfolio, spsa, hammersley)
 * run once per budget; the others run at the largest budget and smaller budgets are read off
 * their histories (the same run, stopped earlier).
 * @module
 */

import { type Fail, failer, parseCommandLine } from "../src/io/cli.ts";
import { chartPng, chartSvg, type Series } from "../src/io/plot.ts";
import {
  bestAt,
  bootstrapMedian,
  evaluationsToReach,
  openPanelNetwork,
  PANEL_CONFIGS,
  type PanelNetwork,
  readsBudget,
  runPanel,
} from "../src/bench/neuron_panel.ts";
import { parseNeurons } from "../src/models/units.ts";
import type { HistoryEntry } from "../src/optim/optimize.ts";
import { getMethod, methodNames, resolveParams, resolveSpace } from "../src/optim/registry.ts";
import "../src/optim/methods.ts";

const HELP = `Usage: deno run -A scripts/bench_am.ts [options]

  --methods LIST      registry names (default cma-diag,portfolio,tt-b); the references
                      cma-diag and portfolio are always run
  --method SPEC       add a variant, label=name:{json params} (repeatable)
  --layers LIST       layers of the T = 4 network (default sn1,layer1.0.sn1,layer2.1.sn2,layer4.1.sn2;
                      none: only the T = 50 layer)
  --neurons LIST      channels of each layer (default 0-7)
  --configs LIST      ${Object.keys(PANEL_CONFIGS).join(",")} (default all)
  --seeds N           seeds 0..N-1 (default 3)
  --budgets LIST      evaluations per neuron (default 2000,10000)
  --t50-layer NAME    layer of the T = 50 network (default layer2.1.sn2; none to skip)
  --t50-seeds N       seeds on the T = 50 network (default 1; sngan-uniform only)
                      (a parameter "prior": true is replaced by the generator's prior)
  --out DIR           output folder (default runs/bench_am)
  --resume FILE       runs.jsonl of an earlier run (repeatable): its runs with the same
                      target, layer, config, seed, budget and label are not run again
  --report            run nothing: print the tables and figures of the --resume runs that
                      fall in the panel (the cells column says how many there are)
`;

const { values: v } = parseCommandLine("bench_am", HELP, {
  methods: { type: "string", default: "cma-diag,portfolio,tt-b" },
  method: { type: "string", multiple: true, default: [] },
  layers: { type: "string", default: "sn1,layer1.0.sn1,layer2.1.sn2,layer4.1.sn2" },
  neurons: { type: "string", default: "0-7" },
  configs: { type: "string", default: Object.keys(PANEL_CONFIGS).join(",") },
  seeds: { type: "string", default: "3" },
  budgets: { type: "string", default: "2000,10000" },
  "t50-layer": { type: "string", default: "layer2.1.sn2" },
  "t50-seeds": { type: "string", default: "1" },
  out: { type: "string", default: "runs/bench_am" },
  resume: { type: "string", multiple: true, default: [] },
  report: { type: "boolean", default: false },
});
const fail: Fail = failer("bench_am");
const count = (flag: string, text: string) => {
  const x = Number(text);
  if (!Number.isInteger(x) || x < 1) fail(`--${flag} must be an integer >= 1, got "${text}"`);
  return x;
};

/** A method on the panel: a label, a registry name and parameters. */
interface Variant {
  label: string;
  name: string;
  params: Record<string, unknown>;
}
const REFERENCES = ["cma-diag", "portfolio"];
const variants: Variant[] = [];
for (const name of new Set([...REFERENCES, ...v.methods.split(",").filter(Boolean)])) {
  if (!methodNames().includes(name)) {
    fail(`unknown method "${name}"; valid: ${methodNames().join(", ")}`);
  }
  variants.push({ label: name, name, params: {} });
}
for (const spec of v.method) {
  const m = spec.match(/^([^=]+)=([^:]+)(?::(.*))?$/);
  if (!m) fail(`--method must be label=name:{json params}, got "${spec}"`);
  let params: Record<string, unknown> = {};
  try {
    params = m[3] ? JSON.parse(m[3]) : {};
  } catch {
    fail(`--method ${m[1]}: the parameters are not valid JSON: ${m[3]}`);
  }
  if (!methodNames().includes(m[2])) fail(`--method ${m[1]}: unknown method "${m[2]}"`);
  try {
    // "prior": true stands for the generator's prior, known once a network is open.
    const { prior, ...rest } = params;
    const check = prior === true ? rest : params;
    resolveParams(getMethod(m[2]), check, { space: resolveSpace({ d: 4, n: 8 }), budget: 100 });
  } catch (e) {
    fail(`--method ${m[1]}: ${(e as Error).message}`);
  }
  variants.push({ label: m[1], name: m[2], params });
}
const configs = v.configs.split(",");
for (const c of configs) {
  if (!(c in PANEL_CONFIGS)) {
    fail(`unknown config "${c}"; valid: ${Object.keys(PANEL_CONFIGS).join(", ")}`);
  }
}
const budgets = v.budgets.split(",").map((b) => count("budgets", b)).sort((a, b) => a - b);
const seeds = count("seeds", v.seeds), t50Seeds = count("t50-seeds", v["t50-seeds"]);
const layers = v.layers === "none" ? [] : v.layers.split(",").filter(Boolean);
let neurons: number[];
try {
  neurons = parseNeurons(v.neurons, 16, "the panel layers (16 channels in the smallest)");
} catch (e) {
  fail((e as Error).message);
}

/** One finished run of one method on one layer, config and seed, at one budget. */
interface Row {
  target: string;
  layer: string;
  config: string;
  seed: number;
  budget: number;
  method: string;
  finals: number[];
  histories: HistoryEntry[][];
}
const rows: Row[] = [];
const sameRun = (a: Omit<Row, "finals" | "histories">, b: Omit<Row, "finals" | "histories">) =>
  a.target === b.target && a.layer === b.layer && a.config === b.config && a.seed === b.seed &&
  a.budget === b.budget && a.method === b.method;
const earlier: Row[] = [];
for (const file of v.resume) {
  let text = "";
  try {
    text = await Deno.readTextFile(file);
  } catch {
    fail(`--resume ${file}: cannot read the file (give the runs.jsonl of an earlier run)`);
  }
  try {
    earlier.push(...text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as Row));
  } catch {
    fail(`--resume ${file}: not a runs.jsonl (one JSON object per line)`);
  }
}
await Deno.mkdir(v.out, { recursive: true });
const jsonl = `${v.out}/runs.jsonl`;
const kept = [...new Map(earlier.map((r) => [JSON.stringify({ ...r, finals: 0, histories: 0 }), r]))
  .values()];
await Deno.writeTextFile(jsonl, kept.map((r) => JSON.stringify(r) + "\n").join(""));

async function panel(target: string, layerList: string[], configList: string[], nSeeds: number) {
  for (const layer of layerList) {
    for (const config of configList) {
      let opened: PanelNetwork | undefined; // opened on the first run it has to do
      const open = async () =>
        opened ??= await openPanelNetwork(target, PANEL_CONFIGS[config], layer, neurons).catch(
          (e) => fail(`cannot open ${target} ${layer} with ${config}: ${(e as Error).message}`),
        );
      for (let seed = 0; seed < nSeeds; seed++) {
        for (const m of variants) {
          // Budget dependence is a property of the method, not of the space.
          const own = readsBudget(m.name, { d: 4, n: 8 }) ? budgets : [budgets[budgets.length - 1]];
          for (const budget of budgets) {
            const done = kept.find((r) =>
              sameRun(r, { target, layer, config, seed, budget, method: m.label })
            );
            if (done) rows.push(done);
          }
          for (const budget of own) {
            const id = { target, layer, config, seed, budget, method: m.label };
            if (v.report || rows.some((r) => sameRun(r, id))) continue;
            const net = await open();
            const t0 = performance.now(), before = { ...net.counts };
            const params = { ...m.params };
            if (params.prior === true) {
              if (!net.prior) delete params.prior; // code grids: no known prior, uniform start
              else params.prior = net.prior;
            }
            const run = await runPanel(net, m.name, { budget, seed: seed * 1000, params });
            const row = { ...id, ...run };
            rows.push(row);
            await Deno.writeTextFile(jsonl, JSON.stringify(row) + "\n", { append: true });
            console.error(
              `${target} ${layer} ${config} seed ${seed} ${m.label} @${budget}: median final ${
                median(run.finals).toFixed(4)
              } (${((performance.now() - t0) / 1000).toFixed(1)} s, ${
                net.counts.run - before.run
              } images run, ${net.counts.memo - before.memo} from the memo)`,
            );
          }
        }
      }
    }
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b), h = Math.floor(s.length / 2);
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** One neuron's search at one budget: its final value and history up to that budget. */
interface Cell {
  key: string;
  final: number;
  history: HistoryEntry[];
}
function cells(target: string, label: string, budget: number): Map<string, Cell> {
  const variant = variants.find((m) => m.label === label)!;
  const independent = !readsBudget(variant.name, { d: 4, n: 8 });
  const out = new Map<string, Cell>();
  // A run at this budget, or (budget-independent methods) a longer run read up to the budget.
  const usable = rows.filter((r) =>
    r.target === target && r.method === label &&
    (r.budget === budget || (independent && r.budget > budget))
  ).sort((a, b) => Number(a.budget === budget) - Number(b.budget === budget));
  for (const r of usable) {
    r.finals.forEach((_, u) => {
      const key = `${r.layer}|${r.config}|${neurons[u]}|${r.seed}`;
      const history = r.histories[u].filter((h) => h.evaluations <= budget);
      out.set(key, { key, final: bestAt(history, budget), history });
    });
  }
  return out;
}

const fmt = (x: number) => Number.isFinite(x) ? x.toFixed(3) : String(x);
function tables(target: string, title: string): string[] {
  const lines = [`### ${title}`, ""];
  for (const budget of budgets) {
    const present = variants.map((m) => ({ m, mine: cells(target, m.label, budget) }))
      .filter((x) => x.mine.size > 0);
    if (present.length === 0) {
      lines.push(`Budget ${budget} per neuron: no runs.`, "");
      continue;
    }
    lines.push(
      `Budget ${budget} per neuron. Ratio: median over the panel of final / reference's final ` +
        `on the same neuron and seed [95% bootstrap interval]; evals: median evaluations to ` +
        `reach the reference's final value (capped at ${budget}; the reference's own in the ` +
        `reference's row).`,
      "",
      "| method | cells | median final | / cma-diag | / portfolio | evals to cma-diag's | evals to portfolio's |",
      "| --- | --: | --: | --: | --: | --: | --: |",
    );
    const refs = REFERENCES.map((r) => cells(target, r, budget));
    /** Ratios to a reference and evaluations to reach its final value, over shared cells. */
    const against = (mine: Map<string, Cell>, ref: Map<string, Cell>, config?: string) => {
      const ratios: number[] = [], evals: number[] = [];
      for (const [key, c] of mine) {
        const rc = ref.get(key);
        if (!rc || (config && key.split("|")[1] !== config)) continue;
        ratios.push(rc.final === 0 ? (c.final === 0 ? 1 : Infinity) : c.final / rc.final);
        evals.push(evaluationsToReach(c.history, rc.final, budget));
      }
      return { ratios, evals };
    };
    for (const { m, mine } of present) {
      const cols = refs.map((ref) => {
        const { ratios, evals } = against(mine, ref);
        const b = bootstrapMedian(ratios);
        return {
          ratio: `${fmt(b.median)} [${fmt(b.lower)}, ${fmt(b.upper)}]`,
          evals: median(evals).toFixed(0),
        };
      });
      lines.push(
        `| ${m.label} | ${mine.size} | ${fmt(median([...mine.values()].map((c) => c.final)))} | ${
          cols[0].ratio
        } | ${cols[1].ratio} | ${cols[0].evals} | ${cols[1].evals} |`,
      );
    }
    // The same medians per generator/grid configuration (no interval).
    const shown = configs.filter((c) =>
      present.some(({ mine }) => [...mine.keys()].some((k) => k.split("|")[1] === c))
    );
    if (shown.length > 1) {
      lines.push(
        "",
        `Per configuration, median ratio to cma-diag / to portfolio (budget ${budget}):`,
        "",
        `| method | ${shown.join(" | ")} |`,
        `| --- |${shown.map(() => " --: |").join("")}`,
      );
      for (const { m, mine } of present) {
        const cols = shown.map((c) =>
          refs.map((ref) => fmt(median(against(mine, ref, c).ratios))).join(" / ")
        );
        lines.push(`| ${m.label} | ${cols.join(" | ")} |`);
      }
    }
    lines.push("");
  }
  return lines;
}

async function figure(target: string, file: string) {
  const budget = budgets[budgets.length - 1];
  const ref = cells(target, "cma-diag", budget);
  const marks = Array.from(
    { length: 41 },
    (_, j) => Math.round(10 ** (1 + j * (Math.log10(budget) - 1) / 40)),
  );
  const series: Series[] = variants.map((m) => {
    const mine = [...cells(target, m.label, budget).values()].filter((c) =>
      (ref.get(c.key)?.final ?? 0) > 0
    );
    return {
      name: m.label,
      x: marks,
      y: marks.map((e) => median(mine.map((c) => bestAt(c.history, e) / ref.get(c.key)!.final))),
    };
  });
  const chart = {
    title: `${target}, budget ${budget}`,
    xLabel: "evaluations per neuron",
    yLabel: "median best so far / cma-diag final",
    logX: true,
    series,
  };
  await Deno.writeTextFile(`${v.out}/${file}.svg`, chartSvg(chart));
  await Deno.writeFile(`${v.out}/${file}.png`, await chartPng(chart));
}

const t0 = performance.now();
await panel("sresnet18", layers, configs, seeds);
const out = layers.length === 0 ? [] : tables(
  "sresnet18",
  `sresnet18 (T = 4): ${layers.length} layers x ${neurons.length} neurons x ${configs.length} configs x ${seeds} seeds`,
);
if (layers.length) await figure("sresnet18", "convergence");
if (v["t50-layer"] !== "none") {
  await panel("sresnet18t50", [v["t50-layer"]], ["sngan-uniform"], t50Seeds);
  out.push(
    ...tables(
      "sresnet18t50",
      `sresnet18t50 (T = 50): ${
        v["t50-layer"]
      } x ${neurons.length} neurons x sngan-uniform x ${t50Seeds} seeds`,
    ),
  );
  await figure("sresnet18t50", "convergence_t50");
}
out.push(`(${((performance.now() - t0) / 60000).toFixed(1)} min)`);
console.log(out.join("\n"));
await Deno.writeTextFile(`${v.out}/table.md`, out.join("\n") + "\n");
console.error(`wrote ${v.out}/runs.jsonl, table.md and the convergence figures`);
