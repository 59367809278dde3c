/**
 * The gpu.js kernels in Chromium's WebGL2 as `varcheck fuzz` modules (bench/false-alarms.bench.ts;
 * ./false-alarm-chromium.ts launches the browser). All are correct: fuzzing them must pass.
 * @module
 */
import type { Kernel } from '../spec/contract.js';
import { chromiumKernelPicker } from './false-alarm-chromium.js';

const pick = await chromiumKernelPicker('webgl2');
/** `gpujs/exact@chromium-webgl2`. */
export const gpujsExact: Kernel = pick('gpujs/exact');
/** `gpujs/low-rank@chromium-webgl2`. */
export const gpujsLowRank: Kernel = pick('gpujs/low-rank');
/** `gpujs/upsample-bicubic@chromium-webgl2`. */
export const gpujsBicubic: Kernel = pick('gpujs/upsample-bicubic');
/** `gpujs/downsample-area@chromium-webgl2`. */
export const gpujsArea: Kernel = pick('gpujs/downsample-area');
