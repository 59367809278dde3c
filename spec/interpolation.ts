/**
 * Up-interpolation and downsampling of the VAR pipeline (docs/math.md §7): the Keys bicubic
 * kernel, PyTorch's `F.interpolate(mode='bicubic', align_corners=False)`, the paper's
 * integer-offset form, area downsampling (`mode='area'`) and nearest ×2 upsampling.
 * @module
 */
import { RangeArgumentError, requireFinite, requireInteger } from './errors.js';
import { checkFeatureMap, featureMap, type FeatureMap } from './matrix.js';

/** PyTorch's bicubic parameter a = −0.75. */
export const PYTORCH_BICUBIC_A = -0.75;

/**
 * The Keys bicubic kernel W(x) (docs/math.md §7), in PyTorch's Horner form:
 * (a+2)|x|³ − (a+3)|x|² + 1 on |x| ≤ 1, a|x|³ − 5a|x|² + 8a|x| − 4a on 1 < |x| < 2, else 0.
 */
export function bicubicWeight(x: number, a: number = PYTORCH_BICUBIC_A): number {
  requireFinite('x', x);
  requireFinite('a', a);
  const t = Math.abs(x);
  if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0;
}

/** Λ_a = 1 + |a|/2, the bound on Σ|weights| of one 1-D bicubic stencil for a ∈ [−1, 0] (docs/math.md §6 E3). */
export function bicubicLambda(a: number = PYTORCH_BICUBIC_A): number {
  return 1 + Math.abs(a) / 2;
}

/** One 1-D interpolation stencil: source indices (already clamped) and their weights. */
export interface Stencil {
  /** Source indices, clamped to 0..size−1 (may repeat at the border). */
  index: number[];
  /** Weight of each index. */
  weight: number[];
}

/**
 * The 4-tap stencil of output index `i` when resizing `size → size2` with PyTorch's
 * align_corners=False bicubic semantics: x = (size/size2)(i + 0.5) − 0.5 (not clamped),
 * i0 = ⌊x⌋, t = x − i0, weights [W(t+1), W(t), W(1−t), W(2−t)] on rows clamp(i0−1+m).
 */
export function bicubicStencil(size: number, size2: number, i: number, a: number = PYTORCH_BICUBIC_A): Stencil {
  const x = (size / size2) * (i + 0.5) - 0.5;
  const i0 = Math.min(Math.floor(x), size - 1);
  const t = Math.min(Math.max(x - i0, 0), 1);
  const weight = [bicubicWeight(t + 1, a), bicubicWeight(t, a), bicubicWeight(1 - t, a), bicubicWeight(2 - t, a)];
  const index = [0, 1, 2, 3].map((m) => Math.min(Math.max(i0 - 1 + m, 0), size - 1));
  return { index, weight };
}

function checkSizes(h2: number, w2: number): void {
  requireInteger('h2', h2, 1);
  requireInteger('w2', w2, 1);
}

/** Apply separable stencils: out(i, j) = Σ_{p,q} rows[i].w[p] · cols[j].w[q] · x(rows[i].idx[p], cols[j].idx[q]). */
function separable(x: FeatureMap, h2: number, w2: number, rowSt: Stencil[], colSt: Stencil[]): FeatureMap {
  const out = featureMap(h2, w2, x.c);
  const c = x.c;
  for (let i = 0; i < h2; i++) {
    const rs = rowSt[i];
    for (let j = 0; j < w2; j++) {
      const cs = colSt[j];
      const o = (i * w2 + j) * c;
      for (let p = 0; p < rs.index.length; p++) {
        const wr = rs.weight[p];
        if (wr === 0) continue;
        for (let q = 0; q < cs.index.length; q++) {
          const wgt = wr * cs.weight[q];
          if (wgt === 0) continue;
          const s = (rs.index[p] * x.w + cs.index[q]) * c;
          for (let ch = 0; ch < c; ch++) out.data[o + ch] += wgt * x.data[s + ch];
        }
      }
    }
  }
  return out;
}

/**
 * Bicubic up-interpolation h×w×c → h2×w2×c with PyTorch `align_corners=False` semantics
 * (docs/math.md §7). Separable 4×4 = 16 taps; linear; equal sizes give the identity.
 * Works for down-sizing too (PyTorch's bicubic does not antialias).
 * @see docs/math.md §7
 */
