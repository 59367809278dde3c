/**
 * The gpu.js kernels on the `cpu` backend as a `varcheck fuzz` module (bench/false-alarms.bench.ts;
 * see ./false-alarm-kernels.ts).
 * @module
 */
import { gpujsKernels } from './false-alarm-gpujs.js';

export const { exact, lowRank, bicubic, area } = await gpujsKernels('cpu');
