/**
 * The registry of optimizers by name, and validation of spaces and parameters against a
 * method's descriptor. Adding an optimizer means one file that calls `registerMethod`, plus
 * its import in `src/optim/methods.ts`.
 *
 * @module
 */

import type {
  MethodDescriptor,
  ParamSpec,
  ResolvedBox,
  ResolvedGrid,
  ResolvedSpace,
  Space,
} from "./types.ts";

const methods = new Map<string, MethodDescriptor>();

/**
 * Register an optimizer under its name (names are unique).
 * @param descriptor the method's descriptor
 * @example
 * ```ts
 * import { registerMethod, methodNames } from "./registry.ts";
 * registerMethod({
 *   name: "first-corner", description: "asks the all-zero point once",
 *   spaces: ["grid"], params: {},
 *   create: ({ space }) => ({ ask: () => [new Int32Array(space.d)], tell() {} }),
 * });
 * if (!methodNames().includes("first-corner")) throw new Error();
 * ```
 */
export function registerMethod(descriptor: MethodDescriptor): void {
  if (methods.has(descriptor.name)) {
    throw new Error(`optimizer "${descriptor.name}" is already registered`);
  }
  methods.set(descriptor.name, descriptor);
}

/**
 * The names of all registered optimizers, sorted.
 * @returns the names
 * @example
 * ```ts
 * import { methodNames } from "./registry.ts";
 * import "./methods.ts";
 * if (!methodNames().includes("protes")) throw new Error();
 * ```
 */
export function methodNames(): string[] {
  return [...methods.keys()].sort();
}

/**
 * Look up a registered optimizer.
 * @param name registry name
 * @returns its descriptor
 * @throws Error naming the valid methods when `name` is unknown
 * @example
 * ```ts
 * import { getMethod } from "./registry.ts";
 * import "./methods.ts";
 * if (getMethod("protes").name !== "protes") throw new Error();
 * ```
 */
export function getMethod(name: string): MethodDescriptor {
  const m = methods.get(name);
  if (!m) {
    throw new Error(`unknown optimizer "${name}"; valid methods: ${methodNames().join(", ")}`);
  }
  return m;
}

function perCoordinate(
  value: number | number[] | undefined,
  d: number,
  what: string,
  fallback: number,
): number[] {
  if (value === undefined) return new Array(d).fill(fallback);
  if (typeof value === "number") return new Array(d).fill(value);
  if (!Array.isArray(value) || value.length !== d) {
    throw new RangeError(`space.${what} must be a number or an array of d = ${d} numbers`);
  }
  return value;
}

/**
 * Validate a space and expand it to one entry per coordinate.
 * @param space a grid `{ d, n }` or a box `{ d, lower?, upper? }`
 * @returns the resolved space
 * @throws RangeError naming the offending field
 * @example
 * ```ts
 * import { resolveSpace } from "./registry.ts";
 * const s = resolveSpace({ d: 3, n: 4 });
 * if (s.kind !== "grid" || s.n[2] !== 4) throw new Error();
 * ```
 */
export function resolveSpace(space: Space): ResolvedSpace {
  if (typeof space !== "object" || space === null) {
    throw new TypeError("space must be { d, n } (a grid) or { d, lower?, upper? } (a box)");
  }
  const d = space.d;
  if (!Number.isInteger(d) || d < 1) {
    throw new RangeError(`space.d must be an integer >= 1, got ${d}`);
  }
  if ("n" in space && space.n !== undefined) {
    const n = perCoordinate(space.n, d, "n", 0);
    n.forEach((nk, k) => {
      if (!Number.isInteger(nk) || nk < 2) {
        throw new RangeError(`space.n must be integers >= 2 (mode size), got ${nk} at k = ${k}`);
      }
    });
    return { kind: "grid", d, n: Int32Array.from(n) } satisfies ResolvedGrid;
  }
  const box = space as { lower?: number | number[]; upper?: number | number[] };
  const lower = Float64Array.from(perCoordinate(box.lower, d, "lower", -Infinity));
  const upper = Float64Array.from(perCoordinate(box.upper, d, "upper", Infinity));
  for (let k = 0; k < d; k++) {
    if (Number.isNaN(lower[k]) || Number.isNaN(upper[k]) || !(lower[k] < upper[k])) {
      throw new RangeError(
        `space bounds must satisfy lower < upper, got [${lower[k]}, ${upper[k]}] at k = ${k}`,
      );
    }
  }
  return { kind: "box", d, lower, upper } satisfies ResolvedBox;
}