export function upInterpolate(x: FeatureMap, h2: number, w2: number, options: { a?: number } = {}): FeatureMap {
  checkFeatureMap('x', x);
  checkSizes(h2, w2);
  const a = options.a ?? PYTORCH_BICUBIC_A;
  requireFinite('options.a', a);
  const rows = Array.from({ length: h2 }, (_, i) => bicubicStencil(x.h, h2, i, a));
  const cols = Array.from({ length: w2 }, (_, j) => bicubicStencil(x.w, w2, j, a));
  return separable(x, h2, w2, rows, cols);
}

/**
 * The paper's up-interpolation, written with integer offsets: output (i, j) reads source
 * (⌊i·h/h2⌋ + p, ⌊j·w/w2⌋ + q), p, q ∈ {−1, 0, 1, 2}, with weights W(p)·W(q). Since W
 * vanishes at nonzero integers this collapses to nearest-neighbour sampling — docs/math.md §7
 * keeps it only to document the discrepancy; the VAR code uses {@link upInterpolate}.
 */
export function upInterpolateIntegerOffset(x: FeatureMap, h2: number, w2: number, options: { a?: number } = {}): FeatureMap {
  checkFeatureMap('x', x);
  checkSizes(h2, w2);
  const a = options.a ?? PYTORCH_BICUBIC_A;
  requireFinite('options.a', a);
  const stencil = (size: number, size2: number, i: number): Stencil => {
    const base = Math.floor((i * size) / size2);
    const offsets = [-1, 0, 1, 2];
    return { index: offsets.map((p) => Math.min(Math.max(base + p, 0), size - 1)), weight: offsets.map((p) => bicubicWeight(p, a)) };
  };
  return separable(
    x,
    h2,
    w2,
    Array.from({ length: h2 }, (_, i) => stencil(x.h, h2, i)),
    Array.from({ length: w2 }, (_, j) => stencil(x.w, w2, j)),
  );
}

/**
 * The source window of output index i in area resizing size → size2 (adaptive average
 * pooling): ⌊i·size/size2⌋ .. ⌈(i+1)·size/size2⌉ − 1, in exact integer arithmetic.
 */
export function areaWindow(
  size: number,
  size2: number,
  i: number,
): {
  /** First source index (inclusive). */
  start: number;
  /** Last source index + 1 (exclusive). */
  end: number;
} {
  return { start: Math.floor((i * size) / size2), end: Math.floor(((i + 1) * size + size2 - 1) / size2) };
}

/**
 * Area resizing (PyTorch `mode='area'` = adaptive average pooling, docs/math.md §7): output cell
 * (i, j) is the mean of its source window. Non-expansive in ‖·‖∞ (E3 factor 1).
 * @see docs/math.md §7
 */
export function areaDownsample(x: FeatureMap, h2: number, w2: number): FeatureMap {
  checkFeatureMap('x', x);
  checkSizes(h2, w2);
  const rows = Array.from({ length: h2 }, (_, i) => areaStencil(x.h, h2, i));
  const cols = Array.from({ length: w2 }, (_, j) => areaStencil(x.w, w2, j));
  return separable(x, h2, w2, rows, cols);
}

function areaStencil(size: number, size2: number, i: number): Stencil {
  const { start, end } = areaWindow(size, size2, i);
  const n = end - start;
  return { index: Array.from({ length: n }, (_, m) => start + m), weight: new Array<number>(n).fill(1 / n) };
}

/** Nearest-neighbour upsampling by an integer factor (the VQ-VAE decoder uses ×2, docs/math.md §7). */
export function nearestUpsample(x: FeatureMap, factor = 2): FeatureMap {
  checkFeatureMap('x', x);
  requireInteger('factor', factor, 1);
  const out = featureMap(x.h * factor, x.w * factor, x.c);
  for (let i = 0; i < out.h; i++) {
    for (let j = 0; j < out.w; j++) {
      const s = (Math.floor(i / factor) * x.w + Math.floor(j / factor)) * x.c;
      out.data.set(x.data.subarray(s, s + x.c), (i * out.w + j) * x.c);
    }
  }
  return out;
}
