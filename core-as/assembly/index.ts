// The WASM SIMD core of the tensor-train optimizers: right interface vectors, sampling,
// log-probabilities, the exact gradient of the mean negative log-likelihood, Adam steps and
// quantized index maps, in float32 (as the JAX reference of PROTES computes).
// `src/core/tt_reference.ts` states the same operations in plain TypeScript (and documents the
// layout); `src/core/tt.ts` owns the memory.
//
// Samples are processed in groups of four, one per f32x4 lane; per-sample vectors (the left
// state q) are stored structure-of-arrays, q[a * mPad + s], so a group is one v128 load.
// Core k is stored by right index: entry (a, i, b) at b P + a n_k + i, with rows of
// P = r_{k-1} n_k rounded up to whole vectors (zero padding), so that contractions with z_k
// run four entries at a time and a binary mode's two slices sit side by side.
// Sampling and log-probabilities perform, in every lane, the reference's float32 arithmetic in
// the reference's order, so samples are bit-identical to it. The gradient sums over samples
// lane-wise and then across lanes, so it agrees with the reference to rounding.

// A model's header, written by src/core/tt.ts: pointers into this module's memory.
@unmanaged
class Model {
  d: i32;
  n: usize; // i32[d] mode sizes
  ranks: usize; // i32[d + 1]
  coreOff: usize; // i32[d + 1] offsets of the cores (in f32 entries; r_k P_k each)
  zOff: usize; // i32[d + 1] offsets of the interface vectors
  wOff: usize; // i32[d + 1] offsets of w_k[a n_k + i] = sum_b G_k[a,i,b] z_k[b] (P_k each)
  cores: usize; // f32 parameters
  z: usize; // f32 interface vectors
  znorm: usize; // f32[d] norms before normalization
  w: usize; // f32 contractions
  grad: usize; // f32 gradient (same layout as cores)
  wgrad: usize; // f32 gradient with respect to w (same layout as w)
  adamM: usize; // f32 first moments
  adamV: usize; // f32 second moments
  size: i32; // number of stored parameters, padding included (a multiple of 4)
}

@inline function geti(p: usize, k: i32): i32 {
  return load<i32>(p + (<usize> k << 2));
}
@inline function getf(p: usize, j: i32): f32 {
  return load<f32>(p + (<usize> j << 2));
}
@inline function setf(p: usize, j: i32, v: f32): void {
  store<f32>(p + (<usize> j << 2), v);
}
@inline function f4(p: usize, j: i32): usize {
  return p + (<usize> j << 2);
}
@inline function v4(p: usize, j: i32): usize {
  return p + (<usize> j << 4);
}
@inline function pad4(count: i32): i32 {
  return (count + 3) & ~3;
}
@inline function rowLen(rl: i32, nk: i32): i32 {
  return (rl * nk + 3) & ~3;
}
@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}
/** The lane sums of four vectors, [sum v0, sum v1, sum v2, sum v3]. */
@inline function sum4x4(v0: v128, v1: v128, v2: v128, v3: v128): v128 {
  const s01 = f32x4.add(i32x4.shuffle(v0, v1, 0, 4, 1, 5), i32x4.shuffle(v0, v1, 2, 6, 3, 7));
  const s23 = f32x4.add(i32x4.shuffle(v2, v3, 0, 4, 1, 5), i32x4.shuffle(v2, v3, 2, 6, 3, 7));
  return f32x4.add(i32x4.shuffle(s01, s23, 0, 1, 4, 5), i32x4.shuffle(s01, s23, 2, 3, 6, 7));
}
/** dst[e] += lane sums of acc[e], for e < count (a multiple of 4); v128 accumulators. */
function reduceLanes(acc: usize, dst: usize, count: i32): void {
  for (let e = 0; e < count; e += 4) {
    const v = sum4x4(v128.load(v4(acc, e)), v128.load(v4(acc, e + 1)), v128.load(v4(acc, e + 2)), v128.load(v4(acc, e + 3)));
    v128.store(f4(dst, e), f32x4.add(v, v128.load(f4(dst, e))));
  }
}

const LANES = memory.data(32); // lane scratch of the rare paths

/** The first free byte after this module's static data. */
export function heapBase(): usize {
  return __heap_base;
}

// ---- interface vectors ----

/** Computes the contractions w_k, z_k (normalized) and their norms, from the right. */
export function interfaces(m: Model): void {
  const d = m.d;
  setf(m.z, geti(m.zOff, d - 1), 1.0);
  setf(m.znorm, d - 1, 1.0);
  for (let k = d - 1; k >= 0; k--) {
    const rl = geti(m.ranks, k), rr = geti(m.ranks, k + 1), nk = geti(m.n, k), len = rowLen(rl, nk);
    const core = m.cores + (<usize>geti(m.coreOff, k) << 2), zk = m.z + (<usize>geti(m.zOff, k) << 2);
    const wk = m.w + (<usize>geti(m.wOff, k) << 2), rowBytes = <usize>len << 2;
    // w_k[e] = sum_b z_k[b] G_k[b][e], four entries at a time.
    for (let e = 0; e < len; e += 4) {
      let acc = f32x4.splat(0.0);
      let p = core + (<usize>e << 2);
      for (let b = 0; b < rr; b++) {
        acc = f32x4.add(acc, f32x4.mul(v128.load32_splat(zk + (<usize>b << 2)), v128.load(p)));
        p += rowBytes;
      }
      v128.store(f4(wk, e), acc);
    }
    if (k == 0) break;
    // z_{k-1} = normalize(sum_i w_k[a, i]).
    const out = m.z + (<usize>geti(m.zOff, k - 1) << 2);
    let ss: f32 = 0.0;
    for (let a = 0; a < rl; a++) {
      let s: f32 = 0.0;
      for (let i = 0; i < nk; i++) s += getf(wk, a * nk + i);
      setf(out, a, s);
      ss += s * s;
    }
    const nrm = Mathf.sqrt(ss);
    for (let a = 0; a < rl; a++) setf(out, a, getf(out, a) / nrm);
    setf(m.znorm, k - 1, nrm);
  }
}

