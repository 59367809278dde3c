/**
 * Properties of the bicubic kernel, bicubic up-interpolation and area resizing (docs/math.md §6 E3, §7).
 * @module
 */
import * as fc from 'fast-check';
import { areaDownsample, bicubicLambda, bicubicWeight, featureMap, maxAbs, maxAbsDiff, upInterpolate, upInterpolateIntegerOffset, type FeatureMap } from '../spec/index.js';
import { anyFeatureMap, featureMapArb, targetSide } from './arbitraries.js';
import { EPS, law, roundoff, type Law } from './law.js';

const keysA = fc.double({ min: -1, max: 0, noNaN: true });
const unit = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });

/** Two equally shaped maps. */
const mapPair = fc
  .record({ h: fc.integer({ min: 1, max: 6 }), w: fc.integer({ min: 1, max: 6 }), c: fc.integer({ min: 1, max: 2 }) })
  .chain(({ h, w, c }) => fc.tuple(featureMapArb(h, w, c), featureMapArb(h, w, c)));

function combine(x: FeatureMap, y: FeatureMap, f: (a: number, b: number) => number): FeatureMap {
  return { ...x, data: x.data.map((v, k) => f(v, y.data[k])) };
}

/** Laws of the bicubic kernel W (docs/math.md §7). */
export const bicubicLaws: Law<unknown>[] = [
  law({
    id: 'interpolation.bicubic-partition-of-unity-w-t',
    name: 'bicubic: partition of unity W(t+1)+W(t)+W(1−t)+W(2−t) = 1',
    cites: 'docs/math.md §7 (Keys kernel facts)',
    arbitrary: fc.tuple(unit, keysA),
    check: ([t, a]) => ({ error: Math.abs(bicubicWeight(t + 1, a) + bicubicWeight(t, a) + bicubicWeight(1 - t, a) + bicubicWeight(2 - t, a) - 1), bound: 16 * EPS }),
  }),
  law({
    id: 'interpolation.bicubic-4a-27-le-w-le',
    name: 'bicubic: 4a/27 ≤ W ≤ 1 for a ∈ [−1, 0]',
    cites: 'docs/math.md §7',
    arbitrary: fc.tuple(fc.double({ min: -3, max: 3, noNaN: true }), keysA),
    check: ([x, a]) => {
      const w = bicubicWeight(x, a);
      return { error: Math.max(0, w - 1, (4 * a) / 27 - w), bound: 8 * EPS };
    },
  }),
  law({
    id: 'interpolation.bicubic-stencil-weights-le-a-eq',
    name: 'bicubic: Σ|stencil weights| ≤ Λ_a = 1 + |a|/2',
    cites: 'docs/math.md §6 E3, §7',
    arbitrary: fc.tuple(unit, keysA),
    check: ([t, a]) => {
      const s = [t + 1, t, 1 - t, 2 - t].reduce((acc, x) => acc + Math.abs(bicubicWeight(x, a)), 0);
      return { error: Math.max(0, s - bicubicLambda(a)), bound: 8 * EPS };
    },
  }),
  law({
    id: 'interpolation.bicubic-w-even-w-0-eq',
    name: 'bicubic: W even, W(0) = 1, W(±1) = W(±2) = 0',
    cites: 'docs/math.md §7',
    arbitrary: fc.tuple(fc.double({ min: -3, max: 3, noNaN: true }), keysA),
    check: ([x, a]) => ({
      error: Math.max(Math.abs(bicubicWeight(x, a) - bicubicWeight(-x, a)), Math.abs(bicubicWeight(0, a) - 1), ...[1, -1, 2, -2].map((k) => Math.abs(bicubicWeight(k, a)))),
      bound: 8 * EPS,
    }),
  }),
];

