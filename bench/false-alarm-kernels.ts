/**
 * The built-in kernels as a `varcheck fuzz` module (bench/false-alarms.bench.ts): cpu/exact,
 * cpu/low-rank (δ = 1e-3), and the gpu.js kernels on the webasm backend (exact, low-rank,
 * bicubic upsampling, area downsampling), one named export each. All are correct: fuzzing them
 * must pass.
 * @module
 */
import type { Kernel } from '../spec/contract.js';
import { cpuExact } from '../src/kernels/cpu/exact.js';
import { cpuLowRank } from '../src/kernels/cpu/low-rank.js';
import { gpujsExact } from '../src/kernels/gpujs/exact.js';
import { gpujsLowRank } from '../src/kernels/gpujs/low-rank.js';
import { gpujsDownsampleArea, gpujsUpsampleBicubic } from '../src/kernels/gpujs/interpolation.js';

/** `cpu/exact`. */
export const exact: Kernel = cpuExact;
/** `cpu/low-rank` with δ = 1e-3. */
export const lowRank: Kernel = cpuLowRank({ delta: 1e-3 });
/** `gpujs/exact` on webasm. */
export const gpujsExactWebasm: Kernel = await gpujsExact({ backend: 'webasm' });
/** `gpujs/low-rank` on webasm, δ = 1e-3. */
export const gpujsLowRankWebasm: Kernel = await gpujsLowRank({ backend: 'webasm', delta: 1e-3 });
/** `gpujs/upsample-bicubic` on webasm. */
export const gpujsBicubicWebasm: Kernel = await gpujsUpsampleBicubic({ backend: 'webasm' });
/** `gpujs/downsample-area` on webasm. */
export const gpujsAreaWebasm: Kernel = await gpujsDownsampleArea({ backend: 'webasm' });
