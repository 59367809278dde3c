/**
 * The kernel registry: every kernel — built-in or a user's — registers under a unique name
 * (duplicates throw) and is judged by the same battery.
 * @module
 */
import { attention } from '../../spec/attention.js';
import { VarcheckError } from '../../spec/errors.js';
import { areaDownsample, upInterpolate } from '../../spec/interpolation.js';
import type { AttentionKernel, InterpolationKernel, Kernel } from '../../spec/contract.js';
import { cpuExact } from './cpu/exact.js';
import { cpuLowRank } from './cpu/low-rank.js';
import type { MeasuredPrecision } from '../../spec/contract.js';
import { backendAvailable, GPU_BACKENDS, gpujsUnavailable, type GpuBackend } from './gpujs/backend.js';
import { gpujsExact } from './gpujs/exact.js';
import { gpujsDownsampleArea, gpujsUpsampleBicubic } from './gpujs/interpolation.js';
import { gpujsLowRank } from './gpujs/low-rank.js';
import { probePrecision } from './gpujs/probe.js';
import { wgslExact } from './wgsl/exact.js';
import { wgslLowRank } from './wgsl/low-rank.js';
import { nodeWgslDevice } from './wgsl/node.js';

/** Registering a second kernel under a taken name. */
export class DuplicateKernelError extends VarcheckError {
  static override readonly code: string = 'DUPLICATE_KERNEL';
}

/** What the registry knows about a kernel besides the contract: its backend and measured precision. */
export interface KernelMeta {
  /** The gpu.js backend it runs on, if any. */
  backend?: GpuBackend;
  /** The backend's measured float behaviour (tolerances derive from it). */
  measured?: MeasuredPrecision;
}

/** A backend that was asked for and is missing here. */
export interface UnavailableBackend {
  /** Which backend (`node-webgpu`: the WGSL kernels on Dawn). */
  backend: GpuBackend | 'node-webgpu';
  /** Why (no adapter, no X display, …). */
  reason: string;
}

/** A name → kernel map that refuses duplicates. */
export class KernelRegistry {
  private readonly byName = new Map<string, Kernel>();
  private readonly meta = new Map<string, KernelMeta>();
  /** Backends that were asked for but are not available here, with the reason. */
  readonly unavailable: UnavailableBackend[] = [];

  /** Add a kernel; throws {@link DuplicateKernelError} when the name is taken. */
  register(kernel: Kernel, meta: KernelMeta = {}): this {
    if (this.byName.has(kernel.name)) throw new DuplicateKernelError('kernel.name', `a kernel named ${JSON.stringify(kernel.name)} is already registered`);
    this.byName.set(kernel.name, kernel);
    this.meta.set(kernel.name, meta);
    return this;
  }

  /** The registry's notes on a kernel (backend, measured precision). */
  metaOf(name: string): KernelMeta {
    return this.meta.get(name) ?? {};
  }

  /** The kernel called `name`, or undefined. */
  get(name: string): Kernel | undefined {
    return this.byName.get(name);
  }

  /** Every kernel, in registration order. */
  list(): Kernel[] {
    return [...this.byName.values()];
  }

  /** The attention kernels. */
  attention(): AttentionKernel[] {
    return this.list().filter((k): k is AttentionKernel => k.op === 'attention');
  }

  /** The interpolation kernels. */
  interpolation(): InterpolationKernel[] {
    return this.list().filter((k): k is InterpolationKernel => k.op !== 'attention');
  }

  /** dispose() every kernel that has one. */
  dispose(): void {
    for (const k of this.byName.values()) k.dispose?.();
  }
}

/** The spec itself as kernels (`spec/*`): the battery must pass them trivially. */
export const specKernels: readonly Kernel[] = [
  { name: 'spec/attention', op: 'attention', exact: true, masks: ['none', 'block-causal'], precision: 'float64', run: attention },
  { name: 'spec/upsample-bicubic', op: 'upsample-bicubic', precision: 'float64', run: (x, h2, w2) => upInterpolate(x, h2, w2) },
  { name: 'spec/downsample-area', op: 'downsample-area', precision: 'float64', run: areaDownsample },
];

/** A registry with the built-in CPU kernels and the spec kernels. */
export function builtinRegistry(): KernelRegistry {
  const r = new KernelRegistry();
  for (const k of specKernels) r.register(k);
  r.register(cpuExact);
  r.register(cpuLowRank({ delta: 1e-3 }));
  return r;
}

/**
 * Register every gpu.js kernel (`gpujs/exact`, `gpujs/low-rank`, `gpujs/upsample-bicubic`,
 * `gpujs/downsample-area`) on each requested backend that exists here, each as its own
 * entry `<kernel>@<backend>`, with the backend's measured precision. Missing backends are
 * listed in `registry.unavailable`, never silently replaced.
 */
export async function registerGpujsKernels(registry: KernelRegistry, backends: readonly GpuBackend[] = GPU_BACKENDS): Promise<KernelRegistry> {
  for (const backend of backends) {
    if (!(await backendAvailable(backend))) {
      registry.unavailable.push({
        backend,
        reason:
          (await gpujsUnavailable()) ??
          (backend === 'webgpu'
            ? 'no WebGPU adapter (webgpu@0.3.10 / Dawn found none)'
            : backend === 'headlessgl'
              ? 'no headless-gl context (needs the gl addon and an X display: xvfb-run -a)'
              : 'gpu.js cannot create it here'),
      });
      continue;
    }
    const measured = await probePrecision(backend);
    const meta = { backend, measured };
    registry.register(await gpujsExact({ backend }), meta);
    registry.register(await gpujsLowRank({ backend, delta: 1e-3 }), meta);
    registry.register(await gpujsUpsampleBicubic({ backend }), meta);
    registry.register(await gpujsDownsampleArea({ backend }), meta);
  }
  return registry;
}

/**
 * Register the hand-written WGSL kernels on Dawn (`wgsl/exact@node-webgpu`, and
 * `wgsl/low-rank@node-webgpu`) when Dawn has an adapter here, with the precision gpu.js's
 * webgpu backend measures on the same adapter; otherwise list `node-webgpu` in
 * `registry.unavailable`. (In Chromium they run as `…@chromium-webgpu`: see
 * `chromiumKernels('webgpu')`.) Entry points that call this must end with process.exit.
 */
export async function registerWgslKernels(registry: KernelRegistry): Promise<KernelRegistry> {
  let dev;
  try {
    dev = await nodeWgslDevice();
  } catch (e) {
    registry.unavailable.push({ backend: 'node-webgpu', reason: (e as Error).message });
    return registry;
  }
  const measured = await probePrecision('webgpu');
  registry.register(wgslExact(dev, { name: 'wgsl/exact@node-webgpu' }), { backend: 'webgpu', measured });
  registry.register(wgslLowRank(dev, { name: 'wgsl/low-rank@node-webgpu', delta: 1e-3 }), { backend: 'webgpu', measured });
  return registry;
}
