/**
 * `gpujs/upsample-bicubic` and `gpujs/downsample-area`: the resizes of docs/math.md §7 as gpu.js
 * kernels (float32), one output value per thread, weights computed in the shader; input and
 * output sized by `sizeBucket` (threads past the output return 0 and are dropped).
 * Integer quotients use floor((n + ½)/m), exact even where a GPU divides by multiplying with
 * an approximate reciprocal.
 * @module
 */
import { checkFeatureMap, featureMap, type FeatureMap } from '../../../spec/matrix.js';
import { PYTORCH_BICUBIC_A } from '../../../spec/interpolation.js';
import { requireInteger } from '../../../spec/errors.js';
import type { InterpolationKernel } from '../../../spec/contract.js';
import { createGpu, flatOutput, LOOP_LIMIT_FLOOR, loopLimit, MAX_INDEXED_CELLS, padded, requireIndexedCells, sizeBucket, type GpuBackend } from './backend.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- gpu.js kernel bodies are untyped */
type Resize = ((...args: any[]) => any) & { setOutput(o: number[]): void };

/** Options of the gpu.js interpolation kernels. */
export interface GpujsInterpolationOptions {
  /** The gpu.js backend. */
  backend: GpuBackend;
  /** Override the name (default `gpujs/<op>@<backend>`). */
  name?: string;
  /** Keys parameter a of the bicubic kernel. @defaultValue −0.75 (PyTorch) */
  a?: number;
  /** Source-index convention (`'align-corners'` only exists for mutant tests). @defaultValue 'half-pixel' */
  convention?: 'half-pixel' | 'align-corners';
}

function bicubicKernel(gpu: any): Resize {
  return gpu.createKernel(
    function (this: any, x: number[], h: number, w: number, c: number, h2: number, w2: number, a: number, alignCorners: number) {
      const idx = this.thread.x;
      if (idx >= h2 * w2 * c) return 0;
      // Integer quotients from float32 divisions, corrected with exact integer products (GPU
      // division is not correctly rounded; the 0.5 keeps each quotient away from integers).
      let pix = Math.floor((idx + 0.5) / c);
      if (pix * c > idx) pix = pix - 1;
      if ((pix + 1) * c <= idx) pix = pix + 1;
      const ch = idx - pix * c;
      let i = Math.floor((pix + 0.5) / w2);
      if (i * w2 > pix) i = i - 1;
      if ((i + 1) * w2 <= pix) i = i + 1;
      const j = pix - i * w2;
      let sy = (h / h2) * (i + 0.5) - 0.5;
      let sx = (w / w2) * (j + 0.5) - 0.5;
      if (alignCorners > 0.5) {
        sy = h2 > 1 ? ((h - 1) / (h2 - 1)) * i : 0;
        sx = w2 > 1 ? ((w - 1) / (w2 - 1)) * j : 0;
      }
      const iy = Math.min(Math.floor(sy), h - 1);
      const ix = Math.min(Math.floor(sx), w - 1);
      const ty = Math.min(Math.max(sy - iy, 0), 1);
      const tx = Math.min(Math.max(sx - ix, 0), 1);
      let acc = 0;
      for (let m = 0; m < 4; m++) {
        let dy = ty + 1 - m;
        if (dy < 0) dy = -dy;
        let wy = 0;
        if (dy <= 1) wy = ((a + 2) * dy - (a + 3)) * dy * dy + 1;
        else if (dy < 2) wy = ((a * dy - 5 * a) * dy + 8 * a) * dy - 4 * a;
        const ry = Math.min(Math.max(iy - 1 + m, 0), h - 1);
        for (let n = 0; n < 4; n++) {
          let dx = tx + 1 - n;
          if (dx < 0) dx = -dx;
          let wx = 0;
          if (dx <= 1) wx = ((a + 2) * dx - (a + 3)) * dx * dx + 1;
          else if (dx < 2) wx = ((a * dx - 5 * a) * dx + 8 * a) * dx - 4 * a;
          const rx = Math.min(Math.max(ix - 1 + n, 0), w - 1);
          acc += wy * wx * x[(ry * w + rx) * c + ch];
        }
      }
      return acc;
    } as any,
    { output: [1], dynamicOutput: true, dynamicArguments: true, precision: 'single', tactic: 'precision' },
  );
}

/**
 * Area resizing: the mean of the source window of each output pixel, rows then columns in order.
 * The loops run to the window's own size (dynamic bounds under the compiled limit `loopMax`, so one
 * compile serves every window up to {@link LOOP_LIMIT_FLOOR}).
 */
