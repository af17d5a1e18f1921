/**
 * Heat maps as SVG and PNG (the PNG is the SVG rendered by `svg_png.ts`): a table of values
 * (rows x columns, e.g. layers x epochs) drawn as coloured cells with the value written in each,
 * a colour bar, and several panels side by side.
 *
 * @example
 * ```ts
 * import { heatmapSvg } from "./heatmap.ts";
 * const svg = heatmapSvg({ panels: [{
 *   title: "fraction selective", rows: ["sn1", "sn2"], columns: ["0", "8"],
 *   values: [[0.1, 0.5], [0.2, NaN]],
 * }] });
 * if ((svg.match(/<rect class="cell"/g) ?? []).length !== 3) throw new Error();
 * ```
 * @module
 */

import { formatTick, textWidth } from "./_chart.ts";
import { escapeXml, FONT_FAMILY, svgToPng } from "./svg_png.ts";

/** One heat map. */
export interface Heatmap {
  title?: string;
  /** Label under the columns. */
  xLabel?: string;
  /** Label beside the rows. */
  yLabel?: string;
  /** Column labels, left to right. */
  columns: string[];
  /** Row labels, top to bottom. */
  rows: string[];
  /** `values[row][column]`; NaN (or null) leaves the cell empty. */
  values: (number | null)[][];
  /** Colour range (default the values' range). */
  range?: [number, number];
  /** Text of a cell (default 2 significant decimals). */
  format?: (v: number) => string;
}

/** Heat maps side by side. */
export interface HeatmapFigure {
  title?: string;
  panels: Heatmap[];
  /** Panels per row (default all). */
  columns?: number;
}

// Viridis at five stops.
const STOPS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];

function colour(t: number): { fill: string; dark: boolean } {
  const x = Math.min(1, Math.max(0, t)) * (STOPS.length - 1), i = Math.min(3, Math.floor(x));
  const f = x - i;
  const rgb = STOPS[i].map((a, k) => Math.round(a + (STOPS[i + 1][k] - a) * f));
  return {
    fill: `#${rgb.map((v) => v.toString(16).padStart(2, "0")).join("")}`,
    dark: 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] < 140,
  };
}

const f1 = (v: number) => Number(v.toFixed(1));

function text(x: number, y: number, s: string, size: number, extra = ""): string {
  return `<text x="${f1(x)}" y="${f1(y)}" font-size="${size}"${extra}>${escapeXml(s)}</text>`;
}

