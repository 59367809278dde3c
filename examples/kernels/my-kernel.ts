/**
 * A correct custom attention kernel: plain float64 softmax attention with the row-max shift
 * and the block-causal mask. Fuzz it with:
 *
 *   npx varcheck fuzz examples/kernels/my-kernel.ts
 *
 * A kernel is a plain object (the kernel contract (docs/guide-kernels.md)); the type import is only for the editor.
 */
import type { AttentionKernel, AttentionInput, Matrix } from 'varcheck';

function run({ q, k, v, scale, mask }: AttentionInput): Matrix {
  const d = q.cols;
  const dv = v.cols;
  // Keys each query may see: all, or (block-causal) every token of its own and coarser scales.
  const limit = new Int32Array(q.rows).fill(k.rows);
  if (mask.kind === 'block-causal') {
    let start = 0;
    for (const b of mask.blocks) {
      limit.fill(start + b, start, start + b);
      start += b;
    }
  }
  const out = new Float64Array(q.rows * dv);
  const z = new Float64Array(k.rows);
  for (let i = 0; i < q.rows; i++) {
    let max = -Infinity;
    for (let j = 0; j < limit[i]; j++) {
      let dot = 0;
      for (let t = 0; t < d; t++) dot += q.data[i * d + t] * k.data[j * d + t];
      z[j] = scale * dot;
      if (z[j] > max) max = z[j];
    }
    let sum = 0;
    for (let j = 0; j < limit[i]; j++) {
      const p = Math.exp(z[j] - max);
      sum += p;
      for (let c = 0; c < dv; c++) out[i * dv + c] += p * v.data[j * dv + c];
    }
    for (let c = 0; c < dv; c++) out[i * dv + c] /= sum;
  }
  return { rows: q.rows, cols: dv, data: out };
}

const kernel: AttentionKernel = {
  name: 'my/softmax-attention',
  op: 'attention',
  exact: true,
  masks: ['none', 'block-causal'],
  precision: 'float64',
  run,
};

export default kernel;
