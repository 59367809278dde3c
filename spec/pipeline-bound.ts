/**
 * A-posteriori error bound of the fast VAR pipeline (docs/math.md §6, §7): run the pipeline
 * with the fast (approximate) attention and carry, with every computed value, its error
 * Δ = fast − exact in affine form Σ_s a_s ξ_s + ρ (ξ_s ∈ [−1, 1] unknown, |ρ| ≤ r):
 *
 * - linear maps (W, head, embed, bicubic, φ, area, conv, nearest, residuals) act on the
 *   coefficients exactly, so signs cancel along a chain of maps;
 * - each attention call contributes its own declared error (fresh symbols, coefficient κ), its
 *   Jacobian at the computed input (softmax weights p̃, logit shifts) applied to the incoming
 *   error, and a rigorous mean-value remainder built from the sharp E2 (tanh(η_i/2), per-row η);
 * - LayerNorm and tanh: Jacobian at the computed point plus a mean-value remainder bounded by
 *   interval arithmetic on the ball around the computed row (its own σ, not a global constant);
 * - every remainder becomes fresh symbols, so later linear maps act on it with signs too.
 *
 * The bound on an entry is Σ_s |a_s| + r. It holds in exact arithmetic for the computed
 * (float64) trajectory; comparing with a float64 exact run adds only that run's rounding.
 * Derivation and measured tightness: docs/pipeline-bound.md.
 * @module
 */
import { attention, attentionInput, type AttentionInput } from './attention.js';
import { RangeArgumentError } from './errors.js';
import { areaDownsample, areaWindow, bicubicStencil, nearestUpsample, upInterpolate, type Stencil } from './interpolation.js';
import { conv3x3, phiResidual, type Conv3x3 } from './conv.js';
import { keyLimits, NO_MASK } from './mask.js';
import { featureMap, matmul, matrix, tokens, unflatten, vstack, type FeatureMap, type Matrix } from './matrix.js';
import { layerNorm, type AttentionFn, type DecoderLite, type TransformerLayer, type VarModel, type VarRun } from './pipeline.js';

/** Where one attention call sits in the pipeline. */
export interface AttentionSite {
  /** The VAR transformer (Phase 1) or the decoder-lite (Phase 3). */
  stage: 'transformer' | 'decoder';
  /** Scale index k (0 for the decoder). */
  scale: number;
  /** Layer index l (0 for the decoder). */
  layer: number;
}

/**
 * The additive error an attention implementation declares on the input it is actually called
 * with: one number (an ℓ∞ bound, ‖attend(x) − Att(x)‖∞ ≤ bound), or one bound per query row
 * (length L_q), or one per output entry (length L_q·d_v, row-major). 0 for exact attention; for
 * a low-rank kernel its own certificate (e.g. `declaredLowRankBound(δ)` of spec/certificate.ts).
 */
export type DeclaredKernelBound = (input: AttentionInput, site: AttentionSite) => number | ArrayLike<number>;

/** How the fast pipeline attends and what each call promises. */
export interface FastAttention {
  /** The fast attention. */
  attend: AttentionFn;
  /** Its declared error on each call's input. */
  declared: DeclaredKernelBound;
}

/** One attention call seen while tracing. */
export interface TracedCall {
  /** Where it sits. */
  site: AttentionSite;
  /** The kernel's declared error on this call (largest entry). */
  declared: number;
  /** The largest per-row logit shift bound η_i caused by upstream errors. */
  eta: number;
  /** The largest bound on this call's output error (declared + propagated). */
  outputBound: number;
}

/** What {@link tracePipelineBound} returns. */
export interface PipelineTrace {
  /** The fast run (identical to `varGenerate(model, { attend })`, KV-cache order). */
  run: VarRun;
  /** Entrywise bound on |f̂_fast − f̂_exact| (n×n×c). */
  fhatError: FeatureMap;
  /** Entrywise bound on every transformer output row (L×D). */
  outputsError: Matrix;
  /** max of {@link PipelineTrace.fhatError}: the ℓ∞ bound on f̂. */
  fhat: number;
  /** max of {@link PipelineTrace.outputsError}. */
  outputs: number;
  /** Every attention call, in order. */
  calls: TracedCall[];
}