function panelSvg(p: Heatmap, x0: number, y0: number): { svg: string[]; w: number; h: number } {
  const fmt = p.format ?? ((v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2)));
  const flat = p.values.flat().filter((v): v is number => v !== null && Number.isFinite(v));
  let [lo, hi] = p.range ?? [Math.min(...flat), Math.max(...flat)];
  if (!(hi > lo)) (lo = Number.isFinite(lo) ? lo - 0.5 : 0, hi = lo + 1);
  const cellW = Math.max(
    40,
    ...p.columns.map((c) => textWidth(c, 11) + 8),
    ...flat.map((v) => textWidth(fmt(v), 11) + 8),
  );
  const cellH = 24;
  const left = (p.yLabel ? 20 : 4) + Math.max(0, ...p.rows.map((r) => textWidth(r, 11))) + 8;
  const top = p.title ? 26 : 6;
  const gridW = cellW * p.columns.length, gridH = cellH * p.rows.length;
  const gx = x0 + left, gy = y0 + top;
  const out: string[] = [];
  const titleW = textWidth(p.title ?? "", 13), tx = Math.max(gx + gridW / 2, x0 + titleW / 2 + 4);
  if (p.title) out.push(text(tx, y0 + 17, p.title, 13, ' text-anchor="middle" fill="#111"'));
  p.rows.forEach((row, r) => {
    out.push(text(gx - 6, gy + r * cellH + cellH / 2 + 4, row, 11, ' text-anchor="end"'));
    p.columns.forEach((_, c) => {
      const v = p.values[r]?.[c];
      if (v === null || v === undefined || !Number.isFinite(v)) return;
      const { fill, dark } = colour((v - lo) / (hi - lo));
      const x = gx + c * cellW, y = gy + r * cellH;
      out.push(
        `<rect class="cell" x="${f1(x)}" y="${f1(y)}" width="${f1(cellW)}" height="${cellH}" ` +
          `fill="${fill}" stroke="#fff"/>`,
      );
      out.push(
        text(
          x + cellW / 2,
          y + cellH / 2 + 4,
          fmt(v),
          11,
          ` text-anchor="middle" fill="${dark ? "#fff" : "#111"}"`,
        ),
      );
    });
  });
  p.columns.forEach((col, c) => {
    out.push(text(gx + c * cellW + cellW / 2, gy + gridH + 14, col, 11, ' text-anchor="middle"'));
  });
  let bottom = gy + gridH + 20;
  if (p.xLabel) {
    out.push(text(gx + gridW / 2, bottom + 14, p.xLabel, 11, ' text-anchor="middle"'));
    bottom += 20;
  }
  if (p.yLabel) {
    const cy = gy + gridH / 2;
    out.push(
      text(
        x0 + 12,
        cy,
        p.yLabel,
        11,
        ` text-anchor="middle" transform="rotate(-90 ${f1(x0 + 12)} ${f1(cy)})"`,
      ),
    );
  }
  // Colour bar with three ticks.
  const bx = gx + gridW + 12, bh = Math.max(gridH, 60);
  for (let k = 0; k < 20; k++) {
    out.push(
      `<rect x="${f1(bx)}" y="${f1(gy + bh * (1 - (k + 1) / 20))}" width="10" ` +
        `height="${f1(bh / 20 + 0.5)}" fill="${colour((k + 0.5) / 20).fill}"/>`,
    );
  }
  for (const t of [0, 0.5, 1]) {
    out.push(text(bx + 14, gy + bh * (1 - t) + 4, formatTick(lo + (hi - lo) * t), 10));
  }
  const barW = 14 + Math.max(...[lo, (lo + hi) / 2, hi].map((v) => textWidth(formatTick(v), 10)));
  return {
    svg: out,
    w: Math.max(
      left + gridW + 12 + barW + 12,
      tx - x0 + titleW / 2 + 12,
    ),
    h: Math.max(bottom, gy + bh) - y0 + 8,
  };
}

/**
 * Write heat maps as SVG.
 * @param figure the panels and a title
 * @returns the SVG document
 */
export function heatmapSvg(figure: HeatmapFigure): string {
  const per = Math.max(1, figure.columns ?? figure.panels.length);
  const titleH = figure.title ? 30 : 0;
  // Lay out once to measure, then place on a grid of equal cells.
  const sizes = figure.panels.map((p) => panelSvg(p, 0, 0));
  const cw = Math.max(...sizes.map((s) => s.w)), ch = Math.max(...sizes.map((s) => s.h));
  const body: string[] = [];
  figure.panels.forEach((p, i) => {
    body.push(...panelSvg(p, (i % per) * cw, titleH + Math.floor(i / per) * ch).svg);
  });
  const rowsN = Math.ceil(figure.panels.length / per);
  const width = Math.ceil(
    Math.max(cw * Math.min(per, figure.panels.length), textWidth(figure.title ?? "", 15) + 24, 200),
  );
  const height = Math.ceil(titleH + rowsN * ch);
  const title = figure.title
    ? text(width / 2, 21, figure.title, 15, ' text-anchor="middle" fill="#000"')
    : "";
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="${FONT_FAMILY}, Helvetica, Arial, sans-serif" ` +
    `fill="#222">\n<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>\n` +
    (title ? title + "\n" : "") + body.join("\n") + "\n</svg>\n";
}

/**
 * Render heat maps to PNG.
 * @param figure the panels and a title
 * @param ratio device pixels per CSS pixel (default 2)
 * @returns the PNG bytes
 */
export function heatmapPng(figure: HeatmapFigure, ratio = 2): Promise<Uint8Array> {
  return svgToPng(heatmapSvg(figure), ratio);
}
