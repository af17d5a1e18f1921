/**
 * The tensor-train model of PROTES on the WASM SIMD core: sampling, log-probabilities, the
 * exact gradient of the mean negative log-likelihood and Adam steps. This module is the only
 * one that touches WASM memory; `tt_reference.ts` states the same operations in plain
 * TypeScript and documents the layout.
 *
 * @example
 * ```ts
 * import { TensorTrain } from "./tt.ts";
 * import { Rng } from "./rng.ts";
 * const rng = new Rng(0);
 * const tt = new TensorTrain([2, 2, 2, 2], 3, rng);
 * const idx = tt.sample(rng, 10); // 10 multi-indices, sample-major
 * tt.adamStep(idx.subarray(0, 4 * 2), 0.05); // raise the likelihood of the first two
 * ```
 * @module
 */

import { wasmBase64 } from "./_wasm_bytes.ts";
import { decodeBase64 } from "../io/base64.ts";
import type { Rng } from "./rng.ts";
import type { QuantizedSpace } from "../space/quantize.ts";
import { type TTLayout, ttLayout } from "./tt_reference.ts";

interface CoreExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  interfaces(model: number): void;
  sampleWork(count: number, rmax: number, nmax: number): number;
  sample(
    model: number,
    count: number,
    out: number,
    work: number,
    rmax: number,
    nmax: number,
    seed: number,
  ): void;
  logProb(
    model: number,
    idx: number,
    count: number,
    out: number,
    work: number,
    rmax: number,
    nmax: number,
  ): void;
  gradientWork(count: number, d: number, rmax: number, nmax: number): number;
  gradient(
    model: number,
    idx: number,
    count: number,
    work: number,
    rmax: number,
    nmax: number,
  ): void;
  adam(model: number, b1: number, b2: number, eps: number, lrc: number, ic2: number): void;
  fromDigits(
    digits: number,
    count: number,
    dq: number,
    digitN: number,
    offsets: number,
    d: number,
    out: number,
  ): void;
}

let compiled: WebAssembly.Module | undefined;

/** Instantiate the embedded core (compiled once per process). */
function instantiate(): CoreExports {
  compiled ??= new WebAssembly.Module(decodeBase64(wasmBase64) as Uint8Array<ArrayBuffer>);
  const instance = new WebAssembly.Instance(compiled, {
    env: {
      abort() {
        throw new Error("WASM core aborted");
      },
    },
  });
  return instance.exports as unknown as CoreExports;
}

const align = (x: number) => (x + 15) & ~15;

/** A bump allocator over a core instance's memory; grows the memory on demand. */
class Arena {
  top: number;
  constructor(readonly core: CoreExports, start: number) {
    this.top = align(start);
  }
  alloc(bytes: number): number {
    const at = this.top;
    this.top = align(at + bytes);
    const need = this.top - this.core.memory.buffer.byteLength;
    if (need > 0) this.core.memory.grow(Math.ceil(need / 65536));
    return at;
  }
}

/** Adam hyperparameters (defaults of the PROTES reference: 0.9, 0.999, 1e-8). */
export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/**
 * A tensor-train probability model whose cores live in a WASM core instance, in float32 (the
 * arithmetic of the JAX reference of PROTES); `cores` converts to and from float64.
 */
export class TensorTrain {
  /** Shapes and offsets. */
  readonly layout: TTLayout;
  readonly #core: CoreExports;
  readonly #model: number;
  readonly #cores: number;
  readonly #grad: number;
  readonly #scratch: number;
  readonly #rmax: number;
  readonly #nmax: number;
  readonly #stored: Int32Array; // where parameter j of `layout` is stored in the core
  readonly #storedSize: number; // stored entries, row padding included
  #adamSteps = 0;
  #fresh = false; // interface vectors up to date with the cores