/** What {@link traceDecoderBound} returns. */
export interface DecoderTrace {
  /** The fast decoded image. */
  image: FeatureMap;
  /** Entrywise bound on |image_fast − image_exact|. */
  imageError: FeatureMap;
  /** The ℓ∞ bound (max of imageError). */
  bound: number;
  /** The decoder's attention call. */
  call: TracedCall;
}

/** The declared bound as one value per output entry (validated: ≥ 0 or +∞, right length). */
function requireBound(value: number | ArrayLike<number>, lq: number, dv: number, site: AttentionSite): Float64Array {
  const where = `at ${site.stage} scale ${site.scale} layer ${site.layer}`;
  let out: Float64Array;
  if (typeof value === 'number') out = new Float64Array(lq * dv).fill(value);
  else if (value.length === lq) out = Float64Array.from({ length: lq * dv }, (_, e) => value[Math.floor(e / dv)]);
  else if (value.length === lq * dv) out = Float64Array.from(value);
  else throw new RangeArgumentError('declared', `expected a number, ${lq} row bounds or ${lq * dv} entry bounds ${where}, got ${value.length} values`);
  for (const b of out) if (!(b >= 0)) throw new RangeArgumentError('declared', `expected declared bounds ≥ 0 (or +∞) ${where}, got ${b}`);
  return out;
}

function maxOf(data: ArrayLike<number>): number {
  let m = 0;
  for (let k = 0; k < data.length; k++) if (!(data[k] <= m)) m = data[k];
  return m;
}

/** The conv with |weights| and no bias: maps an error bound of its input to one of its output. */
function absConv(conv: Conv3x3): Conv3x3 {
  return { cIn: conv.cIn, cOut: conv.cOut, weight: conv.weight.map(Math.abs) };
}

/**
 * A value on the fast trajectory with its error Δ = fast − exact in affine form: entry e has
 * Δ_e = Σ_s a[e·S + s]·ξ_s + ρ_e with unknown ξ_s ∈ [−1, 1] (one symbol per entry of each
 * attention call's own error) and |ρ_e| ≤ r[e]. Linear maps act on `a` exactly (so signs
 * cancel), nonlinear ones by their Jacobian at the computed point plus a rigorous
 * mean-value remainder added to `r`.
 */
interface Affine {
  /** Computed values, entry-major (rows × cols or h × w × c). */
  v: Float64Array;
  /** Coefficients, entries × S. */
  a: Float64Array;
  /** Remainder bounds, one per entry. */
  r: Float64Array;
}

/** Symbol bookkeeping: total symbols S and the next free one. */
interface Symbols {
  S: number;
  next: number;
}

function zeroAffine(n: number, S: number): Affine {
  return { v: new Float64Array(n), a: new Float64Array(n * S), r: new Float64Array(n) };
}

/** Radius Σ_s |a| + r of every entry: a rigorous entrywise bound on |Δ|. */
function radius(x: Affine, sym: Symbols): Float64Array {
  const { S, next: n } = sym;
  const m = x.r.length;
  const out = new Float64Array(m);
  for (let e = 0; e < m; e++) {
    let t = x.r[e];
    for (let s = 0; s < n; s++) t += Math.abs(x.a[e * S + s]);
    out[e] = Number.isNaN(t) ? Infinity : t; // a declared +∞ times a zero weight
  }
  return out;
}

/** Y = X·W on an affine X (rows × k) with the computed value `value` (= matmul(X, W)). */
function affMatmul(x: Affine, rows: number, w: Matrix, sym: Symbols, value: Matrix): Affine {
  const { S, next: n } = sym;
  const k = w.rows;
  const c = w.cols;
  const out: Affine = { v: value.data as Float64Array, a: new Float64Array(rows * c * S), r: new Float64Array(rows * c) };
  for (let i = 0; i < rows; i++) {
    for (let t = 0; t < k; t++) {
      const src = (i * k + t) * S;
      const rr = x.r[i * k + t];
      for (let j = 0; j < c; j++) {
        const wt = w.data[t * c + j];
        if (wt === 0) continue;
        const dst = (i * c + j) * S;
        for (let s = 0; s < n; s++) out.a[dst + s] += wt * x.a[src + s];
        out.r[i * c + j] += Math.abs(wt) * rr;
      }
    }
  }
  return out;
}

