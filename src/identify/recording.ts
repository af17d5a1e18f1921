/**
 * Recordings from files: spike trains and inputs as `.npy` ([T, N] for one trial or
 * [trials, T, N]) or CSV (one row per step, one column per neuron or input; a blank line starts
 * the next trial), checked against each other and against the neuron model, with one clear
 * message per problem ({@link RecordingError}).
 *
 * @example
 * ```ts
 * import { makeRecording, parseCsvTrials } from "./recording.ts";
 * import { LIF_MODEL } from "./network.ts";
 * const spikes = parseCsvTrials("0,1\n1,0\n\n0,0\n1,1\n", "spikes.csv");
 * const inputs = parseCsvTrials("1\n0\n\n1\n1\n", "inputs.csv");
 * const rec = makeRecording(spikes, inputs, LIF_MODEL);
 * if (rec.trials.length !== 2 || rec.neurons !== 2 || rec.inputs !== 1) throw new Error();
 * ```
 * @module
 */

import { decodeNpy } from "../io/npy.ts";
import type { NeuronModel, Recording, Trial } from "./network.ts";

/** A bad recording: the message names the file, trial, step and column at fault. */
export class RecordingError extends Error {
  /** @param message what is wrong and what would be valid */
  constructor(message: string) {
    super(message);
    this.name = "RecordingError";
  }
}

/** Trials read from one file: each a row-major [T, columns] array. */
export interface FileTrials {
  /** Where they came from (for messages). */
  source: string;
  /** Columns (neurons or inputs). */
  columns: number;
  /** One array per trial, T x columns. */
  trials: Float64Array[];
}

/**
 * Parses CSV text: numbers separated by commas (or whitespace), one row per step; blank lines
 * separate trials; a first line that is not numeric is taken as a header and skipped.
 * @param text the file's text
 * @param source a name for messages
 * @returns the trials
 */
export function parseCsvTrials(text: string, source: string): FileTrials {
  const trials: Float64Array[] = [];
  let rows: number[][] = [];
  let columns = -1;
  const flush = () => {
    if (rows.length) trials.push(Float64Array.from(rows.flat()));
    rows = [];
  };
  const lines = text.split(/\r?\n/);
  lines.forEach((line, n) => {
    const cells = line.trim().split(/\s*,\s*|\s+/).filter((c) => c !== "");
    if (cells.length === 0) return flush();
    const values = cells.map(Number);
    if (values.some((v) => !Number.isFinite(v))) {
      if (n === 0) return; // header
      throw new RecordingError(
        `${source}, line ${n + 1}: "${line.trim().slice(0, 60)}" is not a row of numbers`,
      );
    }
    if (columns === -1) columns = values.length;
    if (values.length !== columns) {
      throw new RecordingError(
        `${source}, line ${n + 1}: ${values.length} columns, but the first row has ${columns}`,
      );
    }
    rows.push(values);
  });
  flush();
  if (trials.length === 0) throw new RecordingError(`${source}: no rows of numbers`);
  return { source, columns, trials };
}

/**
 * Reads trials from `.npy` bytes: [T, columns] is one trial, [trials, T, columns] several.
 * @param bytes the file's bytes
 * @param source a name for messages
 * @returns the trials
 */
export function parseNpyTrials(bytes: Uint8Array, source: string): FileTrials {
  let array;
  try {
    array = decodeNpy(bytes);
  } catch (e) {
    throw new RecordingError(`${source}: ${(e as Error).message}`);
  }
  const { shape } = array;
  if (shape.length !== 2 && shape.length !== 3) {
    throw new RecordingError(
      `${source}: shape [${shape}]; expected [T, columns] or [trials, T, columns]`,
    );
  }
  const values = Float64Array.from(array.data as ArrayLike<number | bigint>, Number);
  const [n, steps, columns] = shape.length === 2 ? [1, ...shape] : shape;
  const trials = Array.from(
    { length: n },
    (_, r) => values.slice(r * steps * columns, (r + 1) * steps * columns),
  );
  return { source, columns, trials };
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new RecordingError(`${path}: no such file`);
    throw new RecordingError(`${path}: cannot read (${(e as Error).message})`);
  }
}

