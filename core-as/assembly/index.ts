// The WASM SIMD core of the tensor-train optimizers: right interface vectors, sampling,
// log-probabilities, the exact gradient of the mean negative log-likelihood, Adam steps, the
// seeded generator and quantized index maps. `src/core/tt_reference.ts` states the same
// operations in plain TypeScript (and documents the layout); `src/core/tt.ts` owns the memory.
//
// Samples are processed in pairs, one per f64x2 lane; per-sample vectors (the left state q) are
// stored structure-of-arrays, q[a * mPad + s], so a pair is one v128 load. Every lane performs
// the reference's arithmetic in the reference's order, so samples are bit-identical to it.

// A model's header, written by src/core/tt.ts: pointers into this module's memory.
@unmanaged
class Model {
  d: i32;
  n: usize; // i32[d] mode sizes
  ranks: usize; // i32[d + 1]
  coreOff: usize; // i32[d + 1] offsets of the cores (in f64 entries)
  zOff: usize; // i32[d + 1] offsets of the interface vectors
  wOff: usize; // i32[d + 1] offsets of w_k[i][a] = sum_b G_k[a,i,b] z_k[b]
  cores: usize; // f64 parameters
  z: usize; // f64 interface vectors
  znorm: usize; // f64[d] norms before normalization
  w: usize; // f64 contractions
  grad: usize; // f64 gradient (same layout as cores)
  gz: usize; // f64 gradient with respect to z
  adamM: usize; // f64 first moments
  adamV: usize; // f64 second moments
  rng: usize; // u32[4] xoshiro128** state
  size: i32; // number of parameters
}

@inline function geti(p: usize, k: i32): i32 {
  return load<i32>(p + (<usize> k << 2));
}
@inline function getf(p: usize, j: i32): f64 {
  return load<f64>(p + (<usize> j << 3));
}
@inline function setf(p: usize, j: i32, v: f64): void {
  store<f64>(p + (<usize> j << 3), v);
}
@inline function addf(p: usize, j: i32, v: f64): void {
  store<f64>(p + (<usize> j << 3), load<f64>(p + (<usize> j << 3)) + v);
}
@inline function getv(p: usize, j: i32): v128 {
  return v128.load(p + (<usize> j << 3));
}
@inline function setv(p: usize, j: i32, v: v128): void {
  v128.store(p + (<usize> j << 3), v);
}

/** The first free byte after this module's static data. */
export function heapBase(): usize {
  return __heap_base;
}

// ---- seeded generator: xoshiro128**, the same recurrence as src/core/rng.ts ----

// The state lives in globals while a function draws, and in memory (m.rng) between calls.
let r0: u32 = 0, r1: u32 = 0, r2: u32 = 0, r3: u32 = 0;

@inline function rngLoad(st: usize): void {
  r0 = load<u32>(st); r1 = load<u32>(st, 4); r2 = load<u32>(st, 8); r3 = load<u32>(st, 12);
}
@inline function rngStore(st: usize): void {
  store<u32>(st, r0); store<u32>(st, r1, 4); store<u32>(st, r2, 8); store<u32>(st, r3, 12);
}
@inline function nextU32(): u32 {
  const result = rotl<u32>(r1 * 5, 7) * 9;
  const t = r1 << 9;
  r2 ^= r0;
  r3 ^= r1;
  r1 ^= r2;
  r0 ^= r3;
  r2 ^= t;
  r3 = rotl<u32>(r3, 11);
  return result;
}
/** A uniform double in [0, 1) from two words (53 bits). */
@inline function uniform(): f64 {
  const a = nextU32() >> 5, b = nextU32() >> 6;
  return (<f64>a * 67108864.0 + <f64>b) / 9007199254740992.0;
}

/** The next 32-bit word of the generator whose state is at `st`. */
export function rngNextU32(st: usize): u32 {
  rngLoad(st);
  const v = nextU32();
  rngStore(st);
  return v;
}