  /**
   * A tensor train with cores (r_{k-1}, n_k, r_k), entries i.i.d. uniform on [0, 1) from rng.
   * @param n mode sizes, one per core (each >= 2)
   * @param r inner rank
   * @param rng generator for the initial entries (core by core, row-major)
   * @example
   * ```ts
   * import { TensorTrain } from "./tt.ts";
   * import { Rng } from "./rng.ts";
   * const tt = new TensorTrain([3, 4], 2, new Rng(1));
   * if (tt.cores.length !== 1 * 3 * 2 + 2 * 4 * 1) throw new Error();
   * ```
   */
  constructor(n: ArrayLike<number>, r: number, rng: Rng) {
    const layout = ttLayout(n, r);
    this.layout = layout;
    const core = this.#core = instantiate();
    const { d, size, zOffset } = layout;
    const arena = new Arena(core, core.heapBase());
    this.#model = arena.alloc(15 * 4);
    const ints = (values: Int32Array) => {
      const at = arena.alloc(values.length * 4);
      new Int32Array(core.memory.buffer, at, values.length).set(values);
      return at;
    };
    // The core's storage (see core-as/assembly/index.ts): entry (a, i, b) of core k at
    // b P_k + a n_k + i, rows of P_k = r_{k-1} n_k rounded up to a multiple of 4.
    const { n: modes, ranks } = layout;
    const coreOffset = new Int32Array(d + 1), wOffset = new Int32Array(d + 1);
    const stored = this.#stored = new Int32Array(size);
    for (let k = 0; k < d; k++) {
      const rl = ranks[k], nk = modes[k], rr = ranks[k + 1], len = (rl * nk + 3) & ~3;
      for (let a = 0; a < rl; a++) {
        for (let i = 0; i < nk; i++) {
          for (let b = 0; b < rr; b++) {
            stored[layout.coreOffset[k] + (a * nk + i) * rr + b] = coreOffset[k] + b * len +
              a * nk + i;
          }
        }
      }
      coreOffset[k + 1] = coreOffset[k] + rr * len;
      wOffset[k + 1] = wOffset[k] + len;
    }
    const storedSize = this.#storedSize = coreOffset[d];
    const nAt = ints(modes), ranksAt = ints(ranks), coreOffAt = ints(coreOffset);
    const zOffAt = ints(zOffset), wOffAt = ints(wOffset);
    // Padding entries are zeros that the gradient and Adam leave at zero.
    const f32s = (count: number) => arena.alloc(count * 4);
    this.#cores = f32s(storedSize);
    const z = f32s(zOffset[d]), znorm = f32s(d), w = f32s(wOffset[d]);
    this.#grad = f32s(storedSize);
    const wgrad = f32s(wOffset[d]), adamM = f32s(storedSize), adamV = f32s(storedSize);
    this.#scratch = arena.top;
    new Uint32Array(core.memory.buffer, this.#model, 15).set([
      d,
      nAt,
      ranksAt,
      coreOffAt,
      zOffAt,
      wOffAt,
      this.#cores,
      z,
      znorm,
      w,
      this.#grad,
      wgrad,
      adamM,
      adamV,
      storedSize,
    ]);
    this.#rmax = Math.max(...layout.ranks);
    this.#nmax = Math.max(...layout.n);
    const init = new Float64Array(size);
    for (let j = 0; j < size; j++) init[j] = rng.uniform();
    this.cores = init;
  }

  /** A copy of the parameters (layout of `tt_reference.ts`). */
  get cores(): Float64Array {
    return this.#read(this.#cores);
  }

  /** Replace the parameters (rounded to float32). */
  set cores(values: Float64Array) {
    if (values.length !== this.layout.size) {
      throw new RangeError(`expected ${this.layout.size} parameters, got ${values.length}`);
    }
    const f = new Float32Array(this.#core.memory.buffer, this.#cores, this.#storedSize);
    this.#stored.forEach((j, k) => f[j] = values[k]);
    this.#fresh = false;
  }

  /** Parameters from a stored array (cores or gradient) in the layout of `tt_reference.ts`. */
  #read(at: number): Float64Array {
    const f = new Float32Array(this.#core.memory.buffer, at, this.#storedSize);
    return Float64Array.from(this.#stored, (j) => f[j]);
  }

  #refresh(): void {
    if (!this.#fresh) this.#core.interfaces(this.#model);
    this.#fresh = true;
  }

  /** Scratch memory for one call. */
  #arena(): Arena {
    return new Arena(this.#core, this.#scratch);
  }

  /** Scratch memory for one call: buffers of the given sizes in bytes. */
  #reserve(...bytes: number[]): number[] {
    const arena = this.#arena();
    return bytes.map((b) => arena.alloc(b));
  }

  #putIndices(at: number, idx: Int32Array): void {
    const { d, n } = this.layout;
    if (idx.length % d !== 0 || idx.length === 0) {
      throw new RangeError(`expected a positive multiple of d = ${d} indices, got ${idx.length}`);
    }
    for (let j = 0; j < idx.length; j++) {
      const v = idx[j], nk = n[j % d];
      if (!(v >= 0 && v < nk)) {
        throw new RangeError(`index ${v} out of range 0..${nk - 1} at coordinate ${j % d}`);
      }
    }
    new Int32Array(this.#core.memory.buffer, at, idx.length).set(idx);
  }

  /**
   * Draw m multi-indices (core by core; four lane generators spawned from `rng`).
   * @param rng the generator; its state advances exactly as in `sampleReference`
   * @param m number of samples
   * @returns m d indices, sample-major
   * @example
   * ```ts
   * import { TensorTrain } from "./tt.ts";
   * import { Rng } from "./rng.ts";
   * const rng = new Rng(3);
   * const s = new TensorTrain([2, 5], 2, rng).sample(rng, 4);
   * if (s.length !== 8) throw new Error();
   * ```
   */
  sample(rng: Rng, m: number): Int32Array {
    const out = this.#sampleInto(this.#arena(), rng, m);
    return new Int32Array(this.#core.memory.buffer, out, m * this.layout.d).slice();
  }

  /**
   * Draw m multi-indices over the digits of a quantized space (as `sample`) and map them to
   * coordinates in the core, in one call.
   * @param rng the generator (as for `sample`)
   * @param m number of samples
   * @param q the quantized space whose digits this train models
   * @returns the digits (m dq, sample-major) and the coordinates (m d, sample-major)
   * @example
   * ```ts
   * import { TensorTrain } from "./tt.ts";
   * import { Rng } from "./rng.ts";
   * import { QuantizedSpace } from "../space/quantize.ts";
   * const q = new QuantizedSpace([64, 10], 2);
   * const tt = new TensorTrain(q.digitN, 2, new Rng(0));
   * const { digits, coordinates } = tt.sampleCoordinates(new Rng(1), 3, q);
   * const dq = q.digitN.length; // 6 binary digits for 64, a 2 and a 5 for 10
   * for (let s = 0; s < 3; s++) {
   *   const expected = q.fromDigits(digits.subarray(s * dq, (s + 1) * dq));
   *   if (coordinates.subarray(2 * s, 2 * s + 2).join() !== expected.join()) throw new Error();
   * }
   * ```
   */
  sampleCoordinates(
    rng: Rng,
    m: number,
    q: QuantizedSpace,
  ): { digits: Int32Array; coordinates: Int32Array } {
    this.#checkSpace(q);
    const arena = this.#arena();
    const at = this.#sampleInto(arena, rng, m), out = this.#coordinatesInto(arena, at, m, q);
    const buffer = this.#core.memory.buffer;
    return {
      digits: new Int32Array(buffer, at, m * this.layout.d).slice(),
      coordinates: new Int32Array(buffer, out, m * q.n.length).slice(),
    };
  }

  /** Samples into WASM memory from `arena`; returns where the indices are. */
  #sampleInto(arena: Arena, rng: Rng, m: number): number {
    if (!Number.isInteger(m) || m < 1) throw new RangeError(`sample count must be >= 1, got ${m}`);
    this.#refresh();
    const d = this.layout.d, core = this.#core;
    const work = arena.alloc(core.sampleWork(m, this.#rmax, this.#nmax));
    const out = arena.alloc(m * d * 4), seed = arena.alloc(64);
    const lanes = Array.from({ length: 4 }, () => rng.spawn());
    const words = new Uint32Array(core.memory.buffer, seed, 16);
    for (let j = 0; j < 4; j++) for (let l = 0; l < 4; l++) words[4 * j + l] = lanes[l].state[j];
    core.sample(this.#model, m, out, work, this.#rmax, this.#nmax, seed);
    return out;
  }

  /** Maps m digit tuples at `at` to coordinates of q in WASM memory; returns where. */
  #coordinatesInto(arena: Arena, at: number, m: number, q: QuantizedSpace): number {
    const dq = q.digitN.length, d = q.n.length;
    const digitN = arena.alloc(dq * 4), offsets = arena.alloc((d + 1) * 4);
    const out = arena.alloc(m * d * 4);
    const buffer = this.#core.memory.buffer;
    new Int32Array(buffer, digitN, dq).set(q.digitN);
    new Int32Array(buffer, offsets, d + 1).set(q.offsets);
    this.#core.fromDigits(at, m, dq, digitN, offsets, d, out);
    return out;
  }

  #checkSpace(q: QuantizedSpace): void {
    if (q.digitN.length !== this.layout.d) {
      throw new RangeError(
        `the space has ${q.digitN.length} digits, the train ${this.layout.d} cores`,
      );
    }
  }

  /**
   * Log-probabilities of multi-indices, by the sampling recursion.
   * @param idx m d indices, sample-major
   * @returns m log-probabilities
   * @example
   * ```ts
   * import { TensorTrain } from "./tt.ts";
   * import { Rng } from "./rng.ts";
   * const tt = new TensorTrain([2, 2], 1, new Rng(0));
   * tt.cores = new Float64Array(4).fill(1);
   * if (Math.abs(tt.logProb(Int32Array.of(1, 0))[0] - Math.log(0.25)) > 1e-15) throw new Error();
   * ```
   */
  logProb(idx: Int32Array): Float64Array {
    this.#refresh();
    const m = idx.length / this.layout.d;
    const work = this.#core.sampleWork(m, this.#rmax, this.#nmax);
    const [at, out, scratch] = this.#reserve(idx.length * 4, m * 8, work);
    this.#putIndices(at, idx);
    this.#core.logProb(this.#model, at, m, out, scratch, this.#rmax, this.#nmax);
    return new Float64Array(this.#core.memory.buffer, out, m).slice();
  }

  #gradientInPlace(idx: Int32Array): void {
    this.#refresh();
    const { d } = this.layout, core = this.#core, m = idx.length / d;
    const [at, work] = this.#reserve(
      idx.length * 4,
      core.gradientWork(m, d, this.#rmax, this.#nmax),
    );
    this.#putIndices(at, idx);
    core.gradient(this.#model, at, m, work, this.#rmax, this.#nmax);
  }

  /**
   * The loss mean(-log p) over multi-indices and its gradient with respect to the cores.
   * @param idx m d indices, sample-major
   * @returns the loss and the gradient (layout of `cores`)
   * @example
   * ```ts
   * import { TensorTrain } from "./tt.ts";
   * import { Rng } from "./rng.ts";
   * const tt = new TensorTrain([2, 2], 1, new Rng(0));
   * tt.cores = new Float64Array(4).fill(1);
   * const { loss, grad } = tt.gradient(Int32Array.of(0, 0));
   * if (Math.abs(loss - Math.log(4)) > 1e-15 || Math.abs(grad[0] + 0.5) > 1e-15) throw new Error();
   * ```
   */
  gradient(idx: Int32Array): { loss: number; grad: Float64Array } {
    this.#gradientInPlace(idx);
    const grad = this.#read(this.#grad);
    const lp = this.logProb(idx);
    return { loss: -lp.reduce((a, b) => a + b, 0) / lp.length, grad };
  }

  /**
   * One Adam step on L = mean(-log p) over the given multi-indices (state persists across calls).
   * @param idx m d indices, sample-major
   * @param lr learning rate
   * @param opts Adam's beta1, beta2 and eps
   * @example
   * ```ts
   * import { TensorTrain } from "./tt.ts";
   * import { Rng } from "./rng.ts";
   * const tt = new TensorTrain([2, 2, 2], 2, new Rng(0));
   * const target = Int32Array.of(1, 0, 1);
   * const before = tt.logProb(target)[0];
   * for (let t = 0; t < 20; t++) tt.adamStep(target, 0.05);
   * if (!(tt.logProb(target)[0] > before)) throw new Error();
   * ```
   */
  adamStep(idx: Int32Array, lr: number, opts: AdamOptions = {}): void {
    const { beta1 = 0.9, beta2 = 0.999, eps = 1e-8 } = opts;
    this.#gradientInPlace(idx);
    this.#adamSteps += 1;
    const t = this.#adamSteps;
    this.#core.adam(this.#model, beta1, beta2, eps, lr / (1 - beta1 ** t), 1 / (1 - beta2 ** t));
    this.#fresh = false;
  }

  /**
   * Coordinate indices of digit tuples sampled from this train (the quantized map of `q`,
   * computed by the WASM core).
   * @param digits m dq digits, sample-major, dq = `q.digitN.length`
   * @param q the quantized space whose digits these are
   * @returns m d coordinate indices, sample-major
   * @example
   * ```ts
   * import { TensorTrain } from "./tt.ts";
   * import { Rng } from "./rng.ts";
   * import { QuantizedSpace } from "../space/quantize.ts";
   * const q = new QuantizedSpace([64], 2);
   * const tt = new TensorTrain(q.digitN, 2, new Rng(0));
   * if (tt.toCoordinates(Int32Array.of(1, 0, 1, 0, 0, 1), q)[0] !== 37) throw new Error();
   * ```
   */
  toCoordinates(digits: Int32Array, q: QuantizedSpace): Int32Array {
    this.#checkSpace(q);
    const m = digits.length / q.digitN.length, arena = this.#arena();
    const at = arena.alloc(digits.length * 4);
    this.#putIndices(at, digits);
    const out = this.#coordinatesInto(arena, at, m, q);
    return new Int32Array(this.#core.memory.buffer, out, m * q.n.length).slice();
  }
}
