/**
 * The float tolerance floor (`attentionRoundingBound`, docs/math.md §8 "Exact attention in floating
 * point") against the implementation its model must cover at its worst: float32 online softmax with
 * one rescale per key, logits that raise the running maximum at every key, and an exp whose error
 * is the declared ε_exp in the most harmful direction (rescale factors too small, weights too large).
 * The rescale errors multiply only the keys seen before them, so they do not cancel in the ratio.
 * And the resize floor (`resizeRoundingBound`, "Resizing in floating point") against float32 area and
 * bicubic resizes in other orders and precisions than the battery's naive evaluation.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { attention, attentionInput } from '../spec/attention.js';
import { areaDownsample, areaWindow, PYTORCH_BICUBIC_A, upInterpolate } from '../spec/interpolation.js';
import { featureMap, matrix, maxAbs, maxAbsDiff, type FeatureMap } from '../spec/matrix.js';
import { attentionRoundingBound, FLOAT32, resizeRoundingBound } from '../spec/rounding.js';
import { naiveFloat32Area, resizeTolerance } from './battery/interpolation.js';
import { U32 } from './battery/float32.js';

const f = Math.fround;

/** Float32 per-key online softmax of one query row, logits `z`; every exp is off by ε_exp (rescales down, weights up). */
function onlineSoftmax32(z: ArrayLike<number>, v: ArrayLike<number>, epsExp: number): number {
  let m = -Infinity;
  let l = 0;
  let o = 0;
  for (let j = 0; j < z.length; j++) {
    const zj = f(z[j]);
    if (zj > m) {
      const alpha = m === -Infinity ? 0 : f(Math.exp(f(m - zj)) * (1 - epsExp));
      l = f(l * alpha);
      o = f(o * alpha);
      m = zj;
    }
    const p = f(Math.exp(f(zj - m)) * (1 + epsExp));
    l = f(l + p);
    o = f(o + f(p * f(v[j])));
  }
  return f(o / l);
}

/** Float32 online softmax over tiles of `tile` keys (one rescale per tile, computed even when the maximum stays), exp off by ε_exp. */
function tiledSoftmax32(z: ArrayLike<number>, v: ArrayLike<number>, epsExp: number, tile: number): number {
  let m = -Infinity;
  let l = 0;
  let o = 0;
  for (let j0 = 0; j0 < z.length; j0 += tile) {
    const end = Math.min(z.length, j0 + tile);
    let mt = m;
    for (let j = j0; j < end; j++) mt = Math.max(mt, f(z[j]));
    const alpha = m === -Infinity ? 0 : f(Math.exp(f(m - mt)) * (1 - epsExp));
    l = f(l * alpha);
    o = f(o * alpha);
    for (let j = j0; j < end; j++) {
      const p = f(Math.exp(f(f(z[j]) - mt)) * (1 + epsExp));
      l = f(l + p);
      o = f(o + f(p * f(v[j])));
    }
    m = mt;
  }
  return f(o / l);
}

/** The rising-logits input of length n (q = [β], k_j = j/n, v = +1 before `cut`, −1 after) and its float32 logits. */
function risingInput(n: number, beta: number, cut: number) {
  const k = matrix(
    n,
    1,
    Float64Array.from({ length: n }, (_, j) => f(j / n)),
  );
  const v = matrix(
    n,
    1,
    Float64Array.from({ length: n }, (_, j) => (j < Math.min(cut, n - 1) ? 1 : -1)),
  );
  const input = attentionInput(matrix(1, 1, [f(beta)]), k, v, { scale: 1 });
  const z = Float64Array.from({ length: n }, (_, j) => f(f(beta) * k.data[j]));
  return { input, z, v: v.data };
}

/** Arbitraries of a rising-logits case: n keys, ε_exp log-uniform from 4u (libm quality) to 1e-3, β, the sign cut of V. */
const risingCase = [
  fc.integer({ min: 2, max: 3000 }),
  fc.double({ min: 0, max: Math.log10(1e-3 / (4 * 2 ** -24)), noNaN: true }).map((t) => 4 * 2 ** -24 * 10 ** t),
  fc.double({ min: 0, max: 8, noNaN: true }),
  fc.integer({ min: 1, max: 2999 }),
] as const;

