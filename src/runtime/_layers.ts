// Layers of a model, in one place: the names a session can return (checked, with close matches
// for an unknown one) and the candidate layers with their measured shapes (listLayers).
import { ModelError } from "./errors.ts";
import { type LoadedModel, loadModel, type ModelSource } from "./_load.ts";
import type { BackendChoice } from "./_backends.ts";
import { inferLayout, type Layout } from "./layout.ts";
import { dummyFeeds, requireBatchAxis } from "./_tensors.ts";
import { openSession } from "./_session.ts";

/** A layer candidate found by {@link listLayers}. */
export interface LayerInfo {
  /** Tensor name (what `outputs` and `--layer` take). */
  name: string;
  /** The operator that produces it. */
  opType: string;
  /** The producing node's name. */
  node: string;
  /** Whether the model declares it as a graph output (a named layer). */
  isOutput: boolean;
  /** Dims with the batch written `"B"` (time-major flattened: `"4*B"`); null if not measured. */
  dims: (number | string)[] | null;
  /** The layout found (a batch-scaled float tensor), or null if not measured. */
  layout: Exclude<Layout, "auto"> | null;
  /** Time steps (1 for batch-first layouts). */
  T: number;
  /** Channel units (C, or F for `[B, F]`), or 0 if not measured. */
  units: number;
}

/** Options of {@link listLayers}. */
export interface ListLayersOptions {
  /** Backend for the dummy runs that measure shapes (default `"auto"`). */
  backend?: BackendChoice;
  /** Measure shapes with two dummy runs (batch 1 and 2); default true. */
  shapes?: boolean;
  /** Threads (default as in openSession). */
  threads?: number;
  /** How messages name the model (default its path or URL, `"<bytes>"` for bytes). */
  source?: string;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/**
 * The tensor names closest to a name: by edit distance, where a name that contains the other
 * counts as its length difference (so `conv1` suggests `conv1.out` before `conv2`).
 * @param name the unknown name
 * @param names the known names
 * @param count how many to return
 * @returns up to `count` names, closest first
 */
export function closeMatches(name: string, names: Iterable<string>, count = 5): string[] {
  return [...names]
    .map((t) => {
      const within = t.includes(name) || name.includes(t);
      return [t, within ? Math.abs(t.length - name.length) / 2 : editDistance(t, name)] as const;
    })
    .filter(([, d]) => d <= Math.max(2, name.length / 3))
    .sort((a, b) => a[1] - b[1])
    .slice(0, count)
    .map(([t]) => t);
}

function unknownLayerError(model: LoadedModel, name: string): ModelError {
  const g = model.info.graph;
  const outputs = g.outputs.map((o) => o.name);
  const tensors = new Set(g.nodes.flatMap((n) => n.outputs).filter((x) => x));
  const close = closeMatches(name, tensors);
  return new ModelError(
    `unknown layer "${name}" in ${model.source}. Named outputs: ${outputs.join(", ")}` +
      (close.length ? `. Close matches: ${close.join(", ")}` : "") +
      `. Any of the graph's ${tensors.size} node outputs is a layer too (--list-layers prints them).`,
  );
}

/**
 * Check that every name is a tensor of the graph (a graph output or a node output).
 * @param model the model
 * @param outputs the names
 * @throws {ModelError} naming the unknown one, with close matches
 */
export function checkOutputs(model: LoadedModel, outputs: readonly string[]): void {
  const g = model.info.graph;
  const known = new Set([...g.outputs.map((o) => o.name), ...g.nodes.flatMap((n) => n.outputs)]);
  for (const o of outputs) if (!known.has(o) || o === "") throw unknownLayerError(model, o);
}

/**
 * Lists the candidate layers of a model: every node output, with its operator, and (by two dummy
 * runs at batch 1 and 2 with every candidate exposed) its shape and layout. With shapes, only
 * tensors with a batch dim are listed (weights, constants and shape arithmetic drop out; boolean
 * and integer tensors stay, read as float32), and a model without a batch axis is refused.
 *
 * @param model bytes, path or URL
 * @param options backend, shapes
 * @returns the candidates: named outputs first (in declared order), then the rest in graph order
 * @throws {ModelError} a model whose input has a fixed batch (when measuring shapes)
 * @example
 * ```ts
 * import { buildModel, listLayers } from "./mod.ts";
 * const model = buildModel({
 *   inputs: [{ name: "x", dims: ["B", 3] }], outputs: [{ name: "y", dims: ["B", 3] }],
 *   nodes: [{ opType: "Relu", inputs: ["x"], outputs: ["h"] }, { opType: "Neg", inputs: ["h"], outputs: ["y"] }],
 * });
 * const layers = await listLayers(model, { backend: "wasm" });
 * if (layers.map((l) => `${l.name}:${l.dims}`).join() !== "y:B,3,h:B,3") throw new Error();
 * ```
 */
export async function listLayers(
  model: ModelSource,
  options: ListLayersOptions = {},
): Promise<LayerInfo[]> {
  const loaded = await loadModel(model, options.source);
  const g = loaded.info.graph;
  const declared = new Set(g.outputs.map((o) => o.name));
  const seen = new Set<string>();
  const all: LayerInfo[] = [];
  for (const n of g.nodes) {
    for (const o of n.outputs) {
      if (!o || seen.has(o)) continue;
      seen.add(o);
      all.push({
        name: o,
        opType: n.opType,
        node: n.name,
        isOutput: declared.has(o),
        dims: null,
        layout: null,
        T: 1,
        units: 0,
      });
    }
  }
  const rank = new Map(g.outputs.map((o, i) => [o.name, i]));
  all.sort((a, b) => (rank.get(a.name) ?? 1e9) - (rank.get(b.name) ?? 1e9)); // stable
  if (options.shapes === false) return all;
  requireBatchAxis(g.inputs, loaded.source);
  const s = await openSession(loaded.bytes, {
    backend: options.backend,
    threads: options.threads,
    outputs: all.map((l) => l.name),
    prune: false,
    source: loaded.source,
  });
  try {
    const [r1, r2] = [await s.run(dummyFeeds(s.inputs, 1)), await s.run(dummyFeeds(s.inputs, 2))];
    return all.flatMap((l) => {
      const m = inferLayout(r1[l.name].dims, r2[l.name].dims);
      return m ? [{ ...l, ...m }] : [];
    });
  } finally {
    await s.release();
  }
}
