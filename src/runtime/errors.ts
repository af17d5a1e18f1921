/**
 * The two errors the runtime throws on bad input, each with one message that says what is wrong
 * and what to do: {@link ModelError} (a model file, its bytes, a layer name, a feed) and
 * {@link BackendError} (a backend that cannot run here).
 *
 * @example
 * ```ts
 * import { ModelError } from "./errors.ts";
 * const e = new ModelError("model file not found: x.onnx");
 * if (e.name !== "ModelError") throw new Error();
 * ```
 * @module
 */

/** A model, layer name or input that cannot be used: missing file, corrupt bytes, unknown layer. */
export class ModelError extends Error {
  /**
   * @param message the whole message, ready to print
   * @param options `cause`: the underlying error
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ModelError";
  }
}

/** A backend that is not available here (missing permission, addon, GPU adapter). */
export class BackendError extends Error {
  /**
   * @param message the whole message, ready to print
   * @param options `cause`: the underlying error
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BackendError";
  }
}