/** a ← a + b on the error parts (the caller computes the value the way the spec does). */
function addInto(x: Affine, y: Affine): void {
  for (let k = 0; k < x.a.length; k++) x.a[k] += y.a[k];
  for (let k = 0; k < x.r.length; k++) x.r[k] += y.r[k];
}

/**
 * Turn the remainder bounds `rem` of a nonlinear step into fresh symbols (one per entry with
 * rem > 0): the remainder is some fixed value in [−rem, rem], so rem·ξ_new represents it, and
 * later linear maps then act on it with signs instead of by |W|.
 */
function freshSymbols(out: Affine, rem: Float64Array, sym: Symbols): void {
  for (let e = 0; e < rem.length; e++) {
    if (rem[e] === 0) continue;
    if (sym.next >= sym.S) throw new RangeArgumentError('symbols', 'internal: symbol budget exceeded');
    out.a[e * sym.S + sym.next++] = rem[e];
  }
}

/** The 1-D stencils (index, weight) of a resize, as used by spec/interpolation.ts. */
type Stencils = readonly Stencil[];

/** Bicubic stencils size → size2 (PyTorch align_corners=False). */
function bicubicStencils(size: number, size2: number): Stencils {
  return Array.from({ length: size2 }, (_, i) => bicubicStencil(size, size2, i));
}

/** Area (adaptive average pooling) stencils size → size2. */
function areaStencils(size: number, size2: number): Stencils {
  return Array.from({ length: size2 }, (_, i) => {
    const { start, end } = areaWindow(size, size2, i);
    return { index: Array.from({ length: end - start }, (_, m) => start + m), weight: new Array<number>(end - start).fill(1 / (end - start)) };
  });
}

/** Nearest ×f stencils size → f·size. */
function nearestStencils(size: number, f: number): Stencils {
  return Array.from({ length: size * f }, (_, i) => ({ index: [Math.floor(i / f)], weight: [1] }));
}

/**
 * A separable resize (h×w×c → h2×w2×c, the row and column stencils) on the error parts:
 * coefficients with the signed weights, remainders with |weights|.
 */
function affSeparable(x: Affine, w: number, c: number, rowSt: Stencils, colSt: Stencils, sym: Symbols, value: FeatureMap): Affine {
  const { S, next: n } = sym;
  const h2 = rowSt.length;
  const w2 = colSt.length;
  const out: Affine = { v: value.data as Float64Array, a: new Float64Array(h2 * w2 * c * S), r: new Float64Array(h2 * w2 * c) };
  for (let i = 0; i < h2; i++) {
    const rs = rowSt[i];
    for (let j = 0; j < w2; j++) {
      const cs = colSt[j];
      for (let p = 0; p < rs.index.length; p++) {
        for (let q = 0; q < cs.index.length; q++) {
          const wgt = rs.weight[p] * cs.weight[q];
          if (wgt === 0) continue;
          const src = (rs.index[p] * w + cs.index[q]) * c;
          const dst = (i * w2 + j) * c;
          for (let ch = 0; ch < c; ch++) {
            out.r[dst + ch] += Math.abs(wgt) * x.r[src + ch];
            const so = (src + ch) * S;
            const d0 = (dst + ch) * S;
            for (let t = 0; t < n; t++) out.a[d0 + t] += wgt * x.a[so + t];
          }
        }
      }
    }
  }
  return out;
}

/** The 3×3 conv on the error parts (it mixes channels, so symbols are handled explicitly). */
function affConv(x: Affine, h: number, w: number, conv: Conv3x3, sym: Symbols, value: FeatureMap): Affine {
  const { S, next: n } = sym;
  const { cIn, cOut } = conv;
  const out: Affine = { v: value.data as Float64Array, a: new Float64Array(h * w * cOut * S), r: conv3x3(featureMap(h, w, cIn, x.r), absConv(conv)).data as Float64Array };
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      for (let o = 0; o < cOut; o++) {
        const dst = ((i * w + j) * cOut + o) * S;
        for (let p = 0; p < 3; p++) {
          const ii = i + p - 1;
          if (ii < 0 || ii >= h) continue;
          for (let q = 0; q < 3; q++) {
            const jj = j + q - 1;
            if (jj < 0 || jj >= w) continue;
            for (let c = 0; c < cIn; c++) {
              const k = conv.weight[((o * cIn + c) * 3 + p) * 3 + q];
              if (k === 0) continue;
              const src = ((ii * w + jj) * cIn + c) * S;
              for (let s = 0; s < n; s++) out.a[dst + s] += k * x.a[src + s];
            }
          }
        }
      }
    }
  }
  return out;
}

