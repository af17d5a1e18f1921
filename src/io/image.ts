/**
 * Images for people to look at: float tensors in [0, 1] to RGBA rasters, nearest-neighbour
 * upscaling, contact sheets, PNG (imagescript's pure-JS encoder) and animated GIF (a small
 * LZW encoder here). Nothing needs FFI, so scripts run under narrow permissions; importing
 * this module reads the environment variable IMAGESCRIPT_WASM_SIMD (imagescript checks it).
 *
 * @example
 * ```ts
 * import { encodePng, tensorToRaster, upscale } from "./image.ts";
 * const img = upscale(tensorToRaster(Float32Array.of(0, 0.5, 1, 0.25), [1, 2, 2]), 8);
 * const png = await encodePng(img);
 * if (img.width !== 16 || png[1] !== 0x50) throw new Error(); // "\x89PNG"
 * ```
 * @module
 */

// A full npm: specifier (not an import-map name): mod.ts must work when imported by URL.
import png from "npm:imagescript@1.3.1/png/node.js";
import { escapeXml, FONT_FAMILY, svgToPng } from "./svg_png.ts";

/** An RGBA image, row-major, 4 bytes a pixel. */
export interface Raster {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
}

/**
 * A blank raster filled with one colour.
 * @param width pixels
 * @param height pixels
 * @param rgba fill colour [r, g, b, a] (default opaque white)
 * @returns the raster
 * @example
 * ```ts
 * import { blankRaster } from "./image.ts";
 * if (blankRaster(2, 3).rgba.length !== 24) throw new Error();
 * ```
 */
export function blankRaster(
  width: number,
  height: number,
  rgba: [number, number, number, number] = [255, 255, 255, 255],
): Raster {
  const out = new Uint8ClampedArray(width * height * 4);
  for (let j = 0; j < width * height; j++) out.set(rgba, 4 * j);
  return { width, height, rgba: out };
}

/**
 * A raster from a [C, H, W] tensor with values in [0, 1] (C = 1 grey or C = 3 RGB; values are
 * clamped).
 * @param data the tensor, channel-major
 * @param shape [C, H, W]
 * @returns an RGBA raster
 * @example
 * ```ts
 * import { tensorToRaster } from "./image.ts";
 * const img = tensorToRaster(Float32Array.of(1, 0), [1, 1, 2]);
 * if (img.rgba[0] !== 255 || img.rgba[4] !== 0) throw new Error();
 * ```
 */
export function tensorToRaster(data: ArrayLike<number>, shape: readonly number[]): Raster {
  const [c, h, w] = shape;
  if (shape.length !== 3 || (c !== 1 && c !== 3)) {
    throw new RangeError(`images need shape [C, H, W] with 1 or 3 channels, got [${shape}]`);
  }
  if (data.length < c * h * w) {
    throw new RangeError(`expected ${c * h * w} values, got ${data.length}`);
  }
  const rgba = new Uint8ClampedArray(w * h * 4), plane = h * w;
  for (let j = 0; j < plane; j++) {
    for (let ch = 0; ch < 3; ch++) {
      rgba[4 * j + ch] = Math.round(255 * data[(c === 1 ? 0 : ch) * plane + j]);
    }
    rgba[4 * j + 3] = 255;
  }
  return { width: w, height: h, rgba };
}

/**
 * Nearest-neighbour upscaling by an integer factor (pixels stay crisp).
 * @param img the raster
 * @param factor at least 1
 * @returns a new raster
 * @example
 * ```ts
 * import { blankRaster, upscale } from "./image.ts";
 * if (upscale(blankRaster(3, 2), 4).height !== 8) throw new Error();
 * ```
 */
export function upscale(img: Raster, factor: number): Raster {
  const w = img.width * factor, h = img.height * factor, rgba = new Uint8ClampedArray(w * h * 4);
  const src = new Uint32Array(img.rgba.buffer, img.rgba.byteOffset, img.width * img.height);
  const dst = new Uint32Array(rgba.buffer);
  for (let y = 0; y < h; y++) {
    const row = Math.floor(y / factor) * img.width;
    for (let x = 0; x < w; x++) dst[y * w + x] = src[row + Math.floor(x / factor)];
  }
  return { width: w, height: h, rgba };
}

/**
 * Copy a raster into another at (x, y) (no blending; clipped at the edges).
 * @param dst the target, changed in place
 * @param src the raster to copy
 * @param x left column in dst
 * @param y top row in dst
 * @example
 * ```ts
 * import { blankRaster, paste } from "./image.ts";
 * const a = blankRaster(4, 4), b = blankRaster(2, 2, [0, 0, 0, 255]);
 * paste(a, b, 1, 1);
 * if (a.rgba[(1 * 4 + 1) * 4] !== 0 || a.rgba[0] !== 255) throw new Error();
 * ```
 */
