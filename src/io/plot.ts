/**
 * Line charts as SVG and PNG: series with optional bands (for example a median with its
 * interquartile range), linear or logarithmic axes, titles, axis labels and a legend, one chart
 * or a grid of panels sharing a legend. The PNG is the SVG rendered by resvg with the font shipped
 * in `src/io/fonts/` (`svg_png.ts`; no FFI needed).
 *
 * @example
 * ```ts
 * import { chartSvg, chartPng } from "./plot.ts";
 * const chart = {
 *   title: "best so far", xLabel: "evaluations", yLabel: "value", logX: true,
 *   series: [{ name: "cma", x: [1, 10, 100], y: [5, 2, 1], lower: [4, 1, 0.5], upper: [6, 3, 1.5] }],
 * };
 * const svg = chartSvg(chart);
 * if (!svg.startsWith("<svg") || !svg.includes("cma")) throw new Error();
 * const png = await chartPng(chart);
 * if (png[1] !== 0x50 || png[2] !== 0x4e || png[3] !== 0x47) throw new Error("not a PNG");
 * ```
 * @module
 */

import { layout } from "./_chart.ts";
import { escapeXml, FONT_FAMILY, svgToPng } from "./svg_png.ts";

/** One line of a chart, with an optional band between `lower` and `upper`. */
export interface Series {
  /** Legend name; series of the same name share a color across panels. */
  name: string;
  /** x coordinates. */
  x: ArrayLike<number>;
  /** y coordinates, one per x (NaN or non-finite values are skipped). */
  y: ArrayLike<number>;
  /** Lower edge of the band, one per x. */
  lower?: ArrayLike<number>;
  /** Upper edge of the band, one per x. */
  upper?: ArrayLike<number>;
  /** CSS color (default from the palette). */
  color?: string;
  /** Dashed line (default: dashed for the 11th to 20th series). */
  dash?: boolean;
  /** A dot at every point (default false). */
  markers?: boolean;
}

/** A line chart (one panel). */
export interface Chart {
  /** Panel title. */
  title?: string;
  /** x axis label. */
  xLabel?: string;
  /** y axis label. */
  yLabel?: string;
  /** Logarithmic x axis (non-positive x are left out). */
  logX?: boolean;
  /** Logarithmic y axis (non-positive y are left out). */
  logY?: boolean;
  /** Labelled x ticks (default: 1-2-5 steps or powers of ten), e.g. layer names at 0, 1, 2. */
  xTicks?: { at: number; label: string }[];
  /** Fixed x range (default: the data's). */
  xRange?: [number, number];
  /** Fixed y range (default: the data's, padded). */
  yRange?: [number, number];
  /** The lines. */
  series: Series[];
}

/** Panels on a grid with one legend. */
export interface Figure {
  /** Figure title. */
  title?: string;
  /** The panels, row by row. */
  charts: Chart[];
  /** Panels per row (default all in one row). */
  columns?: number;
  /** Panel width in CSS pixels (default 460). */
  panelWidth?: number;
  /** Panel height in CSS pixels (default 320). */
  panelHeight?: number;
  /** Show the legend column (default true). */
  legend?: boolean;
}

const f1 = (v: number) => Number(v.toFixed(1));

/**
 * Write a figure as SVG.
 * @param figure panels, title, legend
 * @returns the SVG document
 * @example
 * ```ts
 * import { figureSvg } from "./plot.ts";
 * const a = { title: "a", series: [{ name: "s", x: [0, 1], y: [0, 1] }] };
 * const svg = figureSvg({ title: "two", charts: [a, { ...a, title: "b" }], columns: 2 });
 * if ((svg.match(/<polyline/g) ?? []).length < 2) throw new Error();
 * ```
 */
export function figureSvg(figure: Figure): string {
  const { width, height, primitives } = layout(figure);
  const body = primitives.map((p) => {
    switch (p.kind) {
      case "rect":
        return `<rect x="${f1(p.x)}" y="${f1(p.y)}" width="${f1(p.w)}" height="${f1(p.h)}" ` +
          `fill="${p.fill ?? "none"}"${p.stroke ? ` stroke="${p.stroke}"` : ""}/>`;
      case "line":
        return `<polyline fill="none" stroke="${p.color}" stroke-width="${p.width}"` +
          `${p.dash ? ' stroke-dasharray="6 4"' : ""} stroke-linejoin="round" points="` +
          p.points.map(([x, y]) => `${f1(x)},${f1(y)}`).join(" ") + `"/>`;
      case "polygon":
        return `<polygon fill="${p.color}" fill-opacity="${p.opacity}" stroke="none" points="` +
          p.points.map(([x, y]) => `${f1(x)},${f1(y)}`).join(" ") + `"/>`;
      case "circle":
        return `<circle cx="${f1(p.x)}" cy="${f1(p.y)}" r="${p.r}" fill="${p.color}"/>`;
      case "text": {
        const rot = p.vertical ? ` transform="rotate(-90 ${f1(p.x)} ${f1(p.y)})"` : "";
        return `<text x="${f1(p.x)}" y="${
          f1(p.y)
        }" font-size="${p.size}" text-anchor="${p.anchor}" ` +
          `fill="${p.color}"${rot}>${escapeXml(p.text)}</text>`;
      }
    }
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="${FONT_FAMILY}, Helvetica, Arial, sans-serif">\n` +
    body.join("\n") + "\n</svg>\n";
}

/**
 * Write one chart as SVG.
 * @param chart the chart
 * @returns the SVG document
 * @example
 * ```ts
 * import { chartSvg } from "./plot.ts";
 * const svg = chartSvg({ series: [{ name: "a & b", x: [1, 2], y: [3, 4] }] });
 * if (!svg.includes("a &amp; b")) throw new Error();
 * ```
 */
export function chartSvg(chart: Chart): string {
  return figureSvg({ charts: [chart] });
}

/**
 * Render a figure to PNG (its `figureSvg`, at `ratio` device pixels per CSS pixel).
 * @param figure panels, title, legend
 * @param ratio device pixel ratio (default 2)
 * @returns the PNG file bytes
 * @example
 * ```ts
 * import { figurePng } from "./plot.ts";
 * const png = await figurePng({ charts: [{ series: [{ name: "s", x: [0, 1], y: [1, 0] }] }] }, 1);
 * const width = new DataView(png.buffer, png.byteOffset).getUint32(16);
 * if (width < 400) throw new Error(`${width}`);
 * ```
 */
export function figurePng(figure: Figure, ratio = 2): Promise<Uint8Array> {
  return svgToPng(figureSvg(figure), ratio);
}

/**
 * Render one chart to PNG.
 * @param chart the chart
 * @param ratio device pixel ratio (default 2)
 * @returns the PNG file bytes
 * @example
 * ```ts
 * import { chartPng } from "./plot.ts";
 * const png = await chartPng({ logX: true, series: [{ name: "s", x: [1, 1000], y: [2, 1] }] });
 * if (png.length < 100) throw new Error();
 * ```
 */
export function chartPng(chart: Chart, ratio = 2): Promise<Uint8Array> {
  return figurePng({ charts: [chart] }, ratio);
}