describe('attentionRoundingBound covers online softmax with an inexact exp', () => {
  it('rising logits (one rescale per key), exp off by ε_exp: |float32 − float64| ≤ the floor', () => {
    fc.assert(
      fc.property(...risingCase, (n, epsExp, beta, cut) => {
        // q = [β], k_j = j/n: logits rise from 0 to β·(n − 1)/n, each a new running maximum.
        const { input, z, v } = risingInput(n, beta, cut);
        const got = onlineSoftmax32(z, v, epsExp);
        const want = attention(input).data[0];
        const bound = attentionRoundingBound(input, { ...FLOAT32, expRelativeError: epsExp });
        expect(Math.abs(got - want)).toBeLessThanOrEqual(bound);
      }),
    );
  });
  it('tiles of b keys, declared { keysPerRescale: b, extra: 0 }: within the declared floor; declaring none undercounts and fails', () => {
    let undercountFailed = false;
    fc.assert(
      fc.property(...risingCase, fc.integer({ min: 1, max: 64 }), (n, epsExp, beta, cut, tile) => {
        const { input, z, v } = risingInput(n, beta, cut);
        const err = Math.abs(tiledSoftmax32(z, v, epsExp, tile) - attention(input).data[0]);
        const rescales = { keysPerRescale: tile, extra: 0 };
        expect(err).toBeLessThanOrEqual(attentionRoundingBound(input, { ...FLOAT32, expRelativeError: epsExp, rescales }));
        if (err > attentionRoundingBound(input, { ...FLOAT32, expRelativeError: epsExp, rescales: 'none' })) undercountFailed = true;
      }),
      { numRuns: 200 },
    );
    // The declaration matters: the same implementations exceed the floor of a kernel claiming no rescales.
    expect(undercountFailed).toBe(true);
  });
});

type Window = { start: number; end: number };

/** An area resize whose output cell (i, j, ch) is `mean(ys, xs, at)` over its windows, `at(p, q)` reading channel ch. */
function areaBy(x: FeatureMap, h2: number, w2: number, mean: (ys: Window, xs: Window, at: (p: number, q: number) => number) => number): FeatureMap {
  const out = featureMap(h2, w2, x.c);
  for (let i = 0; i < h2; i++)
    for (let j = 0; j < w2; j++) for (let ch = 0; ch < x.c; ch++) out.data[(i * w2 + j) * x.c + ch] = mean(areaWindow(x.h, h2, i), areaWindow(x.w, w2, j), (p, q) => x.data[(p * x.w + q) * x.c + ch]);
  return out;
}

/** Area resizing as gpu.js's cpu backend computes it: float32 inputs, float64 sum and division, a float32 output. */
function areaWideIntermediates(x: FeatureMap, h2: number, w2: number): FeatureMap {
  return areaBy(x, h2, w2, (ys, xs, at) => {
    let acc = 0;
    for (let p = ys.start; p < ys.end; p++) for (let q = xs.start; q < xs.end; q++) acc += f(at(p, q));
    return f(acc / ((ys.end - ys.start) * (xs.end - xs.start)));
  });
}

/** Area resizing in float32 throughout, separable (column means of row means), summing backwards, times a float32 reciprocal. */
function areaSeparable32(x: FeatureMap, h2: number, w2: number): FeatureMap {
  return areaBy(x, h2, w2, (ys, xs, at) => {
    let outer = 0;
    for (let p = ys.end - 1; p >= ys.start; p--) {
      let row = 0;
      for (let q = xs.end - 1; q >= xs.start; q--) row = f(row + f(at(p, q)));
      outer = f(outer + f(row * f(1 / (xs.end - xs.start))));
    }
    return f(outer * f(1 / (ys.end - ys.start)));
  });
}

/** PyTorch bicubic in float32 throughout — coordinates, Horner weights, products — accumulating the 16 taps backwards. */
function bicubicBackwards32(x: FeatureMap, h2: number, w2: number): FeatureMap {
  const a = f(PYTORCH_BICUBIC_A);
  const weight = (d: number): number => {
    const t = Math.abs(d);
    if (t <= 1) return f(f(f(f(f(f(a + 2) * t) - f(a + 3)) * t) * t) + 1);
    if (t < 2) return f(f(f(f(f(f(a * t) - f(5 * a)) * t) + f(8 * a)) * t) - f(4 * a));
    return 0;
  };
  const out = featureMap(h2, w2, x.c);
  for (let i = 0; i < h2; i++)
    for (let j = 0; j < w2; j++) {
      const sy = f(f(f(x.h / h2) * (i + 0.5)) - 0.5);
      const sx = f(f(f(x.w / w2) * (j + 0.5)) - 0.5);
      const iy = Math.floor(sy);
      const ix = Math.floor(sx);
      for (let ch = 0; ch < x.c; ch++) {
        let acc = 0;
        for (let m = 3; m >= 0; m--)
          for (let n = 3; n >= 0; n--) {
            const ry = Math.min(Math.max(iy - 1 + m, 0), x.h - 1);
            const rx = Math.min(Math.max(ix - 1 + n, 0), x.w - 1);
            const wy = weight(f(f(sy - iy) + (1 - m)));
            const wx = weight(f(f(sx - ix) + (1 - n)));
            acc = f(acc + f(f(wy * wx) * f(x.data[(ry * x.w + rx) * x.c + ch])));
          }
        out.data[(i * w2 + j) * x.c + ch] = acc;
      }
    }
  return out;
}