// ---- the left-to-right recursion on groups of four samples ----

/**
 * a_i = q . w[:, i] of a group (v128 per i, stored signed at g with stride gStride bytes);
 * returns sum_i |a_i|. w points at the core's contractions w_k (rl x nk).
 */
@inline
function weightsGroup(w: usize, rl: i32, nk: i32, qs: usize, qStride: usize, g: usize, gStride: usize): v128 {
  let total = f32x4.splat(0.0);
  let gi = g;
  const aBytes = <usize>nk << 2;
  for (let i = 0; i < nk; i++) {
    let acc = f32x4.splat(0.0);
    let qa = qs, wi = w + (<usize>i << 2);
    for (let a = 0; a < rl; a++) {
      acc = f32x4.add(acc, f32x4.mul(v128.load(qa), v128.load32_splat(wi)));
      wi += aBytes;
      qa += qStride;
    }
    v128.store(gi, acc);
    total = f32x4.add(total, f32x4.abs(acc));
    gi += gStride;
  }
  return total;
}

/**
 * weightsGroup on every group (a_i at g, [i][s]; sums at tot, [s]), two groups at a time on
 * binary cores (four independent chains sharing the loads of w).
 */
function weightsAll(w: usize, rl: i32, nk: i32, q: usize, qStride: usize, g: usize, tot: usize, count: i32): void {
  let s = 0;
  if (nk == 2) {
    for (; s + 4 < count; s += 8) {
      const so = <usize>s << 2;
      let a0 = f32x4.splat(0.0), a1 = a0, b0 = a0, b1 = a0, qa = q + so, wa = w;
      for (let a = 0; a < rl; a++) {
        const w0 = v128.load32_splat(wa), w1 = v128.load32_splat(wa, 4);
        const qA = v128.load(qa), qB = v128.load(qa, 16);
        a0 = f32x4.add(a0, f32x4.mul(qA, w0));
        a1 = f32x4.add(a1, f32x4.mul(qA, w1));
        b0 = f32x4.add(b0, f32x4.mul(qB, w0));
        b1 = f32x4.add(b1, f32x4.mul(qB, w1));
        wa += 8;
        qa += qStride;
      }
      const gs = g + so;
      v128.store(gs, a0);
      v128.store(gs + qStride, a1);
      v128.store(gs, b0, 16);
      v128.store(gs + qStride, b1, 16);
      const z = f32x4.splat(0.0);
      v128.store(tot + so, f32x4.add(f32x4.add(z, f32x4.abs(a0)), f32x4.abs(a1)));
      v128.store(tot + so, f32x4.add(f32x4.add(z, f32x4.abs(b0)), f32x4.abs(b1)), 16);
    }
  }
  for (; s < count; s += 4) {
    const so = <usize>s << 2;
    v128.store(tot + so, weightsGroup(w, rl, nk, q + so, qStride, g + so, qStride));
  }
}

/**
 * The reference's pick rule (`pickIndex`) in four lanes: the first i whose cumulative weight
 * exceeds u total; else the last positive weight; else floor(u n).
 */
function pickGroup(g: usize, gStride: usize, nk: i32, total: v128, u: v128): v128 {
  const target = f32x4.mul(u, total), zero = f32x4.splat(0.0), none = i32x4.splat(-1);
  let cum = zero, chosen = none, last = none, gi = g;
  if (nk == 2) {
    // The same rule unrolled (the second cumulative weight is the total, bit for bit).
    const w0 = f32x4.abs(v128.load(g)), w1 = f32x4.abs(v128.load(g + gStride)), one = i32x4.splat(1);
    last = v128.bitselect(one, v128.not(f32x4.gt(w0, zero)), f32x4.gt(w1, zero));
    chosen = v128.bitselect(zero, v128.bitselect(one, last, f32x4.lt(target, total)), f32x4.lt(target, w0));
    return i32x4.all_true(i32x4.ne(chosen, none)) ? chosen : pickFallback(chosen, u, nk);
  }
  for (let i = 0; i < nk; i++) {
    const wi = f32x4.abs(v128.load(gi));
    cum = f32x4.add(cum, wi);
    const iv = i32x4.splat(i);
    last = v128.bitselect(iv, last, f32x4.gt(wi, zero));
    chosen = v128.bitselect(iv, chosen, v128.and(f32x4.lt(target, cum), i32x4.eq(chosen, none)));
    gi += gStride;
  }
  chosen = v128.bitselect(last, chosen, i32x4.eq(chosen, none));
  return i32x4.all_true(i32x4.ne(chosen, none)) ? chosen : pickFallback(chosen, u, nk);
}

/** Lanes whose weights are all zero (a degenerate train, chosen -1) take floor(u n). */
function pickFallback(chosen: v128, u: v128, nk: i32): v128 {
  v128.store(LANES, chosen);
  v128.store(LANES, u, 16);
  for (let l = 0; l < 4; l++) {
    if (load<i32>(f4(LANES, l)) < 0) {
      const j = <i32> Math.floor(<f64> load<f32>(f4(LANES, l + 4)) * <f64> nk);
      store<i32>(f4(LANES, l), j < nk - 1 ? j : nk - 1);
    }
  }
  return v128.load(LANES);
}

