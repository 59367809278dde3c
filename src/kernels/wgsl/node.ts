/**
 * The WGSL kernels in Node, on Dawn (`webgpu@0.3.10`): a device of their own with raised
 * limits, or an honest "unavailable" where Dawn finds no adapter (Debian without a GPU).
 * Once a device exists Dawn keeps Node's event loop alive: entry points end with process.exit.
 * @module
 */
import { BackendUnavailableError, probeWebGPU } from '../gpujs/backend.js';
import { requestWgslDevice, type WebGpuEntry, type WgslDevice } from './webgpu.js';

/** A fresh WebGPU device on Dawn, or {@link BackendUnavailableError} when there is no adapter. */
export async function nodeWgslDevice(): Promise<WgslDevice> {
  if ((await probeWebGPU()) === undefined) throw new BackendUnavailableError('backend', 'node-webgpu: no WebGPU adapter here (webgpu@0.3.10 / Dawn found none)');
  const gpu = (globalThis as unknown as { navigator: { gpu: WebGpuEntry } }).navigator.gpu;
  const dev = await requestWgslDevice(gpu);
  if (!dev) throw new BackendUnavailableError('backend', 'node-webgpu: Dawn returned no adapter');
  return dev;
}
