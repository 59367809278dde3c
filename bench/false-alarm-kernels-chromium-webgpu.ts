/**
 * The kernels of Chromium's page on WebGPU as `varcheck fuzz` modules (bench/false-alarms.bench.ts):
 * ./false-alarm-kernels-chromium-webgl2.ts on WebGPU (SwiftShader's Vulkan on machines without a
 * GPU), with the hand-written WGSL kernels `wgsl/exact` and `wgsl/low-rank` too, in the page's
 * default shapes for the adapter. All are correct: fuzzing them must pass.
 * @module
 */
import type { Kernel } from '../spec/contract.js';
import { chromiumKernels } from '../src/kernels/browser/chromium.js';

const backend = 'webgpu';
const session = await chromiumKernels(backend);
const all: Kernel[] = [...session.attention, ...session.interpolation];
const pick = (name: string): Kernel => {
  const k = all.find((x) => x.name === `${name}@chromium-${backend}`);
  if (!k) throw new Error(`no ${name}@chromium-${backend} in the page (have: ${all.map((x) => x.name).join(', ')})`);
  return k;
};
/** `gpujs/exact@chromium-<backend>`. */
export const gpujsExact: Kernel = pick('gpujs/exact');
/** `gpujs/low-rank@chromium-<backend>`. */
export const gpujsLowRank: Kernel = pick('gpujs/low-rank');
/** `gpujs/upsample-bicubic@chromium-<backend>`. */
export const gpujsBicubic: Kernel = pick('gpujs/upsample-bicubic');
/** `gpujs/downsample-area@chromium-<backend>`. */
export const gpujsArea: Kernel = pick('gpujs/downsample-area');
/** `wgsl/exact@chromium-webgpu`. */
export const wgslExact: Kernel = pick('wgsl/exact');
/** `wgsl/low-rank@chromium-webgpu`. */
export const wgslLowRank: Kernel = pick('wgsl/low-rank');