function checkParam(method: string, key: string, spec: ParamSpec, v: unknown): void {
  const type = spec.type ?? "number";
  const where = `params.${key} of "${method}"`;
  if (type === "boolean" || type === "string") {
    const ok = type === "boolean" ? typeof v === "boolean" : typeof v === "string";
    if (!ok) throw new TypeError(`${where} must be a ${type}, got ${String(v)}`);
    if (spec.choices && !spec.choices.includes(v as string)) {
      throw new RangeError(`${where} must be one of ${spec.choices.join(", ")}, got "${v}"`);
    }
    return;
  }
  // "numbers": an array of numbers, or one number that stands for every entry.
  const values = type === "numbers" ? (typeof v === "number" ? [v] : v) : [v];
  if (!Array.isArray(values) || values.some((x) => typeof x !== "number")) {
    throw new TypeError(
      `${where} must be ${type === "numbers" ? "an array of numbers" : "a number"}`,
    );
  }
  for (const x of values as number[]) {
    if (!Number.isFinite(x)) throw new RangeError(`${where} must be finite, got ${x}`);
    if (type === "integer" && !Number.isInteger(x)) {
      throw new RangeError(`${where} must be an integer, got ${x}`);
    }
    if (spec.min !== undefined && (spec.exclusiveMin ? x <= spec.min : x < spec.min)) {
      throw new RangeError(
        `${where} must be ${spec.exclusiveMin ? ">" : ">="} ${spec.min}, got ${x}`,
      );
    }
    if (spec.max !== undefined && x > spec.max) {
      throw new RangeError(`${where} must be <= ${spec.max}, got ${x}`);
    }
  }
}

/**
 * Check the parameters a user gave a method, before any search: every key is a parameter of the
 * method and every value has its type and range (checks across parameters need the space and
 * are left to {@link resolveParams}).
 * @param method the method
 * @param given the given parameters
 * @throws RangeError or TypeError naming the parameter and what is valid
 * @example
 * ```ts
 * import { checkParams, getMethod } from "./registry.ts";
 * import "./methods.ts";
 * checkParams(getMethod("protes"), { k: 20 });
 * ```
 */
export function checkParams(
  method: MethodDescriptor,
  given: Record<string, unknown> | undefined,
): void {
  for (const [key, v] of Object.entries(given ?? {})) {
    const spec = method.params[key];
    if (!spec) {
      const valid = Object.keys(method.params);
      throw new RangeError(
        `unknown parameter "${key}" for "${method.name}"; valid: ${valid.join(", ") || "(none)"}`,
      );
    }
    checkParam(method.name, key, spec, v);
  }
}

/**
 * Check user parameters against a method's descriptor and fill in defaults.
 * @param method the descriptor
 * @param given the user's parameters
 * @param ctx the resolved space and the budget (some defaults depend on them)
 * @returns all parameters of the method
 * @throws Error naming the parameter and what would be valid
 * @example
 * ```ts
 * import { getMethod, resolveParams, resolveSpace } from "./registry.ts";
 * import "./methods.ts";
 * const space = resolveSpace({ d: 4, n: 2 });
 * const p = resolveParams(getMethod("protes"), { k: 20 }, { space, budget: 100 });
 * if (p.k !== 20 || p.k_top !== 10) throw new Error();
 * ```
 */
export function resolveParams(
  method: MethodDescriptor,
  given: Record<string, unknown> | undefined,
  ctx: { space: ResolvedSpace; budget: number },
): Record<string, unknown> {
  checkParams(method, given);
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(method.params)) {
    let v = given?.[key];
    if (v === undefined) {
      v = typeof spec.default === "function" ? spec.default(ctx) : spec.default;
      if (v === undefined) continue;
    }
    checkParam(method.name, key, spec, v);
    out[key] = v;
  }
  const problem = method.check?.(out, ctx);
  if (problem) throw new RangeError(`"${method.name}": ${problem}`);
  return out;
}
