/**
 * The slice of the WebGPU API the hand-written WGSL kernels use, typed structurally so that the
 * same code runs on Dawn in Node (`webgpu@0.3.10`) and on a browser's `navigator.gpu` without
 * depending on `@webgpu/types`. Numeric flags are the values the WebGPU spec pins.
 * @module
 */
import { RangeArgumentError } from '../../../spec/errors.js';

/** GPUBufferUsage flags (WebGPU spec). */
export const BufferUsage = { MAP_READ: 0x0001, COPY_SRC: 0x0004, COPY_DST: 0x0008, UNIFORM: 0x0040, STORAGE: 0x0080, QUERY_RESOLVE: 0x0200 } as const;
/** GPUMapMode.READ. */
export const MAP_READ = 0x0001;

/** A GPUBuffer (the members used here). */
export interface WebGpuBuffer {
  /** Size in bytes. */
  readonly size: number;
  /** Map for reading. */
  mapAsync(mode: number): Promise<void>;
  /** The mapped range. */
  getMappedRange(): ArrayBuffer;
  /** End the mapping. */
  unmap(): void;
  /** Free it. */
  destroy(): void;
}

/** A compute pass encoder (the members used here). */
export interface WebGpuComputePass {
  /** Bind the pipeline. */
  setPipeline(p: unknown): void;
  /** Bind a group. */
  setBindGroup(i: number, g: unknown): void;
  /** Dispatch workgroups. */
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  /** End the pass. */
  end(): void;
}

/** A command encoder (the members used here). */
export interface WebGpuEncoder {
  /** Begin a compute pass, optionally with timestamp writes. */
  beginComputePass(desc?: { timestampWrites?: { querySet: unknown; beginningOfPassWriteIndex?: number; endOfPassWriteIndex?: number } }): WebGpuComputePass;
  /** Buffer-to-buffer copy. */
  copyBufferToBuffer(src: WebGpuBuffer, srcOffset: number, dst: WebGpuBuffer, dstOffset: number, size: number): void;
  /** Resolve a timestamp query set into a buffer. */
  resolveQuerySet(set: unknown, first: number, count: number, dst: WebGpuBuffer, offset: number): void;
  /** Finish recording. */
  finish(): unknown;
}

/** A GPUDevice (the members used here). */
export interface WebGpuDevice {
  /** Enabled features. */
  readonly features: { has(name: string): boolean };
  /** Granted limits. */
  readonly limits: Record<string, number>;
  /** The queue. */
  readonly queue: { writeBuffer(b: WebGpuBuffer, offset: number, data: ArrayBufferView): void; submit(cmds: unknown[]): void; onSubmittedWorkDone(): Promise<void> };
  /** Create a buffer. */
  createBuffer(desc: { size: number; usage: number; mappedAtCreation?: boolean }): WebGpuBuffer;
  /** Compile WGSL. */
  createShaderModule(desc: { code: string }): { getCompilationInfo?(): Promise<{ messages: readonly { type: string; message: string; lineNum: number }[] }> };
  /** Create a compute pipeline (async). */
  createComputePipelineAsync(desc: { layout: 'auto'; compute: { module: unknown; entryPoint: string } }): Promise<{ getBindGroupLayout(i: number): unknown }>;
  /** Create a bind group. */
  createBindGroup(desc: { layout: unknown; entries: { binding: number; resource: { buffer: WebGpuBuffer } }[] }): unknown;
  /** Create a command encoder. */
  createCommandEncoder(): WebGpuEncoder;
  /** Create a query set. */
  createQuerySet(desc: { type: 'timestamp'; count: number }): { destroy(): void };
  /** Push an error scope. */
  pushErrorScope(filter: 'validation' | 'out-of-memory' | 'internal'): void;
  /** Pop it. */
  popErrorScope(): Promise<{ message: string } | null>;
  /** Free the device. */
  destroy(): void;
}

/** A GPUAdapter (the members used here). */
export interface WebGpuAdapter {
  /** Supported features. */
  readonly features: { has(name: string): boolean };
  /** Supported limits. */
  readonly limits: Record<string, number>;
  /** Vendor/architecture description, where exposed (`isFallbackAdapter`: a software adapter such as SwiftShader). */
  readonly info?: { readonly isFallbackAdapter?: boolean };
  /** Older spelling of `info.isFallbackAdapter`. */
  readonly isFallbackAdapter?: boolean;
  /** Request a device. */
  requestDevice(desc?: { requiredFeatures?: string[]; requiredLimits?: Record<string, number> }): Promise<WebGpuDevice>;
}

