/**
 * One closed-loop search as a deterministic state machine, with no I/O: the optimizer in
 * ask/tell form, the stimuli handed out in batches, the responses that came back. Its state is
 * a function of its settings and the ordered log of {@link SearchEvent}s, so replaying the log
 * into a fresh `Search` rebuilds it exactly (this is how the server survives a kill).
 *
 * Every point the optimizer asks becomes a stimulus `s<k>` (k counts the points asked so far).
 * A batch hands out at most `batchSize` open stimuli of the optimizer's current generation, and
 * stays the current batch until each of its stimuli is answered: with a value (the mean of its
 * trials) or as failed, which puts the stimulus back at the end of the queue to be shown again
 * later. When every stimulus of a generation has a value, the generation is told to the
 * optimizer; failed trials are never told, so they are never ranked.
 *
 * @example
 * ```ts
 * import { Search } from "./search.ts";
 * import { parseSpec } from "./spec.ts";
 * import "../optim/methods.ts";
 * const spec = parseSpec({ generator: "toy", method: "random", params: { batch: 4 }, budget: 8, batchSize: 3 });
 * const s = new Search(spec, { d: 2, n: 4 });
 * const b = s.issue()!; // s0, s1, s2
 * s.respond("k1", [
 *   { id: "s0", kind: "value", value: 1, trials: 1 },
 *   { id: "s1", kind: "failed" },
 *   { id: "s2", kind: "value", value: 2, trials: 1 },
 * ]);
 * if (b.ids.join() !== "s0,s1,s2" || s.issue()!.ids.join() !== "s3,s1") throw new Error();
 * ```
 * @module
 */

import { type AskTell, createOptimizer, type HistoryEntry } from "../optim/optimize.ts";
import { rememberTop } from "../optim/_top.ts";
import type { Improvement } from "../optim/lockstep.ts";
import { HttpError } from "./errors.ts";
import type { ResponseItem, SearchSpec } from "./spec.ts";

/** What the log of a search holds, in order. */
export type SearchEvent =
  | { kind: "batch"; ids: string[] }
  | { kind: "responses"; key: string; items: ResponseItem[] }
  | { kind: "stop" };

/** A batch handed to the rig. */
export interface Batch {
  /** Batch number in the search (0, 1, ...). */
  index: number;
  /** Stimulus ids, in the order to show them. */
  ids: string[];
  /** Those not answered yet. */
  open: string[];
  /** Their grid points. */
  points: Int32Array[];
}

/** The acknowledgement of accepted responses. */
export interface Ack {
  /** Stimuli answered with a value. */
  accepted: number;
  /** Stimuli reported as failed (asked again later). */
  failed: number;
  /** Responses told to the optimizer so far. */
  evaluations: number;
  /** Stimuli of the current batch still unanswered. */
  open: number;
  /** Whether the search has finished. */
  done: boolean;
}

/** How many best distinct candidates a search keeps (as `optimizeLockstep`). */
export const KEEP_TOP = 8;

/** A search (see the module doc). */
export class Search {
  readonly optimizer: AskTell;
  /** Every point asked, by stimulus number. */
  readonly points: Int32Array[] = [];
  /** Mean response of each stimulus (NaN until answered). */
  readonly values: number[] = [];
  /** Trials behind each mean. */
  readonly trials: number[] = [];
  /** Every improvement of the best, with the responses told at that moment. */
  readonly improvements: Improvement<Int32Array>[] = [];
  /** The best distinct candidates, best first. */
  readonly top: { point: Int32Array; value: number }[] = [];
  /** Best value after each generation, against the responses told. */
  readonly curve: { images: number; best: number }[] = [];
  /** Stimulus number of the best response. */
  bestStimulus = -1;
  /** Failed trials reported. */
  failures = 0;
  /** Batches handed out. */
  batches = 0;
  stopped = false;
  #generation: { points: Int32Array[]; first: number; left: number } | undefined;
  #queue: number[] = [];
  #current: { index: number; stimuli: number[]; open: Set<number> } | undefined;
  #acks = new Map<string, { items: string; ack: Ack }>();

  /**
   * @param spec the settings
   * @param space the grid searched: d coordinates of n values
   * @throws Error when the method rejects its parameters for this space
   */
  constructor(readonly spec: SearchSpec, space: { d: number; n: number }) {
    this.optimizer = createOptimizer(spec.method, {
      space,
      budget: spec.budget,
      seed: spec.seed,
      maximize: true,
      params: spec.params,
    });
  }

  /** Whether the search is over: stopped, or the budget spent and every response told. */
  get done(): boolean {
    return this.stopped || (this.optimizer.done && this.#generation === undefined);
  }

  /** The batch handed out and not yet fully answered, if any. */
  get current(): Batch | undefined {
    const c = this.#current;
    return c && {
      index: c.index,
      ids: c.stimuli.map((k) => `s${k}`),
      open: c.stimuli.filter((k) => c.open.has(k)).map((k) => `s${k}`),
      points: this.#of(c.stimuli),
    };
  }

  #of(stimuli: number[]): Int32Array[] {
    return stimuli.map((k) => this.points[k]);
  }