/**
 * The coefficient G[a, i_lane, b] of every lane, p pointing at G[a, 0, b]. Binary modes pick
 * each lane's entry of the pair with a byte shuffle (sel); other sizes gather lane by lane
 * (o0..o3 = 4 i_lane).
 */
@inline
function coef(binary: bool, p: usize, sel: v128, o0: usize, o1: usize, o2: usize, o3: usize): v128 {
  if (binary) return i8x16.relaxed_swizzle(v128.load64_splat(p), sel); // indices < 16: exact
  return v128.load32_lane(p + o3, v128.load32_lane(p + o2, v128.load32_lane(p + o1, v128.load32_splat(p + o0), 1), 2), 3);
}
/** The byte shuffle that gives lane l the 32-bit entry idx_l of a pair (binary modes). */
@inline function pairSelector(idx: v128): v128 {
  return i32x4.add(v128.and(i32x4.eq(idx, i32x4.splat(1)), i32x4.splat(0x04040404)), i32x4.splat(0x03020100));
}

/**
 * q' = normalize(q G[:, i_lane, :]) for a group; stores 1 / |q G| at invOut if nonzero.
 * core points at G_k (rl x nk x rr).
 */
@inline
function advanceBody(
  binary: bool, core: usize, rl: i32, nk: i32, rr: i32, qs: usize, qn: usize, qStride: usize, idx: v128,
  invOut: usize,
): void {
  const rowBytes = <usize>rowLen(rl, nk) << 2, aBytes = <usize>nk << 2;
  const sel = pairSelector(idx);
  const o0 = <usize>i32x4.extract_lane(idx, 0) << 2, o1 = <usize>i32x4.extract_lane(idx, 1) << 2;
  const o2 = <usize>i32x4.extract_lane(idx, 2) << 2, o3 = <usize>i32x4.extract_lane(idx, 3) << 2;
  let ss = f32x4.splat(0.0);
  let out = qn, row = core;
  const rl4 = rl & ~3;
  for (let b = 0; b < rr; b++) {
    let acc = f32x4.splat(0.0);
    let p = row, qa = qs, a = 0;
    for (; a < rl4; a += 4) { // unrolled: the same additions in the same order
      acc = f32x4.add(acc, f32x4.mul(v128.load(qa), coef(binary, p, sel, o0, o1, o2, o3)));
      acc = f32x4.add(acc, f32x4.mul(v128.load(qa + qStride), coef(binary, p + aBytes, sel, o0, o1, o2, o3)));
      acc = f32x4.add(acc, f32x4.mul(v128.load(qa + 2 * qStride), coef(binary, p + 2 * aBytes, sel, o0, o1, o2, o3)));
      acc = f32x4.add(acc, f32x4.mul(v128.load(qa + 3 * qStride), coef(binary, p + 3 * aBytes, sel, o0, o1, o2, o3)));
      p += aBytes << 2;
      qa += qStride << 2;
    }
    for (; a < rl; a++) {
      acc = f32x4.add(acc, f32x4.mul(v128.load(qa), coef(binary, p, sel, o0, o1, o2, o3)));
      p += aBytes;
      qa += qStride;
    }
    row += rowBytes;
    v128.store(out, acc);
    ss = f32x4.add(ss, f32x4.mul(acc, acc));
    out += qStride;
  }
  const inv = f32x4.div(f32x4.splat(1.0), f32x4.sqrt(ss));
  out = qn;
  for (let b = 0; b < rr; b++) {
    v128.store(out, f32x4.mul(v128.load(out), inv));
    out += qStride;
  }
  if (invOut) v128.store(invOut, inv);
}

function advanceGroup(
  core: usize, rl: i32, nk: i32, rr: i32, qs: usize, qn: usize, qStride: usize, idx: v128, invOut: usize,
): void {
  if (nk == 2) advanceBody(true, core, rl, nk, rr, qs, qn, qStride, idx, invOut);
  else advanceBody(false, core, rl, nk, rr, qs, qn, qStride, idx, invOut);
}

/**
 * advanceGroup for two adjacent groups of a binary core (qs and qs + 16): two independent
 * chains of operations share the coefficient loads. invOut, if nonzero, takes both groups.
 */
function advanceTwoBinary(
  core: usize, rl: i32, rr: i32, qs: usize, qn: usize, qStride: usize, idxA: v128, idxB: v128, invOut: usize,
): void {
  const rowBytes = <usize>rowLen(rl, 2) << 2;
  const selA = pairSelector(idxA), selB = pairSelector(idxB);
  let ssA = f32x4.splat(0.0), ssB = ssA;
  let out = qn, row = core;
  for (let b = 0; b < rr; b++) {
    let accA = f32x4.splat(0.0), accB = accA;
    let p = row, qa = qs;
    for (let a = 0; a < rl; a++) {
      const pair = v128.load64_splat(p);
      accA = f32x4.add(accA, f32x4.mul(v128.load(qa), i8x16.relaxed_swizzle(pair, selA)));
      accB = f32x4.add(accB, f32x4.mul(v128.load(qa, 16), i8x16.relaxed_swizzle(pair, selB)));
      p += 8;
      qa += qStride;
    }
    v128.store(out, accA);
    v128.store(out, accB, 16);
    ssA = f32x4.add(ssA, f32x4.mul(accA, accA));
    ssB = f32x4.add(ssB, f32x4.mul(accB, accB));
    out += qStride;
    row += rowBytes;
  }
  const one = f32x4.splat(1.0);
  const invA = f32x4.div(one, f32x4.sqrt(ssA)), invB = f32x4.div(one, f32x4.sqrt(ssB));
  out = qn;
  for (let b = 0; b < rr; b++) {
    v128.store(out, f32x4.mul(v128.load(out), invA));
    v128.store(out, f32x4.mul(v128.load(out, 16), invB), 16);
    out += qStride;
  }
  if (invOut) {
    v128.store(invOut, invA);
    v128.store(invOut, invB, 16);
  }
}

