/**
 * 3×3 convolution with zero padding and the VAR residual φ(h) = ½h + ½·Conv3×3(h) (docs/math.md §7).
 * @module
 */
import { ShapeError } from './errors.js';
import { checkFeatureMap, featureMap, type FeatureMap } from './matrix.js';

/** A 3×3 convolution: `weight[((o·cIn + c)·3 + p)·3 + q]`, optional per-output bias. */
export interface Conv3x3 {
  /** Input channels. */
  cIn: number;
  /** Output channels. */
  cOut: number;
  /** cOut·cIn·9 weights, layout (o, c, p, q). */
  weight: Float64Array;
  /** cOut biases (zero when absent). */
  bias?: Float64Array;
}

/**
 * y(i, j, o) = b_o + Σ_{c,p,q} Ker(o, c, p, q) · x(i+p−1, j+q−1, c), zero padding (same size).
 * @see docs/math.md §7
 */
export function conv3x3(x: FeatureMap, conv: Conv3x3): FeatureMap {
  checkFeatureMap('x', x, { c: conv.cIn });
  if (conv.weight.length !== conv.cOut * conv.cIn * 9) {
    throw new ShapeError('conv.weight', `expected ${conv.cOut}·${conv.cIn}·9 = ${conv.cOut * conv.cIn * 9} weights, got ${conv.weight.length}`);
  }
  if (conv.bias !== undefined && conv.bias.length !== conv.cOut) {
    throw new ShapeError('conv.bias', `expected ${conv.cOut} biases, got ${conv.bias.length}`);
  }
  const { h, w } = x;
  const y = featureMap(h, w, conv.cOut);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const o0 = (i * w + j) * conv.cOut;
      for (let o = 0; o < conv.cOut; o++) {
        let acc = conv.bias ? conv.bias[o] : 0;
        for (let p = 0; p < 3; p++) {
          const ii = i + p - 1;
          if (ii < 0 || ii >= h) continue;
          for (let q = 0; q < 3; q++) {
            const jj = j + q - 1;
            if (jj < 0 || jj >= w) continue;
            const s = (ii * w + jj) * conv.cIn;
            for (let c = 0; c < conv.cIn; c++) acc += conv.weight[((o * conv.cIn + c) * 3 + p) * 3 + q] * x.data[s + c];
          }
        }
        y.data[o0 + o] = acc;
      }
    }
  }
  return y;
}

/** The conv's ∞-Lipschitz factor max_o Σ_{c,p,q} |Ker(o, c, p, q)| (docs/math.md §6 E3). */
export function conv3x3Lipschitz(conv: Conv3x3): number {
  let best = 0;
  for (let o = 0; o < conv.cOut; o++) {
    let s = 0;
    for (let k = 0; k < conv.cIn * 9; k++) s += Math.abs(conv.weight[o * conv.cIn * 9 + k]);
    best = Math.max(best, s);
  }
  return best;
}

/**
 * The VAR residual φ(h) = ½h + ½·Conv3×3(h) (the `Phi` module of FoundationVision/VAR), c → c.
 * @see docs/math.md §7
 */
export function phiResidual(h: FeatureMap, conv: Conv3x3): FeatureMap {
  if (conv.cIn !== h.c || conv.cOut !== h.c) throw new ShapeError('conv', `expected a ${h.c}→${h.c} conv, got ${conv.cIn}→${conv.cOut}`);
  const y = conv3x3(h, conv);
  for (let k = 0; k < y.data.length; k++) y.data[k] = 0.5 * h.data[k] + 0.5 * y.data[k];
  return y;
}
