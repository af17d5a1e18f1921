// The WASM SIMD core of the tensor-train optimizers: right interface vectors, sampling,
// log-probabilities, the exact gradient of the mean negative log-likelihood, Adam steps and
// quantized index maps, in float32 (as the JAX reference of PROTES computes).
// `src/core/tt_reference.ts` states the same operations in plain TypeScript (and documents the
// layout); `src/core/tt.ts` owns the memory.
//
// Samples are processed in groups of four, one per f32x4 lane; per-sample vectors (the left
// state q) are stored structure-of-arrays, q[a * mPad + s], so a group is one v128 load.
// Sampling and log-probabilities perform, in every lane, the reference's float32 arithmetic in
// the reference's order, so samples are bit-identical to it. The gradient sums over samples
// lane-wise and then across lanes, so it agrees with the reference to rounding.

// A model's header, written by src/core/tt.ts: pointers into this module's memory.
@unmanaged
class Model {
  d: i32;
  n: usize; // i32[d] mode sizes
  ranks: usize; // i32[d + 1]
  coreOff: usize; // i32[d + 1] offsets of the cores (in f32 entries)
  zOff: usize; // i32[d + 1] offsets of the interface vectors
  wOff: usize; // i32[d + 1] offsets of w_k[i][a] = sum_b G_k[a,i,b] z_k[b]
  cores: usize; // f32 parameters
  z: usize; // f32 interface vectors
  znorm: usize; // f32[d] norms before normalization
  w: usize; // f32 contractions
  grad: usize; // f32 gradient (same layout as cores)
  wgrad: usize; // f32 gradient with respect to w (same layout as w)
  adamM: usize; // f32 first moments
  adamV: usize; // f32 second moments
  size: i32; // number of parameters (the arrays above hold it rounded up to 4)
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
@inline function addf(p: usize, j: i32, v: f32): void {
  store<f32>(p + (<usize> j << 2), load<f32>(p + (<usize> j << 2)) + v);
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
@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

const LANES = memory.data(32); // lane scratch of the rare paths

/** The first free byte after this module's static data. */
export function heapBase(): usize {
  return __heap_base;
}

// ---- interface vectors ----

/** Computes z_k (normalized), their norms, and the contractions w_k of every core. */
export function interfaces(m: Model): void {
  const d = m.d;
  setf(m.z, geti(m.zOff, d - 1), 1.0);
  setf(m.znorm, d - 1, 1.0);
  for (let k = d - 1; k >= 1; k--) {
    const rl = geti(m.ranks, k), rr = geti(m.ranks, k + 1), nk = geti(m.n, k);
    const c = geti(m.coreOff, k), zk = geti(m.zOff, k), out = geti(m.zOff, k - 1);
    let ss: f32 = 0.0;
    for (let a = 0; a < rl; a++) {
      let s: f32 = 0.0;
      for (let i = 0; i < nk; i++) {
        const row = c + (a * nk + i) * rr;
        for (let b = 0; b < rr; b++) s += getf(m.cores, row + b) * getf(m.z, zk + b);
      }
      setf(m.z, out + a, s);
      ss += s * s;
    }
    const nrm = Mathf.sqrt(ss);
    for (let a = 0; a < rl; a++) setf(m.z, out + a, getf(m.z, out + a) / nrm);
    setf(m.znorm, k - 1, nrm);
  }
  for (let k = 0; k < d; k++) {
    const rl = geti(m.ranks, k), rr = geti(m.ranks, k + 1), nk = geti(m.n, k);
    const c = geti(m.coreOff, k), zk = geti(m.zOff, k), wk = geti(m.wOff, k);
    for (let i = 0; i < nk; i++) {
      for (let a = 0; a < rl; a++) {
        const row = c + (a * nk + i) * rr;
        let s: f32 = 0.0;
        for (let b = 0; b < rr; b++) s += getf(m.cores, row + b) * getf(m.z, zk + b);
        setf(m.w, wk + i * rl + a, s);
      }
    }
  }
}

// ---- the left-to-right recursion on groups of four samples ----

/**
 * a_i = q . w[i] of a group (v128 per i, stored signed at g with stride gStride bytes);
 * returns sum_i |a_i|. w points at the core's contractions w_k (nk x rl).
 */
@inline
function weightsGroup(w: usize, rl: i32, nk: i32, qs: usize, qStride: usize, g: usize, gStride: usize): v128 {
  let total = f32x4.splat(0.0);
  let wi = w, gi = g;
  for (let i = 0; i < nk; i++) {
    let acc = f32x4.splat(0.0);
    let qa = qs;
    for (let a = 0; a < rl; a++) {
      acc = f32x4.add(acc, f32x4.mul(v128.load(qa), v128.load32_splat(wi)));
      wi += 4;
      qa += qStride;
    }
    v128.store(gi, acc);
    total = f32x4.add(total, f32x4.abs(acc));
    gi += gStride;
  }
  return total;
}

/**
 * The reference's pick rule (`pickIndex`) in four lanes: the first i whose cumulative weight
 * exceeds u total; else the last positive weight; else floor(u n).
 */
function pickGroup(g: usize, gStride: usize, nk: i32, total: v128, u: v128): v128 {
  const target = f32x4.mul(u, total), zero = f32x4.splat(0.0), none = i32x4.splat(-1);
  let cum = zero, chosen = none, last = none, gi = g;
  for (let i = 0; i < nk; i++) {
    const wi = f32x4.abs(v128.load(gi));
    cum = f32x4.add(cum, wi);
    const iv = i32x4.splat(i);
    last = v128.bitselect(iv, last, f32x4.gt(wi, zero));
    chosen = v128.bitselect(iv, chosen, v128.and(f32x4.lt(target, cum), i32x4.eq(chosen, none)));
    gi += gStride;
  }
  chosen = v128.bitselect(last, chosen, i32x4.eq(chosen, none));
  if (!i32x4.all_true(i32x4.ne(chosen, none))) {
    // All weights zero in some lane (a degenerate train): floor(u n) there.
    v128.store(LANES, chosen);
    v128.store(LANES, u, 16);
    for (let l = 0; l < 4; l++) {
      if (load<i32>(f4(LANES, l)) < 0) {
        const j = <i32> Math.floor(<f64> load<f32>(f4(LANES, l + 4)) * <f64> nk);
        store<i32>(f4(LANES, l), j < nk - 1 ? j : nk - 1);
      }
    }
    chosen = v128.load(LANES);
  }
  return chosen;
}

/**
 * The coefficient G[a, i_lane, b] of every lane, at byte offset `off` = ((a nk) rr + b) 4 from
 * the core. Binary modes select between the two slices; other sizes gather lane by lane
 * (p0..p3 point at G[0, i_lane, 0]).
 */
@inline
function coef(binary: bool, core: usize, off: usize, rrBytes: usize, odd: v128, p0: usize, p1: usize, p2: usize, p3: usize): v128 {
  if (binary) {
    return v128.bitselect(v128.load32_splat(core + off + rrBytes), v128.load32_splat(core + off), odd);
  }
  return v128.load32_lane(p3 + off, v128.load32_lane(p2 + off, v128.load32_lane(p1 + off, v128.load32_splat(p0 + off), 1), 2), 3);
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
  const rrBytes = <usize>rr << 2, rowStride = <usize>(nk * rr) << 2;
  const odd = i32x4.eq(idx, i32x4.splat(1));
  const p0 = core + <usize>(i32x4.extract_lane(idx, 0) * rr << 2);
  const p1 = core + <usize>(i32x4.extract_lane(idx, 1) * rr << 2);
  const p2 = core + <usize>(i32x4.extract_lane(idx, 2) * rr << 2);
  const p3 = core + <usize>(i32x4.extract_lane(idx, 3) * rr << 2);
  let ss = f32x4.splat(0.0);
  let out = qn;
  for (let b = 0; b < rr; b++) {
    let acc = f32x4.splat(0.0);
    let off = <usize>b << 2, qa = qs;
    for (let a = 0; a < rl; a++) {
      acc = f32x4.add(acc, f32x4.mul(v128.load(qa), coef(binary, core, off, rrBytes, odd, p0, p1, p2, p3)));
      off += rowStride;
      qa += qStride;
    }
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

function initLeft(q: usize, mPad: i32): void {
  const one = f32x4.splat(1.0);
  for (let s = 0; s < mPad; s += 4) v128.store(f4(q, s), one);
}

/** Bytes of work memory for `sample` and `logProb` of `count` samples. */
export function sampleWork(count: i32, rmax: i32, nmax: i32): i32 {
  return (2 * rmax * pad4(count) + 4 * nmax + 4) << 2;
}

/**
 * Draws `count` multi-indices into out (i32, sample-major). `interfaces` must have run.
 * Sample s takes its uniforms from lane s mod 4 of four xoshiro128** generators whose states
 * are at `seed` (word j of lane l at seed + 16 j + 4 l); the generators advance once per core
 * and group of four samples, core by core, group by group. u = (word >> 8) 2^-24.
 */
export function sample(m: Model, count: i32, out: usize, work: usize, rmax: i32, nmax: i32, seed: usize): void {
  const d = m.d, mPad = pad4(count), nPtr = m.n, ranks = m.ranks, coreOff = m.coreOff;
  const wOff = m.wOff, cores = m.cores, w = m.w;
  const qStride = <usize>mPad << 2;
  let q = work, qn = work + (<usize>(rmax * mPad) << 2);
  const g = qn + (<usize>(rmax * mPad) << 2);
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
      const u = f32x4.mul(f32x4.convert_i32x4_s(i32x4.shr_u(word, 8)), scale);
      const qs = q + (<usize>s << 2);
      const total = weightsGroup(wk, rl, nk, qs, qStride, g, 16);
      const idx = pickGroup(g, 16, nk, total, u);
      let o = out + (<usize>(s * d + k) << 2);
      const od = <usize>d << 2;
      store<i32>(o, i32x4.extract_lane(idx, 0));
      if (s + 1 < count) store<i32>(o += od, i32x4.extract_lane(idx, 1));
      if (s + 2 < count) store<i32>(o += od, i32x4.extract_lane(idx, 2));
      if (s + 3 < count) store<i32>(o += od, i32x4.extract_lane(idx, 3));
      advanceGroup(core, rl, nk, rr, qs, qn + (<usize>s << 2), qStride, idx, 0);
    }
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
  const mPad = pad4(count);
  return ((d + 1) * rmax * mPad + d * mPad * (nmax + 3) + rmax * mPad + 4 * rmax * (1 + nmax * rmax + nmax) +
    rmax * (2 + nmax)) << 2;
}

/**
 * Accumulates the path term of one group into the core's gradient and returns nothing;
 * gq[a] <- sum_b G[a, i_lane, b] gv[b]. Binary modes accumulate lane-wise into accG
 * ((a nk + i) rr + b, v128 each); other sizes add each active lane into grad directly.
 */
@inline
function pathBody(
  binary: bool, core: usize, gcore: usize, rl: i32, nk: i32, rr: i32, q: usize, gq: usize, qStride: usize,
  gv: usize, idx: v128, active: i32, accG: usize,
): void {
  const rrBytes = <usize>rr << 2, rowStride = <usize>(nk * rr) << 2;
  const odd = i32x4.eq(idx, i32x4.splat(1));
  const o0 = <usize>(i32x4.extract_lane(idx, 0) * rr << 2), o1 = <usize>(i32x4.extract_lane(idx, 1) * rr << 2);
  const o2 = <usize>(i32x4.extract_lane(idx, 2) * rr << 2), o3 = <usize>(i32x4.extract_lane(idx, 3) * rr << 2);
  let qa = q, ga = gq, row = <usize>0;
  for (let a = 0; a < rl; a++) {
    const qv = v128.load(qa);
    let t = f32x4.splat(0.0);
    let off = row;
    for (let b = 0; b < rr; b++) {
      const gb = v128.load(v4(gv, b));
      t = f32x4.add(t, f32x4.mul(coef(binary, core, off, rrBytes, odd, core + o0, core + o1, core + o2, core + o3), gb));
      const prod = f32x4.mul(qv, gb);
      if (binary) {
        const a0 = accG + (off << 2), a1 = a0 + (rrBytes << 2);
        v128.store(a1, f32x4.add(v128.load(a1), v128.and(prod, odd)));
        v128.store(a0, f32x4.add(v128.load(a0), v128.andnot(prod, odd)));
      } else {
        const gp = gcore + off;
        store<f32>(gp + o0, load<f32>(gp + o0) + f32x4.extract_lane(prod, 0));
        if (active > 1) store<f32>(gp + o1, load<f32>(gp + o1) + f32x4.extract_lane(prod, 1));
        if (active > 2) store<f32>(gp + o2, load<f32>(gp + o2) + f32x4.extract_lane(prod, 2));
        if (active > 3) store<f32>(gp + o3, load<f32>(gp + o3) + f32x4.extract_lane(prod, 3));
      }
      off += 4;
    }
    v128.store(ga, t);
    qa += qStride;
    ga += qStride;
    row += rowStride;
  }
}

/**
 * The gradient of the loss mean_s -log p(idx_s) into m.grad (overwritten), through the chosen
 * path, the conditional weights and the interface vectors. `interfaces` must have run.
 * 1. Forward on groups, keeping every core's input q, 1 / |q G| and the weights a_j.
 * 2. Backward along the paths, core by core from the right: the path term into the cores, and
 *    the weight term summed over samples into wgrad (dL/dw_k[j][a]).
 * 3. From the left, core by core: w_k = G_k z_k and z_{k-1} = normalize(sum_j G_k z_k) give
 *    dG_k[a,j,b] += T[a][j] z_k[b] with T[a][j] = dL/dw_k[j][a] + dL/du_{k-1}[a], and
 *    dL/dz_k = sum_{a,j} T[a][j] G_k[a,j,:].
 */
export function gradient(m: Model, idx: usize, count: i32, work: usize, rmax: i32, nmax: i32): void {
  const d = m.d, mPad = pad4(count);
  const nPtr = m.n, ranks = m.ranks, coreOff = m.coreOff, zOff = m.zOff, wOff = m.wOff;
  const cores = m.cores, w = m.w, z = m.z, grad = m.grad, wgrad = m.wgrad;
  const qStride = <usize>mPad << 2, qBlock = <usize>(rmax * mPad) << 2;
  const qs = work; // q input of core k at qs + k qBlock
  const inv = qs + <usize>(d + 1) * qBlock; // [k][s]
  const av = inv + (<usize>(d * mPad) << 2); // a_j, [k][j][s]
  const tot = av + (<usize>(d * nmax * mPad) << 2); // [k][s]
  const iv = tot + (<usize>(d * mPad) << 2); // indices, [k][s]
  const gq = iv + (<usize>(d * mPad) << 2); // dL/dq_out, [b][s]
  const gv = gq + qBlock; // v128[rmax]
  const accG = gv + (<usize>rmax << 4); // v128[rmax nmax rmax]
  const accW = accG + (<usize>(rmax * nmax * rmax) << 4); // v128[nmax rmax]
  const dz = accW + (<usize>(nmax * rmax) << 4), du = dz + (<usize>rmax << 2); // f32[rmax]
  const tt = du + (<usize>rmax << 2); // f32[rmax nmax]
  const avStride = <usize>(nmax * mPad) << 2;
  // 1. Forward.
  initLeft(qs, mPad);
  for (let k = 0; k < d; k++) {
    const nk = geti(nPtr, k), rl = geti(ranks, k), rr = geti(ranks, k + 1);
    const wk = w + (<usize>geti(wOff, k) << 2), core = cores + (<usize>geti(coreOff, k) << 2);
    const q = qs + <usize>k * qBlock, row = <usize>(k * mPad + 0) << 2;
    for (let s = 0; s < count; s += 4) {
      const so = <usize>s << 2;
      const total = weightsGroup(wk, rl, nk, q + so, qStride, av + <usize>k * avStride + so, qStride);
      v128.store(tot + row + so, total);
      const ix = groupIndices(idx, d, s, k, count);
      v128.store(iv + row + so, ix);
      advanceGroup(core, rl, nk, rr, q + so, q + qBlock + so, qStride, ix, inv + row + so);
    }
  }
  // 2. Backward along the paths.
  memory.fill(grad, 0, <usize>m.size << 2);
  memory.fill(gq, 0, qBlock);
  const c = f32x4.splat(-1.0 / <f32>count), zero = f32x4.splat(0.0), one = f32x4.splat(1.0);
  const lanes = i32x4(0, 1, 2, 3);
  for (let k = d - 1; k >= 0; k--) {
    const rl = geti(ranks, k), rr = geti(ranks, k + 1), nk = geti(nPtr, k);
    const core = cores + (<usize>geti(coreOff, k) << 2), gcore = grad + (<usize>geti(coreOff, k) << 2);
    const wk = w + (<usize>geti(wOff, k) << 2);
    const binary = nk == 2;
    if (binary) memory.fill(accG, 0, <usize>(rl * nk * rr) << 4);
    memory.fill(accW, 0, <usize>(nk * rl) << 4);
    const q = qs + <usize>k * qBlock, qOut = q + qBlock, row = <usize>(k * mPad) << 2;
    for (let s = 0; s < count; s += 4) {
      const so = <usize>s << 2;
      const cv = v128.and(c, i32x4.lt_s(i32x4.add(lanes, i32x4.splat(s)), i32x4.splat(count)));
      // q_out = v / |v|: dL/dv = (gq - q_out (q_out . gq)) / |v|.
      let proj = zero;
      for (let b = 0; b < rr; b++) {
        const o = <usize>b * qStride + so;
        proj = f32x4.add(proj, f32x4.mul(v128.load(qOut + o), v128.load(gq + o)));
      }
      const vi = v128.load(inv + row + so);
      for (let b = 0; b < rr; b++) {
        const o = <usize>b * qStride + so;
        v128.store(v4(gv, b), f32x4.mul(f32x4.sub(v128.load(gq + o), f32x4.mul(v128.load(qOut + o), proj)), vi));
      }
      // v = q G[:, i, :].
      const ix = v128.load(iv + row + so), active = count - s;
      if (binary) pathBody(true, core, gcore, rl, nk, rr, q + so, gq + so, qStride, gv, ix, active, accG);
      else pathBody(false, core, gcore, rl, nk, rr, q + so, gq + so, qStride, gv, ix, active, accG);
      // log |a_i| - log sum_j |a_j|, a_j = q . w[j].
      const rt = f32x4.div(one, v128.load(tot + row + so));
      let ap = av + <usize>k * avStride + so, wp = wk, acc = accW;
      for (let j = 0; j < nk; j++) {
        const aj = v128.load(ap);
        const sg = f32x4.sub(v128.and(one, f32x4.gt(aj, zero)), v128.and(one, f32x4.lt(aj, zero)));
        const own = v128.and(f32x4.div(one, aj), i32x4.eq(ix, i32x4.splat(j)));
        const ca = f32x4.mul(cv, f32x4.sub(own, f32x4.mul(sg, rt)));
        let qa = q + so, ga = gq + so;
        for (let a = 0; a < rl; a++) {
          v128.store(ga, f32x4.add(v128.load(ga), f32x4.mul(ca, v128.load32_splat(wp))));
          v128.store(acc, f32x4.add(v128.load(acc), f32x4.mul(ca, v128.load(qa))));
          wp += 4;
          acc += 16;
          qa += qStride;
          ga += qStride;
        }
        ap += qStride;
      }
    }
    if (binary) {
      const e = rl * nk * rr;
      for (let j = 0; j < e; j++) addf(gcore, j, hsum(v128.load(v4(accG, j))));
    }
    const wg = wgrad + (<usize>geti(wOff, k) << 2), e = nk * rl;
    for (let j = 0; j < e; j++) setf(wg, j, hsum(v128.load(v4(accW, j))));
  }
  // 3. Through the contractions w_k and the interface vectors, from the left.
  for (let k = 0; k < d; k++) {
    const rl = geti(ranks, k), rr = geti(ranks, k + 1), nk = geti(nPtr, k);
    const core = cores + (<usize>geti(coreOff, k) << 2), gcore = grad + (<usize>geti(coreOff, k) << 2);
    const zk = z + (<usize>geti(zOff, k) << 2), wg = wgrad + (<usize>geti(wOff, k) << 2);
    if (k > 0) {
      // z_{k-1} = u / |u|: dL/du = (dz - z_{k-1} (z_{k-1} . dz)) / |u|.
      const zp = z + (<usize>geti(zOff, k - 1) << 2), nrm = getf(m.znorm, k - 1);
      let proj: f32 = 0.0;
      for (let a = 0; a < rl; a++) proj += getf(zp, a) * getf(dz, a);
      for (let a = 0; a < rl; a++) setf(du, a, (getf(dz, a) - getf(zp, a) * proj) / nrm);
    } else {
      for (let a = 0; a < rl; a++) setf(du, a, 0.0);
    }
    for (let a = 0; a < rl; a++) {
      for (let j = 0; j < nk; j++) setf(tt, a * nk + j, getf(wg, j * rl + a) + getf(du, a));
    }
    for (let b = 0; b < rr; b++) setf(dz, b, 0.0);
    let row = 0;
    for (let e = 0; e < rl * nk; e++) {
      const t = getf(tt, e);
      for (let b = 0; b < rr; b++) {
        addf(gcore, row + b, t * getf(zk, b));
        addf(dz, b, t * getf(core, row + b));
      }
      row += rr;
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