/** advanceGroup on every group, two at a time on binary cores; indices at iv, [s]. */
function advanceAll(
  core: usize, rl: i32, nk: i32, rr: i32, q: usize, qn: usize, qStride: usize, iv: usize, invOut: usize,
  count: i32,
): void {
  let s = 0;
  if (nk == 2) {
    for (; s + 4 < count; s += 8) {
      const so = <usize>s << 2;
      advanceTwoBinary(core, rl, rr, q + so, qn + so, qStride, v128.load(iv + so), v128.load(iv + so, 16), invOut ? invOut + so : 0);
    }
  }
  for (; s < count; s += 4) {
    const so = <usize>s << 2;
    advanceGroup(core, rl, nk, rr, q + so, qn + so, qStride, v128.load(iv + so), invOut ? invOut + so : 0);
  }
}

/** Zeroes `count` v128 at p (a loop: memory.fill is a call per use). */
@inline function zero4(p: usize, count: i32): void {
  const z = f32x4.splat(0.0);
  for (let j = 0; j < count; j++) v128.store(v4(p, j), z);
}

function initLeft(q: usize, mPad: i32): void {
  const one = f32x4.splat(1.0);
  for (let s = 0; s < mPad; s += 4) v128.store(f4(q, s), one);
}

/** Bytes of work memory for `sample` and `logProb` of `count` samples. */
export function sampleWork(count: i32, rmax: i32, nmax: i32): i32 {
  return ((2 * rmax + nmax + 3) * pad4(count)) << 2;
}

/**
 * Draws `count` multi-indices into out (i32, sample-major). `interfaces` must have run.
 * Sample s takes its uniforms from lane s mod 4 of four xoshiro128** generators whose states
 * are at `seed` (word j of lane l at seed + 16 j + 4 l); the generators advance once per core
 * and group of four samples, core by core, group by group. u = (word >> 8) 2^-24.
 * Each core runs in three passes over the groups (weights, picks, steps), so that the
 * processor overlaps the groups' independent chains of dependent operations.
 */
export function sample(m: Model, count: i32, out: usize, work: usize, rmax: i32, nmax: i32, seed: usize): void {
  const d = m.d, mPad = pad4(count), nPtr = m.n, ranks = m.ranks, coreOff = m.coreOff;
  const wOff = m.wOff, cores = m.cores, w = m.w;
  const qStride = <usize>mPad << 2;
  let q = work, qn = work + (<usize>(rmax * mPad) << 2);
  const g = qn + (<usize>(rmax * mPad) << 2); // a_i, [i][s]
  const us = g + (<usize>(nmax * mPad) << 2), tot = us + qStride, iv = tot + qStride; // [s]
  let s0 = v128.load(seed), s1 = v128.load(seed, 16), s2 = v128.load(seed, 32), s3 = v128.load(seed, 48);
  const scale = f32x4.splat(5.9604644775390625e-8); // 2^-24
  initLeft(q, mPad);
  for (let k = 0; k < d; k++) {
    const nk = geti(nPtr, k), rl = geti(ranks, k), rr = geti(ranks, k + 1);
    const wk = w + (<usize>geti(wOff, k) << 2), core = cores + (<usize>geti(coreOff, k) << 2);
    for (let s = 0; s < count; s += 4) {
      // xoshiro128** in four lanes.
      const x = i32x4.mul(s1, i32x4.splat(5));
      const word = i32x4.mul(v128.or(i32x4.shl(x, 7), i32x4.shr_u(x, 25)), i32x4.splat(9));
      const t = i32x4.shl(s1, 9);
      s2 = v128.xor(s2, s0);
      s3 = v128.xor(s3, s1);
      s1 = v128.xor(s1, s2);
      s0 = v128.xor(s0, s3);
      s2 = v128.xor(s2, t);
      s3 = v128.or(i32x4.shl(s3, 11), i32x4.shr_u(s3, 21));
      v128.store(us + (<usize>s << 2), f32x4.mul(f32x4.convert_i32x4_s(i32x4.shr_u(word, 8)), scale));
    }
    weightsAll(wk, rl, nk, q, qStride, g, tot, count);
    for (let s = 0; s < count; s += 4) {
      const so = <usize>s << 2;
      const idx = pickGroup(g + so, qStride, nk, v128.load(tot + so), v128.load(us + so));
      v128.store(iv + so, idx);
      let o = out + (<usize>(s * d + k) << 2);
      const od = <usize>d << 2;
      store<i32>(o, i32x4.extract_lane(idx, 0));
      if (s + 1 < count) store<i32>(o += od, i32x4.extract_lane(idx, 1));
      if (s + 2 < count) store<i32>(o += od, i32x4.extract_lane(idx, 2));
      if (s + 3 < count) store<i32>(o += od, i32x4.extract_lane(idx, 3));
    }
    advanceAll(core, rl, nk, rr, q, qn, qStride, iv, 0, count);
    const tmp = q;
    q = qn;
    qn = tmp;
  }
}

