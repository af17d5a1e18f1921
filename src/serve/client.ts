/**
 * A client of the server's HTTP API that rides out a restarting server: connection errors,
 * 5xx and 429 (after its Retry-After) are retried with the same idempotency key until a
 * deadline, so a response posted while the server was being killed counts exactly once. 4xx
 * answers are final and thrown with the server's message.
 *
 * @example
 * ```ts ignore
 * import { ServeClient } from "./client.ts";
 * const client = new ServeClient("http://127.0.0.1:8700", token);
 * const batch = await client.call("GET", `/searches/${id}/next`);
 * ```
 * @module
 */

/** A refusal by the server (4xx): its status and message. */
export class ServeError extends Error {
  /**
   * @param status the HTTP status
   * @param message the server's message
   */
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = "ServeError";
  }
}

/** The HTTP API with retries (see the module doc). */
export class ServeClient {
  /** Requests retried so far (connection errors, 5xx, 429). */
  retries = 0;

  /**
   * @param base the server's URL, e.g. http://127.0.0.1:8700
   * @param token the bearer token
   * @param patienceMs how long one call keeps retrying before giving up (default 120 s)
   */
  constructor(readonly base: string, readonly token: string, readonly patienceMs = 120_000) {}

  /**
   * Call the API.
   * @param method GET or POST
   * @param path the path, e.g. /searches
   * @param body a JSON body (POST)
   * @param key the idempotency key (POST)
   * @returns the parsed JSON answer
   * @throws ServeError on a 4xx answer; Error when the server stays unreachable
   */
  async call<T = Record<string, unknown>>(
    method: "GET" | "POST",
    path: string,
    body?: unknown,
    key?: string,
  ): Promise<T> {
    const deadline = Date.now() + this.patienceMs;
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (key !== undefined) headers["idempotency-key"] = key;
    let wait = 50;
    for (let attempt = 0;; attempt++) {
      let status = 0, text = "", retryAfter = 0;
      try {
        const res = await fetch(new URL(path, this.base), {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(60_000),
        });
        status = res.status;
        retryAfter = Number(res.headers.get("retry-after") ?? 0);
        text = await res.text();
      } catch (e) {
        text = (e as Error).message;
      }
      if (status >= 200 && status < 300) return JSON.parse(text) as T;
      if (status >= 400 && status < 500 && status !== 429) {
        let message = text;
        try {
          message = JSON.parse(text).error ?? text;
        } catch { /* not JSON: keep the text */ }
        throw new ServeError(status, `${method} ${path}: ${status} ${message}`);
      }
      if (Date.now() + wait > deadline) {
        throw new Error(
          `${method} ${path}: the server did not answer for ${this.patienceMs} ms (${
            status || text
          })`,
        );
      }
      this.retries++;
      await new Promise((r) => setTimeout(r, Math.max(wait, retryAfter * 1000)));
      wait = Math.min(1000, wait * 2);
    }
  }
}
