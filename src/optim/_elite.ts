/**
 * Elitism for PROTES-like updates (`docs/tensor_train.md`, "Elitism"): an archive of the best
 * distinct points seen so far, which joins each batch in the ranking that picks the points the
 * model is trained on. The best point seen so far is then in every update.
 *
 * @example
 * ```ts
 * import { EliteArchive } from "./_elite.ts";
 * const elite = new EliteArchive(2);
 * const chosen = elite.select([{ digits: Int32Array.of(1, 0), value: 3 }], 1);
 * const again = elite.select([{ digits: Int32Array.of(0, 0), value: 5 }], 1);
 * if (chosen[0].value !== 3 || again[0].value !== 3) throw new Error();
 * ```
 * @module
 */

import { smallest } from "./_rank.ts";

/** A point of the model's index space (digits) and its value (smaller is better). */
export interface Scored {
  digits: Int32Array;
  value: number;
}

/** The best `size` distinct points seen so far (size 0: no elitism). */
export class EliteArchive {
  /** Best first. */
  readonly entries: Scored[] = [];
  readonly #keys = new Set<string>();

  /** @param size how many points to keep */
  constructor(readonly size: number) {}

  /**
   * Rank a batch together with the archive, keep the `kTop` best distinct points, then add the
   * batch to the archive.
   * @param batch points measured since the last update
   * @param kTop how many to keep
   * @param ties also keep every further point whose value equals the k-th (a cut through
   *   tied values is arbitrary)
   * @returns the points to train on, best first
   */
  select(batch: Scored[], kTop: number, ties = false): Scored[] {
    const pool = [...batch, ...this.entries];
    const order = smallest(pool.map((s) => s.value), pool.length);
    // With an archive, a point seen again is counted once (its best value); without one, as in
    // PROTES, the batch's k_top best are kept as they are.
    const chosen: Scored[] = [], seen = new Set<string>();
    for (const j of order) {
      if (chosen.length >= kTop && !(ties && pool[j].value === chosen[kTop - 1].value)) break;
      if (this.size > 0) {
        const key = pool[j].digits.join();
        if (seen.has(key)) continue;
        seen.add(key);
      }
      chosen.push(pool[j]);
    }
    for (const s of batch) this.#offer(s);
    return chosen;
  }

  #offer(s: Scored): void {
    const list = this.entries;
    if (this.size === 0) return;
    if (list.length >= this.size && s.value >= list[list.length - 1].value) return;
    const key = s.digits.join();
    if (this.#keys.has(key)) return;
    this.#keys.add(key);
    list.push({ digits: s.digits.slice(), value: s.value });
    list.sort((a, b) => a.value - b.value);
    if (list.length > this.size) this.#keys.delete(list.pop()!.digits.join());
  }
}
