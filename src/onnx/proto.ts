/**
 * The protobuf wire format, just enough of it to read and write ONNX files: varints, fixed
 * 32/64-bit words and length-delimited fields (groups, long deprecated, are rejected).
 *
 * Reading is lazy: {@link fields} walks the fields of one message without decoding nested ones,
 * so an editor can copy the bytes of fields it does not touch. Writing goes through
 * {@link ProtoWriter}, which appends fields to a growing buffer.
 *
 * @example
 * ```ts
 * import { fields, ProtoWriter } from "./proto.ts";
 * const w = new ProtoWriter().varint(1, 8).string(2, "relu");
 * const seen = [...fields(w.finish())].map((f) => f.field);
 * if (seen.join() !== "1,2") throw new Error();
 * ```
 * @module
 */

/** Wire types of the protobuf encoding. */
export const WIRE = { VARINT: 0, I64: 1, LEN: 2, I32: 5 } as const;

/** One field of a message as found on the wire. */
export interface Field {
  /** Field number. */
  field: number;
  /** Wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32). */
  wire: number;
  /** Value of a varint field (as a number: exact up to 2^53), or of a fixed32/fixed64 word. */
  value: number;
  /** Offset of the field's tag in the buffer. */
  tagStart: number;
  /** Offset of the payload (length-delimited fields) or of the value. */
  start: number;
  /** Offset one past the field's last byte. */
  end: number;
}

/** Thrown on bytes that are not a valid protobuf message. */
export class ProtoError extends Error {
  /** @param message what is wrong and at which offset */
  constructor(message: string) {
    super(message);
    this.name = "ProtoError";
  }
}

/**
 * Reads a varint at `pos`.
 *
 * @param buf the bytes
 * @param pos offset of the varint's first byte
 * @returns the value (exact up to 2^53) and the offset after it
 * @example
 * ```ts
 * import { readVarint } from "./proto.ts";
 * const [v, next] = readVarint(new Uint8Array([0xac, 0x02]), 0);
 * if (v !== 300 || next !== 2) throw new Error();
 * ```
 */
export function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let value = 0, scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new ProtoError(`truncated varint at byte ${pos}`);
    const b = buf[pos++];
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, pos];
    scale *= 128;
  }
  throw new ProtoError(`varint longer than 10 bytes at byte ${pos}`);
}

/**
 * Walks the fields of the message in `buf[start, end)`, checking that every field lies inside.
 *
 * @param buf the bytes
 * @param start first byte of the message (default 0)
 * @param end one past its last byte (default the buffer's length)
 * @returns an iterator of {@link Field}s in wire order
 * @example
 * ```ts
 * import { fields } from "./proto.ts";
 * const [f] = [...fields(new Uint8Array([0x08, 0x96, 0x01]))];
 * if (f.field !== 1 || f.value !== 150) throw new Error();
 * ```
 */
export function* fields(buf: Uint8Array, start = 0, end = buf.length): Generator<Field> {
  let pos = start;
  while (pos < end) {
    const tagStart = pos;
    const [tag, p] = readVarint(buf, pos);
    pos = p;
    const field = Math.floor(tag / 8), wire = tag % 8;
    if (field === 0) throw new ProtoError(`field number 0 at byte ${tagStart}`);
    let value = 0, vStart = pos;
    switch (wire) {
      case WIRE.VARINT:
        [value, pos] = readVarint(buf, pos);
        break;
      case WIRE.I64:
        pos += 8;
        break;
      case WIRE.I32:
        pos += 4;
        break;
      case WIRE.LEN: {
        const [len, q] = readVarint(buf, pos);
        vStart = q;
        pos = q + len;
        value = len;
        break;
      }
      default:
        throw new ProtoError(`unsupported wire type ${wire} (field ${field}) at byte ${tagStart}`);
    }
    if (pos > end) {
      throw new ProtoError(`field ${field} at byte ${tagStart} runs past the end of its message`);
    }
    if (wire === WIRE.I32) {
      value = new DataView(buf.buffer, buf.byteOffset + vStart, 4).getFloat32(0, true);
    }
    if (wire === WIRE.I64) {
      value = new DataView(buf.buffer, buf.byteOffset + vStart, 8).getFloat64(0, true);
    }
    yield { field, wire, value, tagStart, start: vStart, end: pos };
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: false });
const utf8Encoder = new TextEncoder();

/**
 * Decodes a length-delimited field as a UTF-8 string.
 *
 * @param buf the bytes
 * @param f a length-delimited field of `buf`
 * @returns the string
 * @example
 * ```ts
 * import { fields, readString, ProtoWriter } from "./proto.ts";
 * const [f] = [...fields(new ProtoWriter().string(1, "x").finish())];
 * if (readString(new ProtoWriter().string(1, "x").finish(), f) !== "x") throw new Error();
 * ```
 */
