/**
 * Running a sweep: check the spec against the networks, plan the lockstep groups, keep the
 * groups of this shard that are not done yet, and run them, in this process (`workers: 1`) or
 * on several worker processes that each open the models once, appending each finished group's
 * records to the folder as it comes.
 *
 * @example
 * ```ts ignore
 * import { normalizeSpec } from "./spec.ts";
 * import { prepareSweep, runSweep } from "./run.ts";
 * const spec = normalizeSpec({ targets: ["scnn@6"], layers: ["sn1"], neurons: "0-3", budget: 200 });
 * const prepared = await prepareSweep(spec, { backend: "auto" });
 * const summary = await runSweep(prepared, { out: "sweeps/demo", workers: 2 });
 * console.log(summary.done, "searches done");
 * ```
 * @module
 */

import { type HostOptions, SearchHost, type TargetInfo } from "./_search.ts";
import { planGroups, type PlannedGroup, shardOf } from "./plan.ts";
import { classFields, curve, reached, type SweepRecord } from "./record.ts";
import { searchSeeds, type SweepSpec } from "./spec.ts";
import { type SweepFolder, SweepFolder as Folder, type SweepHeader, writeImage } from "./store.ts";

/** The format tag of sweep.json. */
export const FORMAT = "mei-sweep/1";

/** A spec checked against the networks, with its groups and the header of its folder. */
export interface PreparedSweep {
  spec: SweepSpec;
  host: SearchHost;
  hostOptions: HostOptions;
  groups: PlannedGroup[];
  header: SweepHeader;
  targets: Record<string, TargetInfo>;
  /** Seconds spent opening and checking the models. */
  openSeconds: number;
}

/**
 * Check a spec against its models and plan it.
 * @param spec the normalized spec
 * @param hostOptions backend and threads of this process's sessions
 * @returns the prepared sweep (its host holds the open sessions)
 * @throws SpecError naming an unknown layer, a neuron out of range or an unreadable model
 */
export async function prepareSweep(
  spec: SweepSpec,
  hostOptions: HostOptions,
): Promise<PreparedSweep> {
  const t0 = performance.now();
  const host = new SearchHost(spec, hostOptions);
  const d = await host.describe();
  const groups = planGroups(spec, d.neurons, d.cost, spec.budget);
  const header: SweepHeader = {
    format: FORMAT,
    spec,
    models: { generator: d.generator, targets: d.targets },
    searches: groups.reduce((n, g) => n + g.keys.length, 0),
    backend: d.backend,
  };
  return {
    spec,
    host,
    hostOptions,
    groups,
    header,
    targets: d.targets,
    openSeconds: (performance.now() - t0) / 1000,
  };
}

/** The work of one group as a worker returns it. */
export interface GroupResult {
  lines: string[];
  /** Images shown (evaluations of all its searches). */
  images: number;
  searchSeconds: number;
  openSeconds: number;
}

/**
 * Run one group and store its images; returns its records (not yet appended).
 * @param host the open models
 * @param spec the sweep
 * @param dir the sweep folder (for images)
 * @param group the group
 * @param targets what sweep.json says of each target
 * @returns the records and timings
 */
export async function executeGroup(
  host: SearchHost,
  spec: SweepSpec,
  dir: string,
  group: PlannedGroup,
  targets: Record<string, TargetInfo>,
): Promise<GroupResult> {
  const t0 = performance.now();
  await host.open(group.target, group.layer);
  const t1 = performance.now();
  const seeds = await Promise.all(group.keys.map(searchSeeds));
  const outcomes = await host.run(group, seeds);
  const t2 = performance.now();
  const wall = Math.round(t2 - t1) / 1000, info = targets[group.target];
  const lines: string[] = [];
  for (const [j, o] of outcomes.entries()) {
    const { image, sha256 } = await writeImage(dir, o.png);
    const record: SweepRecord = {
      key: group.keys[j],
      target: group.target,
      arch: info.arch,
      epoch: info.epoch ?? null,
      layer: group.layer,
      neuron: group.neurons[j],
      method: group.method,
      seed: group.seed,
      noise: group.noise,
      budget: spec.budget,
      evaluations: o.evaluations,
      best_index: o.bestIndex,
      latent: o.latent,
      activation: o.activation,
      clean_activation: o.cleanActivation,
      ...classFields(o.logits),
      reached: reached(o.history),
      curve: curve(o.history, spec.budget),
      history: o.history,
      image,
      image_sha256: sha256,
      wall_seconds: wall,
    };
    lines.push(JSON.stringify(record));
  }
  return {
    lines,
    images: outcomes.reduce((n, o) => n + o.evaluations, 0),
    searchSeconds: (t2 - t1) / 1000,
    openSeconds: (t1 - t0) / 1000,
  };
}

/** Options of a run. */
export interface RunOptions {
  /** The sweep folder. */
  out: string;
  /** Worker processes (1: run in this process). */
  workers: number;
  /** Inference threads per worker process (default the cores over the workers). */
  threads?: number;
  /** This process's slice of the sweep (default the whole sweep). */
  shard?: { index: number; count: number };
  /** Called after each finished group: searches done in all and now, of how many, images. */
  onProgress?: (
    p: {
      done: number;
      total: number;
      ran: number;
      pending: number;
      images: number;
      seconds: number;
    },
  ) => void;
}

