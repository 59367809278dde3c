/**
 * The interpolation battery: laws every `upsample-bicubic` / `downsample-area` kernel must
 * satisfy against the spec (docs/math.md §7), with the same tolerance policy as attention —
 * float64 rounding, or for float32 kernels the larger of a rigorous rounding floor
 * (spec/rounding.ts) and 2× the error of a naive float32 evaluation of the same formula plus the
 * output's rounding noise.
 * @module
 */
import * as fc from 'fast-check';
import { areaDownsample, areaWindow, PYTORCH_BICUBIC_A, upInterpolate } from '../../spec/interpolation.js';
import { checkFeatureMap, featureMap, maxAbs, maxAbsDiff, type FeatureMap } from '../../spec/matrix.js';
import type { InterpolationKernel } from '../../spec/contract.js';
import { anyFeatureMap, targetSide } from '../arbitraries.js';
import { law, roundoff, type Law } from '../law.js';
import { U32 } from './float32.js';
import { FLOAT32, resizeRoundingBound } from '../../spec/rounding.js';

const f = Math.fround;

function w32(d: number, a: number): number {
  const t = d < 0 ? -d : d;
  if (t <= 1) return f(f(f(f(f(f(a + 2) * t) - f(a + 3)) * t) * t) + 1);
  if (t < 2) return f(f(f(f(f(f(f(a * t) - f(5 * a)) * t) + f(8 * a)) * t)) - f(4 * a));
  return 0;
}

/** Naive float32 bicubic (align_corners=False), every operation rounded to float32. */
export function naiveFloat32Bicubic(x: FeatureMap, h2: number, w2: number, a = PYTORCH_BICUBIC_A): FeatureMap {
  const out = featureMap(h2, w2, x.c);
  const fa = f(a);
  for (let i = 0; i < h2; i++)
    for (let j = 0; j < w2; j++)
      for (let ch = 0; ch < x.c; ch++) {
        const sy = f(f(f(f(x.h / h2) * f(i + 0.5))) - 0.5);
        const sx = f(f(f(f(x.w / w2) * f(j + 0.5))) - 0.5);
        const iy = Math.min(Math.floor(sy), x.h - 1);
        const ix = Math.min(Math.floor(sx), x.w - 1);
        const ty = Math.min(Math.max(f(sy - iy), 0), 1);
        const tx = Math.min(Math.max(f(sx - ix), 0), 1);
        let acc = 0;
        for (let m = 0; m < 4; m++) {
          const wy = w32(f(f(ty + 1) - m), fa);
          const ry = Math.min(Math.max(iy - 1 + m, 0), x.h - 1);
          for (let n = 0; n < 4; n++) {
            const wx = w32(f(f(tx + 1) - n), fa);
            const rx = Math.min(Math.max(ix - 1 + n, 0), x.w - 1);
            acc = f(acc + f(f(wy * wx) * f(x.data[(ry * x.w + rx) * x.c + ch])));
          }
        }
        out.data[(i * w2 + j) * x.c + ch] = acc;
      }
  return out;
}

/** Naive float32 area resizing: a float32 running sum over the window, then one division. */
export function naiveFloat32Area(x: FeatureMap, h2: number, w2: number): FeatureMap {
  const out = featureMap(h2, w2, x.c);
  for (let i = 0; i < h2; i++)
    for (let j = 0; j < w2; j++)
      for (let ch = 0; ch < x.c; ch++) {
        const ys = areaWindow(x.h, h2, i);
        const xs = areaWindow(x.w, w2, j);
        let acc = 0;
        for (let p = ys.start; p < ys.end; p++) for (let q = xs.start; q < xs.end; q++) acc = f(acc + f(x.data[(p * x.w + q) * x.c + ch]));
        out.data[(i * w2 + j) * x.c + ch] = f(acc / ((ys.end - ys.start) * (xs.end - xs.start)));
      }
  return out;
}

/** The spec function of an interpolation op. */
export function specResize(op: InterpolationKernel['op'], x: FeatureMap, h2: number, w2: number): FeatureMap {
  return op === 'upsample-bicubic' ? upInterpolate(x, h2, w2) : areaDownsample(x, h2, w2);
}