function isNpy(path: string): boolean {
  if (path.toLowerCase().endsWith(".npy")) return true;
  if (/\.(csv|txt)$/i.test(path)) return false;
  throw new RecordingError(`${path}: expected a .npy or .csv file`);
}

/**
 * Reads trials from a `.npy` or CSV file (by extension).
 * @param path the file
 * @returns the trials
 */
export async function readTrials(path: string): Promise<FileTrials> {
  const bytes = await readBytes(path);
  return isNpy(path)
    ? parseNpyTrials(bytes, path)
    : parseCsvTrials(new TextDecoder().decode(bytes), path);
}

/**
 * Reads every value of a `.npy` (any shape) or CSV file, in order (e.g. true weights).
 * @param path the file
 * @returns the values
 */
export async function readValues(path: string): Promise<Float64Array> {
  const bytes = await readBytes(path);
  if (!isNpy(path)) {
    const f = parseCsvTrials(new TextDecoder().decode(bytes), path);
    return Float64Array.from(f.trials.flatMap((a) => [...a]));
  }
  try {
    return Float64Array.from(decodeNpy(bytes).data as ArrayLike<number | bigint>, Number);
  } catch (e) {
    throw new RecordingError(`${path}: ${(e as Error).message}`);
  }
}

function checkBinary(f: FileTrials, what: string): void {
  f.trials.forEach((a, r) => {
    const q = a.findIndex((v) => v !== 0 && v !== 1);
    if (q < 0) return;
    throw new RecordingError(
      `${f.source}: ${what} must be 0 or 1, but trial ${r}, step ${Math.floor(q / f.columns)}, ` +
        `column ${q % f.columns} holds ${a[q]}` +
        (what === "input spikes" ? " (real-valued inputs: --input-kind currents)" : ""),
    );
  });
}

/** Options of {@link makeRecording}. */
export interface MakeRecordingOptions {
  /** The recorded neurons feed each other one step later (default false). */
  recurrent?: boolean;
  /** Inputs are spikes (checked to be 0/1, the default) or real-valued currents. */
  inputKind?: "spikes" | "currents";
}

/**
 * Builds a recording from spikes and inputs read from files, after checking that they agree
 * (same trials and steps), that spikes are 0/1, and that every trial is longer than the
 * largest delay.
 * @param spikes the recorded neurons' spikes
 * @param inputs their external inputs (null: none, e.g. a recurrent network on its own)
 * @param model the neuron model
 * @param options recurrence and input kind
 * @returns the recording
 * @throws {RecordingError} naming the file, trial, step and column at fault
 */
export function makeRecording(
  spikes: FileTrials,
  inputs: FileTrials | null,
  model: NeuronModel,
  options: MakeRecordingOptions = {},
): Recording {
  checkBinary(spikes, "spikes");
  if (inputs && (options.inputKind ?? "spikes") === "spikes") checkBinary(inputs, "input spikes");
  const n = spikes.columns, m = inputs?.columns ?? 0;
  if (inputs && inputs.trials.length !== spikes.trials.length) {
    throw new RecordingError(
      `${spikes.source} has ${spikes.trials.length} trials but ${inputs.source} has ` +
        `${inputs.trials.length}; both need one entry per trial`,
    );
  }
  if (!inputs && !options.recurrent) {
    throw new RecordingError("no inputs: give input spikes or currents, or a recurrent network");
  }
  const trials: Trial[] = spikes.trials.map((s, r) => {
    const steps = s.length / n;
    const x = inputs?.trials[r] ?? new Float64Array(0);
    if (inputs && x.length / m !== steps) {
      throw new RecordingError(
        `trial ${r}: ${spikes.source} has ${steps} steps but ${inputs.source} has ${
          x.length / m
        }; both need one row per step`,
      );
    }
    if (steps <= model.maxDelay) {
      throw new RecordingError(
        `trial ${r} has ${steps} steps; with delays up to ${model.maxDelay} every trial needs ` +
          `at least ${model.maxDelay + 1}`,
      );
    }
    return { steps, spikes: Uint8Array.from(s), inputs: x };
  });
  return { neurons: n, inputs: m, recurrent: options.recurrent ?? false, trials };
}
