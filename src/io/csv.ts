/**
 * CSV writing (RFC 4180): a header row of column names, then one row per object; fields with a
 * comma, quote or line break are quoted, null, undefined and NaN are empty, and numbers are
 * written in JavaScript's shortest round-trip form.
 *
 * @example
 * ```ts
 * import { toCsv } from "./csv.ts";
 * const csv = toCsv([{ layer: "a,b", value: 0.5 }, { layer: "c", value: null }]);
 * if (csv !== 'layer,value\n"a,b",0.5\nc,\n') throw new Error(csv);
 * ```
 * @module
 */

/** A CSV cell value. */
export type CsvValue = string | number | boolean | null | undefined;

function cell(v: CsvValue): string {
  if (v === null || v === undefined || (typeof v === "number" && Number.isNaN(v))) return "";
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Write rows as CSV.
 * @param rows objects with the same keys
 * @param columns the columns, in order (default: the keys of the first row)
 * @returns the CSV text, ending in a line break
 * @example
 * ```ts
 * import { toCsv } from "./csv.ts";
 * if (toCsv([{ a: 1, b: 2 }], ["b"]) !== "b\n2\n") throw new Error();
 * ```
 */
export function toCsv(
  rows: readonly Record<string, CsvValue>[],
  columns: readonly string[] = Object.keys(rows[0] ?? {}),
): string {
  const lines = [columns.map(cell).join(",")];
  for (const r of rows) lines.push(columns.map((c) => cell(r[c])).join(","));
  return lines.join("\n") + "\n";
}
