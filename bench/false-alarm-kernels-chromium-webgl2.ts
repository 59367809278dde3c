/**
 * The kernels of Chromium's page on WebGL2 as `varcheck fuzz` modules (bench/false-alarms.bench.ts):
 * the gpu.js kernels, each a proxy whose calls cross into a headless Chromium (SwiftShader on
 * machines without a GPU) that this module launches when it is loaded — fuzz counts the launch in
 * the kernel's cold start. ./false-alarm-kernels-chromium-webgpu.ts is the same on WebGPU, with
 * the hand-written WGSL kernels too. All are correct: fuzzing them must pass.
 * @module
 */
import type { Kernel } from '../spec/contract.js';
import { chromiumKernels } from '../src/kernels/browser/chromium.js';

const backend = 'webgl2';
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
