/**
 * fast-check arbitraries for the spec's inputs: matrices with bounded entries, feature maps,
 * scale pyramids, attention inputs with and without block-causal masks.
 * @module
 */
import * as fc from 'fast-check';
import { attentionInput, blockCausalMask, featureMap, matrix, NO_MASK, scalePyramid, type AttentionInput, type FeatureMap, type Matrix, type ScalePyramid } from '../spec/index.js';

/** Entries uniform-ish on [−B, B] (fast-check's doubles, biased to edge cases). */
export function entries(n: number, B: number): fc.Arbitrary<number[]> {
  return fc.array(fc.double({ min: -B, max: B, noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n });
}

/** A rows×cols float64 matrix with ‖M‖∞ ≤ B. */
export function matrixArb(rows: number, cols: number, B: number): fc.Arbitrary<Matrix> {
  return entries(rows * cols, B).map((e) => matrix(rows, cols, e));
}

/** An h×w×c feature map with entries in [−B, B]. */
export function featureMapArb(h: number, w: number, c: number, B = 4): fc.Arbitrary<FeatureMap> {
  return entries(h * w * c, B).map((e) => featureMap(h, w, c, e));
}

/** Feature maps of random small sizes (1..maxSide, 1..maxC channels). */
export function anyFeatureMap(maxSide = 6, maxC = 2, B = 4): fc.Arbitrary<FeatureMap> {
  return fc
    .record({ h: fc.integer({ min: 1, max: maxSide }), w: fc.integer({ min: 1, max: maxSide }), c: fc.integer({ min: 1, max: maxC }) })
    .chain(({ h, w, c }) => featureMapArb(h, w, c, B));
}

/** A target size 1..max for resizing. */
export const targetSide = (max = 9): fc.Arbitrary<number> => fc.integer({ min: 1, max });

/** Square scale pyramids: sides start at 1 and are nondecreasing, up to `maxScales` scales. */
export function pyramidArb(maxScales = 4, maxSide = 4): fc.Arbitrary<ScalePyramid> {
  return fc
    .array(fc.integer({ min: 0, max: 2 }), { minLength: 0, maxLength: maxScales - 1 })
    .map((steps) => {
      const sides = [1];
      for (const s of steps) sides.push(Math.min(maxSide, sides[sides.length - 1] + s));
      return scalePyramid({ sides });
    });
}

/** Rectangular pyramids (nondecreasing heights and widths independently). */
export function rectPyramidArb(maxScales = 4, maxSide = 4): fc.Arbitrary<ScalePyramid> {
  const grow = fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })), { minLength: 0, maxLength: maxScales - 1 });
  return grow.map((steps) => {
    const hs = [1];
    const ws = [1];
    for (const [a, b] of steps) {
      hs.push(Math.min(maxSide, hs[hs.length - 1] + a));
      ws.push(Math.min(maxSide, ws[ws.length - 1] + b));
    }
    return scalePyramid({ heights: hs, widths: ws });
  });
}

/** Settings of a random attention input. */
export interface AttentionSettings {
  /** Entry bound B of Q, K, V. */
  B?: number;
  /** Largest head dimension d. */
  maxD?: number;
  /** Largest value dimension d_v. */
  maxDv?: number;
  /** Largest token count (unmasked case). */
  maxL?: number;
  /** Smallest key count (unmasked case). @defaultValue 1 */
  minL?: number;
  /** Which masks to draw. */
  masks?: readonly ('none' | 'block-causal')[];
}

/** Random attention inputs, self-attention over a pyramid when block-causal, scale 1/d. */
export function attentionInputArb(settings: AttentionSettings = {}): fc.Arbitrary<AttentionInput> {
  const { B = 2, maxD = 4, maxDv = 3, maxL = 12, minL = 1, masks = ['none', 'block-causal'] } = settings;
  return fc
    .record({
      mask: fc.constantFrom(...masks),
      lq: fc.integer({ min: 1, max: maxL }),
      lk: fc.integer({ min: Math.min(minL, maxL), max: maxL }),
      d: fc.integer({ min: 1, max: maxD }),
      dv: fc.integer({ min: 1, max: maxDv }),
      pyr: pyramidArb(4, 3),
    })
    .chain(({ mask, lq, lk, d, dv, pyr }) => {
      const [rq, rk] = mask === 'none' ? [lq, lk] : [pyr.L, pyr.L];
      return fc
        .tuple(matrixArb(rq, d, B), matrixArb(rk, d, B), matrixArb(rk, dv, B))
        .map(([q, k, v]) => attentionInput(q, k, v, { mask: mask === 'none' ? NO_MASK : blockCausalMask(pyr) }));
    });
}