export function paste(dst: Raster, src: Raster, x: number, y: number): void {
  for (let row = 0; row < src.height; row++) {
    const ty = y + row;
    if (ty < 0 || ty >= dst.height) continue;
    const x0 = Math.max(0, x), x1 = Math.min(dst.width, x + src.width);
    if (x1 <= x0) continue;
    const from = (row * src.width + (x0 - x)) * 4;
    dst.rgba.set(src.rgba.subarray(from, from + (x1 - x0) * 4), (ty * dst.width + x0) * 4);
  }
}

/**
 * Tile rasters of equal size into a grid with a gap between them.
 * @param images the tiles, row by row
 * @param columns tiles per row
 * @param gap pixels between tiles (white)
 * @param below white pixels under each tile (room for a label, see {@link labelledSheet})
 * @returns the sheet
 * @example
 * ```ts
 * import { blankRaster, contactSheet } from "./image.ts";
 * const s = contactSheet([blankRaster(4, 4), blankRaster(4, 4), blankRaster(4, 4)], 2, 1);
 * if (s.width !== 9 || s.height !== 9) throw new Error();
 * ```
 */
export function contactSheet(images: Raster[], columns: number, gap = 2, below = 0): Raster {
  if (images.length === 0) throw new RangeError("a contact sheet needs at least one image");
  const { width: w } = images[0], h = images[0].height + below;
  const cols = Math.min(columns, images.length), rows = Math.ceil(images.length / cols);
  const sheet = blankRaster(cols * w + (cols - 1) * gap, rows * h + (rows - 1) * gap);
  images.forEach((img, j) =>
    paste(sheet, img, (j % cols) * (w + gap), Math.floor(j / cols) * (h + gap))
  );
  return sheet;
}

/**
 * A contact sheet with a line of text under each tile, drawn in the shipped font (by resvg).
 * @param images the tiles, row by row
 * @param columns tiles per row
 * @param labels one line per tile
 * @param gap pixels between tiles (white)
 * @returns the sheet
 * @example
 * ```ts
 * import { blankRaster, labelledSheet } from "./image.ts";
 * const s = await labelledSheet([blankRaster(40, 40), blankRaster(40, 40)], 2, ["1", "2"]);
 * if (s.height !== 40 + 15) throw new Error(); // a 9-pixel line and its margins
 * if (!s.rgba.some((v, i) => i % 4 < 3 && v < 128)) throw new Error("no text drawn");
 * ```
 */
