/**
 * Chart layout of `plot.ts`'s SVG writer (its PNG is that SVG rendered): a figure of
 * line-chart panels becomes a list of drawing primitives in pixel coordinates (lines,
 * filled polygons, rectangles, text).
 *
 * @module
 */

import type { Chart, Figure } from "./plot.ts";

/** A drawing primitive in pixels (origin top left). */
export type Primitive =
  | { kind: "line"; points: [number, number][]; color: string; width: number; dash?: boolean }
  | { kind: "polygon"; points: [number, number][]; color: string; opacity: number }
  | { kind: "rect"; x: number; y: number; w: number; h: number; stroke?: string; fill?: string }
  | { kind: "circle"; x: number; y: number; r: number; color: string }
  | {
    kind: "text";
    x: number;
    y: number;
    text: string;
    size: number;
    anchor: "start" | "middle" | "end";
    color: string;
    vertical?: boolean;
  };

/** Tableau 10, then ten darker/lighter variants (drawn dashed) for more series. */
export const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#6b6b6b",
  "#1f3b73",
  "#a65d00",
  "#8c1d1f",
  "#2f7f7a",
  "#2c6e2a",
  "#a68a00",
  "#6d3f66",
  "#c2185b",
  "#5d3a1a",
  "#000000",
];

/** Format a tick value compactly (1e4, 0.25, 120). */
export function formatTick(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) {
    const [m, e] = v.toExponential().split("e");
    return `${Number(Number(m).toPrecision(3))}e${Number(e)}`;
  }
  return String(Number(v.toPrecision(4)));
}

/** Tick positions over [lo, hi]: 1-2-5 steps, or powers of ten on a log axis. */
export function ticks(lo: number, hi: number, log: boolean): number[] {
  if (log) {
    const a = Math.floor(Math.log10(lo)), b = Math.ceil(Math.log10(hi));
    if (b - a >= 2) {
      const step = Math.ceil((b - a) / 8);
      const out: number[] = [];
      for (let e = a; e <= b; e += step) {
        if (10 ** e >= lo * 0.999 && 10 ** e <= hi * 1.001) out.push(10 ** e);
      }
      if (out.length >= 2) return out;
    }
    return ticks(lo, hi, false).filter((t) => t > 0);
  }
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / 8, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  }
  return out;
}

function finiteRange(values: number[], log: boolean): [number, number] {
  const v = values.filter((x) => Number.isFinite(x) && (!log || x > 0));
  if (v.length === 0) return log ? [1, 10] : [0, 1];
  let lo = Math.min(...v), hi = Math.max(...v);
  if (lo === hi) {
    if (log) (lo /= 2, hi *= 2);
    else (lo -= Math.abs(lo) * 0.1 || 1, hi += Math.abs(hi) * 0.1 || 1);
  }
  return [lo, hi];
}

/** Colors of series by name, in order of first appearance across the panels. */
export function seriesColors(figure: Figure): Map<string, { color: string; dash: boolean }> {
  const out = new Map<string, { color: string; dash: boolean }>();
  for (const chart of figure.charts) {
    for (const s of chart.series) {
      if (out.has(s.name)) continue;
      const i = out.size;
      out.set(s.name, {
        color: s.color ?? PALETTE[i % PALETTE.length],
        dash: s.dash ?? (i >= 10 && i < 20),
      });
    }
  }
  return out;
}

