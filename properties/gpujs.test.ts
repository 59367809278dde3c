/**
 * The attention battery on every gpu.js kernel × every backend available here, with the
 * backend's measured precision. With REQUIRE_HEADLESSGL=1 (CI, under xvfb-run) the suite fails
 * unless headless-gl really ran: gpu.js would otherwise fall back to webasm silently.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { AttentionKernel } from '../spec/contract.js';
import { availableBackends, backendAvailable, createGpu, GPU_BACKENDS, LOOP_LIMIT_FLOOR, loopLimit } from '../src/kernels/gpujs/backend.js';
import { gpujsExact, loopBound } from '../src/kernels/gpujs/exact.js';
import { gpujsLowRank } from '../src/kernels/gpujs/low-rank.js';
import { gpujsDownsampleArea, gpujsUpsampleBicubic } from '../src/kernels/gpujs/interpolation.js';
import { interpolationBattery } from './battery/interpolation.js';
import type { InterpolationKernel } from '../spec/contract.js';
import { probePrecision } from '../src/kernels/gpujs/probe.js';
import { attentionBattery } from './battery/attention.js';
import { describeLaws } from './vitest.js';
import { KNOWN_GAPS } from './battery/known-gaps.js';

const backends = (await availableBackends()).filter((b) => b !== 'webgpu' || process.env.VARCHECK_WEBGPU === '1');
const kernels: (AttentionKernel | InterpolationKernel)[] = [];
afterAll(() => kernels.forEach((k) => k.dispose?.()));

describe('gpu.js backends', () => {
  it('reports every backend as available or not, never falls back silently', async () => {
    for (const b of GPU_BACKENDS) {
      if (await backendAvailable(b)) {
        const gpu = await createGpu(b);
        expect(gpu.mode).toBe(b);
        gpu.destroy();
      } else {
        await expect(createGpu(b)).rejects.toThrow(/backend/);
      }
    }
  });
  it('one loop limit serves every size up to 32,767 keys (one compile per kernel and backend); past it the limit still exceeds the loop', () => {
    for (const L of [1, 64, 1023, 1024, 2048, 9451, 21845, 32767]) for (const d of [1, 64, 256]) expect(loopBound(L, d)).toBe(LOOP_LIMIT_FLOOR);
    for (const n of [32768, 40000, 1e6]) {
      expect(loopLimit(n)).toBeGreaterThan(n);
      expect(loopLimit(n)).toBeLessThanOrEqual(2 * n);
    }
  });
  it.runIf(process.env.REQUIRE_HEADLESSGL === '1')('REQUIRE_HEADLESSGL=1: headless-gl really runs here', async () => {
    expect(backends).toContain('headlessgl');
    const gpu = await createGpu('headlessgl');
    const k = gpu.createKernel(
      function (this: { thread: { x: number } }) {
        return this.thread.x * 2;
      },
      { output: [3] },
    );
    expect(Array.from(k() as Float32Array)).toEqual([0, 2, 4]);
    expect(gpu.mode).toBe('headlessgl');
    gpu.destroy();
  });
});

// gpujs/exact forced into many small probability tiles (the output carried across tiles in ping-pong).
if (backends.includes('webasm')) {
  const measured = await probePrecision('webasm');
  const tiled = await gpujsExact({ backend: 'webasm', tileCells: 97, name: 'gpujs/exact@webasm (tiles of 97 cells)' });
  kernels.push(tiled);
  describeLaws(`battery › ${tiled.name}`, attentionBattery(tiled, { measured, numRuns: 50 }).slice(0, 2), { kernel: tiled.name, knownGaps: KNOWN_GAPS });
}

for (const backend of backends) {
  const measured = await probePrecision(backend);
  console.log(
    `[varcheck] ${backend}: measured exp relative error ${measured.expRelativeError.toExponential(2)}, 4096-term sum relative error ${measured.sumRelativeError.toExponential(2)}, flushes subnormals: ${measured.flushesSubnormals}`,
  );
  const kernel = await gpujsExact({ backend });
  kernels.push(kernel);
  describeLaws(`battery › ${kernel.name}`, attentionBattery(kernel, { measured, numRuns: 100 }), { kernel: kernel.name, knownGaps: KNOWN_GAPS });
  const low = await gpujsLowRank({ backend, delta: 1e-3 });
  kernels.push(low);
  describeLaws(`battery › ${low.name}`, attentionBattery(low, { measured, numRuns: 100 }), { kernel: low.name, knownGaps: KNOWN_GAPS });
  for (const resize of [await gpujsUpsampleBicubic({ backend }), await gpujsDownsampleArea({ backend })]) {
    kernels.push(resize);
    describeLaws(`battery › ${resize.name}`, interpolationBattery(resize), { kernel: resize.name, knownGaps: KNOWN_GAPS });
  }
}