/** A uniform double in [0, 1) from the generator whose state is at `st`. */
export function rngUniform(st: usize): f64 {
  rngLoad(st);
  const v = uniform();
  rngStore(st);
  return v;
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
    let ss = 0.0;
    for (let a = 0; a < rl; a++) {
      let s = 0.0;
      for (let i = 0; i < nk; i++) {
        const row = c + (a * nk + i) * rr;
        for (let b = 0; b < rr; b++) s += getf(m.cores, row + b) * getf(m.z, zk + b);
      }
      setf(m.z, out + a, s);
      ss += s * s;
    }
    const nrm = Math.sqrt(ss);
    for (let a = 0; a < rl; a++) setf(m.z, out + a, getf(m.z, out + a) / nrm);
    setf(m.znorm, k - 1, nrm);
  }
  for (let k = 0; k < d; k++) {
    const rl = geti(m.ranks, k), rr = geti(m.ranks, k + 1), nk = geti(m.n, k);
    const c = geti(m.coreOff, k), zk = geti(m.zOff, k), wk = geti(m.wOff, k);
    for (let i = 0; i < nk; i++) {
      for (let a = 0; a < rl; a++) {
        const row = c + (a * nk + i) * rr;
        let s = 0.0;
        for (let b = 0; b < rr; b++) s += getf(m.cores, row + b) * getf(m.z, zk + b);
        setf(m.w, wk + i * rl + a, s);
      }
    }
  }
}

// ---- the left-to-right recursion on pairs of samples ----

/**
 * Weights g_i = |q . w[i]| of a pair (lanes s, s+1) into g (v128 per i); returns the sums.
 * w points at the core's contractions w_k (nk x rl).
 */
@inline
function weightsPair(w: usize, rl: i32, nk: i32, q: usize, mPad: i32, s: i32, g: usize): v128 {
  let total = f64x2.splat(0.0);
  const qStride = <usize>mPad << 3, qs = q + (<usize>s << 3);
  let wi = w;
  for (let i = 0; i < nk; i++) {
    let acc = f64x2.splat(0.0);
    let qa = qs;
    for (let a = 0; a < rl; a++) {
      acc = f64x2.add(acc, f64x2.mul(v128.load(qa), v128.load64_splat(wi)));
      wi += 8;
      qa += qStride;
    }
    acc = f64x2.abs(acc);
    setv(g, i << 1, acc);
    total = f64x2.add(total, acc);
  }
  return total;
}

/**
 * q' = normalize(q G[:, i_lane, :]) for a pair; stores the norms at vnorm (v128) if nonzero.
 * core points at G_k (rl x nk x rr).
 */
@inline
function advancePair(
  core: usize, rl: i32, nk: i32, rr: i32, q: usize, qn: usize, mPad: i32, s: i32, i0: i32, i1: i32,
  vnorm: usize,
): void {
  let ss = f64x2.splat(0.0);
  const rowStride = <usize>(nk * rr) << 3, qStride = <usize>mPad << 3;
  const qs = q + (<usize>s << 3);
  let c0 = core + (<usize>(i0 * rr) << 3), c1 = core + (<usize>(i1 * rr) << 3);
  let out = qn + (<usize>s << 3);
  for (let b = 0; b < rr; b++) {
    let acc = f64x2.splat(0.0);
    let p0 = c0, p1 = c1, qa = qs;
    for (let a = 0; a < rl; a++) {
      acc = f64x2.add(acc, f64x2.mul(v128.load(qa), v128.load64_lane(p1, v128.load64_splat(p0), 1)));
      p0 += rowStride;
      p1 += rowStride;
      qa += qStride;
    }
    v128.store(out, acc);
    ss = f64x2.add(ss, f64x2.mul(acc, acc));
    c0 += 8;
    c1 += 8;
    out += qStride;
  }
  const nrm = f64x2.sqrt(ss), inv = f64x2.div(f64x2.splat(1.0), nrm);
  out = qn + (<usize>s << 3);
  for (let b = 0; b < rr; b++) {
    v128.store(out, f64x2.mul(v128.load(out), inv));
    out += qStride;
  }
  if (vnorm) v128.store(vnorm, nrm);
}

/** The pick rule of the reference (`pickIndex`): lane `lane` of the weights at g. */
function pick(g: usize, nk: i32, lane: i32, total: f64, u: f64): i32 {
  const target = u * total;
  let cum = 0.0;
  let lastPositive = -1;
  for (let i = 0; i < nk; i++) {
    const gi = load<f64>(g + (<usize> i << 4) + (<usize> lane << 3));
    cum += gi;
    if (gi > 0.0) lastPositive = i;
    if (target < cum) return i;
  }
  return lastPositive >= 0 ? lastPositive : <i32> Math.floor(u * <f64> nk);
}

function initLeft(q: usize, count: i32): void {
  for (let s = 0; s < count; s++) setf(q, s, 1.0);
}

/**
 * Draws `count` multi-indices into out (i32, sample-major). `interfaces` must have run.
 * Work: 2 rmax mPad + 2 nmax f64.
 */
