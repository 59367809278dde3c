/**
 * `cpu/low-rank`: the polynomial-method attention of docs/math.md §5 in float64, streamed: key
 * feature rows are built one at a time into the block prefix sums S_b = Σ U2ᵀ[V | 1], query
 * feature rows one at a time against S_b — O(L·r·d_v) time, O(r·d_v) memory, no L×r matrix —
 * and each output clamped to its column's [min V, max V]. For a target δ it takes the
 * certificate of `certifyLowRank` with the float64 rounding profile (per-row logit bounds,
 * sharp E1, and the floating-point term of docs/math.md §8) and declares its total as
 * `errorBound`; it declines (RangeArgumentError) inputs whose total exceeds δ.
 * @module
 */
import { checkAttentionInput, type AttentionInput } from '../../../spec/attention.js';
import { clampToValueRange, declaredLowRankBound, FLOAT64_CPU, lowRankPolynomial, requireDelta } from '../../../spec/certificate.js';
import { NonFiniteError } from '../../../spec/errors.js';
import { defaultForm, featureRow, featureWeights, multiIndices } from '../../../spec/low-rank.js';
import { matrix, type Matrix } from '../../../spec/matrix.js';
import type { ExpPolynomial } from '../../../spec/polynomial.js';
import type { AttentionKernel } from '../../../spec/contract.js';

/** Options of {@link cpuLowRank}. */
export interface LowRankOptions {
  /** Target additive ℓ∞ error δ. @defaultValue 1e-3 */
  delta?: number;
  /** Kernel name. @defaultValue 'cpu/low-rank' */
  name?: string;
}

/** Streamed low-rank attention for a given polynomial (same function as spec `lowRankAttention`, unclamped). */
export function lowRankAttentionCpu(input: AttentionInput, poly: ExpPolynomial): Matrix {
  const { q, k, v, scale, mask } = checkAttentionInput(input);
  const set = multiIndices(q.cols, poly.degree);
  const form = defaultForm(poly);
  const wq = featureWeights(set, poly.coefficients, scale, 'query', form);
  const wk = featureWeights(set, poly.coefficients, scale, 'key', form);
  const r = set.size;
  const dv = v.cols;
  const w = dv + 1;
  const S = new Float64Array(r * w);
  const u = new Float64Array(r);
  const scratch = new Float64Array(r);
  const acc = new Float64Array(w);
  const out = matrix(q.rows, dv);
  const kBlocks = mask.kind === 'block-causal' ? mask.blocks : [k.rows];
  const qBlocks = mask.kind === 'block-causal' ? mask.blocks : [q.rows];
  let j = 0;
  let i = 0;
  for (let b = 0; b < kBlocks.length; b++) {
    for (const jEnd = j + kBlocks[b]; j < jEnd; j++) {
      featureRow(k.data, j * k.cols, set, wk.weight, wk.xs, scratch, u);
      const vo = j * dv;
      for (let m = 0; m < r; m++) {
        const um = u[m];
        const so = m * w;
        for (let c = 0; c < dv; c++) S[so + c] += um * v.data[vo + c];
        S[so + dv] += um;
      }
    }
    for (const iEnd = i + qBlocks[b]; i < iEnd; i++) {
      featureRow(q.data, i * q.cols, set, wq.weight, wq.xs, scratch, u);
      acc.fill(0);
      for (let m = 0; m < r; m++) {
        const um = u[m];
        const so = m * w;
        for (let c = 0; c < w; c++) acc[c] += um * S[so + c];
      }
      if (!(acc[dv] > 0) || !Number.isFinite(acc[dv])) {
        throw new NonFiniteError('input', `row ${i}: approximate normaliser ${acc[dv]} is not positive; the polynomial is not certified on this logit range`);
      }
      for (let c = 0; c < dv; c++) out.data[i * dv + c] = acc[c] / acc[dv];
    }
  }
  return out;
}

/** A `cpu/low-rank` kernel for target δ. */
export function cpuLowRank(options: LowRankOptions = {}): AttentionKernel {
  const delta = requireDelta(options.delta ?? 1e-3);
  return {
    name: options.name ?? 'cpu/low-rank',
    op: 'attention',
    exact: false,
    masks: ['none', 'block-causal'],
    precision: 'float64',
    errorBound: declaredLowRankBound(delta, FLOAT64_CPU),
    run(input: AttentionInput): Matrix {
      checkAttentionInput(input);
      return clampToValueRange(lowRankAttentionCpu(input, lowRankPolynomial(input, delta, FLOAT64_CPU)), input.v);
    },
  };
}