/** Stack affine row blocks (same column count). */
function affStack(parts: readonly Affine[]): Affine {
  const cat = (key: 'v' | 'a' | 'r'): Float64Array => {
    const out = new Float64Array(parts.reduce((n, p) => n + p[key].length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p[key], o);
      o += p[key].length;
    }
    return out;
  };
  return { v: cat('v'), a: cat('a'), r: cat('r') };
}

/**
 * One attention call on the fast trajectory. Δ_att = ε + Att(x̃) − Att(x) with |ε| ≤ κ (the
 * declared bound; one fresh symbol per output entry), and, by the mean-value theorem on
 * G(z, V) = softmax(z)·V between the exact and the computed logits/values,
 * Att(x̃) − Att(x) = Σ_j g_jc ℓ_j + Σ_j p̃_j ΔV_jc + R with g_jc = p̃_j(Ṽ_jc − F̃_ic),
 * ℓ_j = s(⟨Δq_i, k̃_j⟩ + ⟨q̃_i, Δk_j⟩) and |R| ≤ Σ_j |g_jc|·s·Σ_l eq_il ek_jl + Σ_j sup|∇G − ∇G̃|·(η_ij, ev_jc).
 */
function affAttention(x: AttentionInput, aq: Affine, ak: Affine, av: Affine, fast: FastAttention, site: AttentionSite, sym: Symbols): { out: Affine; call: TracedCall } {
  const { S, next: n } = sym;
  const { q, k, v, scale: sc } = x;
  const s = Math.abs(sc);
  const d = q.cols;
  const dv = v.cols;
  const Lq = q.rows;
  const value = fast.attend(x);
  const kappa = requireBound(fast.declared(x, site), Lq, dv, site);
  const eq = radius(aq, sym);
  const ek = radius(ak, sym);
  const ev = radius(av, sym);
  const rems = new Float64Array(Lq * dv);
  const limits = keyLimits(x.mask, Lq, k.rows);
  const out: Affine = { v: value.data as Float64Array, a: new Float64Array(Lq * dv * S), r: new Float64Array(Lq * dv) };
  if (sym.next + Lq * dv > S) throw new RangeArgumentError('symbols', 'internal: symbol budget exceeded');
  const p = new Float64Array(k.rows);
  const eta = new Float64Array(k.rows);
  const coefQ = new Float64Array(d * dv);
  const lk = new Float64Array(k.rows * n);
  let etaMax = 0;
  for (let i = 0; i < Lq; i++) {
    const lim = limits[i];
    let zMax = -Infinity;
    let etaI = 0;
    for (let j = 0; j < lim; j++) {
      let dot = 0;
      let sh = 0;
      for (let l = 0; l < d; l++) {
        const qi = q.data[i * d + l];
        const kj = k.data[j * d + l];
        dot += qi * kj;
        sh += Math.abs(qi) * ek[j * d + l] + eq[i * d + l] * (Math.abs(kj) + ek[j * d + l]);
      }
      p[j] = sc * dot;
      eta[j] = s * sh;
      if (p[j] > zMax) zMax = p[j];
      if (eta[j] > etaI) etaI = eta[j];
    }
    etaMax = Math.max(etaMax, etaI);
    let den = 0;
    for (let j = 0; j < lim; j++) den += p[j] = Math.exp(p[j] - zMax);
    for (let j = 0; j < lim; j++) p[j] /= den;
    const th = Math.tanh(etaI / 2);
    coefQ.fill(0);
    // The K-part of ℓ_j, s·Σ_l q̃_il Δk_jl, once per key (shared by every output column).
    lk.fill(0, 0, lim * n);
    for (let j = 0; j < lim; j++) {
      for (let l = 0; l < d; l++) {
        const f = sc * q.data[i * d + l];
        if (f === 0) continue;
        const src = (j * d + l) * S;
        for (let t = 0; t < n; t++) lk[j * n + t] += f * ak.a[src + t];
      }
    }
    for (let c = 0; c < dv; c++) {
      const o = i * dv + c;
      let F = 0;
      let hi = -Infinity;
      let lo = Infinity;
      let avgEv = 0;
      for (let j = 0; j < lim; j++) {
        F += p[j] * v.data[j * dv + c];
        hi = Math.max(hi, v.data[j * dv + c] + ev[j * dv + c]);
        lo = Math.min(lo, v.data[j * dv + c] - ev[j * dv + c]);
        avgEv += p[j] * ev[j * dv + c];
      }
      // sup over the box of |G_ic − F̃_ic| (sharp E2 plus the weighted V error).
      const dG = th * (hi - lo) + avgEv;
      let rem = 0;
      const dst = o * S;
      for (let j = 0; j < lim; j++) {
        const g = p[j] * (v.data[j * dv + c] - F);
        const dp = p[j] * Math.expm1(eta[j] + etaI);
        // ℓ_j's symbols: s·(Σ_l k̃_jl Δq_il + q̃_il Δk_jl); its remainder part goes to rem.
        if (g !== 0) {
          const gs = g * sc;
          for (let l = 0; l < d; l++) {
            coefQ[l * dv + c] += gs * k.data[j * d + l];
            const qil = q.data[i * d + l];
            rem += Math.abs(g) * s * (aq.r[i * d + l] * Math.abs(k.data[j * d + l]) + Math.abs(qil) * ak.r[j * d + l] + eq[i * d + l] * ek[j * d + l]);
          }
          for (let t = 0; t < n; t++) out.a[dst + t] += g * lk[j * n + t];
        }
        // Σ_j p̃_j ΔV_jc.
        const srcV = (j * dv + c) * S;
        for (let t = 0; t < n; t++) out.a[dst + t] += p[j] * av.a[srcV + t];
        rem += p[j] * av.r[j * dv + c];
        // Mean-value remainder: |∂G/∂z_j(ξ) − g| ≤ dp(|Ṽ − F̃| + ev + dG) + p̃(ev + dG); |∂G/∂V_j(ξ) − p̃_j| ≤ dp.
        const evj = ev[j * dv + c];
        rem += (dp * (Math.abs(v.data[j * dv + c] - F) + evj + dG) + p[j] * (evj + dG)) * eta[j] + dp * evj;
      }
      rems[o] = rem;
      // The kernel's own error: a fresh symbol with coefficient κ.
      out.a[dst + n + o] = kappa[o];
    }
    // Δq_i's symbols: Σ_l coefQ[l, c]·Δq_il.
    for (let c = 0; c < dv; c++) {
      const dst = (i * dv + c) * S;
      for (let l = 0; l < d; l++) {
        const f = coefQ[l * dv + c];
        if (f === 0) continue;
        const src = (i * d + l) * S;
        for (let t = 0; t < n; t++) out.a[dst + t] += f * aq.a[src + t];
      }
    }
  }
  sym.next += Lq * dv;
  freshSymbols(out, rems, sym);
  return { out, call: { site, declared: maxOf(kappa), eta: etaMax, outputBound: maxOf(radius(out, sym)) } };
}

