/**
 * Base64 encoding and decoding of bytes (web-standard `btoa`/`atob`, in chunks).
 *
 * @example
 * ```ts
 * import { decodeBase64, encodeBase64 } from "./base64.ts";
 * const bytes = Uint8Array.of(0, 1, 254, 255);
 * if (decodeBase64(encodeBase64(bytes)).join() !== bytes.join()) throw new Error();
 * ```
 * @module
 */

/**
 * Encode bytes as base64.
 * @param bytes the data
 * @returns the base64 text
 * @example
 * ```ts
 * import { encodeBase64 } from "./base64.ts";
 * if (encodeBase64(Uint8Array.of(77, 97, 110)) !== "TWFu") throw new Error();
 * ```
 */
export function encodeBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/**
 * Decode base64 to bytes.
 * @param text base64 text
 * @returns the bytes
 * @example
 * ```ts
 * import { decodeBase64 } from "./base64.ts";
 * if (decodeBase64("TWFu").join() !== "77,97,110") throw new Error();
 * ```
 */
export function decodeBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
