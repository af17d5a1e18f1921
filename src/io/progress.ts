/**
 * A progress bar for long runs: on a terminal it redraws one line in place (best value,
 * evaluations, evaluations per second, time left); elsewhere it prints a plain line at most
 * every few seconds, so logs stay readable.
 *
 * @example
 * ```ts
 * import { ProgressBar } from "./progress.ts";
 * const lines: string[] = [];
 * const bar = new ProgressBar({ total: 100, label: "search", write: (s) => lines.push(s), tty: false });
 * bar.update(100, { best: 0.5 });
 * bar.done();
 * if (!lines.join("").includes("100/100")) throw new Error();
 * ```
 * @module
 */

/** Options of a progress bar. */
export interface ProgressOptions {
  /** The count at which the work is complete. */
  total: number;
  /** A word before the bar. */
  label?: string;
  /** Where text goes (default: standard error). */
  write?: (text: string) => void;
  /** Whether to redraw in place (default: whether standard error is a terminal). */
  tty?: boolean;
  /** Seconds between plain lines when not a terminal (default 5). */
  every?: number;
  /** What is counted, printed after the count and in the rate (default nothing). */
  unit?: string;
}

const encoder = new TextEncoder();

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s`
    : `${Math.floor(m / 60)}h${m % 60}m`;
}

/** A progress bar (see the module example). */
export class ProgressBar {
  readonly #opts: Required<ProgressOptions>;
  readonly #start = performance.now();
  #lastPlain = -Infinity;
  #first: { count: number; at: number } | undefined;
  #shown = false;

  /**
   * @param opts total, label, output and mode
   * @example
   * ```ts
   * import { ProgressBar } from "./progress.ts";
   * const bar = new ProgressBar({ total: 10, write: () => {} });
   * bar.update(5);
   * ```
   */
  constructor(opts: ProgressOptions) {
    this.#opts = {
      label: "",
      write: (text) => Deno.stderr.writeSync(encoder.encode(text)),
      tty: Deno.stderr.isTerminal(),
      every: 5,
      unit: "",
      ...opts,
    };
  }

  /**
   * Report progress.
   * @param count work done so far
   * @param fields extra values to show (e.g. `{ best: 0.41 }`)
   * @example
   * ```ts
   * import { ProgressBar } from "./progress.ts";
   * let out = "";
   * new ProgressBar({ total: 4, write: (s) => out += s, tty: true }).update(2, { best: 1 });
   * if (!out.includes("50%")) throw new Error();
   * ```
   */
  update(count: number, fields: Record<string, number | string> = {}): void {
    const { total, label, write, tty, every, unit } = this.#opts;
    const now = performance.now(), elapsed = (now - this.#start) / 1000;
    // The rate counts from the first update: work done before it (setting up, the first step
    // of a batched search) would otherwise read as done in no time.
    this.#first ??= { count, at: now };
    const since = (now - this.#first.at) / 1000;
    const rate = since > 0 ? (count - this.#first.count) / since : NaN;
    const left = (total - count) / rate;
    const frac = Math.min(1, count / total);
    const extra = Object.entries(fields).map(([k, v]) =>
      `${k} ${typeof v === "number" ? Number(v.toPrecision(5)) : v}`
    );
    const per = unit ? ` ${unit}` : "";
    const text = [
      `${count}/${total}${per}`,
      ...extra,
      Number.isFinite(rate) ? `${rate.toFixed(rate < 10 ? 1 : 0)}${per}/s` : "",
      `${formatSeconds(elapsed)} elapsed`,
      count < total && Number.isFinite(left) ? `${formatSeconds(left)} left` : "",
    ].filter((s) => s).join(" | ");
    if (tty) {
      const width = 24, full = Math.round(frac * width);
      const bar = "█".repeat(full) + "░".repeat(width - full);
      write(`\r\x1b[2K${label ? label + " " : ""}${bar} ${(100 * frac).toFixed(0)}% ${text}`);
      this.#shown = true;
    } else if (elapsed - this.#lastPlain >= every || count >= total) {
      this.#lastPlain = elapsed;
      write(`${label ? label + ": " : ""}${(100 * frac).toFixed(0)}% ${text}\n`);
    }
  }

  /**
   * Finish the bar (ends the line on a terminal).
   * @example
   * ```ts
   * import { ProgressBar } from "./progress.ts";
   * new ProgressBar({ total: 1, write: () => {} }).done();
   * ```
   */
  done(): void {
    if (this.#opts.tty && this.#shown) this.#opts.write("\n");
    this.#shown = false;
  }
}
