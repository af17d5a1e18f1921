/**
 * The types shared by every optimizer: search spaces, the ask/tell interface that each
 * optimizer implements (always minimizing), and the descriptor by which it is registered.
 *
 * @module
 */

import type { Rng } from "../core/rng.ts";

/** A discrete grid: `d` coordinates, coordinate k taking values 0..n_k-1. */
export interface GridSpace {
  /** Number of coordinates. */
  d: number;
  /** Mode size of every coordinate, or one per coordinate. */
  n: number | number[];
}

/** A continuous box (omitted bounds mean unbounded). */
export interface BoxSpace {
  /** Number of coordinates. */
  d: number;
  /** Lower bound for every coordinate, or one per coordinate. */
  lower?: number | number[];
  /** Upper bound for every coordinate, or one per coordinate. */
  upper?: number | number[];
}

/** A search space as a user states it. */
export type Space = GridSpace | BoxSpace;

/** A validated grid space with one mode size per coordinate. */
export interface ResolvedGrid {
  kind: "grid";
  d: number;
  /** Mode sizes, length d, each at least 2. */
  n: Int32Array;
}

/** A validated box with one bound per coordinate (±Infinity where unbounded). */
export interface ResolvedBox {
  kind: "box";
  d: number;
  lower: Float64Array;
  upper: Float64Array;
}

/** A validated search space. */
export type ResolvedSpace = ResolvedGrid | ResolvedBox;

/** A candidate: grid indices on a grid space, coordinates on a box. */
export type Point = Int32Array | Float64Array;

/**
 * The inner interface every optimizer implements. It always minimizes; the public wrapper
 * flips signs for maximization, cuts batches to the budget and keeps the best.
 */
export interface Minimizer {
  /** The next batch of candidates (a population where the method has one). */
  ask(): Point[];
  /**
   * Results for a batch from `ask`, in the same order. The last batch of a run may be cut to
   * the budget, so `points` can be a prefix of what was asked.
   */
  tell(points: Point[], values: Float64Array): void;
  /**
   * Results of points this optimizer did not ask (a portfolio tells every member every result);
   * optional: a method without it ignores foreign points.
   */
  inform?(points: Point[], values: Float64Array): void;
  /** Set when the method has nothing more to ask (optional; most never finish early). */
  readonly done?: boolean;
}

/** What a factory receives: the validated space, budget, a seeded generator and parameters. */
export interface MinimizerContext {
  space: ResolvedSpace;
  budget: number;
  rng: Rng;
  /** Whether the user maximizes (values told are negated either way, so methods minimize). */
  maximize: boolean;
  /** Parameters, already validated against the descriptor and filled with defaults. */
  params: Record<string, unknown>;
}

/** How a numeric (or other) parameter of a method is validated. */
export interface ParamSpec {
  /** Default value; a function of the context for defaults that depend on the space. */
  default: unknown | ((ctx: { space: ResolvedSpace; budget: number }) => unknown);
  /** Accepted type (default "number"); "numbers" takes an array or a single number. */
  type?: "number" | "integer" | "boolean" | "string" | "numbers";
  /** Smallest allowed value (numbers). */
  min?: number;
  /** Largest allowed value (numbers). */
  max?: number;
  /** Set when the minimum itself is not allowed. */
  exclusiveMin?: boolean;
  /** Allowed values (strings). */
  choices?: string[];
  /** One line for `--help` listings. */
  doc: string;
}

/** A registered optimizer. */
export interface MethodDescriptor {
  /** Registry name, e.g. "protes". */
  name: string;
  /** One line describing the method. */
  description: string;
  /** Which spaces the method can search. */
  spaces: ReadonlyArray<"grid" | "box">;
  /** Parameters with defaults. Unknown parameters are rejected with the list of these. */
  params: Record<string, ParamSpec>;
  /** Cross-parameter checks; return an error message or undefined. */
  check?: (params: Record<string, unknown>, ctx: { space: ResolvedSpace }) => string | undefined;
  /** Build a minimizer. */
  create(ctx: MinimizerContext): Minimizer;
}
