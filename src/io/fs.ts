/**
 * Small file-system helpers.
 * @module
 */

/**
 * Whether a path exists (any kind of entry). Errors other than "not found" count as absent too.
 * @param path the path
 * @returns true when `Deno.stat` succeeds
 * @example
 * ```ts
 * import { exists } from "./fs.ts";
 * if (!(await exists(".")) || await exists("./no such file")) throw new Error();
 * ```
 */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
