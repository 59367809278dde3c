/**
 * Ten deliberately wrong kernels for `varcheck fuzz` (meta-tests of issue "fuzzing new kernels"),
 * one named export each, plus a kernel that hangs and one that throws. Each must be caught.
 * @module
 */
import { attention, checkAttentionInput, type AttentionInput } from '../../spec/attention.js';
import { keyLimits } from '../../spec/mask.js';
import { matrix, type Matrix } from '../../spec/matrix.js';
import { lowRankAttention } from '../../spec/low-rank.js';
import { taylorPolynomial } from '../../spec/polynomial.js';
import type { AttentionKernel } from '../../src/kernels/contract.js';
import { cpuLowRank, inputBeta, lowRankErrorBound, lowRankPolynomial } from '../../src/kernels/cpu/low-rank.js';
import { gpujsExact } from '../../src/kernels/gpujs/exact.js';
import { gpujsUpsampleBicubic } from '../../src/kernels/gpujs/interpolation.js';
import { hidesOwnScaleKernel, wrongScaleKernel } from './attention.js';

const exact = { op: 'attention', exact: true, masks: ['none', 'block-causal'], precision: 'float64' } as const;

/** 1. Scale 1/√d instead of 1/d. */
export const wrongScale = wrongScaleKernel;

/** 2. Mask off by one scale (a token sees only coarser scales and itself). */
export const maskOffByOneScale = hidesOwnScaleKernel;

/** 3. Softmax without the row-max shift: exp overflows for large logits. */
export const noMaxShift: AttentionKernel = {
  ...exact,
  name: 'mutant/softmax-without-max-shift',
  run(x: AttentionInput): Matrix {
    const { q, k, v, scale, mask } = checkAttentionInput(x);
    const lim = keyLimits(mask, q.rows, k.rows);
    const out = matrix(q.rows, v.cols);
    for (let i = 0; i < q.rows; i++) {
      let den = 0;
      for (let j = 0; j < lim[i]; j++) {
        let dot = 0;
        for (let t = 0; t < q.cols; t++) dot += q.data[i * q.cols + t] * k.data[j * q.cols + t];
        const p = Math.exp(scale * dot);
        den += p;
        for (let c = 0; c < v.cols; c++) out.data[i * v.cols + c] += p * v.data[j * v.cols + c];
      }
      for (let c = 0; c < v.cols; c++) out.data[i * v.cols + c] /= den;
    }
    return out;
  },
};

/** 4. Low-rank features without the factorials (every Taylor coefficient 1 instead of 1/t!). */
export const missingFactorial: AttentionKernel = {
  ...cpuLowRank({ delta: 1e-3, name: 'mutant/low-rank-missing-factorial' }),
  run(x: AttentionInput): Matrix {
    const g = lowRankPolynomial(x, 1e-3).degree;
    const p = taylorPolynomial(inputBeta(x), g);
    return lowRankAttention(x, { ...p, coefficients: new Float64Array(g + 1).fill(1) });
  },
};

/** 5. Degree one too low (declares the bound of degree g, computes with g − 1). */
export const degreeTooLow: AttentionKernel = {
  ...cpuLowRank({ delta: 1e-3, name: 'mutant/low-rank-degree-one-too-low' }),
  errorBound(x: AttentionInput): number {
    return lowRankErrorBound(x, lowRankPolynomial(x, 1e-3));
  },
  run(x: AttentionInput): Matrix {
    const g = lowRankPolynomial(x, 1e-3);
    return lowRankAttention(x, taylorPolynomial(inputBeta(x), Math.max(0, g.degree - 1)));
  },
};

/** 6. gpu.js exact attention left at gpu.js's default loopMaxIterations = 1000. */
export const loopTruncated = await gpujsExact({ backend: 'cpu', loopMaxIterations: 1000, name: 'mutant/gpujs-loop-truncated-at-1000' });

/** 7. Bicubic with a = −0.5 instead of PyTorch's −0.75. */
export const bicubicWrongA = await gpujsUpsampleBicubic({ backend: 'cpu', a: -0.5, name: 'mutant/bicubic-a-0.5' });

/** 8. Bicubic with align_corners=True semantics. */
export const alignCorners = await gpujsUpsampleBicubic({ backend: 'cpu', convention: 'align-corners', name: 'mutant/bicubic-align-corners' });

/** 9. Block-causal normaliser summed over every key, masked ones included. */
export const denominatorOverMaskedKeys: AttentionKernel = {
  ...exact,
  name: 'mutant/denominator-over-masked-keys',
  run(x: AttentionInput): Matrix {
    const { q, k, v, scale, mask } = checkAttentionInput(x);
    const lim = keyLimits(mask, q.rows, k.rows);
    const out = matrix(q.rows, v.cols);
    for (let i = 0; i < q.rows; i++) {
      const z: number[] = [];
      for (let j = 0; j < k.rows; j++) {
        let dot = 0;
        for (let t = 0; t < q.cols; t++) dot += q.data[i * q.cols + t] * k.data[j * q.cols + t];
        z.push(scale * dot);
      }
      const m = Math.max(...z);
      let den = 0;
      z.forEach((zz, j) => {
        const p = Math.exp(zz - m);
        den += p;
        if (j < lim[i]) for (let c = 0; c < v.cols; c++) out.data[i * v.cols + c] += p * v.data[j * v.cols + c];
      });
      for (let c = 0; c < v.cols; c++) out.data[i * v.cols + c] /= den;
    }
    return out;
  },
};

/** 10. Output written column-major (transposed) under the row-major shape. */
export const transposedOutput: AttentionKernel = {
  ...exact,
  name: 'mutant/transposed-output',
  run(x: AttentionInput): Matrix {
    const o = attention(x);
    const t = matrix(o.rows, o.cols);
    for (let i = 0; i < o.rows; i++) for (let c = 0; c < o.cols; c++) t.data[c * o.rows + i] = o.data[i * o.cols + c];
    return t;
  },
};

/** A kernel that never answers. */
export const hanging: AttentionKernel = {
  ...exact,
  name: 'mutant/hangs',
  run(): Matrix {
    for (;;) {
      // spin forever
    }
  },
};

/** A kernel that throws. */
export const throwing: AttentionKernel = {
  ...exact,
  name: 'mutant/throws',
  run(): Matrix {
    throw new Error('kernel exploded');
  },
};