/** `navigator.gpu`. */
export interface WebGpuEntry {
  /** Ask for an adapter (null: none). */
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<WebGpuAdapter | null>;
}

/** A device with what the kernels need to know about it. */
export interface WgslDevice {
  /** The device. */
  device: WebGpuDevice;
  /** The adapter's description (JSON). */
  adapter: string;
  /** Can passes be timed with 'timestamp-query'? */
  timestamps: boolean;
  /** Is it a fallback (software) adapter, e.g. SwiftShader? Kernels may pick cheaper-to-compile shapes there. */
  fallback?: boolean;
}

/**
 * Request a device of its own from `gpu` with raised limits (the adapter's largest storage
 * buffers) and 'timestamp-query' where the adapter supports it. Resolves to undefined when
 * there is no adapter.
 */
export async function requestWgslDevice(gpu: WebGpuEntry): Promise<WgslDevice | undefined> {
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
  if (!adapter) return undefined;
  const timestamps = adapter.features.has('timestamp-query');
  const want = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize'];
  const requiredLimits: Record<string, number> = {};
  for (const k of want) if (typeof adapter.limits[k] === 'number') requiredLimits[k] = adapter.limits[k];
  const device = await adapter.requestDevice({ requiredFeatures: timestamps ? ['timestamp-query'] : [], requiredLimits });
  const fallback = adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false;
  return { device, adapter: JSON.stringify(adapter.info ?? {}), timestamps, fallback };
}

/** The largest storage buffer a kernel may bind on `device`: the smaller of its binding and buffer limits (WebGPU's defaults where unreported). */
export function maxStorageBytes(device: WebGpuDevice): number {
  return Math.min(device.limits.maxStorageBufferBindingSize ?? 2 ** 27, device.limits.maxBufferSize ?? 2 ** 28);
}

/**
 * Refuse an input (a `RangeArgumentError` on `input`, naming the buffer) on which one of a call's
 * storage `buffers` ([name, bytes]) would pass {@link maxStorageBytes}: WebGPU would reject the
 * buffer or its binding, and the kernel's output would stay zeros.
 */
export function requireStorageBytes(kernel: string, device: WebGpuDevice, buffers: readonly (readonly [string, number])[]): void {
  const max = maxStorageBytes(device);
  const over = buffers.filter(([, bytes]) => bytes > max);
  if (over.length > 0)
    throw new RangeArgumentError(
      'input',
      `${kernel} cannot take this input: ${over.map(([name, bytes]) => `${name} needs ${bytes.toLocaleString('en-US')} bytes`).join(', ')}; this device binds at most ${max.toLocaleString('en-US')} bytes per buffer`,
    );
}

/**
 * Issue one call's device work inside 'validation' and 'out-of-memory' error scopes and throw, naming
 * `kernel`, if the device rejected any of it. `issue` must make its buffers, bind groups and
 * submission synchronously (before its first await); the scopes are popped as soon as it returns,
 * so they hold exactly that work's errors. A rejected submission leaves the output buffer as it was
 * and WebGPU reports that only to an error scope: without them a call past a device limit returned
 * zeros (measured in Chromium with the default 128 MiB binding limit: wgsl/exact on K of
 * 131,200 × 256 gave [0, 0], error 1.7e-3).
 */
export async function withErrorScopes<T>(device: WebGpuDevice, kernel: string, issue: () => Promise<T>): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let pending: Promise<T>;
  try {
    pending = issue();
  } catch (e) {
    pending = Promise.reject(e);
  }
  const scopes = [device.popErrorScope(), device.popErrorScope()];
  const [value, ...errors] = await Promise.allSettled([pending, ...scopes]);
  for (const e of errors) if (e.status === 'fulfilled' && e.value) throw new Error(`${kernel}: the WebGPU device rejected the call: ${e.value.message}`);
  if (value.status === 'rejected') throw value.reason;
  return value.value;
}