/** What a run did. */
export interface RunSummary {
  /** Searches of this shard done (before and during this run) and in all. */
  done: number;
  total: number;
  /** Searches run now. */
  ran: number;
  images: number;
  seconds: number;
  /** Seconds the workers spent searching, all workers together. */
  searchSeconds: number;
  /** Seconds spent opening models, all processes together. */
  openSeconds: number;
}

/**
 * Run (or resume) a sweep into its folder.
 * @param p the prepared sweep
 * @param o folder, workers, shard, progress callback
 * @returns counts and timings
 * @throws SpecError when the folder holds another sweep
 */
export async function runSweep(p: PreparedSweep, o: RunOptions): Promise<RunSummary> {
  const t0 = performance.now();
  const shard = o.shard && o.shard.count > 1 ? o.shard : undefined;
  const mine = shard ? shardOf(p.groups, shard.index, shard.count) : p.groups;
  const header = shard ? { ...p.header, shard: `${shard.index}/${shard.count}` } : p.header;
  const folder = await Folder.open(o.out, header);
  const total = mine.reduce((n, g) => n + g.keys.length, 0);
  const pending = pendingGroups(mine, folder);
  const pendingCount = pending.reduce((n, g) => n + g.keys.length, 0);
  const summary: RunSummary = {
    done: total - pendingCount,
    total,
    ran: 0,
    images: 0,
    seconds: 0,
    searchSeconds: 0,
    openSeconds: p.openSeconds,
  };
  const finished = async (r: GroupResult) => {
    await folder.append(r.lines);
    summary.done += r.lines.length;
    summary.ran += r.lines.length;
    summary.images += r.images;
    summary.searchSeconds += r.searchSeconds;
    summary.openSeconds += r.openSeconds;
    summary.seconds = (performance.now() - t0) / 1000;
    o.onProgress?.({ ...summary, pending: pendingCount });
  };
  // Most costly first, so the last groups to finish are short ones.
  pending.sort((a, b) => b.cost - a.cost);
  try {
    if (o.workers <= 1 || pending.length <= 1) {
      for (const g of pending) {
        await finished(await executeGroup(p.host, p.spec, o.out, g, p.targets));
      }
    } else {
      await p.host.release();
      await runOnWorkers(p, o, pending, finished);
    }
  } finally {
    folder.close();
  }
  summary.seconds = (performance.now() - t0) / 1000;
  return summary;
}

/** The groups with searches not yet in the folder, narrowed to those searches. */
function pendingGroups(groups: PlannedGroup[], folder: SweepFolder): PlannedGroup[] {
  const out: PlannedGroup[] = [];
  for (const g of groups) {
    const keep = g.keys.map((k, j) => folder.done.has(k) ? -1 : j).filter((j) => j >= 0);
    if (keep.length === 0) continue;
    out.push({
      ...g,
      neurons: keep.map((j) => g.neurons[j]),
      keys: keep.map((j) => g.keys[j]),
      cost: (g.cost * keep.length) / g.keys.length,
    });
  }
  return out;
}

/** Run groups on worker processes, each taking the next group when it finishes one. */
async function runOnWorkers(
  p: PreparedSweep,
  o: RunOptions,
  queue: PlannedGroup[],
  finished: (r: GroupResult) => Promise<void>,
): Promise<void> {
  const count = Math.min(o.workers, queue.length);
  const threads = o.threads ?? Math.max(1, Math.floor(navigator.hardwareConcurrency / count));
  const worker = new URL("./_worker.ts", import.meta.url);
  const config = new URL("../../deno.json", import.meta.url);
  let next = 0;
  let failed: Error | undefined;
  const children: Deno.ChildProcess[] = [];
  const one = async () => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", `--config=${config.pathname}`, worker.pathname],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    children.push(child);
    const writer = child.stdin.getWriter(), encoder = new TextEncoder();
    const send = (x: unknown) => writer.write(encoder.encode(JSON.stringify(x) + "\n"));
    const replies = jsonLines(child.stdout);
    await send({
      spec: p.spec,
      dir: o.out,
      targets: p.targets,
      host: { ...p.hostOptions, threads },
    });
    while (next < queue.length && !failed) {
      await send(queue[next++]);
      const reply = await replies.next();
      if (reply.done) {
        throw new Error("a sweep worker stopped unexpectedly (see its message above)");
      }
      if (reply.value.error) throw new Error(String(reply.value.error));
      await finished(reply.value as unknown as GroupResult);
    }
    await writer.close();
    await child.status;
  };
  await Promise.all(Array.from({ length: count }, () =>
    one().catch((e) => {
      failed ??= e;
      for (const c of children) {
        try {
          c.kill();
        } catch { /* already gone */ }
      }
    })));
  if (failed) throw failed;
}

/**
 * Parse a stream of JSON lines.
 * @param stream bytes
 * @yields one parsed value per line
 */
export async function* jsonLines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<Record<string, unknown>> {
  // A streaming TextDecoder rather than a TextDecoderStream: the DOM and Deno typings of the
  // latter disagree when the web page's sources are type-checked in the same program.
  const decoder = new TextDecoder();
  let rest = "";
  for await (const bytes of stream) {
    rest += decoder.decode(bytes, { stream: true });
    let i;
    while ((i = rest.indexOf("\n")) >= 0) {
      const line = rest.slice(0, i);
      rest = rest.slice(i + 1);
      if (line.trim()) yield JSON.parse(line);
    }
  }
}