/**
 * Row-wise LayerNorm on an affine X (rows × D): Δ_out = J(x̃)Δ + (J(ξ) − J(x̃))Δ with
 * J = (I − 11ᵀ/D)/s − ccᵀ/(D s³); |J(ξ) − J(x̃)| is bounded entrywise over the box
 * c ∈ c̃ ± u (|c_j − c̃_j| ≤ u_j = (1 − 2/D)·rad_j + Σrad/D), s ∈ [s_lo, s_hi] from ‖c̃‖₂ ± ‖u‖₂.
 */
function affLayerNorm(x: Affine, rows: number, D: number, eps: number, sym: Symbols, value: Matrix): Affine {
  const { S, next: n } = sym;
  const out: Affine = { v: value.data as Float64Array, a: new Float64Array(rows * D * S), r: new Float64Array(rows * D) };
  const rems = new Float64Array(rows * D);
  const rad = radius(x, sym);
  const c = new Float64Array(D);
  const u = new Float64Array(D);
  for (let i = 0; i < rows; i++) {
    let mu = 0;
    let sumE = 0;
    for (let j = 0; j < D; j++) {
      mu += x.v[i * D + j];
      sumE += rad[i * D + j];
    }
    mu /= D;
    let cc = 0;
    let uu = 0;
    for (let j = 0; j < D; j++) {
      c[j] = x.v[i * D + j] - mu;
      u[j] = Math.max(0, (1 - 2 / D) * rad[i * D + j] + sumE / D);
      cc += c[j] * c[j];
      uu += u[j] * u[j];
    }
    const cn = Math.sqrt(cc);
    const un = Math.sqrt(uu);
    const sv = Math.sqrt(cc / D + eps);
    const sLo = Math.sqrt(Math.max(0, cn - un) ** 2 / D + eps);
    const sHi = Math.sqrt((cn + un) ** 2 / D + eps);
    const dInv = Math.max(1 / sLo - 1 / sv, 1 / sv - 1 / sHi, 0);
    const dInv3 = Math.max(1 / sLo ** 3 - 1 / sv ** 3, 1 / sv ** 3 - 1 / sHi ** 3, 0);
    for (let j = 0; j < D; j++) {
      const dst = (i * D + j) * S;
      let rem = 0;
      for (let kk = 0; kk < D; kk++) {
        const J = ((j === kk ? 1 : 0) - 1 / D) / sv - (c[j] * c[kk]) / (D * sv ** 3);
        const src = (i * D + kk) * S;
        if (J !== 0) for (let t = 0; t < n; t++) out.a[dst + t] += J * x.a[src + t];
        const dJ = Math.abs((j === kk ? 1 : 0) - 1 / D) * dInv + ((Math.abs(c[j]) * u[kk] + u[j] * Math.abs(c[kk]) + u[j] * u[kk]) / sLo ** 3 + Math.abs(c[j] * c[kk]) * dInv3) / D;
        rem += Math.abs(J) * x.r[i * D + kk] + dJ * rad[i * D + kk];
      }
      rems[i * D + j] = rem;
    }
  }
  freshSymbols(out, rems, sym);
  return out;
}

