/**
 * The kernels under test and the registry (the kernel contract (docs/guide-kernels.md)).
 * @module kernels
 */
export { cpuExact, exactAttentionCpu } from './cpu/exact.js';
export { cpuLowRank, lowRankAttentionCpu } from './cpu/low-rank.js';
export type { LowRankOptions } from './cpu/low-rank.js';
export { KernelRegistry, DuplicateKernelError, builtinRegistry, registerGpujsKernels, registerWgslKernels, specKernels } from './registry.js';
export type { KernelMeta, UnavailableBackend } from './registry.js';
export {
  GPU_BACKENDS,
  BackendUnavailableError,
  availableBackends,
  backendAvailable,
  createGpu,
  LOOP_LIMIT_FLOOR,
  loopLimit,
  MAX_INDEXED_CELLS,
  maxTextureSide,
  probeWebGPU,
  sizeBucket,
} from './gpujs/backend.js';
export type { GpuBackend, GpuInstance } from './gpujs/backend.js';
export { gpujsExact, loopBound, MAX_CHUNK, OUT_CHUNK } from './gpujs/exact.js';
export type { GpujsKernelOptions, GpujsRunInfo, GpujsStageTiming, Orchestration, ProfiledGpujsKernel } from './gpujs/exact.js';
export { gpujsLowRank, GPUJS_MAX_DEGREE, GPUJS_KEY_CHUNK, GPUJS_LOW_RANK_PROFILE, gpujsLowRankBound, naiveFloat32LowRank, exponentTable, lowRankFormulaReference } from './gpujs/low-rank.js';
export type { GpujsLowRankOptions, GpujsLowRankKernel } from './gpujs/low-rank.js';
export { gpujsUpsampleBicubic, gpujsDownsampleArea } from './gpujs/interpolation.js';
export type { GpujsInterpolationOptions } from './gpujs/interpolation.js';
export { probePrecision } from './gpujs/probe.js';
export { wgslExact, splitItems, WGSL_QUERY_TILE, WGSL_MAX_HEAD, WGSL_SPLIT_TARGET, WGSL_EXACT_RESCALES, keyTile } from './wgsl/exact.js';
export type { KernelTiming, SplitPlan, WgslAttentionKernel, WgslKernelOptions, WgslKeyTiles, WgslExactShape } from './wgsl/exact.js';
export { wgslLowRank, keyChunking, wgslLowRankProfile, wgslLowRankBound } from './wgsl/low-rank.js';
export type { WgslLowRankOptions, KeyChunking, FeatureMode, KeySums } from './wgsl/low-rank.js';
export { blockChunks } from './chunks.js';
export type { KeyChunks } from './chunks.js';
export { nodeWgslDevice } from './wgsl/node.js';
export { requestWgslDevice } from './wgsl/webgpu.js';