export function sample(m: Model, count: i32, out: usize, work: usize, rmax: i32, nmax: i32): void {
  const d = m.d, mPad = (count + 1) & ~1, nPtr = m.n, ranks = m.ranks, coreOff = m.coreOff;
  const wOff = m.wOff, cores = m.cores, w = m.w, rng = m.rng;
  let q = work, qn = work + (<usize>(rmax * mPad) << 3);
  const g = qn + (<usize>(rmax * mPad) << 3);
  initLeft(q, mPad);
  rngLoad(rng);
  for (let k = 0; k < d; k++) {
    const nk = geti(nPtr, k), rl = geti(ranks, k), rr = geti(ranks, k + 1);
    const wk = w + (<usize>geti(wOff, k) << 3), core = cores + (<usize>geti(coreOff, k) << 3);
    for (let s = 0; s < count; s += 2) {
      const total = weightsPair(wk, rl, nk, q, mPad, s, g);
      const i0 = pick(g, nk, 0, f64x2.extract_lane(total, 0), uniform());
      let i1 = i0;
      if (s + 1 < count) i1 = pick(g, nk, 1, f64x2.extract_lane(total, 1), uniform());
      store<i32>(out + (<usize>(s * d + k) << 2), i0);
      if (s + 1 < count) store<i32>(out + (<usize>((s + 1) * d + k) << 2), i1);
      advancePair(core, rl, nk, rr, q, qn, mPad, s, i0, i1, 0);
    }
    const t = q;
    q = qn;
    qn = t;
  }
  rngStore(rng);
}

@inline function idxAt(idx: usize, d: i32, s: i32, k: i32, count: i32): i32 {
  return load<i32>(idx + (<usize> ((s < count ? s : count - 1) * d + k) << 2));
}

/** Log-probabilities of `count` multi-indices (by the sampling recursion) into out (f64). */
export function logProb(m: Model, idx: usize, count: i32, out: usize, work: usize, rmax: i32, nmax: i32): void {
  const d = m.d, mPad = (count + 1) & ~1, nPtr = m.n, ranks = m.ranks, coreOff = m.coreOff;
  const wOff = m.wOff, cores = m.cores, w = m.w;
  let q = work, qn = work + (<usize>(rmax * mPad) << 3);
  const g = qn + (<usize>(rmax * mPad) << 3);
  initLeft(q, mPad);
  for (let s = 0; s < count; s++) setf(out, s, 0.0);
  for (let k = 0; k < d; k++) {
    const nk = geti(nPtr, k), rl = geti(ranks, k), rr = geti(ranks, k + 1);
    const wk = w + (<usize>geti(wOff, k) << 3), core = cores + (<usize>geti(coreOff, k) << 3);
    for (let s = 0; s < count; s += 2) {
      const total = weightsPair(wk, rl, nk, q, mPad, s, g);
      const i0 = idxAt(idx, d, s, k, count), i1 = idxAt(idx, d, s + 1, k, count);
      addf(out, s, Math.log(load<f64>(g + (<usize>i0 << 4)) / f64x2.extract_lane(total, 0)));
      if (s + 1 < count) {
        addf(out, s + 1, Math.log(load<f64>(g + (<usize>i1 << 4), 8) / f64x2.extract_lane(total, 1)));
      }
      advancePair(core, rl, nk, rr, q, qn, mPad, s, i0, i1, 0);
    }
    const t = q;
    q = qn;
    qn = t;
  }
}

/**
 * The loss mean_s -log p(idx_s) (returned) and its gradient into m.grad (overwritten), through
 * the chosen path, the conditional weights and the interface vectors. `interfaces` must have
 * run. The backward pass runs core by core over all samples, so the conditional-weight term
 * is accumulated over samples (acc[j][a] = sum_s ca_j q[a]) and applied once per core.
 * Work: (d + 1) rmax mPad + d mPad + 2 nmax + count rmax + nmax rmax + 2 rmax f64.
 */
