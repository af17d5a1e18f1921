/**
 * The figures of the study report, each as SVG and PNG with the CSV of its data beside it
 * (docs/study.md lists them), and the tables `layers.csv` and `methods.csv`. A figure that has
 * no data in the sweeps (one checkpoint, one method, no natural scan, no labile neuron) is
 * left out and the reason is returned.
 *
 * @example
 * ```ts ignore
 * import { figures } from "./figures.ts";
 * const { files, written, skipped } = await figures(input); // input gathered by report.ts
 * ```
 * @module
 */

import { encodeBase64 } from "../io/base64.ts";
import { type CsvValue, toCsv } from "../io/csv.ts";
import { heatmapSvg } from "../io/heatmap.ts";
import { type Chart, figureSvg, type Series } from "../io/plot.ts";
import { FONT_FAMILY, svgToPng } from "../io/svg_png.ts";
import type { EfficiencyCurve, MethodSummary } from "./efficiency.ts";
import type { LayerRow, Summary } from "./report.ts";
import {
  checkpointOf,
  compareCheckpoints,
  isTensorTrain,
  type NeuronSelectivity,
} from "./selectivity.ts";
import { normalizedEntropy } from "./stats.ts";
import type { LoadedRecord, Sweeps } from "./sweep.ts";
import { groupBy } from "./_group.ts";

/** What the figures are drawn from (gathered by `report.ts`). */
export interface FigureInput {
  records: LoadedRecord[];
  neurons: NeuronSelectivity[];
  rows: LayerRow[];
  firstStrong: Summary["first_strong"];
  efficiency: { curves: EfficiencyCurve[]; methods: MethodSummary[] };
  sweeps: Sweeps;
}

/** The figures' files, the figure names written and the ones left out. */
export interface FigureOutput {
  files: Map<string, string | Uint8Array>;
  written: string[];
  skipped: { figure: string; reason: string }[];
}

type Row = Record<string, CsvValue>;
const lo = (ci: [number, number] | null) => ci?.[0] ?? null;
const hi = (ci: [number, number] | null) => ci?.[1] ?? null;
/** Bands of more than this many lines hide each other: then the intervals are in the CSV only. */
const MAX_BANDS = 3;
/** Drop the bands of a panel with many lines; returns the y label's note on the intervals. */
function bands(series: Series[]): string {
  if (series.filter((s) => s.lower).length <= MAX_BANDS) return "95% CI";
  for (const s of series) (delete s.lower, delete s.upper);
  return "95% CIs in the CSV";
}

/**
 * Draw every figure.
 * @param input records, selectivity, per-layer rows, first strong epochs, query efficiency, sweeps
 * @returns files by name, and which figures were written or left out
 */
