/**
 * Line charts as SVG and PNG: series with optional bands (for example a median with its
 * interquartile range), linear or logarithmic axes, titles, axis labels and a legend, one chart
 * or a grid of panels sharing a legend. The PNG is a rasterization of the same layout (with a
 * built-in 5 x 7 bitmap font, upper case), encoded by imagescript's pure-JS PNG encoder (no FFI needed).
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

import { encodePng } from "./image.ts";
import { layout, type Primitive } from "./_chart.ts";
import { ADVANCE, GLYPH_H, textPixels } from "./_font5x7.ts";

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

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
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
    `viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">\n` +
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

function parseColor(c: string): [number, number, number] {
  const h = c.replace("#", "");
  const full = h.length === 3 ? [...h].map((ch) => ch + ch).join("") : h;
  return [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16) || 0) as [number, number, number];
}

/** An RGBA canvas with alpha blending. */
class Canvas {
  readonly rgba: Uint8ClampedArray;
  readonly #coverage: Float32Array;
  #touched: number[] = [];

  constructor(readonly width: number, readonly height: number) {
    this.rgba = new Uint8ClampedArray(width * height * 4).fill(255);
    this.#coverage = new Float32Array(width * height);
  }

  blend(i: number, [r, g, b]: [number, number, number], a: number): void {
    const o = i * 4, d = this.rgba;
    d[o] += (r - d[o]) * a;
    d[o + 1] += (g - d[o + 1]) * a;
    d[o + 2] += (b - d[o + 2]) * a;
  }

  /** Anti-aliased polyline: coverage of a round pen swept along it, composited once. */
  polyline(points: [number, number][], color: string, width: number, dash: number[] | undefined) {
    const hw = width / 2, cov = this.#coverage;
    let along = 0;
    const period = dash ? dash[0] + dash[1] : 0;
    const stamp = (cx: number, cy: number) => {
      for (let y = Math.floor(cy - hw - 1); y <= Math.ceil(cy + hw + 1); y++) {
        if (y < 0 || y >= this.height) continue;
        for (let x = Math.floor(cx - hw - 1); x <= Math.ceil(cx + hw + 1); x++) {
          if (x < 0 || x >= this.width) continue;
          const c = Math.min(1, Math.max(0, hw + 0.5 - Math.hypot(x + 0.5 - cx, y + 0.5 - cy)));
          const i = y * this.width + x;
          if (c > cov[i]) {
            if (cov[i] === 0) this.#touched.push(i);
            cov[i] = c;
          }
        }
      }
    };
    if (points.length === 1) stamp(points[0][0], points[0][1]);
    for (let s = 1; s < points.length; s++) {
      const [ax, ay] = points[s - 1], [bx, by] = points[s];
      const len = Math.hypot(bx - ax, by - ay), steps = Math.max(1, Math.ceil(len / 0.4));
      for (let k = 0; k <= steps; k++) {
        const pos = along + len * k / steps;
        if (dash && pos % period >= dash[0]) continue;
        stamp(ax + (bx - ax) * k / steps, ay + (by - ay) * k / steps);
      }
      along += len;
    }
    const rgb = parseColor(color);
    for (const i of this.#touched) (this.blend(i, rgb, cov[i]), cov[i] = 0);
    this.#touched = [];
  }

  /** Even-odd scanline fill at pixel centres. */
  polygon(points: [number, number][], color: string, opacity: number): void {
    const rgb = parseColor(color);
    const ys = points.map((p) => p[1]);
    const y0 = Math.max(0, Math.floor(Math.min(...ys))),
      y1 = Math.min(this.height - 1, Math.ceil(Math.max(...ys)));
    for (let y = y0; y <= y1; y++) {
      const yc = y + 0.5, xs: number[] = [];
      for (let i = 0; i < points.length; i++) {
        const [ax, ay] = points[i], [bx, by] = points[(i + 1) % points.length];
        if ((ay <= yc) !== (by <= yc)) xs.push(ax + (yc - ay) / (by - ay) * (bx - ax));
      }
      xs.sort((a, b) => a - b);
      for (let k = 0; k + 1 < xs.length; k += 2) {
        const from = Math.max(0, Math.ceil(xs[k] - 0.5)),
          to = Math.min(this.width - 1, Math.floor(xs[k + 1] - 0.5));
        for (let x = from; x <= to; x++) this.blend(y * this.width + x, rgb, opacity);
      }
    }
  }

  rect(
    x: number,
    y: number,
    w: number,
    h: number,
    color: string,
    fill: boolean,
    lineWidth: number,
  ) {
    if (fill) {
      this.polygon([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], color, 1);
      return;
    }
    this.polyline(
      [[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]],
      color,
      lineWidth,
      undefined,
    );
  }

  /** Bitmap text; (x, y) is the baseline point of the anchor, as in SVG. */
  text(p: Extract<Primitive, { kind: "text" }>, ratio: number): void {
    const scale = Math.max(1, Math.round(p.size * ratio / 10));
    const w = (p.text.length * ADVANCE - 1) * scale, h = GLYPH_H * scale;
    const shift = p.anchor === "start" ? 0 : p.anchor === "middle" ? w / 2 : w;
    const rgb = parseColor(p.color);
    const x0 = Math.round(p.x * ratio), y0 = Math.round(p.y * ratio);
    textPixels(p.text, scale, (px, py) => {
      const u = px - shift, v = py - h;
      const [x, y] = p.vertical ? [x0 + v, y0 - u] : [x0 + u, y0 + v];
      if (x >= 0 && y >= 0 && x < this.width && y < this.height) {
        this.blend(Math.round(y) * this.width + Math.round(x), rgb, 1);
      }
    });
  }
}

/**
 * Rasterize a figure to PNG (the layout of `figureSvg`, at `ratio` device pixels per CSS
 * pixel).
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
  const { width, height, primitives } = layout(figure);
  const canvas = new Canvas(Math.ceil(width * ratio), Math.ceil(height * ratio));
  const scaled = (pts: [number, number][]) =>
    pts.map(([x, y]) => [x * ratio, y * ratio] as [number, number]);
  for (const p of primitives) {
    if (p.kind === "rect") {
      canvas.rect(
        p.x * ratio,
        p.y * ratio,
        p.w * ratio,
        p.h * ratio,
        p.fill ?? p.stroke!,
        !!p.fill,
        ratio,
      );
    } else if (p.kind === "line") {
      canvas.polyline(
        scaled(p.points),
        p.color,
        p.width * ratio,
        p.dash ? [6 * ratio, 4 * ratio] : undefined,
      );
    } else if (p.kind === "polygon") canvas.polygon(scaled(p.points), p.color, p.opacity);
    else canvas.text(p, ratio);
  }
  return encodePng({ width: canvas.width, height: canvas.height, rgba: canvas.rgba });
}

/**
 * Rasterize one chart to PNG.
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