export async function labelledSheet(
  images: Raster[],
  columns: number,
  labels: readonly string[],
  gap = 2,
): Promise<Raster> {
  const { width: w, height: h } = images[0];
  const size = w >= 100 ? 13 : 9, strip = size + 6;
  const sheet = contactSheet(images, columns, gap, strip);
  const cols = Math.min(columns, images.length);
  const texts = labels.map((label, j) => {
    const x = (j % cols) * (w + gap) + 3, y = Math.floor(j / cols) * (h + strip + gap) + h + size;
    return `<text x="${x}" y="${y}" font-size="${size}" fill="#282828">${escapeXml(label)}</text>`;
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${sheet.width}" ` +
    `height="${sheet.height}" font-family="${FONT_FAMILY}">${texts.join("")}</svg>`;
  const text = decodePng(await svgToPng(svg, 1));
  for (let i = 0; i < sheet.rgba.length; i += 4) {
    const a = text.rgba[i + 3] / 255;
    for (let c = 0; c < 3 && a > 0; c++) {
      sheet.rgba[i + c] = text.rgba[i + c] * a + sheet.rgba[i + c] * (1 - a);
    }
  }
  return sheet;
}

/**
 * Encode a raster as PNG (RGBA, 8 bits).
 * @param img the raster
 * @returns PNG bytes
 * @example
 * ```ts
 * import { blankRaster, encodePng } from "./image.ts";
 * if ((await encodePng(blankRaster(2, 2)))[0] !== 0x89) throw new Error();
 * ```
 */
export function encodePng(img: Raster): Promise<Uint8Array> {
  const bytes = new Uint8Array(img.rgba.buffer, img.rgba.byteOffset, img.rgba.byteLength);
  // imagescript stores without compression unless given a level (its default is 0).
  return Promise.resolve(
    png.encode(bytes, { width: img.width, height: img.height, channels: 4, level: 6 }),
  );
}

/**
 * Decode a PNG file to an RGBA raster (any PNG colour type; imagescript's pure-JS decoder).
 * @param bytes PNG file bytes
 * @returns the raster
 * @example
 * ```ts
 * import { blankRaster, decodePng, encodePng } from "./image.ts";
 * const img = decodePng(await encodePng(blankRaster(3, 2, [1, 2, 3, 255])));
 * if (img.width !== 3 || img.rgba[2] !== 3) throw new Error();
 * ```
 */
export function decodePng(bytes: Uint8Array): Raster {
  const { width, height, pixels } = png.decode(bytes);
  return {
    width,
    height,
    rgba: new Uint8ClampedArray(pixels.buffer, pixels.byteOffset, pixels.length),
  };
}

/** Palette index of a pixel: 256 greys when every frame is grey, else 3-3-2 bit RGB. */
function paletteOf(
  frames: Raster[],
): { table: Uint8Array; index: (px: Uint8ClampedArray, j: number) => number } {
  const grey = frames.every((f) => {
    for (let j = 0; j < f.rgba.length; j += 4) {
      if (f.rgba[j] !== f.rgba[j + 1] || f.rgba[j] !== f.rgba[j + 2]) return false;
    }
    return true;
  });
  const table = new Uint8Array(256 * 3);
  for (let c = 0; c < 256; c++) {
    if (grey) table.set([c, c, c], 3 * c);
    else table.set([((c >> 5) * 255) / 7, (((c >> 2) & 7) * 255) / 7, ((c & 3) * 255) / 3], 3 * c);
  }
  const index = grey
    ? (px: Uint8ClampedArray, j: number) => px[j]
    : (px: Uint8ClampedArray, j: number) =>
      (Math.round((px[j] * 7) / 255) << 5) | (Math.round((px[j + 1] * 7) / 255) << 2) |
      Math.round((px[j + 2] * 3) / 255);
  return { table, index };
}

/** GIF's variable-width LZW of 8-bit indices, packed into sub-blocks of at most 255 bytes. */
function lzw(indices: Uint8Array): number[] {
  const out: number[] = [];
  let bitBuffer = 0, bitCount = 0, block: number[] = [];
  const emit = (code: number, width: number) => {
    bitBuffer |= code << bitCount;
    bitCount += width;
    while (bitCount >= 8) {
      block.push(bitBuffer & 0xff);
      bitBuffer >>>= 8;
      bitCount -= 8;
      if (block.length === 255) {
        out.push(255, ...block);
        block = [];
      }
    }
  };
  const clear = 256, end = 257;
  let dict = new Map<number, number>(), next = 258, width = 9;
  emit(clear, width);
  let prefix = indices[0];
  for (let j = 1; j < indices.length; j++) {
    const k = indices[j], key = prefix * 256 + k, hit = dict.get(key);
    if (hit !== undefined) {
      prefix = hit;
      continue;
    }
    emit(prefix, width);
    if (next < 4096) {
      dict.set(key, next++);
      if (next > 1 << width && width < 12) width++;
    } else {
      emit(clear, width);
      dict = new Map();
      next = 258;
      width = 9;
    }
    prefix = k;
  }
  emit(prefix, width);
  emit(end, width);
  if (bitCount > 0) block.push(bitBuffer & 0xff);
  if (block.length) out.push(block.length, ...block);
  out.push(0);
  return out;
}

/**
 * Encode rasters of equal size as a looping animated GIF (grey palette when every frame is
 * grey, else 3-3-2 bit RGB).
 * @param frames the frames
 * @param delayMs time each frame shows; the last frame shows three times as long
 * @returns GIF bytes
 * @example
 * ```ts
 * import { blankRaster, encodeGif } from "./image.ts";
 * const gif = encodeGif([blankRaster(2, 2), blankRaster(2, 2, [0, 0, 0, 255])], 100);
 * if (String.fromCharCode(...gif.subarray(0, 6)) !== "GIF89a") throw new Error();
 * ```
 */
export function encodeGif(frames: Raster[], delayMs: number): Uint8Array {
  if (frames.length === 0) throw new RangeError("a GIF needs at least one frame");
  const { width: w, height: h } = frames[0];
  const { table, index } = paletteOf(frames);
  const bytes: number[] = [];
  const u16 = (v: number) => bytes.push(v & 0xff, v >> 8);
  bytes.push(...new TextEncoder().encode("GIF89a"));
  u16(w);
  u16(h);
  bytes.push(0xf7, 0, 0, ...table); // global colour table of 256 entries
  bytes.push(0x21, 0xff, 11, ...new TextEncoder().encode("NETSCAPE2.0"), 3, 1, 0, 0, 0); // loop
  frames.forEach((f, n) => {
    if (f.width !== w || f.height !== h) throw new RangeError("GIF frames must share one size");
    const delay = Math.round((n === frames.length - 1 ? 3 * delayMs : delayMs) / 10);
    bytes.push(0x21, 0xf9, 4, 0, delay & 0xff, delay >> 8, 0, 0);
    bytes.push(0x2c, 0, 0, 0, 0);
    u16(w);
    u16(h);
    bytes.push(0, 8);
    const idx = new Uint8Array(w * h);
    for (let j = 0; j < w * h; j++) idx[j] = index(f.rgba, 4 * j);
    for (const b of lzw(idx)) bytes.push(b);
  });
  bytes.push(0x3b);
  return Uint8Array.from(bytes);
}
