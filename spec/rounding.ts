/**
 * A rigorous forward-error bound for exact softmax attention computed in floating point, in any
 * reasonable order (docs/math.md §8): the tolerance floor every exact kernel is judged by.
 *
 * The model of "any reasonable implementation" in unit roundoff u:
 * - inputs Q, K, V and the scale s are rounded to the format (relative u each);
 * - each logit is a d-term dot product in any order (FMA or not, s applied before or after),
 *   so |ẑ_j − z_j| ≤ γ_{d+4}·s·Σ_t |q_t k_t|;
 * - the softmax shift subtracts a computed logit (any one: shift invariance) and may multiply by
 *   log₂e for an exp2 (two roundings of the argument x_j, |x_j| ≤ the row's logit spread);
 * - exp has relative error ≤ ε_exp (measured, or 4u for a libm-quality exp), or flushes a result
 *   below the normal range to 0;
 * - numerator and denominator are sums over the row's n allowed keys in any order, tiled or
 *   pairwise, with at most one online-softmax rescale per key, the rescale factor applied to
 *   both: ≤ 2n + 2 roundings. A rescale's exp error does NOT cancel in the ratio (it multiplies
 *   only the keys seen before it), so a weight carries up to n exp errors; the rescale arguments'
 *   roundings telescope (Σ|m_{t−1} − m_t| ≤ the logit spread);
 * - one division and one final rounding.
 *
 * Then, per row i and column c, with p the exact softmax weights and p̂ the computed ones:
 *   |ô − o| ≤ E1(ε_w)·((max v − min v)/2 + u‖v‖) + u‖v‖ + 2γ_{2n+4}/(1 − γ_{2n+4})·‖v̂‖ + (2u + u²)·|ô| + 2n·min_normal·‖v̂‖
 * where ε_w = e^{η + 4u·spread}(1 + ε_exp)^{1+R} − 1 is the relative error of every unnormalised weight
 * (R ≤ n − 1 rescale factors, fewer where the kernel declares its structure: {@link rescaleCount}),
 * η = γ_{d+4}·s·Σ_t |q_it|·max_j |k_jt| bounds each logit's error, ‖v‖ is the column's largest
 * |entry| over allowed keys, and E1(ε) = 2ε/(1 − ε) (the weights-perturbation lemma, §6).
 * @module
 */
import { checkAttentionInput, type AttentionInput } from './attention.js';
import { gamma } from './certificate.js';
import { RangeArgumentError, requireInteger } from './errors.js';
import { areaWindow, bicubicLambda, PYTORCH_BICUBIC_A } from './interpolation.js';
import { checkFeatureMap, type FeatureMap } from './matrix.js';
import { keyLimits } from './mask.js';
import type { SoftmaxRescales } from './contract.js';

/** Unit roundoff of float64, 2⁻⁵³. */
export const UNIT_ROUNDOFF_64 = 2 ** -53;
/** Unit roundoff of float32, 2⁻²⁴. */
export const UNIT_ROUNDOFF_32 = 2 ** -24;

/** The arithmetic a kernel computes in, as the rounding model of {@link attentionRoundingBound} needs it. */
export interface FloatModel {
  /** Unit roundoff u (2⁻⁵³ float64, 2⁻²⁴ float32). */
  unitRoundoff: number;
  /** Relative error of the kernel's exp; at least 4u is assumed (a libm-quality exp). */
  expRelativeError?: number;
  /** Smallest positive normal number of the format (2⁻¹⁰²² float64, 2⁻¹²⁶ float32): exp results below it may be flushed to 0. */
  minNormal: number;
  /** The kernel's declared online-softmax structure; omitted: one rescale per key (any order). */
  rescales?: SoftmaxRescales;
}

/**
 * The most online-softmax rescale factors one weight of a row with n allowed keys passes through
 * under `rescales` (docs/math.md §8): n − 1 when undeclared, 0 for two-pass kernels,
 * ⌈n/b⌉ + e for a tile of b keys and e merges (at most n + e).
 */
export function rescaleCount(rescales: SoftmaxRescales | undefined, n: number): number {
  if (rescales === undefined) return Math.max(0, n - 1);
  if (rescales === 'none') return 0;
  return Math.ceil(n / rescales.keysPerRescale) + rescales.extra;
}

/** IEEE float64 with a libm-quality exp. */
export const FLOAT64: FloatModel = { unitRoundoff: UNIT_ROUNDOFF_64, minNormal: 2 ** -1022 };
/** IEEE float32 with a libm-quality exp (GPU drivers: pass the measured exp error). */
export const FLOAT32: FloatModel = { unitRoundoff: UNIT_ROUNDOFF_32, minNormal: 2 ** -126 };

