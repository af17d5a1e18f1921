/**
 * The best few distinct candidates of a search, kept sorted best first (used by lockstep
 * searches and by the closed-loop server).
 *
 * @module
 */

import type { Point } from "./types.ts";

/**
 * Offer a candidate to a list of the best distinct candidates (changed in place).
 * @param list the list, best first
 * @param point the candidate (copied when kept)
 * @param value its value
 * @param keep the most candidates to keep
 * @param sign -1 when maximizing, 1 when minimizing
 */
export function rememberTop<P extends Point>(
  list: { point: P; value: number }[],
  point: P,
  value: number,
  keep: number,
  sign: number,
): void {
  if (list.length >= keep && sign * value >= sign * list[list.length - 1].value) return;
  if (list.some((t) => t.point.every((v, k) => v === point[k]))) return;
  list.push({ point: point.slice() as P, value });
  list.sort((a, b) => sign * (a.value - b.value));
  if (list.length > keep) list.pop();
}
