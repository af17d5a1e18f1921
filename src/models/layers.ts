/**
 * `--list-layers`: the candidate layers of a target (every float tensor with a batch axis), with
 * operator, shape, layout and number of units, named graph outputs first.
 *
 * @module
 */

import { type LayerInfo, listLayers } from "../runtime/mod.ts";
import type { MeiSettings } from "./settings.ts";
import { openModel } from "./problem.ts";

/**
 * The candidate layers of the target of a run's settings (the list `--list-layers` prints and
 * the web page offers).
 * @param settings the target (and epoch, models folder, backend)
 * @returns where the target came from and its layers, named graph outputs first
 */
export async function targetLayers(
  settings: MeiSettings,
): Promise<{ source: string; layers: LayerInfo[] }> {
  const target = await openModel(settings.target, "target", settings.epoch, settings.modelsDir);
  const layers = await listLayers(target.bytes, {
    backend: settings.backend,
    threads: settings.threads,
    source: target.label,
  });
  return { source: target.source, layers };
}

/**
 * Lines describing the layers of the target of a run's settings.
 * @param settings the target (and epoch, models folder, backend)
 * @returns printable lines
 */
export async function listTargetLayers(settings: MeiSettings): Promise<string[]> {
  const target = await targetLayers(settings);
  const rows = target.layers.map((l) => [
    l.name,
    l.opType,
    `[${l.dims?.join(", ")}]`,
    l.layout ?? "",
    String(l.units),
    l.isOutput ? "output" : "",
  ]);
  const head = ["layer", "op", "shape", "layout", "units", ""];
  const width = head.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const fmt = (r: string[]) => r.map((c, j) => c.padEnd(width[j])).join("  ").trimEnd();
  return [
    `layers of ${target.source} (any of them works with --layer):`,
    fmt(head),
    ...rows.map(fmt),
  ];
}
