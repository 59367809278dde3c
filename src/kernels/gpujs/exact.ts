/**
 * `gpujs/exact`: exact softmax attention as gpu.js kernels, float32, in four passes over tiles
 * of query rows — scores (O(d) per cell), row max and row sum (O(L) per row, their own
 * passes), then P·V (O(L) per output cell). Total O(L²(d + d_v)); no per-cell O(L)
 * recomputation of the softmax statistics, so never O(L³). Block-causal rows only use their
 * allowed key prefix. `loopMaxIterations` is set from the sizes (gpu.js's default, 1000,
 * silently truncates loops); sizes are kernel arguments with dynamic outputs, so one
 * compilation serves every shape under that bound.
 * @module
 */
import { checkAttentionInput, type AttentionInput } from '../../../spec/attention.js';
import { keyLimits } from '../../../spec/mask.js';
import { matrix, type Matrix } from '../../../spec/matrix.js';
import type { AttentionKernel } from '../../../spec/contract.js';
import { createGpu, flatOutput, type GpuBackend, type GpuInstance } from './backend.js';

/** Largest tile (query rows × keys) scored per pass. */
const TILE_CELLS = 1 << 22;

/* eslint-disable @typescript-eslint/no-explicit-any -- gpu.js kernel bodies are untyped JS transpiled to shaders */
type GpuKernelFn = (...args: any[]) => any;

interface Passes {
  scores: GpuKernelFn & { setOutput(o: number[]): void };
  rowMax: GpuKernelFn & { setOutput(o: number[]): void };
  rowSum: GpuKernelFn & { setOutput(o: number[]): void };
  out: GpuKernelFn & { setOutput(o: number[]): void };
}

/**
 * Compile the four passes for loops of up to `loopMax` iterations. Sizes are arguments and
 * outputs are dynamic, so one compilation serves every shape with L < loopMax.
 */
function buildPasses(gpu: GpuInstance, loopMax: number): Passes {
  const common = { loopMaxIterations: loopMax, precision: 'single' as const, tactic: 'precision' as const, dynamicArguments: true, dynamicOutput: true };
  const scores = gpu.createKernel(
    function (this: any, q: number[], k: number[], lim: number[], i0: number, lq: number, d: number, scale: number) {
      const i = i0 + this.thread.y;
      const j = this.thread.x;
      if (i >= lq) return -1e30;
      if (j >= lim[i]) return -1e30;
      let s = 0;
      for (let t = 0; t < d; t++) s += q[i * d + t] * k[j * d + t];
      return s * scale;
    } as any,
    { ...common, output: [1, 1] },
  );
  const rowMax = gpu.createKernel(
    function (this: any, s: number[], lim: number[], i0: number, lq: number, L: number) {
      const i = i0 + this.thread.x;
      let m = -1e30;
      if (i < lq) {
        for (let j = 0; j < L; j++) {
          if (j < lim[i]) m = Math.max(m, s[this.thread.x * L + j]);
        }
      }
      return m;
    } as any,
    { ...common, output: [1] },
  );
  const rowSum = gpu.createKernel(
    function (this: any, s: number[], m: number[], lim: number[], i0: number, lq: number, L: number) {
      const i = i0 + this.thread.x;
      let acc = 0;
      if (i < lq) {
        for (let j = 0; j < L; j++) {
          if (j < lim[i]) acc += Math.exp(s[this.thread.x * L + j] - m[this.thread.x]);
        }
      }
      return acc;
    } as any,
    { ...common, output: [1] },
  );
  const out = gpu.createKernel(
    function (this: any, s: number[], m: number[], l: number[], v: number[], lim: number[], i0: number, lq: number, L: number, dv: number) {
      const r = this.thread.y;
      const c = this.thread.x;
      const i = i0 + r;
      let acc = 0;
      if (i < lq) {
        for (let j = 0; j < L; j++) {
          if (j < lim[i]) acc += Math.exp(s[r * L + j] - m[r]) * v[j * dv + c];
        }
        acc = acc / l[r];
      }
      return acc;
    } as any,
    { ...common, output: [1, 1] },
  );
  return { scores, rowMax, rowSum, out };
}

/** The loop bound compiled for L keys: the next power of two above L (and ≥ d). */
export function loopBound(L: number, d: number): number {
  let b = 1024;
  while (b <= Math.max(L, d)) b *= 2;
  return b;
}

/** Options of {@link gpujsExact}. */
export interface GpujsKernelOptions {
  /** The gpu.js backend. */
  backend: GpuBackend;
  /** Override the kernel name (default `gpujs/exact@<backend>`). */
  name?: string;
  /**
   * Force gpu.js's loop limit (default: the next power of two above L). Only for meta-tests:
   * 1000, gpu.js's own default, silently truncates every loop over more keys.
   */
  loopMaxIterations?: number;
}

/**
 * A `gpujs/exact` kernel on one backend. gpu.js kernels are compiled per shape and cached;
 * `dispose()` destroys the GPU (frees GL contexts).
 */
export async function gpujsExact(options: GpujsKernelOptions): Promise<AttentionKernel> {
  const gpu = await createGpu(options.backend);
  const cache = new Map<number, Passes>();
  return {
    name: options.name ?? `gpujs/exact@${options.backend}`,
    op: 'attention',
    exact: true,
    masks: ['none', 'block-causal'],
    precision: 'float32',
    async run(input: AttentionInput): Promise<Matrix> {
      const { q, k, v, scale, mask } = checkAttentionInput(input);
      const Lq = q.rows;
      const L = k.rows;
      const d = q.cols;
      const dv = v.cols;
      const T = Math.max(1, Math.min(Lq, Math.floor(TILE_CELLS / L)));
      const loopMax = options.loopMaxIterations ?? loopBound(L, d);
      let p = cache.get(loopMax);
      if (!p) {
        p = buildPasses(gpu, loopMax);
        cache.set(loopMax, p);
      }
      p.scores.setOutput([L, T]);
      p.rowMax.setOutput([T]);
      p.rowSum.setOutput([T]);
      p.out.setOutput([dv, T]);
      const lim = Float32Array.from(keyLimits(mask, Lq, L));
      const q32 = Float32Array.from(q.data);
      const k32 = Float32Array.from(k.data);
      const v32 = Float32Array.from(v.data);
      const outM = matrix(Lq, dv);
      for (let i0 = 0; i0 < Lq; i0 += T) {
        const s = await flatOutput(p.scores(q32, k32, lim, i0, Lq, d, Math.fround(scale)));
        const m = await flatOutput(p.rowMax(s, lim, i0, Lq, L));
        const l = await flatOutput(p.rowSum(s, m, lim, i0, Lq, L));
        const o = await flatOutput(p.out(s, m, l, v32, lim, i0, Lq, L, dv));
        const rows = Math.min(T, Lq - i0);
        outM.data.set(o.subarray(0, rows * dv), i0 * dv);
      }
      return outM;
    },
    dispose(): void {
      gpu.destroy();
    },
  };
}
