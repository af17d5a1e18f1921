/**
 * An output folder that appears only when complete: files are written into a hidden
 * `.<name>.partial-<id>` folder beside the final one and renamed into place by `commit`, so an
 * error, an interrupt or a kill never leaves a half-written run under the final name.
 *
 * While a folder is being written its process holds a lock on `.<name>.partial-<id>.lock`; the
 * next {@link RunFolder.prepare} of the same parent removes partial folders whose writer is gone
 * (killed, or stopped at a second Ctrl-C), and leaves those of live writers alone.
 *
 * @example
 * ```ts
 * import { RunFolder } from "./run_folder.ts";
 * const root = await Deno.makeTempDir();
 * await RunFolder.prepare(root);
 * const run = await RunFolder.create(root, "demo");
 * await run.write("a.txt", "hello");
 * const final = await run.commit();
 * if (Deno.readTextFileSync(`${final}/a.txt`) !== "hello") throw new Error();
 * await Deno.remove(root, { recursive: true });
 * ```
 * @module
 */

const PARTIAL = /^(\..+\.partial-[0-9a-f]{8})(\.lock)?$/;
/** A lock file without its folder is left this long (its writer may be about to make it). */
const LONE_LOCK_MS = 60_000;

/** Why a path cannot be written, without the OS call and path that Deno's messages add. */
function reason(e: unknown): string {
  if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
    return "no permission to write there";
  }
  return (e as Error).message.replace(/ \(os error \d+\).*$/, "");
}

/** A folder being written (see the module doc). */
export class RunFolder {
  #lock: Deno.FsFile | undefined;

  private constructor(
    readonly root: string,
    readonly name: string,
    readonly partial: string,
    lock: Deno.FsFile,
  ) {
    this.#lock = lock;
  }

  /**
   * Check a run folder name: letters, digits and `._@+=-`, not starting with a dot.
   * @param name the name
   * @throws RangeError saying what is valid
   */
  static checkName(name: string): void {
    if (!/^[\w@+=-][\w.@+=-]{0,199}$/.test(name)) {
      throw new RangeError(
        `run name "${name}" must be 1 to 200 letters, digits and ._@+=- , not starting with a dot`,
      );
    }
  }

  /**
   * Make sure runs can be written under `root` (created if missing), before any work, and
   * remove partial folders left by writers that are gone.
   * @param root the parent folder
   * @throws Error naming the folder and why it cannot be written
   */
  static async prepare(root: string): Promise<void> {
    try {
      const stat = await Deno.stat(root).catch(() => undefined);
      if (stat && !stat.isDirectory) throw new Deno.errors.AlreadyExists();
      await Deno.mkdir(root, { recursive: true });
      await Deno.remove(await Deno.makeTempFile({ dir: root, prefix: ".mei-probe-" }));
    } catch (e) {
      const what = e instanceof Deno.errors.AlreadyExists ? "it is a file" : reason(e);
      throw new Error(`cannot write runs into "${root}": ${what}`);
    }
    await sweepPartials(root);
  }

  /**
   * Start a run folder under a prepared `root`.
   * @param root the parent folder
   * @param name the final folder's name (a suffix -2, -3, ... is added if it exists)
   * @returns the folder being written
   */
  static create(root: string, name: string): Promise<RunFolder> {
    RunFolder.checkName(name);
    const partial = `${root}/.${name}.partial-${crypto.randomUUID().slice(0, 8)}`;
    // Synchronous on purpose: no await between taking the lock and returning the folder, so a
    // signal handler (which runs between tasks) sees either no partial folder or the whole one
    // and can always discard what exists.
    const lock = Deno.openSync(`${partial}.lock`, { write: true, createNew: true });
    lock.lockSync(true);
    Deno.mkdirSync(partial);
    return Promise.resolve(new RunFolder(root, name, partial, lock));
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
        this.#unlock();
        return final;
      }
    }
  }

  /** Remove the partial folder (after an error). */
  async discard(): Promise<void> {
    await Deno.remove(this.partial, { recursive: true }).catch(() => {});
    this.#unlock();
  }

  /** Remove the partial folder at once (from a signal handler, before exiting). */
  discardSync(): void {
    try {
      Deno.removeSync(this.partial, { recursive: true });
    } catch { /* already gone */ }
    this.#unlock();
  }

  #unlock(): void {
    if (!this.#lock) return;
    try {
      Deno.removeSync(`${this.partial}.lock`);
    } catch { /* already gone */ }
    this.#lock.close();
    this.#lock = undefined;
  }
}

/** Remove the partial folders (and lock files) under root whose writer holds no lock. */
async function sweepPartials(root: string): Promise<void> {
  const found = new Map<string, { dir: boolean; lock: boolean }>();
  for await (const e of Deno.readDir(root)) {
    const m = PARTIAL.exec(e.name);
    if (!m) continue;
    const entry = found.get(m[1]) ?? { dir: false, lock: false };
    if (m[2]) entry.lock = e.isFile;
    else entry.dir = e.isDirectory;
    found.set(m[1], entry);
  }
  for (const [base, { dir, lock }] of found) {
    const path = `${root}/${base}`;
    let file: Deno.FsFile | undefined;
    try {
      if (lock) {
        file = await Deno.open(`${path}.lock`, { write: true });
        if (!(await file.tryLock(true))) continue; // a live writer
        const age = Date.now() - ((await file.stat()).mtime?.getTime() ?? 0);
        if (!dir && age < LONE_LOCK_MS) continue;
      }
      if (dir) await Deno.remove(path, { recursive: true });
      if (lock) await Deno.remove(`${path}.lock`);
    } catch {
      // Gone meanwhile, or not ours to remove: leave it.
    } finally {
      file?.close();
    }
  }
}
