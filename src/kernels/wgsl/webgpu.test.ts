/**
 * The WGSL kernels' guards against a device rejecting a call, on a stand-in device that records its
 * error-scope calls (the real rejection — a binding past the limit, whose output stayed zeros — was
 * reproduced in Chromium by hand; see withErrorScopes).
 */
import { describe, expect, it } from 'vitest';
import { RangeArgumentError } from '../../../spec/errors.js';
import { maxStorageBytes, requireStorageBytes, withErrorScopes, type WebGpuDevice } from './webgpu.js';

/** A device whose error scopes log their pushes and pops, and report `errors` (innermost first) when popped. */
function fakeDevice(limits: Record<string, number>, errors: ({ message: string } | null)[] = []): { device: WebGpuDevice; log: string[] } {
  const log: string[] = [];
  const stack: string[] = [];
  const device = {
    limits,
    pushErrorScope(filter: string) {
      stack.push(filter);
      log.push(`push ${filter}`);
    },
    popErrorScope() {
      log.push(`pop ${stack.pop()}`);
      return Promise.resolve(errors.shift() ?? null);
    },
  } as unknown as WebGpuDevice;
  return { device, log };
}

describe('WebGPU device guards', () => {
  it('maxStorageBytes: the smaller of the binding and buffer limits, WebGPU defaults where unreported', () => {
    expect(maxStorageBytes(fakeDevice({ maxStorageBufferBindingSize: 2 ** 30, maxBufferSize: 2 ** 29 }).device)).toBe(2 ** 29);
    expect(maxStorageBytes(fakeDevice({}).device)).toBe(2 ** 27);
  });
  it('requireStorageBytes refuses, naming input and each buffer past the limit, and accepts a buffer at it', () => {
    const { device } = fakeDevice({ maxStorageBufferBindingSize: 1000, maxBufferSize: 4000 });
    expect(() => requireStorageBytes('k', device, [['Q', 1000]])).not.toThrow();
    expect(() =>
      requireStorageBytes('k', device, [
        ['Q', 1000],
        ['K', 1004],
        ['V', 2000],
      ]),
    ).toThrow(RangeArgumentError);
    expect(() =>
      requireStorageBytes('k', device, [
        ['K', 1004],
        ['V', 2000],
      ]),
    ).toThrow(/^input: k cannot take this input: K needs 1,004 bytes, V needs 2,000 bytes; this device binds at most 1,000 bytes per buffer$/);
  });
  it("withErrorScopes: the call's synchronous work runs inside both scopes, popped before anything is awaited; a rejection throws with the device's message, else the result comes back", async () => {
    const ok = fakeDevice({});
    const value = await withErrorScopes(ok.device, 'k', () => {
      ok.log.push('work');
      return Promise.resolve(42);
    });
    expect(value).toBe(42);
    expect(ok.log).toEqual(['push out-of-memory', 'push validation', 'work', 'pop validation', 'pop out-of-memory']);
    const rejected = fakeDevice({}, [{ message: 'Binding size (134348800) is larger than the maximum' }, null]);
    await expect(withErrorScopes(rejected.device, 'wgsl/exact', () => Promise.resolve(new Float32Array(2)))).rejects.toThrow(
      /^wgsl\/exact: the WebGPU device rejected the call: Binding size \(134348800\)/,
    );
    const oom = fakeDevice({}, [null, { message: 'Out of memory' }]);
    await expect(withErrorScopes(oom.device, 'k', () => Promise.resolve(1))).rejects.toThrow(/rejected the call: Out of memory/);
    // A failure of the work itself still pops both scopes, and is rethrown.
    const failing = fakeDevice({});
    await expect(
      withErrorScopes(failing.device, 'k', () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(failing.log).toEqual(['push out-of-memory', 'push validation', 'pop validation', 'pop out-of-memory']);
  });
});
