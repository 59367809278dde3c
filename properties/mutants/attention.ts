/**
 * Deliberately wrong attention kernels: the battery must catch each of them (meta-tests).
 * @module
 */
import { attention, checkAttentionInput, type AttentionInput } from '../../spec/attention.js';
import { matrix, type Matrix } from '../../spec/matrix.js';
import { levels } from '../../spec/pyramid.js';
import type { AttentionKernel } from '../../src/kernels/contract.js';
import { gpujsExact } from '../../src/kernels/gpujs/exact.js';

const base = { op: 'attention', exact: true, masks: ['none', 'block-causal'], precision: 'float64' } as const;

/** Uses the transformer convention 1/√d instead of the paper's 1/d (MATH.md §3). */
export const wrongScaleKernel: AttentionKernel = {
  ...base,
  name: 'mutant/scale-1-over-sqrt-d',
  run: (x: AttentionInput) => attention({ ...x, scale: 1 / Math.sqrt(x.q.cols) }),
};

/** Block-causal mask off by one scale: a token sees only strictly coarser scales (and itself). */
export const hidesOwnScaleKernel: AttentionKernel = {
  ...base,
  name: 'mutant/mask-hides-own-scale',
  run(x: AttentionInput): Matrix {
    checkAttentionInput(x);
    if (x.mask.kind === 'none') return attention(x);
    const lv = levels(x.mask.blocks);
    const out = matrix(x.q.rows, x.v.cols);
    for (let i = 0; i < x.q.rows; i++) {
      const keep: number[] = [];
      for (let j = 0; j < x.k.rows; j++) if (lv[j] < lv[i] || j === i) keep.push(j);
      const pick = (m: Matrix, rows: number[]): Matrix => ({ rows: rows.length, cols: m.cols, data: Float64Array.from(rows.flatMap((r) => Array.from(m.data.subarray(r * m.cols, (r + 1) * m.cols)))) });
      const row = attention({ q: pick(x.q, [i]), k: pick(x.k, keep), v: pick(x.v, keep), scale: x.scale, mask: { kind: 'none' } });
      out.data.set(row.data, i * x.v.cols);
    }
    return out;
  },
};

/** gpu.js exact attention left at gpu.js's default loopMaxIterations = 1000 (cpu backend). */
export function truncatedLoopKernel(): Promise<AttentionKernel> {
  return gpujsExact({ backend: 'cpu', loopMaxIterations: 1000, name: 'mutant/gpujs-loop-truncated-at-1000' });
}