/** The indices of core k for the group at s (the last sample repeats into padding lanes). */
@inline function groupIndices(idx: usize, d: i32, s: i32, k: i32, count: i32): v128 {
  const last = count - 1;
  let v = i32x4.splat(load<i32>(idx + (<usize>(s * d + k) << 2)));
  v = i32x4.replace_lane(v, 1, load<i32>(idx + (<usize>((s + 1 < last ? s + 1 : last) * d + k) << 2)));
  v = i32x4.replace_lane(v, 2, load<i32>(idx + (<usize>((s + 2 < last ? s + 2 : last) * d + k) << 2)));
  return i32x4.replace_lane(v, 3, load<i32>(idx + (<usize>((s + 3 < last ? s + 3 : last) * d + k) << 2)));
}

/** Log-probabilities of `count` multi-indices (by the sampling recursion) into out (f64). */
export function logProb(m: Model, idx: usize, count: i32, out: usize, work: usize, rmax: i32, nmax: i32): void {
  const d = m.d, mPad = pad4(count), nPtr = m.n, ranks = m.ranks, coreOff = m.coreOff;
  const wOff = m.wOff, cores = m.cores, w = m.w;
  const qStride = <usize>mPad << 2;
  let q = work, qn = work + (<usize>(rmax * mPad) << 2);
  const g = qn + (<usize>(rmax * mPad) << 2);
  initLeft(q, mPad);
  for (let s = 0; s < count; s++) store<f64>(out + (<usize>s << 3), 0.0);
  for (let k = 0; k < d; k++) {
    const nk = geti(nPtr, k), rl = geti(ranks, k), rr = geti(ranks, k + 1);
    const wk = w + (<usize>geti(wOff, k) << 2), core = cores + (<usize>geti(coreOff, k) << 2);
    for (let s = 0; s < count; s += 4) {
      const qs = q + (<usize>s << 2);
      const total = weightsGroup(wk, rl, nk, qs, qStride, g, 16);
      const iv = groupIndices(idx, d, s, k, count);
      v128.store(LANES, iv);
      v128.store(LANES, total, 16);
      for (let l = 0; l < 4 && s + l < count; l++) {
        const gi = Math.abs(<f64> load<f32>(g + (<usize>load<i32>(f4(LANES, l)) << 4) + (<usize>l << 2)));
        const o = out + (<usize>(s + l) << 3);
        store<f64>(o, load<f64>(o) + Math.log(gi / <f64> load<f32>(f4(LANES, l + 4))));
      }
      advanceGroup(core, rl, nk, rr, qs, qn + (<usize>s << 2), qStride, iv, 0);
    }
    const tmp = q;
    q = qn;
    qn = tmp;
  }
}

// ---- the gradient ----

/** Bytes of work memory for `gradient` of `count` samples. */
export function gradientWork(count: i32, d: i32, rmax: i32, nmax: i32): i32 {
  const mPad = pad4(count), len = rowLen(rmax, nmax);
  return ((d + 3) * rmax * mPad + (d + 1) * mPad * (nmax + 3) + 5 * len + 2 * rmax) << 2;
}

/**
 * The path term of one group: dG[a, i_lane, b] += q[a] gv[b] (each active lane added into grad)
 * and gq[a] = sum_b G[a, i_lane, b] gv[b].
 */
@inline
function pathBody(
  binary: bool, core: usize, gcore: usize, rl: i32, nk: i32, rr: i32, q: usize, gq: usize, qStride: usize,
  gv: usize, idx: v128, active: i32,
): void {
  const rowBytes = <usize>rowLen(rl, nk) << 2, aBytes = <usize>nk << 2, sel = pairSelector(idx);
  const o0 = <usize>i32x4.extract_lane(idx, 0) << 2, o1 = <usize>i32x4.extract_lane(idx, 1) << 2;
  const o2 = <usize>i32x4.extract_lane(idx, 2) << 2, o3 = <usize>i32x4.extract_lane(idx, 3) << 2;
  let qa = q, ga = gq, col = <usize>0;
  for (let a = 0; a < rl; a++) {
    const qv = v128.load(qa);
    let t = f32x4.splat(0.0);
    let off = col, gp = gv;
    for (let b = 0; b < rr; b++) {
      const gb = v128.load(gp);
      gp += qStride;
      t = f32x4.add(t, f32x4.mul(coef(binary, core + off, sel, o0, o1, o2, o3), gb));
      const prod = f32x4.mul(qv, gb), dst = gcore + off;
      store<f32>(dst + o0, load<f32>(dst + o0) + f32x4.extract_lane(prod, 0));
      if (active > 1) store<f32>(dst + o1, load<f32>(dst + o1) + f32x4.extract_lane(prod, 1));
      if (active > 2) store<f32>(dst + o2, load<f32>(dst + o2) + f32x4.extract_lane(prod, 2));
      if (active > 3) store<f32>(dst + o3, load<f32>(dst + o3) + f32x4.extract_lane(prod, 3));
      off += rowBytes;
    }
    v128.store(ga, t);
    qa += qStride;
    ga += qStride;
    col += aBytes;
  }
}

/**
 * The path and weight terms of two adjacent groups of a binary core (pathBody and the weight
 * step for both): rows a and a + 1 at once, so that the four entries (a, 0..1, b), (a + 1, 0..1,
 * b), adjacent in the core, and likewise (a, 0..1), (a + 1, 0..1) of dL/dw, are summed over lanes
 * and both groups in registers and added straight into the gradients. ca: dL/da_j, [j][s].
 */