/** sech²(y) = 1 − tanh²(y). */
function sech2(y: number): number {
  const t = Math.tanh(y);
  return 1 - t * t;
}

/** Elementwise tanh on an affine A (value `pre` before tanh, `value` after). */
function affTanh(x: Affine, pre: Float64Array, sym: Symbols, value: Float64Array): Affine {
  const { S, next: n } = sym;
  const m = pre.length;
  const out: Affine = { v: value, a: new Float64Array(m * S), r: new Float64Array(m) };
  const rems = new Float64Array(m);
  const rad = radius(x, sym);
  for (let e = 0; e < m; e++) {
    const a0 = pre[e];
    const d0 = sech2(a0);
    for (let t = 0; t < n; t++) out.a[e * S + t] = d0 * x.a[e * S + t];
    const e0 = rad[e];
    // sech² is even and decreasing in |y|: its largest deviation on [a0 − e0, a0 + e0].
    const lo = a0 - e0 <= 0 && 0 <= a0 + e0 ? 1 : Math.max(sech2(a0 - e0), sech2(a0 + e0));
    const dev = Math.max(lo - d0, d0 - Math.min(sech2(a0 - e0), sech2(a0 + e0)));
    rems[e] = d0 * x.r[e] + dev * e0;
  }
  freshSymbols(out, rems, sym);
  return out;
}

/** The row-wise block g on an affine H (rows × D), value computed exactly as `rowwiseBlock`. */
function affRowwise(h: Affine, rows: number, layer: TransformerLayer, S: Symbols): Affine {
  const D = layer.w1.rows;
  const hm = matrix(rows, D, h.v);
  const y = layerNorm(hm, layer.lnEps);
  const ay = affLayerNorm(h, rows, D, layer.lnEps, S, y);
  const a = matmul(y, layer.w1);
  const aa = affMatmul(ay, rows, layer.w1, S, a);
  const pre = Float64Array.from(a.data);
  for (let k = 0; k < a.data.length; k++) a.data[k] = Math.tanh(a.data[k]);
  const at = affTanh(aa, pre, S, a.data as Float64Array);
  const m = matmul(a, layer.w2);
  const am = affMatmul(at, rows, layer.w2, S, m);
  for (let k = 0; k < m.data.length; k++) m.data[k] += y.data[k];
  addInto(am, ay);
  return am;
}

