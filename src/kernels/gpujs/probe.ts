/**
 * Measured precision: at start-up, ask each backend how accurate its exp and its float32
 * accumulation are, so that tolerances derive from measurement, not constants.
 * @module
 */
import type { MeasuredPrecision } from '../../../spec/contract.js';
import { createGpu, type GpuBackend } from './backend.js';

const N = 4096;

/* eslint-disable @typescript-eslint/no-explicit-any -- gpu.js kernel bodies are untyped */
/** Probe `backend`: exp on a grid of [−30, 0] and a 4096-term running sum. */
export async function probePrecision(backend: GpuBackend): Promise<MeasuredPrecision> {
  const gpu = await createGpu(backend);
  try {
    const xs = Float32Array.from({ length: N }, (_, i) => Math.fround(-30 + (30 * i) / (N - 1)));
    const expK = gpu.createKernel(function (this: any, x: number[]) { return Math.exp(x[this.thread.x]); } as any, { output: [N], precision: 'single' });
    const ys = (await expK(xs)) as unknown as Float32Array;
    let expRelativeError = 0;
    xs.forEach((x, i) => {
      const e = Math.exp(x);
      expRelativeError = Math.max(expRelativeError, Math.abs(ys[i] - e) / e);
    });
    const vals = Float32Array.from({ length: N }, (_, i) => Math.fround(1 + ((i * 7919) % 1000) / 1000));
    const sumK = gpu.createKernel(function (this: any, v: number[]) {
      let s = 0;
      for (let i = 0; i < this.constants.n; i++) s += v[i];
      return s;
    } as any, { output: [1], precision: 'single', constants: { n: N }, ...{ loopMaxIterations: N + 1 } });
    const got = ((await sumK(vals)) as unknown as Float32Array)[0];
    const exact = Array.from(vals).reduce((a, b) => a + b, 0);
    const tiny = Float32Array.of(Math.fround(1e-40), Math.fround(-3e-42), Math.fround(2 ** -126));
    const ftzK = gpu.createKernel(function (this: any, x: number[]) { return x[this.thread.x] * 1.5; } as any, { output: [3], precision: 'single' });
    const flushed = (await ftzK(tiny)) as unknown as Float32Array;
    const flushesSubnormals = flushed[0] === 0 || flushed[1] === 0;
    return { backend, expRelativeError, sumRelativeError: Math.abs(got - exact) / exact, flushesSubnormals };
  } finally {
    gpu.destroy();
  }
}
