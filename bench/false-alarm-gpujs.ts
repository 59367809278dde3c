/**
 * The four gpu.js kernels on one backend, for the false-alarm modules (./false-alarm-kernels.ts).
 * @module
 */
import type { Kernel } from '../spec/contract.js';
import type { GpuBackend } from '../src/kernels/gpujs/backend.js';
import { gpujsExact } from '../src/kernels/gpujs/exact.js';
import { gpujsLowRank } from '../src/kernels/gpujs/low-rank.js';
import { gpujsDownsampleArea, gpujsUpsampleBicubic } from '../src/kernels/gpujs/interpolation.js';

/** The four gpu.js kernels on one backend (low-rank with δ = 1e-3). */
export async function gpujsKernels(backend: GpuBackend): Promise<{ exact: Kernel; lowRank: Kernel; bicubic: Kernel; area: Kernel }> {
  return {
    exact: await gpujsExact({ backend }),
    lowRank: await gpujsLowRank({ backend, delta: 1e-3 }),
    bicubic: await gpujsUpsampleBicubic({ backend }),
    area: await gpujsDownsampleArea({ backend }),
  };
}
