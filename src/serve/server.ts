/**
 * The HTTP JSON API of the closed-loop server, as a request handler for `Deno.serve`
 * (described by the OpenAPI document at `GET /openapi.json`; a page listing the searches at
 * `/`). Every request passes, in order: a per-address rate limit (429 with Retry-After), the
 * bearer token (401), the route and its ids (400/404/405), the body's type, size and arrival
 * time (415/413/408) and the fields' validation (400); only then does it reach the
 * {@link Service}. A refused request changes nothing.
 *
 * @example
 * ```ts ignore
 * import { createHandler, ensureToken } from "./server.ts";
 * const { token } = await ensureToken(dataDir);
 * Deno.serve({ hostname: "127.0.0.1", port: 8700 }, createHandler(service, { token }));
 * ```
 * @module
 */

import { openapi } from "./_openapi.ts";
import { HttpError } from "./errors.ts";
import { SEARCH_ID, type Service } from "./service.ts";
import { parseResponses, parseSpec, STIMULUS_ID } from "./spec.ts";

/** Limits of the HTTP API. */
export interface HandlerOptions {
  /** The bearer token. */
  token: string;
  /** Largest request body in bytes (default 1 MiB). */
  maxBody?: number;
  /** Time allowed for a request body to arrive, in ms (default 10 s). */
  bodyTimeoutMs?: number;
  /** Requests per second allowed per client address (default 2000). */
  rate?: number;
  /** Requests a client may send at once before the rate applies (default 2 x rate). */
  burst?: number;
}

/** Default body limit: 1 MiB. */
export const MAX_BODY = 1 << 20;
const KEY = /^[\w.:-]{1,100}$/;

/**
 * Read the token from `dataDir/token`, or create one (random, 256 bits, owner-only file).
 * @param dataDir the data folder
 * @returns the token, and whether it was created now (then it should be shown once)
 * @throws Error when the token file can be read by others
 */