function panel(
  chart: Chart,
  x0: number,
  y0: number,
  w: number,
  h: number,
  colors: Map<string, { color: string; dash: boolean }>,
  out: Primitive[],
): void {
  const left = 62, right = 12, top = chart.title ? 26 : 10, bottom = chart.xLabel ? 42 : 26;
  const px0 = x0 + left, px1 = x0 + w - right, py0 = y0 + top, py1 = y0 + h - bottom;
  const logX = chart.logX ?? false, logY = chart.logY ?? false;
  const xs: number[] = [], ys: number[] = [];
  for (const s of chart.series) {
    xs.push(...Array.from(s.x));
    ys.push(...Array.from(s.y), ...Array.from(s.lower ?? []), ...Array.from(s.upper ?? []));
  }
  const [xl, xh] = chart.xRange ?? finiteRange(xs, logX);
  let [yl, yh] = chart.yRange ?? finiteRange(ys, logY);
  if (!chart.yRange && !logY) {
    const pad = (yh - yl) * 0.04;
    (yl -= pad, yh += pad);
  }
  const tx = (v: number) => logX ? Math.log10(v) : v, ty = (v: number) => logY ? Math.log10(v) : v;
  const sx = (v: number) => px0 + (tx(v) - tx(xl)) / (tx(xh) - tx(xl)) * (px1 - px0);
  const sy = (v: number) => py1 - (ty(v) - ty(yl)) / (ty(yh) - ty(yl)) * (py1 - py0);
  const clampY = (v: number) => Math.max(py0, Math.min(py1, v));
  const ok = (x: number, y: number) =>
    Number.isFinite(x) && Number.isFinite(y) && (!logX || x > 0) && (!logY || y > 0);
  const xTicks = chart.xTicks ?? ticks(xl, xh, logX).map((t) => ({ at: t, label: formatTick(t) }));
  for (const { at, label } of xTicks) {
    const x = sx(at);
    out.push({ kind: "line", points: [[x, py0], [x, py1]], color: "#e3e3e3", width: 1 });
    out.push({
      kind: "text",
      x,
      y: py1 + 14,
      text: label,
      size: 10,
      anchor: "middle",
      color: "#333",
    });
  }
  for (const t of ticks(yl, yh, logY)) {
    const y = sy(t);
    out.push({ kind: "line", points: [[px0, y], [px1, y]], color: "#e3e3e3", width: 1 });
    out.push({
      kind: "text",
      x: px0 - 5,
      y: y + 3.5,
      text: formatTick(t),
      size: 10,
      anchor: "end",
      color: "#333",
    });
  }
  for (const s of chart.series) {
    const { color, dash } = colors.get(s.name)!;
    if (s.lower && s.upper) {
      const up: [number, number][] = [], low: [number, number][] = [];
      for (let i = 0; i < s.x.length; i++) {
        if (!ok(s.x[i], s.lower[i]) || !ok(s.x[i], s.upper[i])) continue;
        up.push([sx(s.x[i]), clampY(sy(s.upper[i]))]);
        low.push([sx(s.x[i]), clampY(sy(s.lower[i]))]);
      }
      if (up.length > 1) {
        out.push({ kind: "polygon", points: [...up, ...low.reverse()], color, opacity: 0.15 });
      }
    }
    const pts: [number, number][] = [];
    for (let i = 0; i < s.x.length; i++) {
      if (ok(s.x[i], s.y[i])) pts.push([sx(s.x[i]), clampY(sy(s.y[i]))]);
    }
    if (pts.length > 0) out.push({ kind: "line", points: pts, color, width: 1.6, dash });
    if (s.markers) { for (const [x, y] of pts) out.push({ kind: "circle", x, y, r: 3, color }); }
  }
  out.push({ kind: "rect", x: px0, y: py0, w: px1 - px0, h: py1 - py0, stroke: "#555" });
  if (chart.title) {
    out.push({
      kind: "text",
      x: (px0 + px1) / 2,
      y: y0 + 17,
      text: chart.title,
      size: 13,
      anchor: "middle",
      color: "#111",
    });
  }
  if (chart.xLabel) {
    out.push({
      kind: "text",
      x: (px0 + px1) / 2,
      y: py1 + 32,
      text: chart.xLabel,
      size: 11,
      anchor: "middle",
      color: "#111",
    });
  }
  if (chart.yLabel) {
    // A label longer than the panel is high goes on two lines, split at the middle space.
    const lines = textWidth(chart.yLabel, 11) > py1 - py0 + 40
      ? splitInTwo(chart.yLabel)
      : [chart.yLabel];
    lines.forEach((text, i) =>
      out.push({
        kind: "text",
        x: x0 + (lines.length === 1 ? 12 : 9 + 13 * i),
        y: (py0 + py1) / 2,
        text,
        size: 11,
        anchor: "middle",
        color: "#111",
        vertical: true,
      })
    );
  }
}

/**
 * Rough width of a text in the shipped font (DejaVu Sans averages about 0.6 em a character).
 * @param s the text
 * @param size the font size in pixels
 * @returns the estimated width in pixels
 */
export const textWidth = (s: string, size: number): number => s.length * size * 0.6;

/** Split a text at the space nearest its middle (the whole text when it has no space). */
function splitInTwo(text: string): string[] {
  const mid = text.length / 2;
  const before = text.lastIndexOf(" ", mid), after = text.indexOf(" ", mid);
  const cut = before < 0 ? after : after < 0 || mid - before <= after - mid ? before : after;
  return cut < 0 ? [text] : [text.slice(0, cut), text.slice(cut + 1)];
}

/**
 * Lay out a figure: panels on a grid, a title, and one legend column for all series.
 * @param figure the figure
 * @returns size and primitives
 */
export function layout(figure: Figure): { width: number; height: number; primitives: Primitive[] } {
  const n = figure.charts.length;
  const columns = Math.max(1, Math.min(figure.columns ?? n, n));
  const rows = Math.ceil(n / columns);
  const pw = figure.panelWidth ?? 460, ph = figure.panelHeight ?? 320;
  const colors = seriesColors(figure);
  const showLegend = (figure.legend ?? true) && colors.size > 0;
  const legendW = showLegend
    ? 20 + 7 * Math.max(...[...colors.keys()].map((k) => k.length)) + 40
    : 0;
  const titleH = figure.title ? 30 : 0;
  const width = columns * pw + legendW;
  const height = Math.max(rows * ph, 24 + 18 * colors.size) + titleH;
  const out: Primitive[] = [{ kind: "rect", x: 0, y: 0, w: width, h: height, fill: "#ffffff" }];
  if (figure.title) {
    out.push({
      kind: "text",
      x: width / 2,
      y: 21,
      text: figure.title,
      size: 15,
      anchor: "middle",
      color: "#000",
    });
  }
  figure.charts.forEach((chart, i) => {
    panel(chart, (i % columns) * pw, titleH + Math.floor(i / columns) * ph, pw, ph, colors, out);
  });
  if (showLegend) {
    let y = titleH + 24;
    const x = columns * pw + 12;
    for (const [name, { color, dash }] of colors) {
      out.push({ kind: "line", points: [[x, y - 4], [x + 26, y - 4]], color, width: 2.5, dash });
      out.push({
        kind: "text",
        x: x + 32,
        y,
        text: name,
        size: 11,
        anchor: "start",
        color: "#111",
      });
      y += 18;
    }
  }
  return { width, height, primitives: out };
}