function areaKernel(gpu: any, loopMax: number): Resize {
  return gpu.createKernel(
    function (this: any, x: number[], h: number, w: number, c: number, h2: number, w2: number) {
      const idx = this.thread.x;
      if (idx >= h2 * w2 * c) return 0;
      // Integer quotients from float32 divisions, corrected with exact integer products (GPU
      // division is not correctly rounded; the 0.5 keeps each quotient away from integers).
      let pix = Math.floor((idx + 0.5) / c);
      if (pix * c > idx) pix = pix - 1;
      if ((pix + 1) * c <= idx) pix = pix + 1;
      const ch = idx - pix * c;
      let i = Math.floor((pix + 0.5) / w2);
      if (i * w2 > pix) i = i - 1;
      if ((i + 1) * w2 <= pix) i = i + 1;
      const j = pix - i * w2;
      // The window [⌊i·h/h2⌋, ⌈(i+1)·h/h2⌉) × [⌊j·w/w2⌋, ⌈(j+1)·w/w2⌉), each quotient corrected as above.
      let y0 = Math.floor((i * h + 0.5) / h2);
      if (y0 * h2 > i * h) y0 = y0 - 1;
      if ((y0 + 1) * h2 <= i * h) y0 = y0 + 1;
      const ny = (i + 1) * h + h2 - 1;
      let y1 = Math.floor((ny + 0.5) / h2);
      if (y1 * h2 > ny) y1 = y1 - 1;
      if ((y1 + 1) * h2 <= ny) y1 = y1 + 1;
      let x0 = Math.floor((j * w + 0.5) / w2);
      if (x0 * w2 > j * w) x0 = x0 - 1;
      if ((x0 + 1) * w2 <= j * w) x0 = x0 + 1;
      const nx = (j + 1) * w + w2 - 1;
      let x1 = Math.floor((nx + 0.5) / w2);
      if (x1 * w2 > nx) x1 = x1 - 1;
      if ((x1 + 1) * w2 <= nx) x1 = x1 + 1;
      const wy = y1 - y0;
      const wx = x1 - x0;
      let acc = 0;
      for (let p = 0; p < wy; p++) {
        for (let q = 0; q < wx; q++) acc += x[((y0 + p) * w + x0 + q) * c + ch];
      }
      return acc / (wy * wx);
    } as any,
    { output: [1], dynamicOutput: true, dynamicArguments: true, precision: 'single', tactic: 'precision', loopMaxIterations: loopMax } as any,
  );
}

/**
 * Validate a resize call's arguments (the contract's boundary), and refuse a resize whose input or
 * output has more cells than gpu.js indexes exactly ({@link MAX_INDEXED_CELLS}); `products` are
 * further integers the kernel forms (the area kernel's i·h and j·w).
 */
function checkResize(kernel: string, x: FeatureMap, h2: number, w2: number, products: [string, number][] = []): void {
  checkFeatureMap('x', x);
  requireInteger('h2', h2, 1);
  requireInteger('w2', w2, 1);
  requireIndexedCells(kernel, [['the input', sizeBucket(x.h * x.w * x.c)], ['the output', sizeBucket(h2 * w2 * x.c)], ...products]);
}

/** Bicubic up-interpolation (PyTorch `align_corners=False`) on one gpu.js backend. */
export async function gpujsUpsampleBicubic(options: GpujsInterpolationOptions): Promise<InterpolationKernel> {
  const gpu = await createGpu(options.backend);
  const k = bicubicKernel(gpu);
  const a = options.a ?? PYTORCH_BICUBIC_A;
  const name = options.name ?? `gpujs/upsample-bicubic@${options.backend}`;
  return {
    name,
    op: 'upsample-bicubic',
    precision: 'float32',
    async run(x: FeatureMap, h2: number, w2: number): Promise<FeatureMap> {
      checkResize(name, x, h2, w2);
      const n = h2 * w2 * x.c;
      k.setOutput([sizeBucket(n)]);
      const out = await flatOutput(k(padded(x.data), x.h, x.w, x.c, h2, w2, a, options.convention === 'align-corners' ? 1 : 0));
      return featureMap(h2, w2, x.c, out.subarray(0, n));
    },
    dispose: () => gpu.destroy(),
  };
}

/** Area resizing (PyTorch `mode='area'`, adaptive average pooling) on one gpu.js backend. */
export async function gpujsDownsampleArea(options: GpujsInterpolationOptions): Promise<InterpolationKernel> {
  const gpu = await createGpu(options.backend);
  const cache = new Map<number, Resize>();
  const name = options.name ?? `gpujs/downsample-area@${options.backend}`;
  return {
    name,
    op: 'downsample-area',
    precision: 'float32',
    async run(x: FeatureMap, h2: number, w2: number): Promise<FeatureMap> {
      // The window bounds reach (h2 + 1)·h and (w2 + 1)·w.
      checkResize(name, x, h2, w2, [['a row product (h2 + 1)·h', (h2 + 1) * x.h], ['a column product (w2 + 1)·w', (w2 + 1) * x.w]]);
      // A window spans at most ⌈size/size2⌉ + 1 source rows (columns); one loop limit serves them all up to 2¹⁵.
      const loopMax = loopLimit(Math.max(Math.ceil(x.h / h2), Math.ceil(x.w / w2)) + 1);
      let k = cache.get(loopMax);
      if (!k) {
        k = areaKernel(gpu, loopMax);
        cache.set(loopMax, k);
      }
      const n = h2 * w2 * x.c;
      k.setOutput([sizeBucket(n)]);
      const out = await flatOutput(k(padded(x.data), x.h, x.w, x.c, h2, w2));
      return featureMap(h2, w2, x.c, out.subarray(0, n));
    },
    dispose: () => gpu.destroy(),
  };
}