export function gradient(m: Model, idx: usize, count: i32, work: usize, rmax: i32, nmax: i32): f64 {
  const d = m.d, mPad = (count + 1) & ~1, c = -1.0 / <f64>count;
  const nPtr = m.n, ranks = m.ranks, coreOff = m.coreOff, zOff = m.zOff, wOff = m.wOff;
  const cores = m.cores, w = m.w, z = m.z, grad = m.grad, gz = m.gz;
  const qStride = rmax * mPad;
  const qs = work; // q input of core k at qs + k * qStride
  const vn = qs + (<usize>((d + 1) * qStride) << 3); // norms of the outputs, [k][s]
  const g = vn + (<usize>(d * mPad) << 3); // a_j of one sample (the forward uses 2 nmax)
  const gq = g + (<usize>(nmax * 2) << 3); // dL/dq_out per sample, [s][rmax]
  const acc = gq + (<usize>(count * rmax) << 3); // [j][a]
  const gqIn = acc + (<usize>(nmax * rmax) << 3), gv = gqIn + (<usize>rmax << 3);
  memory.fill(grad, 0, <usize>m.size << 3);
  memory.fill(gz, 0, <usize>geti(zOff, d) << 3);
  memory.fill(gq, 0, <usize>(count * rmax) << 3);
  let loss = 0.0;
  // Forward on pairs, keeping every core's input q and output norms.
  initLeft(qs, mPad);
  for (let k = 0; k < d; k++) {
    const nk = geti(nPtr, k), rl = geti(ranks, k), rr = geti(ranks, k + 1);
    const wk = w + (<usize>geti(wOff, k) << 3), core = cores + (<usize>geti(coreOff, k) << 3);
    const q = qs + (<usize>(k * qStride) << 3), qn = qs + (<usize>((k + 1) * qStride) << 3);
    for (let s = 0; s < count; s += 2) {
      const total = weightsPair(wk, rl, nk, q, mPad, s, g);
      const i0 = idxAt(idx, d, s, k, count), i1 = idxAt(idx, d, s + 1, k, count);
      loss += c * Math.log(load<f64>(g + (<usize>i0 << 4)) / f64x2.extract_lane(total, 0));
      if (s + 1 < count) loss += c * Math.log(load<f64>(g + (<usize>i1 << 4), 8) / f64x2.extract_lane(total, 1));
      advancePair(core, rl, nk, rr, q, qn, mPad, s, i0, i1, vn + (<usize>(k * mPad + s) << 3));
    }
  }
  // Backward along the paths, core by core.
  for (let k = d - 1; k >= 0; k--) {
    const rl = geti(ranks, k), rr = geti(ranks, k + 1), nk = geti(nPtr, k);
    const core = cores + (<usize>geti(coreOff, k) << 3), gcore = grad + (<usize>geti(coreOff, k) << 3);
    const zk = z + (<usize>geti(zOff, k) << 3), gzk = gz + (<usize>geti(zOff, k) << 3);
    const wk = w + (<usize>geti(wOff, k) << 3);
    memory.fill(acc, 0, <usize>(nk * rl) << 3);
    const qStep = <usize>mPad << 3, rowStep = <usize>(nk * rr) << 3;
    for (let s = 0; s < count; s++) {
      const i = idxAt(idx, d, s, k, count);
      const q = qs + (<usize>(k * qStride + s) << 3), qOut = qs + (<usize>((k + 1) * qStride + s) << 3);
      const gqs = gq + (<usize>(s * rmax) << 3);
      const nrm = getf(vn, k * mPad + s);
      // q_out = v / |v|: dL/dv = (gq - q_out (q_out . gq)) / |v|.
      let proj = 0.0;
      let qo = qOut;
      for (let b = 0; b < rr; b++) {
        proj += load<f64>(qo) * getf(gqs, b);
        qo += qStep;
      }
      const inv = 1.0 / nrm;
      qo = qOut;
      for (let b = 0; b < rr; b++) {
        setf(gv, b, (getf(gqs, b) - load<f64>(qo) * proj) * inv);
        qo += qStep;
      }
      // v = q G[:, i, :].
      let qa = q, gc = gcore + (<usize>(i * rr) << 3), cc = core + (<usize>(i * rr) << 3);
      for (let a = 0; a < rl; a++) {
        const qv = load<f64>(qa);
        let t = 0.0;
        for (let b = 0; b < rr; b++) {
          const gb = getf(gv, b), o = <usize>b << 3;
          store<f64>(gc + o, load<f64>(gc + o) + qv * gb);
          t += load<f64>(cc + o) * gb;
        }
        setf(gqIn, a, t);
        qa += qStep;
        gc += rowStep;
        cc += rowStep;
      }
      // log g_i - log sum_j |a_j|, a_j = q . w[j].
      let total = 0.0, wp = wk;
      for (let j = 0; j < nk; j++) {
        let aj = 0.0;
        qa = q;
        for (let a = 0; a < rl; a++) {
          aj += load<f64>(qa) * load<f64>(wp);
          qa += qStep;
          wp += 8;
        }
        setf(g, j, aj);
        total += Math.abs(aj);
      }
      wp = wk;
      let ap = acc;
      for (let j = 0; j < nk; j++) {
        const aj = getf(g, j);
        const sg: f64 = aj > 0.0 ? 1.0 : aj < 0.0 ? -1.0 : 0.0;
        const ca = c * ((j == i ? 1.0 / aj : 0.0) - sg / total);
        if (ca != 0.0) {
          qa = q;
          for (let a = 0; a < rl; a++) {
            const o = <usize>a << 3;
            store<f64>(gqIn + o, load<f64>(gqIn + o) + ca * load<f64>(wp + o));
            store<f64>(ap + o, load<f64>(ap + o) + ca * load<f64>(qa));
            qa += qStep;
          }
        }
        wp += <usize>rl << 3;
        ap += <usize>rl << 3;
      }
      memory.copy(gqs, gqIn, <usize>rl << 3);
    }
    // sum_s ca_j q[a]: into G[a, j, :] (times z) and into dL/dz (times G).
    let row = <usize>0;
    for (let a = 0; a < rl; a++) {
      for (let j = 0; j < nk; j++) {
        const t = getf(acc, j * rl + a);
        if (t != 0.0) {
          const gc = gcore + row, cc = core + row;
          for (let b = 0; b < rr; b++) {
            const o = <usize>b << 3;
            store<f64>(gc + o, load<f64>(gc + o) + t * load<f64>(zk + o));
            store<f64>(gzk + o, load<f64>(gzk + o) + t * load<f64>(cc + o));
          }
        }
        row += <usize>rr << 3;
      }
    }
  }
  // Backward through the interface vectors, z_k = u / |u|, u = sum_j G_{k+1}[:, j, :] z_{k+1}.
  for (let k = 0; k < d - 1; k++) {
    const rl = geti(ranks, k + 1), rr = geti(ranks, k + 2), nk = geti(nPtr, k + 1);
    const core = cores + (<usize>geti(coreOff, k + 1) << 3), gcore = grad + (<usize>geti(coreOff, k + 1) << 3);
    const zk = z + (<usize>geti(zOff, k) << 3), zn = z + (<usize>geti(zOff, k + 1) << 3);
    const gzk = gz + (<usize>geti(zOff, k) << 3), gzn = gz + (<usize>geti(zOff, k + 1) << 3);
    const nrm = getf(m.znorm, k);
    let proj = 0.0;
    for (let a = 0; a < rl; a++) proj += getf(zk, a) * getf(gzk, a);
    let row = <usize>0;
    for (let a = 0; a < rl; a++) {
      const gu = (getf(gzk, a) - getf(zk, a) * proj) / nrm;
      for (let j = 0; j < nk; j++) {
        const gc = gcore + row, cc = core + row;
        for (let b = 0; b < rr; b++) {
          const o = <usize>b << 3;
          store<f64>(gc + o, load<f64>(gc + o) + gu * load<f64>(zn + o));
          store<f64>(gzn + o, load<f64>(gzn + o) + gu * load<f64>(cc + o));
        }
        row += <usize>rr << 3;
      }
    }
  }
  return loss;
}