function pathPairBinary(
  core: usize, gcore: usize, w: usize, wg: usize, rl: i32, rr: i32, q: usize, gq: usize,
  qStride: usize, gv: usize, ca: usize, idxA: v128, idxB: v128,
): void {
  const cA0 = v128.load(ca), cB0 = v128.load(ca, 16);
  const cA1 = v128.load(ca + qStride), cB1 = v128.load(ca + qStride, 16);
  const rowBytes = <usize>rowLen(rl, 2) << 2, zero = f32x4.splat(0.0);
  const oddA = i32x4.eq(idxA, i32x4.splat(1)), oddB = i32x4.eq(idxB, i32x4.splat(1));
  const selA = pairSelector(idxA), selB = pairSelector(idxB), next = i32x4.splat(0x08080808);
  const selA1 = i32x4.add(selA, next), selB1 = i32x4.add(selB, next);
  for (let a = 0; a < rl; a += 2) {
    const qa = q + <usize>a * qStride, second = a + 1 < rl;
    const qA0 = v128.load(qa), qB0 = v128.load(qa, 16);
    const qA1 = second ? v128.load(qa + qStride) : zero, qB1 = second ? v128.load(qa + qStride, 16) : zero;
    let tA0 = zero, tB0 = zero, tA1 = zero, tB1 = zero;
    let off = <usize>a << 3, gp = gv;
    for (let b = 0; b < rr; b++) {
      const gA = v128.load(gp), gB = v128.load(gp, 16), quad = v128.load(core + off);
      tA0 = f32x4.add(tA0, f32x4.mul(i8x16.relaxed_swizzle(quad, selA), gA));
      tB0 = f32x4.add(tB0, f32x4.mul(i8x16.relaxed_swizzle(quad, selB), gB));
      tA1 = f32x4.add(tA1, f32x4.mul(i8x16.relaxed_swizzle(quad, selA1), gA));
      tB1 = f32x4.add(tB1, f32x4.mul(i8x16.relaxed_swizzle(quad, selB1), gB));
      const pA0 = f32x4.mul(qA0, gA), pB0 = f32x4.mul(qB0, gB);
      const pA1 = f32x4.mul(qA1, gA), pB1 = f32x4.mul(qB1, gB);
      v128.store(gcore + off, f32x4.add(v128.load(gcore + off), sum4x4(
        f32x4.add(v128.andnot(pA0, oddA), v128.andnot(pB0, oddB)),
        f32x4.add(v128.and(pA0, oddA), v128.and(pB0, oddB)),
        f32x4.add(v128.andnot(pA1, oddA), v128.andnot(pB1, oddB)),
        f32x4.add(v128.and(pA1, oddA), v128.and(pB1, oddB)),
      )));
      off += rowBytes;
      gp += qStride;
    }
    // The weight term: gq[a] += sum_j ca_j w[a, j]; dL/dw[a, j] = sum of ca_j q[a].
    const wa = w + (<usize>a << 3);
    const w00 = v128.load32_splat(wa), w01 = v128.load32_splat(wa, 4);
    const w10 = v128.load32_splat(wa, 8), w11 = v128.load32_splat(wa, 12); // padding if !second
    const ga = gq + <usize>a * qStride;
    v128.store(ga, f32x4.add(f32x4.add(tA0, f32x4.mul(cA0, w00)), f32x4.mul(cA1, w01)));
    v128.store(ga, f32x4.add(f32x4.add(tB0, f32x4.mul(cB0, w00)), f32x4.mul(cB1, w01)), 16);
    if (second) {
      v128.store(ga + qStride, f32x4.add(f32x4.add(tA1, f32x4.mul(cA0, w10)), f32x4.mul(cA1, w11)));
      v128.store(ga + qStride, f32x4.add(f32x4.add(tB1, f32x4.mul(cB0, w10)), f32x4.mul(cB1, w11)), 16);
    }
    const wga = wg + (<usize>a << 3);
    v128.store(wga, f32x4.add(v128.load(wga), sum4x4(
      f32x4.add(f32x4.mul(cA0, qA0), f32x4.mul(cB0, qB0)),
      f32x4.add(f32x4.mul(cA1, qA0), f32x4.mul(cB1, qB0)),
      f32x4.add(f32x4.mul(cA0, qA1), f32x4.mul(cB0, qB1)),
      f32x4.add(f32x4.mul(cA1, qA1), f32x4.mul(cB1, qB1)),
    )));
  }
}

/**
 * The gradient of the loss mean_s -log p(idx_s) into m.grad (overwritten), through the chosen
 * path, the conditional weights and the interface vectors. `interfaces` must have run.
 * 1. Forward on groups, keeping every core's input q, 1 / |q G| and the weights a_j.
 * 2. Backward along the paths, core by core from the right: the path term into the cores, and
 *    the weight term summed over samples into wgrad (dL/dw_k[a, j]).
 * 3. From the left, core by core: w_k = G_k z_k and z_{k-1} = normalize(sum_j w_k[:, j]) give
 *    dG_k[a,j,b] += T[a,j] z_k[b] with T[a,j] = dL/dw_k[a,j] + dL/du_{k-1}[a], and
 *    dL/dz_k = sum_{a,j} T[a,j] G_k[a,j,:].
 */