export function readString(buf: Uint8Array, f: Field): string {
  if (f.wire !== WIRE.LEN) throw new ProtoError(`field ${f.field} is not a string`);
  return utf8.decode(buf.subarray(f.start, f.end));
}

/**
 * Decodes a repeated int64/int32 field, packed (one length-delimited run) or not (one varint).
 *
 * @param buf the bytes
 * @param f one occurrence of the field
 * @returns its values
 * @example
 * ```ts
 * import { fields, readPackedVarints, ProtoWriter } from "./proto.ts";
 * const b = new ProtoWriter().packedVarints(8, [1, 300]).finish();
 * if (readPackedVarints(b, [...fields(b)][0]).join() !== "1,300") throw new Error();
 * ```
 */
export function readPackedVarints(buf: Uint8Array, f: Field): number[] {
  if (f.wire === WIRE.VARINT) return [f.value];
  const out: number[] = [];
  let pos = f.start;
  while (pos < f.end) {
    const [v, p] = readVarint(buf, pos);
    out.push(v);
    pos = p;
  }
  return out;
}

/** Appends protobuf fields to a growing buffer. */
export class ProtoWriter {
  #buf = new Uint8Array(256);
  #len = 0;

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + n));
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  #rawVarint(v: number): void {
    if (!(v >= 0) || !Number.isSafeInteger(v)) throw new RangeError(`bad varint ${v}`);
    this.#reserve(10);
    while (v >= 128) {
      this.#buf[this.#len++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.#buf[this.#len++] = v;
  }

  #tag(field: number, wire: number): void {
    this.#rawVarint(field * 8 + wire);
  }

  /**
   * Appends a varint field (negative int64 values are written as two's complement, 10 bytes).
   * @param field field number
   * @param v the value
   * @returns this writer
   */
  varint(field: number, v: number): this {
    this.#tag(field, WIRE.VARINT);
    if (v < 0) {
      let x = BigInt.asUintN(64, BigInt(v));
      this.#reserve(10);
      while (x >= 128n) {
        this.#buf[this.#len++] = Number(x & 127n) | 0x80;
        x >>= 7n;
      }
      this.#buf[this.#len++] = Number(x);
    } else this.#rawVarint(v);
    return this;
  }

  /**
   * Appends a fixed32 float field.
   * @param field field number
   * @param v the value
   * @returns this writer
   */
  float(field: number, v: number): this {
    this.#tag(field, WIRE.I32);
    this.#reserve(4);
    new DataView(this.#buf.buffer).setFloat32(this.#len, v, true);
    this.#len += 4;
    return this;
  }

  /**
   * Appends a length-delimited field holding raw bytes (a nested message or `bytes`).
   * @param field field number
   * @param bytes the payload
   * @returns this writer
   */
  bytes(field: number, bytes: Uint8Array): this {
    this.#tag(field, WIRE.LEN);
    this.#rawVarint(bytes.length);
    this.#reserve(bytes.length);
    this.#buf.set(bytes, this.#len);
    this.#len += bytes.length;
    return this;
  }

  /**
   * Appends a string field.
   * @param field field number
   * @param s the string (UTF-8 encoded)
   * @returns this writer
   */
  string(field: number, s: string): this {
    return this.bytes(field, utf8Encoder.encode(s));
  }

  /**
   * Appends a nested message built by `build`.
   * @param field field number
   * @param build fills the nested writer
   * @returns this writer
   */
  message(field: number, build: (w: ProtoWriter) => void): this {
    const w = new ProtoWriter();
    build(w);
    return this.bytes(field, w.finish());
  }

  /**
   * Appends a packed repeated varint field (int64s, int32s).
   * @param field field number
   * @param values the values
   * @returns this writer
   */
  packedVarints(field: number, values: readonly number[]): this {
    const w = new ProtoWriter();
    for (const v of values) {
      if (v < 0) throw new RangeError("packedVarints takes non-negative values");
      w.#rawVarint(v);
    }
    return this.bytes(field, w.finish());
  }

  /**
   * Appends a packed repeated float field.
   * @param field field number
   * @param values the values
   * @returns this writer
   */
  packedFloats(field: number, values: ArrayLike<number>): this {
    const f = Float32Array.from(values);
    return this.bytes(field, new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
  }

  /**
   * Appends already encoded bytes verbatim (whole fields copied from another message).
   * @param bytes encoded fields
   * @returns this writer
   */
  raw(bytes: Uint8Array): this {
    this.#reserve(bytes.length);
    this.#buf.set(bytes, this.#len);
    this.#len += bytes.length;
    return this;
  }

  /**
   * The bytes written so far.
   * @returns a copy of the buffer's used part
   */
  finish(): Uint8Array<ArrayBuffer> {
    return this.#buf.slice(0, this.#len);
  }
}
