/**
 * An output folder that appears only when complete: files are written into a hidden
 * `.<name>.partial-<random>` folder beside the final one and renamed into place by `commit`,
 * so an error never leaves a half-written run behind (`discard` removes the partial folder).
 *
 * @example
 * ```ts
 * import { RunFolder } from "./run_folder.ts";
 * const root = await Deno.makeTempDir();
 * const run = await RunFolder.create(root, "demo");
 * await run.write("a.txt", "hello");
 * const final = await run.commit();
 * if (Deno.readTextFileSync(`${final}/a.txt`) !== "hello") throw new Error();
 * await Deno.remove(root, { recursive: true });
 * ```
 * @module
 */

/** A folder being written (see the module doc). */
export class RunFolder {
  private constructor(readonly root: string, readonly name: string, readonly partial: string) {}

  /**
   * Start a run folder under `root` (created if missing).
   * @param root the parent folder
   * @param name the final folder's name (a suffix -2, -3, ... is added if it exists)
   * @returns the folder being written
   */
  static async create(root: string, name: string): Promise<RunFolder> {
    if (!/^[\w.@+=-]+$/.test(name)) {
      throw new RangeError(
        `run name "${name}" has characters other than letters, digits and ._@+=-`,
      );
    }
    await Deno.mkdir(root, { recursive: true });
    const partial = `${root}/.${name}.partial-${crypto.randomUUID().slice(0, 8)}`;
    await Deno.mkdir(partial);
    return new RunFolder(root, name, partial);
  }

  /**
   * Write a file into the folder (creating subfolders).
   * @param file a relative path
   * @param data text or bytes
   */
  async write(file: string, data: string | Uint8Array): Promise<void> {
    const path = `${this.partial}/${file}`;
    const dir = path.slice(0, path.lastIndexOf("/"));
    if (dir !== this.partial) await Deno.mkdir(dir, { recursive: true });
    if (typeof data === "string") await Deno.writeTextFile(path, data);
    else await Deno.writeFile(path, data);
  }

  /**
   * Move the finished folder into place.
   * @returns the final path
   */
  async commit(): Promise<string> {
    for (let k = 1;; k++) {
      const final = `${this.root}/${this.name}${k === 1 ? "" : `-${k}`}`;
      try {
        await Deno.lstat(final);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
        await Deno.rename(this.partial, final);
        return final;
      }
    }
  }

  /** Remove the partial folder (after an error). */
  async discard(): Promise<void> {
    await Deno.remove(this.partial, { recursive: true }).catch(() => {});
  }
}
