/**
 * The convergence curves of an MEI run (best activation against evaluations per neuron, log
 * scale), as SVG and PNG: one line per neuron for up to eight neurons, else the median over
 * neurons with its interquartile band (named on the y axis, so the legend stays narrow). The y
 * axis says "firing rate" for the shipped spiking networks and "activation" for others.
 *
 * @module
 */

import { type Chart, chartPng, chartSvg, type Series } from "../io/plot.ts";
import type { RunFolder } from "../io/run_folder.ts";
import type { RunRecord } from "./mei.ts";

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * The convergence chart of a run (or of a search in progress: the web page draws it as the
 * curves grow).
 * @param run the run: its settings, neurons and curves
 * @returns the chart
 */
export function convergenceChart(
  run: Pick<RunRecord, "settings" | "neurons"> & Partial<Pick<RunRecord, "models">> & {
    result: Pick<RunRecord["result"], "curves">;
  },
): Chart {
  const { curves } = run.result, u = run.neurons.length;
  const s = run.settings;
  // A rate for the shipped spiking networks (T time steps), an activation for any other.
  const spiking = (run.models?.target.entry?.T ?? 1) > 1;
  const what = s.unit === "logit" || s.unit === "probability"
    ? s.unit
    : spiking
    ? "firing rate"
    : "activation";
  const chart: Chart = {
    title: `${s.method} on ${s.layer}${s.shared ? " (shared)" : ""}`,
    xLabel: "evaluations per neuron",
    yLabel: `best ${what}${u > 8 ? " (median, interquartile band)" : ""}`,
    logX: true,
    series: [],
  };
  const x = curves[0].map((p) => p.images / u);
  if (u <= 8) {
    chart.series = curves.map((c, j): Series => ({
      name: `neuron ${run.neurons[j]}`,
      x,
      y: c.map((p) => p.best),
    }));
  } else {
    const at = x.map((_, step) => curves.map((c) => c[step].best).sort((a, b) => a - b));
    chart.series = [{
      name: `median of ${u}`,
      x,
      y: at.map((v) => quantile(v, 0.5)),
      lower: at.map((v) => quantile(v, 0.25)),
      upper: at.map((v) => quantile(v, 0.75)),
    }];
  }
  return chart;
}

/**
 * Write convergence.svg and convergence.png into a run folder.
 * @param run the run
 * @param folder the folder being written
 */
export async function convergencePlots(run: RunRecord, folder: RunFolder): Promise<void> {
  const chart = convergenceChart(run);
  await folder.write("convergence.svg", chartSvg(chart));
  await folder.write("convergence.png", await chartPng(chart));
}
