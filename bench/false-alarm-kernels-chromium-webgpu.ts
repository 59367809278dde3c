/**
 * The gpu.js kernels and the hand-written WGSL kernels (in the page's default shapes for the
 * adapter) in Chromium's WebGPU as `varcheck fuzz` modules (bench/false-alarms.bench.ts;
 * ./false-alarm-chromium.ts launches the browser). All are correct: fuzzing them must pass.
 * @module
 */
import type { Kernel } from '../spec/contract.js';
import { chromiumKernelPicker } from './false-alarm-chromium.js';

const pick = await chromiumKernelPicker('webgpu');
/** `gpujs/exact@chromium-webgpu`. */
export const gpujsExact: Kernel = pick('gpujs/exact');
/** `gpujs/low-rank@chromium-webgpu`. */
export const gpujsLowRank: Kernel = pick('gpujs/low-rank');
/** `gpujs/upsample-bicubic@chromium-webgpu`. */
export const gpujsBicubic: Kernel = pick('gpujs/upsample-bicubic');
/** `gpujs/downsample-area@chromium-webgpu`. */
export const gpujsArea: Kernel = pick('gpujs/downsample-area');
/** `wgsl/exact@chromium-webgpu`. */
export const wgslExact: Kernel = pick('wgsl/exact');
/** `wgsl/low-rank@chromium-webgpu`. */
export const wgslLowRank: Kernel = pick('wgsl/low-rank');