export function gradient(m: Model, idx: usize, count: i32, work: usize, rmax: i32, nmax: i32): void {
  const d = m.d, mPad = pad4(count);
  const nPtr = m.n, ranks = m.ranks, coreOff = m.coreOff, zOff = m.zOff, wOff = m.wOff;
  const cores = m.cores, w = m.w, z = m.z, grad = m.grad, wgrad = m.wgrad;
  const qStride = <usize>mPad << 2, qBlock = <usize>(rmax * mPad) << 2, lenMax = rowLen(rmax, nmax);
  const qs = work; // q input of core k at qs + k qBlock
  const inv = qs + <usize>(d + 1) * qBlock; // [k][s]
  const av = inv + (<usize>(d * mPad) << 2); // a_j, [k][j][s]
  const tot = av + (<usize>(d * nmax * mPad) << 2); // [k][s]
  const iv = tot + (<usize>(d * mPad) << 2); // indices, [k][s]
  const gq = iv + (<usize>(d * mPad) << 2); // dL/dq_out, [b][s]
  const gv = gq + qBlock; // dL/dv, [b][s]
  const accW = gv + qBlock; // v128[lenMax]
  const tt = accW + (<usize>lenMax << 4); // f32[lenMax]
  const dz = tt + (<usize>lenMax << 2), du = dz + (<usize>rmax << 2); // f32[rmax]
  const cav = du + (<usize>rmax << 2); // dL/da_j of the core, [j][s]
  const avStride = <usize>(nmax * mPad) << 2;
  // 1. Forward.
  initLeft(qs, mPad);
  for (let k = 0; k < d; k++) {
    const nk = geti(nPtr, k), rl = geti(ranks, k), rr = geti(ranks, k + 1);
    const wk = w + (<usize>geti(wOff, k) << 2), core = cores + (<usize>geti(coreOff, k) << 2);
    const q = qs + <usize>k * qBlock, row = <usize>(k * mPad) << 2;
    weightsAll(wk, rl, nk, q, qStride, av + <usize>k * avStride, tot + row, count);
    for (let s = 0; s < count; s += 4) {
      v128.store(iv + row + (<usize>s << 2), groupIndices(idx, d, s, k, count));
    }
    advanceAll(core, rl, nk, rr, q, q + qBlock, qStride, iv + row, inv + row, count);
  }
  // 2. Backward along the paths.
  memory.fill(grad, 0, <usize>m.size << 2);
  memory.fill(gq, 0, qBlock);
  const c = f32x4.splat(-1.0 / <f32>count), zero = f32x4.splat(0.0), one = f32x4.splat(1.0);
  const lanes = i32x4(0, 1, 2, 3);
  for (let k = d - 1; k >= 0; k--) {
    const rl = geti(ranks, k), rr = geti(ranks, k + 1), nk = geti(nPtr, k), len = rowLen(rl, nk);
    const core = cores + (<usize>geti(coreOff, k) << 2), gcore = grad + (<usize>geti(coreOff, k) << 2);
    const wk = w + (<usize>geti(wOff, k) << 2), aBytes = <usize>nk << 2;
    const binary = nk == 2, wg = wgrad + (<usize>geti(wOff, k) << 2);
    zero4(wg, len >> 2);
    const q = qs + <usize>k * qBlock, qOut = q + qBlock, row = <usize>(k * mPad) << 2;
    // Three passes over the groups (so that the processor overlaps their chains).
    for (let s = 0; s < count; s += 4) {
      const so = <usize>s << 2;
      // q_out = v / |v|: dL/dv = (gq - q_out (q_out . gq)) / |v|.
      let proj = zero;
      for (let b = 0; b < rr; b++) {
        const o = <usize>b * qStride + so;
        proj = f32x4.add(proj, f32x4.mul(v128.load(qOut + o), v128.load(gq + o)));
      }
      const vi = v128.load(inv + row + so);
      for (let b = 0; b < rr; b++) {
        const o = <usize>b * qStride + so;
        v128.store(gv + o, f32x4.mul(f32x4.sub(v128.load(gq + o), f32x4.mul(v128.load(qOut + o), proj)), vi));
      }
    }
    // ca_j = dL/da_j = c sign(a_j) (rest / (|a_i| total) if j = i, else -1 / total), with
    // rest = sum_{j != i} |a_j| summed directly: 1/|a_i| - 1/total would cancel to rounding
    // noise when p_i is near 1 (and Adam would amplify that noise).
    for (let s = 0; s < count; s += 4) {
      const so = <usize>s << 2, ix = v128.load(iv + row + so);
      const cv = v128.and(c, i32x4.lt_s(i32x4.add(lanes, i32x4.splat(s)), i32x4.splat(count)));
      const rt = f32x4.div(one, v128.load(tot + row + so));
      const a0 = av + <usize>k * avStride + so;
      let rest = zero, ap = a0;
      for (let j = 0; j < nk; j++) {
        rest = f32x4.add(rest, v128.andnot(f32x4.abs(v128.load(ap)), i32x4.eq(ix, i32x4.splat(j))));
        ap += qStride;
      }
      const ownTerm = f32x4.mul(rest, rt);
      ap = a0;
      for (let j = 0; j < nk; j++) {
        const aj = v128.load(ap);
        const sg = f32x4.sub(v128.and(one, f32x4.gt(aj, zero)), v128.and(one, f32x4.lt(aj, zero)));
        const t = v128.bitselect(f32x4.div(ownTerm, f32x4.abs(aj)), f32x4.neg(rt), i32x4.eq(ix, i32x4.splat(j)));
        v128.store(cav + <usize>j * qStride + so, f32x4.mul(cv, f32x4.mul(sg, t)));
        ap += qStride;
      }
    }
    // v = q G[:, i, :]: the path term, and gq <- G[:, i, :] gv; then the weight term,
    // gq[a] += sum_j ca_j w[a, j] and dL/dw[a, j] += sum over samples of ca_j q[a]. Binary cores
    // take their groups in pairs, both terms at once; other groups one by one.
    let s = 0;
    if (binary) {
      for (; s + 4 < count; s += 8) {
        const so = <usize>s << 2;
        pathPairBinary(
          core, gcore, wk, wg, rl, rr, q + so, gq + so, qStride, gv + so, cav + so,
          v128.load(iv + row + so), v128.load(iv + row + so, 16),
        );
      }
    }
    const singles = s;
    for (; s < count; s += 4) {
      const so = <usize>s << 2, ix = v128.load(iv + row + so), active = count - s;
      if (binary) pathBody(true, core, gcore, rl, nk, rr, q + so, gq + so, qStride, gv + so, ix, active);
      else pathBody(false, core, gcore, rl, nk, rr, q + so, gq + so, qStride, gv + so, ix, active);
    }
    if (singles < count) {
      zero4(accW, len);
      for (let s = singles; s < count; s += 4) {
        const so = <usize>s << 2;
        let cp = cav + so, wj = wk, accj = accW;
        for (let j = 0; j < nk; j++) {
          const ca = v128.load(cp);
          let qa = q + so, ga = gq + so, wp = wj, acc = accj;
          for (let a = 0; a < rl; a++) {
            v128.store(ga, f32x4.add(v128.load(ga), f32x4.mul(ca, v128.load32_splat(wp))));
            v128.store(acc, f32x4.add(v128.load(acc), f32x4.mul(ca, v128.load(qa))));
            wp += aBytes;
            acc += aBytes << 2;
            qa += qStride;
            ga += qStride;
          }
          cp += qStride;
          wj += 4;
          accj += 16;
        }
      }
      reduceLanes(accW, wg, len);
    }
  }
  // 3. Through the contractions w_k and the interface vectors, from the left.
  for (let k = 0; k < d; k++) {
    const rl = geti(ranks, k), rr = geti(ranks, k + 1), nk = geti(nPtr, k), len = rowLen(rl, nk);
    const core = cores + (<usize>geti(coreOff, k) << 2), gcore = grad + (<usize>geti(coreOff, k) << 2);
    const zk = z + (<usize>geti(zOff, k) << 2), wg = wgrad + (<usize>geti(wOff, k) << 2);
    if (k > 0) {
      // z_{k-1} = u / |u|: dL/du = (dz - z_{k-1} (z_{k-1} . dz)) / |u|.
      const zp = z + (<usize>geti(zOff, k - 1) << 2), nrm = getf(m.znorm, k - 1);
      let proj: f32 = 0.0;
      for (let a = 0; a < rl; a++) proj += getf(zp, a) * getf(dz, a);
      for (let a = 0; a < rl; a++) setf(du, a, (getf(dz, a) - getf(zp, a) * proj) / nrm);
    } else {
      setf(du, 0, 0.0);
    }
    for (let e = 0; e < len; e++) setf(tt, e, 0.0);
    for (let a = 0; a < rl; a++) {
      for (let j = 0; j < nk; j++) setf(tt, a * nk + j, getf(wg, a * nk + j) + getf(du, a));
    }
    const rowBytes = <usize>len << 2;
    let gp = gcore, cp = core;
    for (let b = 0; b < rr; b++) {
      const zb = v128.load32_splat(zk + (<usize>b << 2));
      let dzb = zero;
      for (let e = 0; e < len; e += 4) {
        const t = v128.load(f4(tt, e)), o = <usize>e << 2;
        v128.store(gp + o, f32x4.add(v128.load(gp + o), f32x4.mul(t, zb)));
        dzb = f32x4.add(dzb, f32x4.mul(t, v128.load(cp + o)));
      }
      setf(dz, b, hsum(dzb));
      gp += rowBytes;
      cp += rowBytes;
    }
  }
}

