/**
 * The low-rank kernels on adversarial inputs (docs/math.md §8): `cpu/low-rank` (float64) and
 * `gpujs/low-rank` (float32) on the gpu.js `cpu` and `webasm` backends (those that exist here),
 * β up to 36, the row structure (query +b, keys ≈ −b, alternating values) and random structure.
 * Every case is within the kernel's declared bound (≤ δ) or declined with a RangeArgumentError;
 * accepted outputs also keep E4 (inside [min V, max V] per column) exactly. The 10,000-case run
 * is `npx tsx bench/bounds.bench.ts`.
 */
import { afterAll } from 'vitest';
import * as fc from 'fast-check';
import { attention, maxAbsDiff, RangeArgumentError } from '../spec/index.js';
import type { AttentionKernel } from '../spec/contract.js';
import { cpuLowRank } from '../src/kernels/cpu/low-rank.js';
import { backendAvailable } from '../src/kernels/gpujs/backend.js';
import { gpujsLowRank } from '../src/kernels/gpujs/low-rank.js';
import { adversarialArb } from './adversarial.js';
import { holds, law, type Law } from './law.js';
import { describeLaws } from './vitest.js';

const kernels: AttentionKernel[] = [];
afterAll(() => kernels.forEach((k) => k.dispose?.()));

const DELTAS = [1e-2, 1e-3, 1e-4] as const;

function adversarialLaw(name: string, byDelta: Map<number, AttentionKernel>): Law<unknown> {
  return law({
    name: `${name}: on adversarial inputs (β ≤ 36) within the declared bound ≤ δ and inside [min V, max V], or declined`,
    cites: 'docs/math.md §8',
    arbitrary: fc.tuple(adversarialArb(), fc.constantFrom(...DELTAS)),
    numRuns: 150,
    check: async ([c, delta]) => {
      const k = byDelta.get(delta) as AttentionKernel;
      let bound: number;
      try {
        bound = (k.errorBound as (x: typeof c.input) => number)(c.input);
      } catch (e) {
        return holds(e instanceof RangeArgumentError, `errorBound threw ${String(e)}`);
      }
      if (!(bound <= delta)) return { error: bound, bound: delta, detail: 'accepted with a declared bound above δ' };
      const out = await k.run(c.input);
      const v = c.input.v;
      for (let col = 0; col < v.cols; col++) {
        let lo = Infinity;
        let hi = -Infinity;
        for (let j = 0; j < v.rows; j++) [lo, hi] = [Math.min(lo, v.data[j * v.cols + col]), Math.max(hi, v.data[j * v.cols + col])];
        for (let i = 0; i < out.rows; i++) {
          const o = out.data[i * v.cols + col];
          if (!(o >= lo && o <= hi)) return holds(false, `E4: output ${o} outside [${lo}, ${hi}] (${c.structure}, β = ${c.beta})`);
        }
      }
      return { error: maxAbsDiff(out.data, attention(c.input).data), bound, detail: `${c.structure}, β = ${c.beta}, δ = ${delta}` };
    },
  });
}

const cpu = new Map<number, AttentionKernel>(DELTAS.map((d) => [d, cpuLowRank({ delta: d })]));
kernels.push(...cpu.values());
describeLaws('adversarial › cpu/low-rank', [adversarialLaw('cpu/low-rank', cpu)]);

for (const backend of ['cpu', 'webasm'] as const) {
  if (!(await backendAvailable(backend))) continue;
  const gpu = new Map<number, AttentionKernel>();
  for (const d of DELTAS) gpu.set(d, await gpujsLowRank({ backend, delta: d }));
  kernels.push(...gpu.values());
  describeLaws(`adversarial › gpujs/low-rank@${backend}`, [adversarialLaw(`gpujs/low-rank@${backend}`, gpu)]);
}
