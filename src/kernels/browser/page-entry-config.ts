/**
 * Settings shared by the page and the Node driver of the Chromium kernels.
 * @module
 */
import type { GpujsKernelOptions, Orchestration } from '../gpujs/exact.js';
import type { WgslKernelOptions, WgslKeyTiles } from '../wgsl/exact.js';
import type { FeatureMode, KeySums, WgslLowRankOptions } from '../wgsl/low-rank.js';

/** How the page builds its kernels: the driver passes these to the page's `init` as they are. */
export interface PageOptions {
  /**
   * wgsl/exact's key tiles in the page (WebGPU): default `compact` on a fallback adapter such as
   * SwiftShader (cheap to compile), `wide` on a hardware one; `wide` checks the hardware shape on SwiftShader.
   */
  wgslKeyTiles?: WgslKeyTiles;
  /** `specialize` of wgsl/exact and wgsl/low-rank in the page ({@link WgslKernelOptions}, {@link WgslLowRankOptions}): default on a hardware adapter only. */
  wgslSpecialize?: boolean;
  /** wgsl/exact's `fullTiles` in the page ({@link WgslKernelOptions}): default on a hardware adapter only. */
  wgslFullTiles?: boolean;
  /** wgsl/low-rank's feature mode in the page (WebGPU; {@link FeatureMode}): default `stored` on a fallback adapter, `fused` on a hardware one. */
  wgslFeatures?: FeatureMode;
  /**
   * wgsl/low-rank's key sums in the page (WebGPU; {@link KeySums}): default `sequential` on a
   * fallback adapter, `sliced` on a hardware one; `sliced` checks the hardware shape on SwiftShader.
   */
  wgslKeySums?: KeySums;
  /** wgsl/low-rank's slices per item in the page ({@link WgslLowRankOptions.slices}): default 8. */
  wgslSlices?: number;
  /** gpujs/exact's orchestration in the page ({@link GpujsKernelOptions.orchestration}): default `auto`. */
  gpujsOrchestration?: Orchestration | 'auto';
  /** gpujs/exact's probability tile budget in cells ({@link GpujsKernelOptions.tileCells}): default 2²⁴ on WebGPU, 2²² on WebGL. */
  gpujsTileCells?: number;
  /** gpujs/exact's `qRegisters` in the page ({@link GpujsKernelOptions.qRegisters}). */
  gpujsQRegisters?: number;
}

/** The δ of `gpujs/low-rank` in the page; the driver declares the same bound in Node. */
export const BROWSER_LOW_RANK_DELTA = 1e-3;

/** The name a kernel (or a measured precision's backend) carries outside the page: `…@webgl2` → `…@chromium-webgl2`. */
export function chromiumName(name: string, backend: string): string {
  return name.endsWith(`@${backend}`) ? `${name.slice(0, -backend.length - 1)}@chromium-${backend}` : name === backend ? `chromium-${backend}` : name;
}