export async function ensureToken(dataDir: string): Promise<{ token: string; created: boolean }> {
  await Deno.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = `${dataDir}/token`;
  const token = Array.from(
    crypto.getRandomValues(new Uint8Array(32)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  try {
    const file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
    await file.write(new TextEncoder().encode(token + "\n"));
    file.close();
    return { token, created: true };
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
  const mode = (await Deno.stat(path)).mode;
  if (mode !== null && (mode & 0o077) !== 0) {
    throw new Error(
      `${path} can be read by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`,
    );
  }
  const stored = (await Deno.readTextFile(path)).trim();
  if (!/^[0-9a-f]{64}$/.test(stored)) throw new Error(`${path} does not hold a token`);
  return { token: stored, created: false };
}

function sameText(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= a.charCodeAt(i % (a.length || 1)) ^ b.charCodeAt(i);
  return diff === 0;
}

function authorized(req: Request, token: string): boolean {
  const header = req.headers.get("authorization") ?? "";
  const bearer = /^Bearer ([^\s]+)$/i.exec(header);
  if (bearer) return sameText(bearer[1], token);
  const basic = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header);
  if (!basic) return false;
  let decoded: string;
  try {
    decoded = atob(basic[1]);
  } catch {
    return false;
  }
  return sameText(decoded.slice(decoded.indexOf(":") + 1), token);
}

/** Token buckets per client address. */
class RateLimiter {
  #buckets = new Map<string, { tokens: number; at: number }>();
  constructor(readonly rate: number, readonly burst: number) {}

  /** Seconds to wait before the next request is allowed, or 0 to allow it now. */
  take(address: string): number {
    const now = performance.now() / 1000;
    if (this.#buckets.size > 10000) this.#buckets.clear();
    const b = this.#buckets.get(address) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + (now - b.at) * this.rate);
    b.at = now;
    this.#buckets.set(address, b);
    if (b.tokens < 1) return Math.max(1, Math.ceil((1 - b.tokens) / this.rate));
    b.tokens -= 1;
    return 0;
  }
}

async function readJson(req: Request, max: number, timeoutMs: number): Promise<unknown> {
  const type = req.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new HttpError(
      415,
      `the body must be JSON (Content-Type: application/json), got "${type}"`,
    );
  }
  const length = req.headers.get("content-length");
  if (length !== null && !(Number(length) <= max)) {
    throw new HttpError(413, `the body is larger than the limit of ${max} bytes`);
  }
  if (!req.body) throw new HttpError(400, "the request has no body");
  const body = req.body;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new HttpError(408, `the body did not arrive within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  // With a Content-Length (checked above) the body is read at once; without one, chunk by
  // chunk, counting.
  const read = length !== null ? req.bytes() : (async () => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of body) {
      size += chunk.length;
      if (size > max) throw new HttpError(413, `the body is larger than the limit of ${max} bytes`);
      chunks.push(chunk);
    }
    const joined = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) (joined.set(c, at), at += c.length);
    return joined;
  })();
  let bytes: Uint8Array;
  try {
    bytes = await Promise.race([read, late]);
  } catch (e) {
    read.catch(() => {});
    body.cancel().catch(() => {});
    if (e instanceof HttpError) throw e;
    throw new HttpError(400, "the body could not be read completely");
  } finally {
    clearTimeout(timer);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, "the body is not UTF-8 text");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, "the body is not valid JSON (NaN and Infinity are not JSON numbers)");
  }
}

const HEADERS = { "cache-control": "no-store", "x-content-type-options": "nosniff" };

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...HEADERS, "content-type": "application/json", ...headers },
  });
}

function idempotencyKey(req: Request): string {
  const key = req.headers.get("idempotency-key");
  if (key === null || !KEY.test(key)) {
    throw new HttpError(
      400,
      "POST needs an Idempotency-Key header of 1-100 letters, digits or _.:- (a fresh one per new request, the same one on a retry)",
    );
  }
  return key;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function page(service: Service): Promise<Response> {
  const rows: string[] = [];
  for (const entry of service.searches.values()) {
    const st = await service.state(entry);
    const best = st.best as { image: string; value: number } | null;
    const spec = entry.search.spec;
    rows.push(
      `<tr><td><a href="/searches/${entry.id}">${entry.id}</a></td><td>${
        escapeHtml(spec.name ?? "")
      }</td><td>${escapeHtml(spec.method)} on ${
        escapeHtml(spec.generator)
      }</td><td>${st.evaluations} / ${spec.budget}</td><td>${
        best ? best.value.toPrecision(5) : ""
      }</td><td>${
        best ? `<img src="${best.image}" width="56" height="56" alt="best">` : ""
      }</td><td>${st.stopped ? "stopped" : st.done ? "done" : "running"}</td></tr>`,
    );
  }
  const html = `<!doctype html><meta charset="utf-8"><title>mei-tt server</title>
<style>body{font:14px sans-serif;margin:2em}td,th{padding:4px 10px;text-align:left}img{image-rendering:pixelated}</style>
<h1>mei-tt closed-loop server</h1>
<p>${service.searches.size} search(es). The API: <a href="/openapi.json">/openapi.json</a>.</p>
<table><tr><th>id</th><th>name</th><th>method</th><th>responses</th><th>best</th><th></th><th>state</th></tr>
${rows.join("\n")}</table>`;
  return new Response(html, {
    headers: {
      ...HEADERS,
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": "default-src 'self'; style-src 'unsafe-inline'",
    },
  });
}

function route(method: string, allowed: string): void {
  if (method !== allowed) {
    throw new HttpError(405, `${method} is not allowed here; use ${allowed}`, { allow: allowed });
  }
}

function searchId(text: string): string {
  if (!SEARCH_ID.test(text)) {
    throw new HttpError(400, `search ids are 12 hex digits, got "${text}"`);
  }
  return text;
}

/**
 * The request handler.
 * @param service the searches
 * @param options the token and the limits
 * @returns a handler for `Deno.serve`
 */
export function createHandler(
  service: Service,
  options: HandlerOptions,
): (req: Request, info?: Deno.ServeHandlerInfo) => Promise<Response> {
  const maxBody = options.maxBody ?? MAX_BODY, timeout = options.bodyTimeoutMs ?? 10_000;
  const rate = options.rate ?? 2000;
  const limiter = new RateLimiter(rate, options.burst ?? 2 * rate);
  return async (req, info) => {
    try {
      const address = info?.remoteAddr.transport === "tcp" ? info.remoteAddr.hostname : "local";
      const wait = limiter.take(address);
      if (wait > 0) {
        throw new HttpError(429, `too many requests; retry after ${wait} s`, {
          "retry-after": String(wait),
        });
      }
      if (!authorized(req, options.token)) {
        throw new HttpError(401, "missing or wrong token: send Authorization: Bearer <token>", {
          "www-authenticate": 'Bearer realm="mei-serve", Basic realm="mei-serve"',
        });
      }
      const url = new URL(req.url);
      const parts = url.pathname.split("/").slice(1);
      const query = [...url.searchParams.keys()];
      const extra = query.filter((k) => !(k === "images" && parts[2] === "next"));
      if (extra.length) throw new HttpError(400, `unknown query parameter "${extra[0]}"`);
      if (parts.length === 1 && parts[0] === "") {
        route(req.method, "GET");
        return await page(service);
      }
      if (parts.length === 1 && parts[0] === "openapi.json") {
        route(req.method, "GET");
        return json(openapi);
      }
      if (parts[0] !== "searches" || parts.length > 4) {
        throw new HttpError(404, `no such resource ${url.pathname} (GET /openapi.json lists them)`);
      }
      if (parts.length === 1) {
        if (req.method === "POST") {
          const key = idempotencyKey(req);
          const spec = parseSpec(await readJson(req, maxBody, timeout));
          const { entry, created } = await service.create(spec, key);
          return json(await service.state(entry), created ? 201 : 200);
        }
        route(req.method, "GET");
        const list = [];
        for (const entry of service.searches.values()) list.push(await service.state(entry));
        return json({ searches: list });
      }
      const entry = service.get(searchId(parts[1]));
      const id = entry.id;
      if (parts.length === 2) {
        route(req.method, "GET");
        return json(await service.state(entry));
      }
      const action = parts[2];
      if (action === "next" && parts.length === 3) {
        route(req.method, "GET");
        const images = url.searchParams.get("images");
        if (images !== null && images !== "base64") {
          throw new HttpError(400, `images must be "base64", got "${images}"`);
        }
        const batch = await service.next(id);
        return json({
          search: id,
          batch: batch?.index ?? null,
          done: batch === undefined,
          stimuli: batch ? await service.views(entry, batch.ids, images === "base64") : [],
        });
      }
      if (action === "responses" && parts.length === 3) {
        route(req.method, "POST");
        const key = idempotencyKey(req);
        const items = parseResponses(await readJson(req, maxBody, timeout));
        const { ack, replayed } = await service.respond(id, key, items);
        return json({ ...ack, replayed });
      }
      if (action === "stop" && parts.length === 3) {
        route(req.method, "POST");
        const folder = await service.stop(id);
        return json({ folder, state: await service.state(entry) });
      }
      if (action === "stimuli" && parts.length === 4) {
        route(req.method, "GET");
        const sid = parts[3].replace(/\.png$/, "");
        if (!parts[3].endsWith(".png") || !STIMULUS_ID.test(sid)) {
          throw new HttpError(400, `stimulus images are named like s12.png, got "${parts[3]}"`);
        }
        if (Number(sid.slice(1)) >= entry.search.points.length) {
          throw new HttpError(404, `stimulus ${sid} has not been asked yet`);
        }
        const [png] = await service.pngs(entry, [sid]);
        return new Response(png as Uint8Array<ArrayBuffer>, {
          headers: { ...HEADERS, "content-type": "image/png" },
        });
      }
      throw new HttpError(404, `no such resource ${url.pathname} (GET /openapi.json lists them)`);
    } catch (e) {
      if (e instanceof HttpError) {
        return json({ error: e.message, status: e.status }, e.status, e.headers);
      }
      console.error("serve: internal error:", e);
      return json({ error: "internal error (see the server's log)", status: 500 }, 500);
    }
  };
}
