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
import { defaultForm, featureWeights, multiIndices } from '../../../spec/low-rank.js';
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

/**
 * One feature row, out[m] = weight[m]·Π(xs·x)^α, by the graded recurrence in the operation order
 * of spec `featureRow` (so the result is bit-identical), with monomorphic typed-array arguments.
 */
function features(x: Matrix['data'], offset: number, parent: Int32Array, coord: Int32Array, weight: Float64Array, xs: number, r: number, scratch: Float64Array, out: Float64Array): void {
  scratch[0] = 1;
  out[0] = weight[0];
  for (let m = 1; m < r; m++) {
    const p = scratch[parent[m]] * xs * x[offset + coord[m]];
    scratch[m] = p;
    out[m] = weight[m] * p;
  }
}

/**
 * Streamed low-rank attention for a given polynomial (same function as spec `lowRankAttention`,
 * unclamped). S is stored column-major, S[c·r + m] = Σ_j U2[j, m]·[V | 1][j, c], so every inner
 * loop runs over the r monomials; each sum is accumulated in the same order as the row-major
 * form (keys in order; monomials in order for the output dot products), so the rounding count of
 * `FLOAT64_CPU` is unchanged.
 */
export function lowRankAttentionCpu(input: AttentionInput, poly: ExpPolynomial): Matrix {
  const { q, k, v, scale, mask } = checkAttentionInput(input);
  const set = multiIndices(q.cols, poly.degree);
  const form = defaultForm(poly);
  const wq = featureWeights(set, poly.coefficients, scale, 'query', form);
  const wk = featureWeights(set, poly.coefficients, scale, 'key', form);
  const r = set.size;
  const d = q.cols;
  const dv = v.cols;
  const ones = dv * r;
  const S = new Float64Array((dv + 1) * r);
  const u = new Float64Array(r);
  const scratch = new Float64Array(r);
  const out = matrix(q.rows, dv);
  const [qd, kd, vd, od, parent, coord] = [q.data, k.data, v.data, out.data, set.parent, set.coord];
  const kBlocks = mask.kind === 'block-causal' ? mask.blocks : [k.rows];
  const qBlocks = mask.kind === 'block-causal' ? mask.blocks : [q.rows];
  let j = 0;
  let i = 0;
  for (let b = 0; b < kBlocks.length; b++) {
    for (const jEnd = j + kBlocks[b]; j < jEnd; j++) {
      features(kd, j * d, parent, coord, wk.weight, wk.xs, r, scratch, u);
      for (let c = 0; c < dv; c++) {
        const vc = vd[j * dv + c];
        const o = c * r;
        for (let m = 0; m < r; m++) S[o + m] += u[m] * vc;
      }
      for (let m = 0; m < r; m++) S[ones + m] += u[m];
    }
    for (const iEnd = i + qBlocks[b]; i < iEnd; i++) {
      features(qd, i * d, parent, coord, wq.weight, wq.xs, r, scratch, u);
      let den = 0;
      for (let m = 0; m < r; m++) den += u[m] * S[ones + m];
      if (!(den > 0) || !Number.isFinite(den)) {
        throw new NonFiniteError('input', `row ${i}: approximate normaliser ${den} is not positive; the polynomial is not certified on this logit range`);
      }
      for (let c = 0; c < dv; c++) {
        const o = c * r;
        let num = 0;
        for (let m = 0; m < r; m++) num += u[m] * S[o + m];
        od[i * dv + c] = num / den;
      }
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
