/**
 * The slice of the WebGPU API the hand-written WGSL kernels use, typed structurally so that the
 * same code runs on Dawn in Node (`webgpu@0.3.10`) and on a browser's `navigator.gpu` without
 * depending on `@webgpu/types`. Numeric flags are the values the WebGPU spec pins.
 * @module
 */

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