  /**
   * Hand out a new batch (call only when there is no current one and the search is not done).
   * @returns the batch, or undefined when the optimizer has nothing left to ask
   */
  issue(): Batch | undefined {
    if (this.#current || this.done) {
      throw new Error("issue() needs no open batch and a live search");
    }
    if (this.#queue.length === 0) {
      const asked = this.optimizer.ask();
      if (asked.length === 0) return undefined;
      this.#generation = { points: asked, first: this.points.length, left: asked.length };
      for (const p of asked) {
        this.#queue.push(this.points.length);
        this.points.push(p);
        this.values.push(NaN);
        this.trials.push(0);
      }
    }
    const stimuli = this.#queue.splice(0, this.spec.batchSize);
    this.#current = { index: this.batches++, stimuli, open: new Set(stimuli) };
    return this.current;
  }

  /**
   * Take responses (all or none): each must answer an open stimulus of the current batch. A
   * key already used returns its first acknowledgement if the responses are the same.
   * @param key the request's idempotency key
   * @param items the responses
   * @returns the acknowledgement, and whether it repeats an earlier one
   * @throws HttpError 409 or 422 naming the problem; nothing has changed then
   */
  respond(key: string, items: ResponseItem[]): { ack: Ack; replayed: boolean } {
    const text = JSON.stringify(items);
    const seen = this.#acks.get(key);
    if (seen) {
      if (seen.items !== text) {
        throw new HttpError(
          409,
          `idempotency key "${key}" was used for other responses; use a new key for new responses`,
        );
      }
      return { ack: seen.ack, replayed: true };
    }
    if (this.done) {
      throw new HttpError(
        409,
        `the search is ${
          this.stopped ? "stopped" : "finished (its budget is spent)"
        }; it takes no responses`,
      );
    }
    const current = this.#current;
    for (const item of items) {
      const k = Number(item.id.slice(1));
      if (current?.open.has(k)) continue;
      if (k < this.points.length && !Number.isNaN(this.values[k])) {
        throw new HttpError(409, `stimulus ${item.id} was already answered (with another key)`);
      }
      throw new HttpError(
        422,
        `stimulus ${item.id} is not open in the current batch (${
          current ? `open: ${[...current.open].map((j) => `s${j}`).join(", ")}` : "none is open"
        })`,
      );
    }
    let accepted = 0, failed = 0;
    for (const item of items) {
      const k = Number(item.id.slice(1));
      current!.open.delete(k);
      if (item.kind === "failed") {
        failed++;
        this.failures++;
        this.#queue.push(k);
        continue;
      }
      accepted++;
      this.values[k] = item.value;
      this.trials[k] = item.trials;
      if (--this.#generation!.left === 0) this.#tell();
    }
    if (current!.open.size === 0) this.#current = undefined;
    const ack: Ack = {
      accepted,
      failed,
      evaluations: this.optimizer.evaluations,
      open: this.#current?.open.size ?? 0,
      done: this.done,
    };
    this.#acks.set(key, { items: text, ack });
    return { ack, replayed: false };
  }

  /** Tell the optimizer the finished generation (as `optimizeLockstep` does for one unit). */
  #tell(): void {
    const g = this.#generation!;
    this.#generation = undefined;
    const values = g.points.map((_, j) => this.values[g.first + j]);
    const before = this.optimizer.best?.value;
    this.optimizer.tell(g.points, values);
    values.forEach((v, j) => {
      if (this.bestStimulus < 0 || v > this.values[this.bestStimulus]) {
        this.bestStimulus = g.first + j;
      }
      rememberTop(this.top, g.points[j], v, KEEP_TOP, -1);
    });
    const best = this.optimizer.best!;
    const images = this.optimizer.evaluations;
    if (best.value !== before) {
      this.improvements.push({ images, value: best.value, point: best.point });
    }
    this.curve.push({ images, best: best.value });
  }

  /** Stop the search: it takes no more responses and hands out no more batches. */
  stop(): void {
    this.stopped = true;
    this.#current = undefined;
  }

  /** The best value at each improvement, against responses told. */
  get history(): HistoryEntry[] {
    return this.optimizer.history;
  }

  /**
   * Apply one logged event (replay).
   * @param e the event
   * @throws Error when a replayed batch differs from the logged one (the log does not belong
   *   to this version of the optimizer)
   */
  apply(e: SearchEvent): void {
    if (e.kind === "stop") return this.stop();
    if (e.kind === "responses") {
      this.respond(e.key, e.items);
      return;
    }
    const b = this.issue();
    if (b?.ids.join() !== e.ids.join()) {
      throw new Error(
        `replay: batch ${this.batches - 1} should be ${e.ids.join(",")}, the optimizer gave ${
          b?.ids.join(",")
        }`,
      );
    }
  }
}