/** Laws of bicubic up-interpolation (docs/math.md §6 E3, §7). */
export const upInterpolationLaws: Law<unknown>[] = [
  law({
    id: 'interpolation.up-interpolation-linear-up-x-y',
    name: 'up-interpolation: linear, up(αx + βy) = α·up(x) + β·up(y)',
    cites: 'docs/math.md §7',
    arbitrary: fc.tuple(mapPair, fc.double({ min: -3, max: 3, noNaN: true }), fc.double({ min: -3, max: 3, noNaN: true }), targetSide(), targetSide()),
    check: ([[x, y], al, be, h2, w2]) => {
      const lhs = upInterpolate(
        combine(x, y, (u, v) => al * u + be * v),
        h2,
        w2,
      );
      const ux = upInterpolate(x, h2, w2);
      const uy = upInterpolate(y, h2, w2);
      const rhs = combine(ux, uy, (u, v) => al * u + be * v);
      const scale = Math.abs(al) * maxAbs(x.data) + Math.abs(be) * maxAbs(y.data);
      return { error: maxAbsDiff(lhs.data, rhs.data), bound: roundoff(64 * bicubicLambda() ** 2, scale) };
    },
  }),
  law({
    id: 'interpolation.up-interpolation-constants-are-preserved',
    name: 'up-interpolation: constants are preserved',
    cites: 'docs/math.md §7 (partition of unity)',
    arbitrary: fc.tuple(targetSide(5), targetSide(5), fc.double({ min: -10, max: 10, noNaN: true }), targetSide(), targetSide(), keysA),
    check: ([h, w, v, h2, w2, a]) => {
      const out = upInterpolate(featureMap(h, w, 1, new Array(h * w).fill(v)), h2, w2, { a });
      // Each of the 4 weights per axis is a ≤ 8-op Horner evaluation (≤ 8 EPS relative); the 16
      // tap products and the sum add ≤ 3 EPS per tap; Σ|w_r w_c| ≤ Λ_a². Hence ≤ 64·Λ_a²·EPS·|v|.
      return { error: maxAbs(out.data.map((u) => u - v)), bound: roundoff(64 * bicubicLambda(a) ** 2, Math.abs(v)) };
    },
  }),
  law({
    id: 'interpolation.up-interpolation-identity-at-equal-sizes',
    name: 'up-interpolation: identity at equal sizes',
    cites: 'docs/math.md §7',
    arbitrary: anyFeatureMap(),
    check: (x) => ({ error: maxAbsDiff(upInterpolate(x, x.h, x.w).data, x.data), bound: 0 }),
  }),
  law({
    id: 'interpolation.up-interpolation-inf-lipschitz-with-factor',
    name: 'up-interpolation: ∞-Lipschitz with factor Λ_a²',
    cites: 'docs/math.md §6 E3',
    arbitrary: fc.tuple(mapPair, targetSide(), targetSide(), keysA),
    check: ([[x, y], h2, w2, a]) => {
      const diff = maxAbsDiff(upInterpolate(x, h2, w2, { a }).data, upInterpolate(y, h2, w2, { a }).data);
      const lam = bicubicLambda(a) ** 2;
      return { error: diff, bound: lam * maxAbsDiff(x.data, y.data) + roundoff(64 * lam, maxAbs(x.data) + maxAbs(y.data)) };
    },
  }),
  law({
    id: 'interpolation.up-interpolation-each-output-reads-at',
    name: 'up-interpolation: each output reads at most 16 source pixels',
    cites: 'docs/math.md §7',
    arbitrary: fc.tuple(targetSide(6), targetSide(6), targetSide(), targetSide(), keysA),
    check: ([h, w, h2, w2, a]) => {
      // Impulse responses: count the sources that reach each output pixel.
      const reach = new Int32Array(h2 * w2);
      for (let s = 0; s < h * w; s++) {
        const e = featureMap(h, w, 1);
        e.data[s] = 1;
        upInterpolate(e, h2, w2, { a }).data.forEach((v, o) => {
          if (v !== 0) reach[o]++;
        });
      }
      const worst = Math.max(...reach);
      return { error: Math.max(0, worst - 16), bound: 0, detail: `an output pixel reads ${worst} sources` };
    },
  }),
  law({
    id: 'interpolation.integer-offset-is-nearest',
    name: "up-interpolation: the paper's integer-offset form is nearest-neighbour sampling",
    cites: 'docs/math.md §7 (discrepancy note)',
    arbitrary: fc.tuple(anyFeatureMap(), targetSide(), targetSide()),
    check: ([x, h2, w2]) => {
      const out = upInterpolateIntegerOffset(x, h2, w2);
      let err = 0;
      for (let i = 0; i < h2; i++)
        for (let j = 0; j < w2; j++)
          for (let c = 0; c < x.c; c++) {
            const src = (Math.floor((i * x.h) / h2) * x.w + Math.floor((j * x.w) / w2)) * x.c + c;
            err = Math.max(err, Math.abs(out.data[(i * w2 + j) * x.c + c] - x.data[src]));
          }
      return { error: err, bound: 0 };
    },
  }),
];

/** Laws of area resizing (docs/math.md §6 E3, §7). */
export const areaLaws: Law<unknown>[] = [
  law({
    id: 'interpolation.area-constants-are-preserved',
    name: 'area: constants are preserved',
    cites: 'docs/math.md §7',
    arbitrary: fc.tuple(targetSide(8), targetSide(8), fc.double({ min: -10, max: 10, noNaN: true }), targetSide(), targetSide()),
    check: ([h, w, v, h2, w2]) => {
      const out = areaDownsample(featureMap(h, w, 1, new Array(h * w).fill(v)), h2, w2);
      return { error: maxAbs(out.data.map((u) => u - v)), bound: roundoff(4 * h * w, Math.abs(v)) };
    },
  }),
  law({
    id: 'interpolation.area-the-mean-is-preserved-when',
    name: 'area: the mean is preserved when the sizes divide',
    cites: 'docs/math.md §7',
    arbitrary: fc
      .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
      .chain(([h2, w2, fh, fw]) => fc.tuple(featureMapArb(h2 * fh, w2 * fw, 1), fc.constant(h2), fc.constant(w2))),
    check: ([x, h2, w2]) => {
      const mean = (d: ArrayLike<number>): number => Array.from(d).reduce((s, v) => s + v, 0) / d.length;
      return { error: Math.abs(mean(areaDownsample(x, h2, w2).data) - mean(x.data)), bound: roundoff(8 * x.data.length, maxAbs(x.data)) };
    },
  }),
  law({
    id: 'interpolation.area-non-expansive-area-x-area',
    name: 'area: non-expansive, ‖area(x) − area(y)‖∞ ≤ ‖x − y‖∞',
    cites: 'docs/math.md §6 E3 (factor 1)',
    arbitrary: fc.tuple(mapPair, targetSide(), targetSide()),
    check: ([[x, y], h2, w2]) => ({
      error: maxAbsDiff(areaDownsample(x, h2, w2).data, areaDownsample(y, h2, w2).data),
      bound: maxAbsDiff(x.data, y.data) + roundoff(8 * x.data.length, maxAbs(x.data) + maxAbs(y.data)),
    }),
  }),
];
