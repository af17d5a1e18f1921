/**
 * Complexity of an MEI image: its JPEG size at a fixed quality and its deflate size, each over
 * its raw size (one byte per pixel for grey images, three for colour); simpler images compress
 * more (docs/study.md, "Analyses"). The JPEG encoder is imagescript's native codec, so this
 * needs `--allow-ffi`; deflate is `node:zlib` at level 9.
 *
 * @example
 * ```ts ignore
 * import { imageComplexity } from "./complexity.ts";
 * const c = await imageComplexity(await Deno.readFile("mei.png"));
 * console.log(c.jpegRatio, c.deflateRatio);
 * ```
 * @module
 */

import { deflateSync } from "node:zlib";
import { decodePng } from "../io/image.ts";

/** The JPEG quality of the complexity measure. */
export const JPEG_QUALITY = 75;

/** Sizes of an image in bytes, and the two ratios. */
export interface Complexity {
  width: number;
  height: number;
  /** 1 for grey images, 3 for colour. */
  channels: number;
  /** width x height x channels. */
  raw: number;
  /** JPEG bytes at {@link JPEG_QUALITY}. */
  jpeg: number;
  /** Deflate (zlib, level 9) bytes of the raw pixels. */
  deflate: number;
  jpegRatio: number;
  deflateRatio: number;
}

/**
 * The raw pixel bytes of an RGBA raster: one byte per pixel when grey, else RGB.
 * @param rgba RGBA pixels
 * @returns the pixel bytes and the channel count
 * @example
 * ```ts
 * import { rawPixels } from "./complexity.ts";
 * const { bytes, channels } = rawPixels(Uint8ClampedArray.of(7, 7, 7, 255, 9, 9, 9, 255));
 * if (channels !== 1 || bytes.join() !== "7,9") throw new Error();
 * ```
 */
export function rawPixels(rgba: Uint8ClampedArray): { bytes: Uint8Array; channels: number } {
  const n = rgba.length / 4;
  let grey = true;
  for (let i = 0; i < n && grey; i++) {
    grey = rgba[4 * i] === rgba[4 * i + 1] && rgba[4 * i] === rgba[4 * i + 2];
  }
  const channels = grey ? 1 : 3, bytes = new Uint8Array(n * channels);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < channels; c++) bytes[i * channels + c] = rgba[4 * i + c];
  }
  return { bytes, channels };
}

/**
 * The complexity of a PNG image.
 * @param png PNG file bytes
 * @param quality JPEG quality (default {@link JPEG_QUALITY})
 * @returns sizes and ratios
 * @throws Error when imagescript's JPEG codec cannot load (it needs --allow-ffi)
 */
export async function imageComplexity(
  png: Uint8Array,
  quality = JPEG_QUALITY,
): Promise<Complexity> {
  const img = decodePng(png);
  const { bytes, channels } = rawPixels(img.rgba);
  const raw = bytes.length;
  const jpeg = (await encodeJpeg(img.rgba, img.width, img.height, quality)).length;
  const deflate = deflateSync(bytes, { level: 9 }).length;
  return {
    width: img.width,
    height: img.height,
    channels,
    raw,
    jpeg,
    deflate,
    jpegRatio: jpeg / raw,
    deflateRatio: deflate / raw,
  };
}

/**
 * Encode RGBA pixels as JPEG with imagescript (imported on first use: its native codec needs
 * --allow-ffi).
 * @param rgba pixels
 * @param width pixels
 * @param height pixels
 * @param quality 1..100
 * @returns the JPEG bytes
 */
export async function encodeJpeg(
  rgba: Uint8ClampedArray,
  width: number,
  height: number,
  quality: number,
): Promise<Uint8Array> {
  let mod;
  try {
    mod = await import("npm:imagescript@1.3.1");
  } catch (e) {
    throw new Error(
      `the JPEG size of the complexity measure needs imagescript's native codec: run with ` +
        `--allow-ffi (${(e as Error).message.split("\n")[0]})`,
    );
  }
  const image = new mod.Image(width, height);
  image.bitmap.set(rgba);
  return await image.encodeJPEG(quality as Parameters<typeof image.encodeJPEG>[0]);
}
