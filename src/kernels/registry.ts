/**
 * The kernel registry: every kernel — built-in or a user's — registers under a unique name
 * (duplicates throw) and is judged by the same battery.
 * @module
 */
import { attention } from '../../spec/attention.js';
import { VarcheckError } from '../../spec/errors.js';
import { areaDownsample, upInterpolate } from '../../spec/interpolation.js';
import type { AttentionKernel, InterpolationKernel, Kernel } from './contract.js';
import { cpuExact } from './cpu/exact.js';
import { cpuLowRank } from './cpu/low-rank.js';

/** Registering a second kernel under a taken name. */
export class DuplicateKernelError extends VarcheckError {}

/** A name → kernel map that refuses duplicates. */
export class KernelRegistry {
  private readonly byName = new Map<string, Kernel>();

  /** Add a kernel; throws {@link DuplicateKernelError} when the name is taken. */
  register(kernel: Kernel): this {
    if (this.byName.has(kernel.name)) throw new DuplicateKernelError('kernel.name', `a kernel named ${JSON.stringify(kernel.name)} is already registered`);
    this.byName.set(kernel.name, kernel);
    return this;
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
