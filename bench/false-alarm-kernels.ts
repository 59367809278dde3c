/**
 * The built-in kernels as `varcheck fuzz` modules (bench/false-alarms.bench.ts): cpu/exact,
 * cpu/low-rank (δ = 1e-3), and the gpu.js kernels (exact, low-rank, bicubic upsampling, area
 * downsampling) on the webasm backend here and, in ./false-alarm-kernels-cpu.ts and
 * ./false-alarm-kernels-headlessgl.ts, on gpu.js's cpu and headless-gl backends (one module per
 * backend, so that a backend missing here — headless-gl without an X display — fails only its own
 * runs). One named export each. All are correct: fuzzing them must pass.
 * @module
 */
import type { Kernel } from '../spec/contract.js';
import { cpuExact } from '../src/kernels/cpu/exact.js';
import { cpuLowRank } from '../src/kernels/cpu/low-rank.js';
import { gpujsKernels } from './false-alarm-gpujs.js';

/** `cpu/exact`. */
export const exact: Kernel = cpuExact;
/** `cpu/low-rank` with δ = 1e-3. */
export const lowRank: Kernel = cpuLowRank({ delta: 1e-3 });
const webasm = await gpujsKernels('webasm');
/** `gpujs/exact` on webasm. */
export const gpujsExactWebasm: Kernel = webasm.exact;
/** `gpujs/low-rank` on webasm, δ = 1e-3. */
export const gpujsLowRankWebasm: Kernel = webasm.lowRank;
/** `gpujs/upsample-bicubic` on webasm. */
export const gpujsBicubicWebasm: Kernel = webasm.bicubic;
/** `gpujs/downsample-area` on webasm. */
export const gpujsAreaWebasm: Kernel = webasm.area;