/**
 * Run the K-step recursion with `fast.attend` (KV-cache order, exactly the operations of
 * `varGenerate(model, { attend, mode: 'kv-cache' })`) and bound, entrywise, how far each
 * output row and f̂ can be from the exact pipeline's, each attention call contributing its own
 * declared error. Errors are carried in affine form (first-order terms with their signs, so
 * cancellations through linear maps are kept) plus rigorous mean-value remainders for
 * attention, LayerNorm and tanh; the result is an upper bound, not an estimate.
 * @see docs/math.md §6, §7
 */
export function tracePipelineBound(model: VarModel, fast: FastAttention): PipelineTrace {
  const { pyramid: p, c, layers, D } = model;
  // Fresh symbols per layer and token: κ and the remainder of attention (D each), LayerNorm (D), tanh (H).
  const sym: Symbols = { S: p.L * layers.length * (3 * D + layers[0].w1.cols), next: 0 };
  const S = sym;
  const keys: Matrix[][] = layers.map(() => []);
  const values: Matrix[][] = layers.map(() => []);
  const keyAff: Affine[][] = layers.map(() => []);
  const valueAff: Affine[][] = layers.map(() => []);
  const inputs: Matrix[] = [];
  const outputs: Matrix[] = [];
  const outputErrs: Float64Array[] = [];
  const tokenMaps: FeatureMap[] = [];
  const calls: TracedCall[] = [];
  let fhat = featureMap(p.n, p.n, c);
  const fAff = zeroAffine(p.n * p.n * c, sym.S);
  let x = model.start;
  let xAff = zeroAffine(x.rows * x.cols, sym.S);
  xAff.v = x.data as Float64Array;
  for (let k = 0; k < p.blocks.length; k++) {
    inputs.push(x);
    const rows = x.rows;
    let h = x;
    let hAff = xAff;
    layers.forEach((layer, l) => {
      const kk = matmul(h, layer.wk);
      const vv = matmul(h, layer.wv);
      keys[l].push(kk);
      values[l].push(vv);
      keyAff[l].push(affMatmul(hAff, rows, layer.wk, S, kk));
      valueAff[l].push(affMatmul(hAff, rows, layer.wv, S, vv));
      const qq = matmul(h, layer.wq);
      const input = attentionInput(qq, vstack(keys[l]), vstack(values[l]), { mask: NO_MASK });
      const att = affAttention(input, affMatmul(hAff, rows, layer.wq, S, qq), affStack(keyAff[l]), affStack(valueAff[l]), fast, { stage: 'transformer', scale: k, layer: l }, sym);
      calls.push(att.call);
      const r = matmul(matrix(rows, D, att.out.v), layer.wo);
      const rAff = affMatmul(att.out, rows, layer.wo, S, r);
      for (let t = 0; t < r.data.length; t++) r.data[t] += h.data[t];
      addInto(rAff, hAff);
      hAff = affRowwise(rAff, rows, layer, S);
      h = matrix(rows, D, hAff.v);
    });
    outputs.push(h);
    outputErrs.push(radius(hAff, sym));
    const zm = matmul(h, model.head);
    const z = unflatten(zm, p.heights[k], p.widths[k]);
    const zAff = affMatmul(hAff, rows, model.head, S, zm);
    tokenMaps.push(z);
    const upV = upInterpolate(z, p.n, p.n);
    const upAff = affSeparable(zAff, z.w, c, bicubicStencils(z.h, p.n), bicubicStencils(z.w, p.n), sym, upV);
    const phV = phiResidual(upV, model.phi);
    const phAff = affConv(upAff, p.n, p.n, model.phi, S, phV);
    for (let t = 0; t < phAff.a.length; t++) phAff.a[t] = 0.5 * upAff.a[t] + 0.5 * phAff.a[t];
    for (let t = 0; t < phAff.r.length; t++) phAff.r[t] = 0.5 * upAff.r[t] + 0.5 * phAff.r[t];
    fhat = { ...fhat, data: fhat.data.map((val, i) => val + phV.data[i]) };
    addInto(fAff, phAff);
    fAff.v = fhat.data as Float64Array;
    if (k + 1 < p.blocks.length) {
      const hk = p.heights[k + 1];
      const wk = p.widths[k + 1];
      const ar = areaDownsample(fhat, hk, wk);
      const arAff = affSeparable(fAff, p.n, c, areaStencils(p.n, hk), areaStencils(p.n, wk), sym, ar);
      x = matmul(tokens(ar), model.embed);
      xAff = affMatmul(arAff, hk * wk, model.embed, S, x);
    }
  }
  const fhatError = featureMap(p.n, p.n, c, radius(fAff, sym));
  const outputsError = matrix(p.L, D);
  let o = 0;
  for (const e of outputErrs) {
    outputsError.data.set(e, o);
    o += e.length;
  }
  const state: AffineState = { S: sym.S, next: sym.next, fhat: fAff };
  affineStates.set(fhatError, state);
  return {
    run: { tokenMaps, inputs: vstack(inputs), outputs: vstack(outputs), fhat },
    fhatError,
    outputsError,
    fhat: maxOf(fhatError.data),
    outputs: maxOf(outputsError.data),
    calls,
  };
}