/**
 * Tolerance policy for a resize kernel on `x` (see module doc): for float32 kernels, the larger of
 * the rigorous rounding floor ({@link resizeRoundingBound}, any summation order or intermediate
 * precision) and the FlashAttention-style rule (2× a naive float32 evaluation), which alone fails
 * correct kernels whenever the naive evaluation's errors cancel by luck.
 */
export function resizeTolerance(kernel: InterpolationKernel, x: FeatureMap, h2: number, w2: number, reference: FeatureMap): number {
  if (kernel.precision === 'float64') return roundoff(64 * (1 + Math.ceil(x.h / h2) * Math.ceil(x.w / w2)), maxAbs(x.data));
  const naive = kernel.op === 'upsample-bicubic' ? naiveFloat32Bicubic(x, h2, w2) : naiveFloat32Area(x, h2, w2);
  const rule = 2 * maxAbsDiff(naive.data, reference.data) + 2 * U32 * maxAbs(reference.data) + 2 ** -122;
  return Math.max(rule, resizeRoundingBound(kernel.op, x, h2, w2, FLOAT32));
}

async function runResize(kernel: InterpolationKernel, x: FeatureMap, h2: number, w2: number): Promise<FeatureMap> {
  const out = await kernel.run(x, h2, w2);
  const y = checkFeatureMap(`${kernel.name} output`, out, { c: x.c });
  if (y.h !== h2 || y.w !== w2) throw new Error(`${kernel.name} output: expected ${h2}×${w2}, got ${y.h}×${y.w}`);
  return y;
}

/** Laws every interpolation kernel must satisfy. */
export function interpolationBattery(kernel: InterpolationKernel, settings: { numRuns?: number; maxSide?: number } = {}): Law<unknown>[] {
  const numRuns = settings.numRuns ?? 100;
  const side = settings.maxSide ?? 12;
  const cases = fc.tuple(anyFeatureMap(side, 3), targetSide(side + 8), targetSide(side + 8));
  return [
    law({
      id: 'battery.resize-matches-spec',
      name: `${kernel.name}: matches the spec (${kernel.op})`,
      cites: 'docs/math.md §7, docs/guide-kernels.md (Tolerance policy)',
      arbitrary: cases,
      numRuns,
      check: async ([x, h2, w2]) => {
        const ref = specResize(kernel.op, x, h2, w2);
        const got = await runResize(kernel, x, h2, w2);
        const tol = resizeTolerance(kernel, x, h2, w2, ref);
        const err = maxAbsDiff(got.data, ref.data);
        return { error: err, bound: tol, detail: `${x.h}×${x.w}×${x.c} → ${h2}×${w2}` };
      },
    }),
    law({
      id: 'battery.resize-constants',
      name: `${kernel.name}: constants are preserved`,
      cites: 'docs/math.md §7 (partition of unity / averaging)',
      arbitrary: fc.tuple(targetSide(side), targetSide(side), fc.double({ min: -8, max: 8, noNaN: true }), targetSide(side + 8), targetSide(side + 8)),
      numRuns,
      check: async ([h, w, v, h2, w2]) => {
        const x = featureMap(h, w, 1, new Array(h * w).fill(v));
        const got = await runResize(kernel, x, h2, w2);
        return { error: maxAbs(got.data.map((u) => u - v)), bound: resizeTolerance(kernel, x, h2, w2, specResize(kernel.op, x, h2, w2)) + roundoff(64, Math.abs(v)) };
      },
    }),
    law({
      id: 'battery.resize-identity',
      name: `${kernel.name}: identity at equal sizes`,
      cites: 'docs/math.md §7',
      arbitrary: anyFeatureMap(side, 3),
      numRuns,
      check: async (x) => {
        const got = await runResize(kernel, x, x.h, x.w);
        return { error: maxAbsDiff(got.data, x.data), bound: kernel.precision === 'float32' ? U32 * maxAbs(x.data) + 2 ** -126 : 0 };
      },
    }),
  ];
}