/** Feature maps with a wide dynamic range (tiny, subnormal and O(1) entries mixed), as the fuzzer's guided search makes them. */
const wideMap = fc.record({ h: fc.integer({ min: 1, max: 12 }), w: fc.integer({ min: 1, max: 12 }), c: fc.integer({ min: 1, max: 3 }) }).chain(({ h, w, c }) =>
  fc
    .array(fc.oneof(fc.double({ min: -8, max: 8, noNaN: true }), fc.double({ min: -1e-30, max: 1e-30, noNaN: true }), fc.constantFrom(0, 5e-324, -3e-45)), {
      minLength: h * w * c,
      maxLength: h * w * c,
    })
    .map((data) => featureMap(h, w, c, data)),
);
const resizeCase = [wideMap, fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 20 })] as const;

describe('resizeRoundingBound covers float32 resizes in any order and precision', () => {
  it('area: float64 intermediates (gpu.js cpu) and separable float32 with reciprocals stay within the floor', () => {
    fc.assert(
      fc.property(...resizeCase, (x, h2, w2) => {
        const want = areaDownsample(x, h2, w2).data;
        const bound = resizeRoundingBound('downsample-area', x, h2, w2, FLOAT32);
        expect(maxAbsDiff(areaWideIntermediates(x, h2, w2).data, want)).toBeLessThanOrEqual(bound);
        expect(maxAbsDiff(areaSeparable32(x, h2, w2).data, want)).toBeLessThanOrEqual(bound);
      }),
      { numRuns: 300 },
    );
  });
  it('bicubic: float64 intermediates and float32 throughout (backwards) stay within the floor', () => {
    fc.assert(
      fc.property(...resizeCase, (x, h2, w2) => {
        const want = upInterpolate(x, h2, w2).data;
        const bound = resizeRoundingBound('upsample-bicubic', x, h2, w2, FLOAT32);
        const wide = upInterpolate(featureMap(x.h, x.w, x.c, Float64Array.from(x.data, f)), h2, w2).data.map(f);
        expect(maxAbsDiff(wide, want)).toBeLessThanOrEqual(bound);
        expect(maxAbsDiff(bicubicBackwards32(x, h2, w2).data, want)).toBeLessThanOrEqual(bound);
      }),
      { numRuns: 300 },
    );
  });
  it('the 2×-naive rule alone raises a false alarm on a correct area kernel; the tolerance with the floor does not', () => {
    const kernel = { name: 'area-wide', op: 'downsample-area', precision: 'float32', run: areaWideIntermediates } as const;
    // Windows whose sum nearly cancels: the naive float32 sum's own errors can cancel its input roundings, the kernel's cannot.
    const cancelling = fc
      .array(fc.double({ min: -8, max: 8, noNaN: true }), { minLength: 1, maxLength: 11 })
      .chain((vs) => fc.double({ min: -1e-3, max: 1e-3, noNaN: true }).map((e) => featureMap(1, vs.length + 1, 1, [...vs, e - vs.reduce((a, b) => a + b, 0)])));
    let ruleFailed = false;
    fc.assert(
      fc.property(cancelling, (x) => {
        const ref = areaDownsample(x, 1, 1);
        const err = maxAbsDiff(areaWideIntermediates(x, 1, 1).data, ref.data);
        const rule = 2 * maxAbsDiff(naiveFloat32Area(x, 1, 1).data, ref.data) + 2 * U32 * maxAbs(ref.data) + 2 ** -122;
        if (err > rule) ruleFailed = true;
        expect(err).toBeLessThanOrEqual(resizeTolerance(kernel, x, 1, 1, ref));
      }),
      { numRuns: 300 },
    );
    expect(ruleFailed).toBe(true);
  });
});

describe("wgsl/low-rank's sliced sums stay within the sequential sum's addition count (docs/floating-point.md, chunked key sums)", () => {
  it('s slices of ℓ = ⌈n/s⌉ terms added in order, then a pairwise tree over the k = ⌈n/ℓ⌉ non-empty ones: ℓ − 1 + ⌈log₂ k⌉ ≤ n − 1, for every s the kernel takes and n ≤ 5,000', () => {
    let tight = 0;
    for (const s of [2, 4, 8, 16, 32, 64])
      for (let n = 1; n <= 5000; n++) {
        const l = Math.ceil(n / s);
        const k = Math.ceil(n / l);
        const additions = l - 1 + Math.ceil(Math.log2(k));
        expect(additions, `s = ${s}, n = ${n}`).toBeLessThanOrEqual(n - 1);
        if (additions === n - 1) tight++;
      }
    // The bound is attained (n ≤ 3, where the tree is the whole sum): the count is not loose by construction.
    expect(tight).toBeGreaterThan(0);
  });
});