export async function figures(input: FigureInput): Promise<FigureOutput> {
  const out: FigureOutput = { files: new Map(), written: [], skipped: [] };
  const emit = async (name: string, svg: string, rows: Row[], columns?: string[]) => {
    out.files.set(`${name}.svg`, svg);
    out.files.set(`${name}.png`, await svgToPng(svg, 2));
    out.files.set(`${name}.csv`, toCsv(rows, columns));
    out.written.push(name);
  };
  const skip = (figure: string, reason: string) => out.skipped.push({ figure, reason });

  // Layer order: as the sweeps list them (depth order); architectures in order of appearance.
  const layerOrder = [...new Set(input.sweeps.sweeps.flatMap((s) => s.info.spec.layers))];
  const archs = [...new Set(input.records.map((r) => r.arch))];
  const multi = archs.length > 1;
  const rowName = (arch: string, layer: string) => (multi ? `${arch} ${layer}` : layer);
  const layerRows = archs.flatMap((a) =>
    layerOrder.filter((l) => input.rows.some((r) => r.arch === a && r.layer === l)).map((l) => ({
      arch: a,
      layer: l,
    }))
  );
  const checkpoints = [
    ...new Map(input.rows.map((r) => [r.checkpoint, r])).values(),
  ].sort((a, b) =>
    compareCheckpoints({ ...a, target: a.checkpoint }, { ...b, target: b.checkpoint })
  )
    .map((r) => r.checkpoint);
  const rowOf = (arch: string, layer: string, checkpoint: string) =>
    input.rows.find((r) => r.arch === arch && r.layer === layer && r.checkpoint === checkpoint);
  const table = (f: (r: LayerRow) => number | null) =>
    layerRows.map(({ arch, layer }) =>
      checkpoints.map((c) => {
        const r = rowOf(arch, layer, c);
        return r ? f(r) : null;
      })
    );
  const rowsLabels = layerRows.map((r) => rowName(r.arch, r.layer));
  const panel = (title: string, f: (r: LayerRow) => number | null, range?: [number, number]) => ({
    title,
    rows: rowsLabels,
    columns: checkpoints.map(colName),
    values: table(f),
    range,
  });
  /** One CSV row per layer and checkpoint: each value with its interval (`<key>_ci`). */
  const layerCsv = (keys: (keyof LayerRow)[]) =>
    input.rows.map((r) => {
      const row: Row = {
        arch: r.arch,
        layer: r.layer,
        checkpoint: r.checkpoint,
        neurons: r.neurons,
      };
      for (const k of keys) {
        const ci = r[`${k}_ci` as keyof LayerRow] as [number, number] | null;
        (row[k] = r[k] as CsvValue, row[`${k}_ci_low`] = lo(ci), row[`${k}_ci_high`] = hi(ci));
      }
      return row;
    });

  // 1. Class entropy early against late in training.
  {
    const clean = input.records.filter((r) =>
      r.noise === 0 && r.class_probs !== null && isTensorTrain(r.method)
    );
    const charts: Chart[] = [], csv: Row[] = [];
    for (const { arch, layer } of layerRows) {
      const rs = clean.filter((r) => r.arch === arch && r.layer === layer);
      const cps = [...groupBy(rs, checkpointOf).values()].sort((a, b) =>
        compareCheckpoints(a[0], b[0])
      );
      if (cps.length < 2) continue;
      const series: Series[] = [];
      for (const [stage, group] of [["early", cps[0]], ["late", cps.at(-1)!]] as const) {
        const h = group.map((r) => normalizedEntropy(r.class_probs!));
        const counts = Array(10).fill(0);
        for (const v of h) counts[Math.min(9, Math.floor(v * 10))]++;
        counts.forEach((n, b) =>
          csv.push({
            arch,
            layer,
            stage,
            checkpoint: checkpointOf(group[0]),
            bin_low: b / 10,
            bin_high: (b + 1) / 10,
            count: n,
            fraction: n / h.length,
          })
        );
        series.push({
          name: stage === "early" ? "earliest checkpoint" : "latest checkpoint",
          x: counts.map((_, b) => (b + 0.5) / 10),
          y: counts.map((n) => n / h.length),
          markers: true,
        });
      }
      charts.push({
        title: `${rowName(arch, layer)}: ${colName(checkpointOf(cps[0][0]))} vs ${
          colName(checkpointOf(cps.at(-1)![0]))
        }`,
        xLabel: "normalized class entropy of the MEI",
        yLabel: "fraction of MEIs",
        xRange: [0, 1],
        yRange: [0, 1],
        series,
      });
    }
    if (charts.length === 0) skip("entropy_early_late", "every layer has one checkpoint");
    else {
      await emit(
        "entropy_early_late",
        figureSvg({
          title: "Class entropy of the tensor-train MEIs, early and late in training",
          charts,
          columns: Math.min(3, charts.length),
          panelWidth: 330,
          panelHeight: 240,
        }),
        csv,
      );
    }
  }

  // 2. Fraction of neurons with a strong MEI / selective, layer x checkpoint.
  await emit(
    "selective_fraction",
    heatmapSvg({
      title: "Fraction of neurons by layer and checkpoint",
      panels: [
        panel("strong MEI (activation ≥ 0.75 of the maximum)", (r) => r.fraction_strong, [0, 1]),
        panel(
          "selective (activation, confidence ≥ 0.75, stability)",
          (r) => r.fraction_selective,
          [0, 1],
        ),
      ],
    }),
    layerCsv(["fraction_strong", "fraction_selective"]),
  );

  // 3. First checkpoint with a strong MEI, distribution per layer.
  {
    const epochs = checkpoints.filter((c) => /^\d+$/.test(c));
    if (epochs.length === 0) skip("first_strong_epoch", "no checkpoint has an epoch");
    else {
      const csv: Row[] = [];
      const values = layerRows.map(({ arch, layer }) => {
        const ns = input.neurons.filter((n) => n.arch === arch && n.layer === layer);
        const firsts = ns.map((n) => n.firstStrongEpoch ?? Infinity);
        const summary = input.firstStrong.find((f) => f.arch === arch && f.layer === layer)!;
        const row: Row = {
          arch,
          layer,
          neurons: ns.length,
          median_first_strong_epoch: summary.median_first_strong_epoch,
          ci_low: summary.ci[0],
          ci_high: summary.ci[1],
        };
        const fractions = [...epochs.map(Number), Infinity].map((e) =>
          firsts.filter((v) => v === e).length / ns.length
        );
        epochs.forEach((e, k) => row[`epoch_${e}`] = fractions[k]);
        row.never = fractions.at(-1)!;
        csv.push(row);
        return fractions;
      });
      await emit(
        "first_strong_epoch",
        heatmapSvg({
          title: "First epoch at which a neuron's MEI is strong (fraction of the layer's neurons)",
          panels: [{
            rows: rowsLabels,
            columns: [...epochs.map(colName), "never"],
            values,
            range: [0, 1],
          }],
        }),
        csv,
      );
    }
  }

  // 4. MEI activation against epoch, with test accuracy on the same axes.
  {
    const charts: Chart[] = [], csv: Row[] = [];
    for (const arch of archs) {
      const rows = input.rows.filter((r) => r.arch === arch && r.epoch !== null);
      if (new Set(rows.map((r) => r.epoch)).size < 2) continue;
      const series: Series[] = [];
      for (const layer of layerOrder) {
        const rs = rows.filter((r) => r.layer === layer).sort((a, b) => a.epoch! - b.epoch!);
        if (rs.length === 0) continue;
        series.push({
          name: layer,
          x: rs.map((r) => r.epoch!),
          y: rs.map((r) => r.median_activation),
          lower: rs.map((r) => r.median_activation_ci[0]),
          upper: rs.map((r) => r.median_activation_ci[1]),
          markers: true,
        });
        for (const r of rs) {
          csv.push({
            arch,
            layer,
            epoch: r.epoch,
            median_activation: r.median_activation,
            ci_low: lo(r.median_activation_ci),
            ci_high: hi(r.median_activation_ci),
            test_accuracy: r.test_accuracy,
          });
        }
      }
      const acc = [...new Map(rows.map((r) => [r.epoch!, r.test_accuracy])).entries()]
        .filter(([, a]) => a !== null).sort((a, b) => a[0] - b[0]);
      if (acc.length) {
        series.push({
          name: "test accuracy",
          x: acc.map(([e]) => e),
          y: acc.map(([, a]) => a!),
          color: "#000000",
          dash: true,
          markers: true,
        });
      }
      charts.push({
        title: arch,
        xLabel: "epoch",
        yLabel: `median MEI activation (${bands(series)}); test accuracy`,
        series,
      });
    }
    if (charts.length === 0) skip("activation_accuracy", "fewer than two epochs");
    else {
      await emit(
        "activation_accuracy",
        figureSvg({ title: "MEI activation and test accuracy over training", charts }),
        csv,
      );
    }
  }

  // 5. Non-selective / stable / labile by layer.
  {
    const charts: Chart[] = [], csv: Row[] = [];
    for (const arch of archs) {
      const layers = layerOrder.filter((l) =>
        input.neurons.some((n) => n.arch === arch && n.layer === l)
      );
      const frac = (l: string, label: string) => {
        const ns = input.neurons.filter((n) => n.arch === arch && n.layer === l);
        return ns.filter((n) => n.label === label).length / ns.length;
      };
      for (const l of layers) {
        const ns = input.neurons.filter((n) => n.arch === arch && n.layer === l);
        csv.push({
          arch,
          layer: l,
          neurons: ns.length,
          non_selective: frac(l, "non-selective"),
          stable: frac(l, "stable"),
          labile: frac(l, "labile"),
        });
      }
      charts.push({
        title: arch,
        xLabel: "layer (input to output)",
        yLabel: "fraction of neurons",
        xTicks: layers.map((l, i) => ({ at: i, label: l })),
        xRange: [-0.5, layers.length - 0.5],
        yRange: [0, 1],
        series: ["non-selective", "stable", "labile"].map((label) => ({
          name: label,
          x: layers.map((_, i) => i),
          y: layers.map((l) => frac(l, label)),
          markers: true,
        })),
      });
    }
    await emit(
      "labels",
      figureSvg({
        title:
          "Neurons never selective, selective for one class, or for different classes over training",
        charts,
        panelWidth: Math.max(460, 80 * layerOrder.length),
      }),
      csv,
    );
  }

  // 6. A labile neuron's MEIs: rows checkpoints, columns methods.
  {
    const labile =
      input.neurons.filter((n) => n.label === "labile").sort((a, b) =>
        new Set(b.checkpoints.map((c) => c.selectiveClass).filter((c) => c !== null)).size -
        new Set(a.checkpoints.map((c) => c.selectiveClass).filter((c) => c !== null)).size
      )[0];
    if (!labile) skip("labile_neuron", "no labile neuron in the sweeps");
    else {
      const { svg, csv } = await labileSheet(labile, input.records);
      await emit("labile_neuron", svg, csv);
    }
  }

  // 7. Distances between methods' MEIs; 8. complexity.
  if (input.rows.every((r) => r.euclidean === null)) {
    skip("distances", "no neuron was searched by two methods");
  } else {
    await emit(
      "distances",
      heatmapSvg({
        title: "Distance between the latents of different methods' MEIs (median over neurons)",
        panels: [
          panel("Euclidean", (r) => r.euclidean),
          panel("cosine (1 − cos)", (r) => r.cosine),
        ],
      }),
      layerCsv(["euclidean", "cosine"]),
    );
  }
  await emit(
    "complexity",
    heatmapSvg({
      title: "MEI complexity: compressed size over raw size (median over neurons)",
      panels: [
        panel("JPEG (quality 75)", (r) => r.jpeg_ratio),
        panel("deflate (level 9)", (r) => r.deflate_ratio),
      ],
    }),
    layerCsv(["jpeg_ratio", "deflate_ratio"]),
  );

  // 9. MEI / best natural image by layer.
  if (input.rows.every((r) => r.median_ratio === null)) {
    skip("natural_ratio", "no natural-image scan");
  } else {
    const charts: Chart[] = [], csv: Row[] = [];
    for (const arch of archs) {
      const layers = layerOrder.filter((l) =>
        input.rows.some((r) => r.arch === arch && r.layer === l)
      );
      const series: Series[] = [];
      for (const c of checkpoints) {
        const rs = layers.map((l) => rowOf(arch, l, c));
        if (rs.every((r) => !r || r.median_ratio === null)) continue;
        series.push({
          name: colName(c),
          x: layers.map((_, i) => i),
          y: rs.map((r) => r?.median_ratio ?? NaN),
          lower: rs.map((r) => r?.median_ratio_ci?.[0] ?? NaN),
          upper: rs.map((r) => r?.median_ratio_ci?.[1] ?? NaN),
          markers: true,
        });
        for (const r of rs) {
          if (!r) continue;
          csv.push({
            arch,
            layer: r.layer,
            checkpoint: c,
            neurons: r.neurons,
            median_ratio: r.median_ratio,
            ci_low: lo(r.median_ratio_ci),
            ci_high: hi(r.median_ratio_ci),
          });
        }
      }
      series.push({
        name: "MEI = best natural image",
        x: [-0.5, layers.length - 0.5],
        y: [1, 1],
        color: "#6b6b6b",
        dash: true,
      });
      charts.push({
        title: arch,
        xLabel: "layer (input to output)",
        yLabel: `MEI activation / best test image (median, ${bands(series)})`,
        xTicks: layers.map((l, i) => ({ at: i, label: l })),
        xRange: [-0.5, layers.length - 0.5],
        series,
      });
    }
    await emit(
      "natural_ratio",
      figureSvg({
        title: "MEI activation over the best natural image's, by layer",
        charts,
        panelWidth: Math.max(460, 80 * layerOrder.length),
      }),
      csv,
    );
  }

  // 10. Query efficiency, one panel per noise level.
  {
    const curves = input.efficiency.curves;
    const noises = [...new Set(curves.map((c) => c.noise))].sort((a, b) => a - b);
    const charts: Chart[] = noises.map((noise) => {
      const series: Series[] = curves.filter((c) => c.noise === noise).map((c) => ({
        name: c.method,
        x: c.evaluations,
        y: c.median,
        lower: c.ciLow,
        upper: c.ciHigh,
      }));
      return {
        title: noise === 0
          ? "noise-free responses"
          : `response noise σ = ${noise} (noisy best seen)`,
        xLabel: "evaluations",
        yLabel: `best activation (median, ${bands(series)})`,
        logX: true,
        series,
      };
    });
    await emit(
      "efficiency",
      figureSvg({ title: "Best activation against evaluations, per method", charts }),
      curves.flatMap((c) =>
        c.evaluations.map((e, i) => ({
          method: c.method,
          noise: c.noise,
          problems: c.problems,
          evaluations: e,
          median: c.median[i],
          ci_low: c.ciLow[i],
          ci_high: c.ciHigh[i],
          p2_5: c.lower[i],
          p97_5: c.upper[i],
        }))
      ),
    );
  }

  // Tables.
  out.files.set(
    "layers.csv",
    toCsv(input.rows.map((r) => {
      const flat: Row = {};
      for (const [k, v] of Object.entries(r)) {
        if (Array.isArray(v)) (flat[`${k}_low`] = v[0], flat[`${k}_high`] = v[1]);
        else flat[k] = v as CsvValue;
      }
      return flat;
    })),
  );
  out.files.set(
    "methods.csv",
    toCsv(input.efficiency.methods.map((m) => ({
      method: m.method,
      noise: m.noise,
      problems: m.problems,
      median_final: m.median_final,
      median_final_ci_low: m.median_final_ci[0],
      median_final_ci_high: m.median_final_ci[1],
      median_final_vs_portfolio: m.median_final_vs_portfolio,
      ci_low: lo(m.ci),
      ci_high: hi(m.ci),
      median_evals_to_portfolio: m.median_evals_to_portfolio,
      evals_ci_low: m.evals_ci?.[0] ?? null,
      evals_ci_high: m.evals_ci?.[1] ?? null,
      fraction_reaching_portfolio: m.fraction_reaching_portfolio,
    }))),
  );
  return out;
}