/**
 * The rigorous ℓ∞ forward-error bound of exact softmax attention on `input` computed in `model`
 * arithmetic by any implementation of the model above (docs/math.md §8). O(L·(d + d_v)).
 * Returns +∞ when the rounding model no longer certifies anything (logits so large that
 * e^{η} − 1 ≥ 1): such inputs cannot be judged by a float tolerance.
 */
export function attentionRoundingBound(input: AttentionInput, model: FloatModel): number {
  const { q, k, v, scale, mask } = checkAttentionInput(input);
  const u = model.unitRoundoff;
  if (!(u > 0 && u < 0.01)) throw new RangeArgumentError('model.unitRoundoff', `expected 0 < u < 0.01, got ${u}`);
  const expErr = Math.max(model.expRelativeError ?? 0, 4 * u);
  const d = q.cols;
  const dv = v.cols;
  const limits = keyLimits(mask, q.rows, k.rows);
  // Column statistics over key prefixes: limits are prefixes, so running max/min per prefix length suffice.
  const order = Array.from(new Set(limits)).sort((a, b) => a - b);
  const kAbsMax = new Float64Array(d);
  const vHi = new Float64Array(dv).fill(-Infinity);
  const vLo = new Float64Array(dv).fill(Infinity);
  const atLimit = new Map<number, { kAbs: Float64Array; kAbsMax: number; e1Range: number; vAbs: number }>();
  let j = 0;
  for (const lim of order) {
    for (; j < lim; j++) {
      for (let t = 0; t < d; t++) kAbsMax[t] = Math.max(kAbsMax[t], Math.abs(k.data[j * d + t]));
      for (let c = 0; c < dv; c++) {
        const x = v.data[j * dv + c];
        if (x > vHi[c]) vHi[c] = x;
        if (x < vLo[c]) vLo[c] = x;
      }
    }
    let range = 0;
    let vAbs = 0;
    for (let c = 0; c < dv; c++) {
      range = Math.max(range, (vHi[c] - vLo[c]) / 2);
      vAbs = Math.max(vAbs, Math.abs(vHi[c]), Math.abs(vLo[c]));
    }
    atLimit.set(lim, { kAbs: kAbsMax.slice(), kAbsMax: Math.max(0, ...kAbsMax), e1Range: range, vAbs });
  }
  const gd = gamma(d + 4, u);
  let worst = 0;
  for (let i = 0; i < q.rows; i++) {
    const stats = atLimit.get(limits[i])!;
    let a = 0; // s·Σ_t |q_it|·max_j |k_jt| ≥ every |logit| of the row (ℓ1·ℓ∞)
    for (let t = 0; t < d; t++) a += Math.abs(q.data[i * d + t]) * stats.kAbs[t];
    a *= scale * (1 + 2 * u);
    // A flushed subnormal input moves a product by < min_normal·(|q| + |k| + 1) before scaling.
    const eta = gd * a + scale * d * model.minNormal * (qAbs(q.data, i * d, d) + stats.kAbsMax + 1);
    const spread = 2 * a + 2 * eta; // |x_j| = |ẑ_j − ẑ_max| ≤ 2·max|ẑ|
    const n = limits[i];
    // e^{η + 4u·spread}(1 + ε_exp)^{1+R} − 1: the weight's own argument (2u·spread), the online
    // rescale factors' arguments (they telescope: 2u·spread in all), its own exp error and one per
    // rescale factor R (none of which cancels in the ratio; R ≤ n − 1 in any order).
    const epsW = Math.expm1(eta + 4 * u * spread + (1 + rescaleCount(model.rescales, n)) * Math.log1p(expErr));
    const weights = epsW < 1 ? ((2 * epsW) / (1 - epsW)) * (stats.e1Range + u * stats.vAbs) : Infinity;
    const vHat = (1 + u) * stats.vAbs; // ‖v̂‖ after rounding V to the format
    const g = gamma(2 * n + 4, u);
    const sums = g < 1 ? ((2 * g) / (1 - g)) * vHat : Infinity;
    const finalRounding = (2 * u + u * u) * (vHat + sums); // the division and the output's own rounding
    const underflow = 2 * n * model.minNormal * vHat;
    // … plus the output itself flushed to 0 when it is subnormal, and V's subnormals flushed.
    const bound = weights + u * stats.vAbs + sums + finalRounding + underflow + 2 * model.minNormal;
    if (!(bound <= worst)) worst = bound;
  }
  return worst;
}

