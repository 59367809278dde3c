/**
 * The gpu.js kernels on the `headlessgl` backend as a `varcheck fuzz` module (bench/false-alarms.bench.ts;
 * see ./false-alarm-kernels.ts). Needs an X display (`xvfb-run -a`).
 * @module
 */
import { gpujsKernels } from './false-alarm-gpujs.js';

export const { exact, lowRank, bicubic, area } = await gpujsKernels('headlessgl');
