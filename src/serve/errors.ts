/**
 * The one error type of the server: an HTTP status and a message for the client, sent as
 * `{ "error": message }` (4xx: the request was refused and changed nothing).
 *
 * @example
 * ```ts
 * import { HttpError } from "./errors.ts";
 * const e = new HttpError(404, "no search abc");
 * if (e.status !== 404) throw new Error();
 * ```
 * @module
 */

/** A refused request: its status and a message naming the problem. */
export class HttpError extends Error {
  /**
   * @param status HTTP status (4xx for the client's errors)
   * @param message what was wrong and what would be valid
   * @param headers extra response headers (e.g. Retry-After)
   */
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}