function qAbs(data: ArrayLike<number>, offset: number, d: number): number {
  let m = 0;
  for (let t = 0; t < d; t++) m = Math.max(m, Math.abs(data[offset + t]));
  return m;
}

/** The largest |W′| of the bicubic kernel with parameter a on [0, 2] (each piece's derivative is a quadratic: endpoints and vertex). */
function bicubicSlope(a: number): number {
  const d1 = (y: number): number => 3 * (a + 2) * y * y - 2 * (a + 3) * y;
  const d2 = (y: number): number => a * (3 * y * y - 10 * y + 8);
  const v1 = a + 2 === 0 ? 0 : (a + 3) / (3 * (a + 2));
  const at = [d1(0), d1(1), v1 > 0 && v1 < 1 ? d1(v1) : 0, d2(1), d2(2), d2(5 / 3)];
  return Math.max(...at.map(Math.abs));
}

/**
 * The rigorous ℓ∞ forward-error bound of a resize of `x` to h2 × w2 — PyTorch bicubic
 * (align_corners=False, a = −0.75) or area — computed in `model` arithmetic by any reasonable
 * implementation: any summation order, float32 or wider intermediates, separable or not,
 * reciprocal or division (docs/math.md §8, "Resizing in floating point"). The floor of the float32
 * resize tolerance, as {@link attentionRoundingBound} is for attention.
 */
export function resizeRoundingBound(op: 'upsample-bicubic' | 'downsample-area', x: FeatureMap, h2: number, w2: number, model: FloatModel): number {
  checkFeatureMap('x', x);
  requireInteger('h2', h2, 1);
  requireInteger('w2', w2, 1);
  const u = model.unitRoundoff;
  const tiny = model.minNormal;
  if (op === 'downsample-area') {
    // Output (i, j): the mean of an n-entry window: n input roundings, n − 1 additions, one division
    // (or a reciprocal and a product), at most two of each along a separable path: γ_{n+4}·Σ|x|/n.
    let worst = 0;
    for (let i = 0; i < h2; i++) {
      const ys = areaWindow(x.h, h2, i);
      for (let j = 0; j < w2; j++) {
        const xs = areaWindow(x.w, w2, j);
        const n = (ys.end - ys.start) * (xs.end - xs.start);
        for (let ch = 0; ch < x.c; ch++) {
          let sum = 0;
          for (let p = ys.start; p < ys.end; p++) for (let q = xs.start; q < xs.end; q++) sum += Math.abs(x.data[(p * x.w + q) * x.c + ch]);
          worst = Math.max(worst, (gamma(n + 4, u) * sum) / n);
        }
      }
    }
    // A flushed input moves the mean by < min_normal; a flushed output by < min_normal.
    return (worst + 2 * tiny) * (1 + 1e-12);
  }
  // Bicubic: o = Σ_p Σ_q w_p·w′_q·x_pq over a 4×4 stencil. Per dimension, the source coordinate
  // t = (i + ½)·size/size2 − ½ is computed with three roundings (|Δt| ≤ γ₃·(size + ½)), each tap's
  // distance with one more (≤ 2u·2), and each weight by Horner in ≤ 8 roundings (≤ γ₈·P, P the
  // sum of |coefficient|·2^power of its piece): Δ = Σ_taps |ŵ − w| ≤ 4·L·(|Δt| + 4u) + 2γ₈·(P₁ + P₂),
  // L = max|W′| (W is continuous at 1 and 2, so a tap that changes piece or stencil is covered).
  const a = PYTORCH_BICUBIC_A;
  const lam = bicubicLambda(a);
  const L = bicubicSlope(a);
  const P1 = Math.abs(a + 2) + Math.abs(a + 3) + 1;
  const P2 = 48 * Math.abs(a);
  const delta = (size: number): number => 4 * L * (gamma(3, u) * (size + 0.5) + 4 * u) + 2 * gamma(8, u) * (P1 + P2);
  const dy = delta(x.h);
  const dx = delta(x.w);
  const ly = lam + dy;
  const lx = lam + dx;
  let M = 0;
  for (const v of x.data) M = Math.max(M, Math.abs(v));
  // Inputs rounded (u), 3-factor products and a 16-term sum in any order (γ₁₇), the output's own
  // rounding (u), the weight errors, and flushes (inputs and products from the subnormal range).
  const g = gamma(17, u);
  const bound = M * (ly * lx * (u + g * (1 + u) + u * (1 + u) * (1 + g)) + dy * lx + lam * dx) + (20 * ly * lx + 1) * tiny;
  return bound * (1 + 1e-12);
}