/**
 * One Adam step on the cores with m.grad: theta -= lrc m / (sqrt(v ic2) + eps), where
 * lrc = lr / (1 - beta1^t) and ic2 = 1 / (1 - beta2^t) (the bias corrections).
 */
export function adam(m: Model, beta1: f64, beta2: f64, eps: f64, lrc: f64, ic2: f64): void {
  const b1 = f64x2.splat(beta1), b2 = f64x2.splat(beta2), ob1 = f64x2.splat(1.0 - beta1);
  const ob2 = f64x2.splat(1.0 - beta2), vlrc = f64x2.splat(lrc), vic2 = f64x2.splat(ic2);
  const veps = f64x2.splat(eps);
  const size = m.size, grad = m.grad, am = m.adamM, av = m.adamV, cores = m.cores;
  let j = 0;
  for (; j + 1 < size; j += 2) {
    const gj = getv(grad, j);
    const mj = f64x2.add(f64x2.mul(b1, getv(am, j)), f64x2.mul(ob1, gj));
    const vj = f64x2.add(f64x2.mul(b2, getv(av, j)), f64x2.mul(f64x2.mul(ob2, gj), gj));
    setv(am, j, mj);
    setv(av, j, vj);
    const step = f64x2.div(f64x2.mul(vlrc, mj), f64x2.add(f64x2.sqrt(f64x2.mul(vj, vic2)), veps));
    setv(cores, j, f64x2.sub(getv(cores, j), step));
  }
  for (; j < size; j++) {
    const gj = getf(grad, j);
    const mj = beta1 * getf(am, j) + (1.0 - beta1) * gj;
    const vj = beta2 * getf(av, j) + (1.0 - beta2) * gj * gj;
    setf(am, j, mj);
    setf(av, j, vj);
    setf(cores, j, getf(cores, j) - lrc * mj / (Math.sqrt(vj * ic2) + eps));
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