/** The MEIs of one neuron as a sheet: rows checkpoints, columns methods, class above each. */
async function labileSheet(
  n: NeuronSelectivity,
  records: LoadedRecord[],
): Promise<{ svg: string; csv: Row[] }> {
  const rs = records.filter((r) =>
    r.noise === 0 && r.arch === n.arch && r.layer === n.layer && r.neuron === n.neuron
  );
  const seed = Math.min(...rs.map((r) => r.seed));
  const methods = [...new Set(rs.map((r) => r.method))];
  const cell = 96, pad = 10, labelW = 110, headH = 24, titleH = 46, textH = 30;
  const cps = n.checkpoints;
  const width = labelW + methods.length * (cell + pad) + pad;
  const height = titleH + headH + cps.length * (cell + textH + pad) + pad;
  const body: string[] = [], csv: Row[] = [];
  const t = (x: number, y: number, s: string, size: number, extra = "") =>
    `<text x="${x}" y="${y}" font-size="${size}"${extra}>${s}</text>`;
  const classes = cps.filter((c) => c.selectiveClass !== null).map((c) =>
    `class ${c.selectiveClass} at ${colName(c.checkpoint)}`
  );
  body.push(
    t(
      width / 2,
      20,
      `${n.arch} ${n.layer} neuron ${n.neuron}: a labile neuron`,
      15,
      ' text-anchor="middle"',
    ),
    t(
      width / 2,
      38,
      `selective for ${classes.join(", ")}`,
      11,
      ' text-anchor="middle" fill="#444"',
    ),
  );
  methods.forEach((m, j) => {
    body.push(t(labelW + j * (cell + pad) + cell / 2, titleH + 16, m, 12, ' text-anchor="middle"'));
  });
  for (const [i, v] of cps.entries()) {
    const y0 = titleH + headH + i * (cell + textH + pad);
    body.push(t(8, y0 + textH + cell / 2, colName(v.checkpoint), 12));
    body.push(
      t(
        8,
        y0 + textH + cell / 2 + 16,
        v.selectiveClass === null ? "not selective" : `selective: ${v.selectiveClass}`,
        10,
        ' fill="#555"',
      ),
    );
    for (const [j, m] of methods.entries()) {
      const r = rs.find((r) =>
        r.method === m && r.seed === seed && checkpointOf(r) === v.checkpoint
      );
      if (!r) continue;
      const x0 = labelW + j * (cell + pad);
      const png = await Deno.readFile(`${r.dir}/${r.image}`);
      const label = r.predicted_class === null
        ? "no class"
        : `class ${r.predicted_class} (p ${r.class_probability!.toFixed(2)})`;
      body.push(t(x0 + cell / 2, y0 + 12, label, 10, ' text-anchor="middle"'));
      body.push(
        t(
          x0 + cell / 2,
          y0 + 25,
          `activation ${r.clean_activation.toFixed(2)}`,
          10,
          ' text-anchor="middle" fill="#555"',
        ),
      );
      body.push(
        `<image x="${x0}" y="${y0 + textH}" width="${cell}" height="${cell}" ` +
          `image-rendering="optimizeSpeed" href="data:image/png;base64,${encodeBase64(png)}"/>`,
      );
      csv.push({
        arch: n.arch,
        layer: n.layer,
        neuron: n.neuron,
        checkpoint: v.checkpoint,
        selective_class: v.selectiveClass,
        method: m,
        seed,
        predicted_class: r.predicted_class,
        class_probability: r.class_probability,
        clean_activation: r.clean_activation,
        image_sha256: r.image_sha256,
      });
    }
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="${FONT_FAMILY}, Helvetica, Arial, sans-serif" fill="#111">\n` +
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>\n` + body.join("\n") +
    "\n</svg>\n";
  return { svg, csv };
}

const colName = (c: string) => (/^\d+$/.test(c) ? `epoch ${c}` : c);
