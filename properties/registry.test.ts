/** The registry refuses duplicate names and lists kernels by op. */
import { describe, expect, it } from 'vitest';
import { builtinRegistry, DuplicateKernelError } from '../src/kernels/registry.js';
import { cpuExact } from '../src/kernels/cpu/exact.js';

describe('kernel registry', () => {
  it('throws on a duplicate name, naming it', () => {
    const r = builtinRegistry();
    expect(() => r.register(cpuExact)).toThrow(DuplicateKernelError);
    expect(() => r.register(cpuExact)).toThrow(/"cpu\/exact" is already registered/);
  });
  it('holds the spec and CPU kernels, attention and interpolation apart', () => {
    const r = builtinRegistry();
    expect(r.attention().map((k) => k.name)).toEqual(['spec/attention', 'cpu/exact', 'cpu/low-rank']);
    expect(r.interpolation().map((k) => k.name)).toEqual(['spec/upsample-bicubic', 'spec/downsample-area']);
  });
});