/** The affine form of f̂ behind a returned `fhatError`, so the decoder keeps the signs. */
interface AffineState {
  S: number;
  next: number;
  fhat: Affine;
}
const affineStates = new WeakMap<FeatureMap, AffineState>();

/**
 * Phase 3 on the fast trajectory: decode the computed f̂ with `fast.attend` (the operations of
 * `decode`) and bound the image's distance to `decode(f̂_exact, dec, attention)` entrywise,
 * given an entrywise bound `fhatError` on |f̂ − f̂_exact|. When `fhatError` is the one
 * {@link tracePipelineBound} returned, its affine form is continued (signs kept); any other
 * entrywise bound is used as a plain remainder.
 * @see docs/math.md §6, §7
 */
export function traceDecoderBound(fhat: FeatureMap, fhatError: FeatureMap, dec: DecoderLite, fast: FastAttention): DecoderTrace {
  const n2 = fhat.h * fhat.w;
  const C = dec.wq.rows;
  const prev = affineStates.get(fhatError);
  const S0 = prev?.S ?? 0;
  const S = S0 + 2 * n2 * C;
  const sym: Symbols = { S, next: prev?.next ?? 0 };
  const f: Affine = { v: fhat.data as Float64Array, a: new Float64Array(fhat.data.length * S), r: prev ? Float64Array.from(prev.fhat.r) : Float64Array.from(fhatError.data) };
  if (prev) for (let e = 0; e < fhat.data.length; e++) f.a.set(prev.fhat.a.subarray(e * S0, (e + 1) * S0), e * S);
  const h = conv3x3(fhat, dec.convIn);
  const hAff = affConv(f, fhat.h, fhat.w, dec.convIn, sym, h);
  const x = tokens(h);
  const qq = matmul(x, dec.wq);
  const kk = matmul(x, dec.wk);
  const vv = matmul(x, dec.wv);
  const input = attentionInput(qq, kk, vv);
  const att = affAttention(
    input,
    affMatmul(hAff, n2, dec.wq, sym, qq),
    affMatmul(hAff, n2, dec.wk, sym, kk),
    affMatmul(hAff, n2, dec.wv, sym, vv),
    fast,
    { stage: 'decoder', scale: 0, layer: 0 },
    sym,
  );
  const r = matmul(matrix(n2, C, att.out.v), dec.wo);
  const rAff = affMatmul(att.out, n2, dec.wo, sym, r);
  for (let t = 0; t < r.data.length; t++) r.data[t] += x.data[t];
  addInto(rAff, hAff);
  const up = nearestUpsample(unflatten(r, h.h, h.w), 2);
  const upAff = affSeparable(rAff, h.w, C, nearestStencils(h.h, 2), nearestStencils(h.w, 2), sym, up);
  const image = conv3x3(up, dec.convOut);
  const imgAff = affConv(upAff, up.h, up.w, dec.convOut, sym, image);
  const imageError = featureMap(image.h, image.w, image.c, radius(imgAff, sym));
  return { image, imageError, bound: maxOf(imageError.data), call: att.call };
}

/** The exact attention with declared error 0 (the reference a trace of itself must bound by 0). */
export const EXACT_ATTENTION: FastAttention = { attend: attention, declared: () => 0 };
