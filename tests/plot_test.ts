/** Tests of the chart writers: SVG structure, log axes and the PNG rasterization. */

import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { chartPng, chartSvg, figureSvg } from "../src/io/plot.ts";
import { formatTick, ticks } from "../src/io/_chart.ts";

const chart = {
  title: "t",
  xLabel: "evaluations",
  yLabel: "best",
  logX: true,
  series: [
    { name: "a", x: [1, 10, 100, 1000], y: [4, 3, 2, 1], lower: [3, 2, 1, 0], upper: [5, 4, 3, 2] },
    { name: "b", x: [1, 1000], y: [4, 0.5] },
  ],
};

Deno.test("log ticks are powers of ten; linear ticks 1-2-5 steps", () => {
  assertEquals(ticks(1, 1e4, true), [1, 10, 100, 1000, 10000]);
  assertEquals(ticks(0, 1, false).map((t) => Number(t.toFixed(10))), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assertEquals([formatTick(10000), formatTick(0.25), formatTick(-3e-5)], ["1e4", "0.25", "-3e-5"]);
});

Deno.test("SVG: one line per series, one band, a legend entry each, log-spaced x", () => {
  const svg = chartSvg(chart);
  const lines = svg.match(/<polyline[^>]*stroke="(#4e79a7|#f28e2b)"[^>]*stroke-width="1.6"[^>]*>/g);
  assertEquals(lines?.length, 2);
  assertEquals(svg.match(/<polygon/g)?.length, 1);
  assert(svg.includes(">a</text>") && svg.includes(">b</text>") && svg.includes(">1000</text>"));
  // On a log axis 1, 10, 100, 1000 are equally spaced.
  const pts = lines![0].match(/points="([^"]+)"/)![1].split(" ").map((p) =>
    Number(p.split(",")[0])
  );
  const gaps = pts.slice(1).map((x, i) => x - pts[i]);
  assert(gaps.every((g) => Math.abs(g - gaps[0]) < 0.2), `${gaps}`);
});

Deno.test("figures: panels share colors by series name", () => {
  const svg = figureSvg({ charts: [chart, { ...chart, series: [chart.series[1]] }], columns: 2 });
  assertEquals(svg.match(/stroke="#f28e2b" stroke-width="1.6"/g)?.length, 2); // "b" in both
});

Deno.test("PNG: twice the layout size, and compressed", async () => {
  const png = await chartPng(chart);
  const view = new DataView(png.buffer, png.byteOffset);
  const svg = chartSvg(chart);
  const width = Number(svg.match(/width="(\d+)"/)![1]);
  assertEquals(view.getUint32(16), 2 * width);
  assert(png.length < view.getUint32(16) * view.getUint32(20), "not compressed");
});

Deno.test("PNG text is drawn with a real font: lower and upper case differ, text has ink", async () => {
  const { svgToPng } = await import("../src/io/svg_png.ts");
  const { decodePng } = await import("../src/io/image.ts");
  const svg = (t: string) =>
    `<svg xmlns="http://www.w3.org/2000/svg" width="60" height="20"><rect width="60" height="20" ` +
    `fill="#fff"/><text x="2" y="15" font-size="14" font-family="Helvetica">${t}</text></svg>`;
  const ink = async (t: string) => {
    const img = decodePng(await svgToPng(svg(t), 1));
    return Array.from({ length: img.width * img.height }, (_, i) => img.rgba[4 * i] < 128 ? 1 : 0);
  };
  const [lower, upper, blank] = [await ink("abcσ"), await ink("ABCΣ"), await ink("")];
  const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);
  assert(sum(lower) > 20 && sum(upper) > 20 && sum(blank) === 0);
  assert(lower.some((v, i) => v !== upper[i]));
});

Deno.test("heat maps: viridis ends for the range ends, empty cells for NaN, labels as text", async () => {
  const { heatmapSvg } = await import("../src/io/heatmap.ts");
  const svg = heatmapSvg({
    title: "T",
    panels: [{
      rows: ["sn1", "sn2"],
      columns: ["epoch 0", "epoch 8"],
      values: [[0, 1], [0.5, NaN]],
    }],
  });
  const fills = [...svg.matchAll(/<rect class="cell"[^>]*fill="(#[0-9a-f]{6})"/g)].map((m) => m[1]);
  assertEquals(fills, ["#440154", "#fde725", "#21918c"]); // viridis at 0, 1 and 0.5
  assert(
    svg.includes(">sn2</text>") && svg.includes(">epoch 8</text>") && svg.includes(">0.50</text>"),
  );
});