/**
 * One Adam step on the cores with m.grad: theta -= lrc m / (sqrt(v ic2) + eps), where
 * lrc = lr / (1 - beta1^t) and ic2 = 1 / (1 - beta2^t) (the bias corrections).
 */
export function adam(m: Model, beta1: f32, beta2: f32, eps: f32, lrc: f32, ic2: f32): void {
  const b1 = f32x4.splat(beta1), b2 = f32x4.splat(beta2), ob1 = f32x4.splat(1.0 - beta1);
  const ob2 = f32x4.splat(1.0 - beta2), vlrc = f32x4.splat(lrc), vic2 = f32x4.splat(ic2);
  const veps = f32x4.splat(eps);
  const size = m.size, grad = m.grad, am = m.adamM, av = m.adamV, cores = m.cores;
  for (let j = 0; j < size; j += 4) {
    const gj = v128.load(f4(grad, j));
    const mj = f32x4.add(f32x4.mul(b1, v128.load(f4(am, j))), f32x4.mul(ob1, gj));
    const vj = f32x4.add(f32x4.mul(b2, v128.load(f4(av, j))), f32x4.mul(f32x4.mul(ob2, gj), gj));
    v128.store(f4(am, j), mj);
    v128.store(f4(av, j), vj);
    const step = f32x4.div(f32x4.mul(vlrc, mj), f32x4.add(f32x4.sqrt(f32x4.mul(vj, vic2)), veps));
    v128.store(f4(cores, j), f32x4.sub(v128.load(f4(cores, j)), step));
  }
}

// ---- quantized modes ----

/**
 * Multi-indices over coordinates from digit tuples (little-endian mixed radix): for each of
 * `count` tuples of `dq` digits, coordinate k is sum_j b_j prod_{l<j} digitN_l over its block
 * [offsets[k], offsets[k + 1]).
 */
export function fromDigits(
  digits: usize,
  count: i32,
  dq: i32,
  digitN: usize,
  offsets: usize,
  d: i32,
  out: usize,
): void {
  for (let s = 0; s < count; s++) {
    for (let k = 0; k < d; k++) {
      let v = 0;
      for (let j = geti(offsets, k + 1) - 1; j >= geti(offsets, k); j--) {
        v = v * geti(digitN, j) + geti(digits, s * dq + j);
      }
      store<i32>(out + (<usize> (s * d + k) << 2), v);
    }
  }
}
