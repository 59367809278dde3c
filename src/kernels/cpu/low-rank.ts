/**
 * `cpu/low-rank`: the polynomial-method attention of MATH.md §5 in float64, streamed: key
 * feature rows are built one at a time into the block prefix sums S_b = Σ U2ᵀ[V | 1], query
 * feature rows one at a time against S_b — O(L·r·d_v) time, O(r·d_v) memory, no L×r matrix.
 * For a target δ it reads ‖Q‖∞, ‖K‖∞, ‖V‖∞ of the input, takes the certified degree
 * (β = s·d·‖Q‖∞‖K‖∞, ε = δ/(2‖V‖∞ + δ), the rule of `criteria`), and declares the E1 bound
 * of that degree (per-column mid-range form) as its `errorBound`.
 * @module
 */
import { checkAttentionInput, type AttentionInput } from '../../../spec/attention.js';
import { e1BoundPerColumn } from '../../../spec/bounds.js';
import { NonFiniteError, RangeArgumentError } from '../../../spec/errors.js';
import { defaultForm, featureRow, featureWeights, multiIndices } from '../../../spec/low-rank.js';
import { matrix, maxAbs, type Matrix } from '../../../spec/matrix.js';
import { certifiedExpPolynomial, type ExpPolynomial } from '../../../spec/polynomial.js';
import type { AttentionKernel } from '../contract.js';

/** Options of {@link cpuLowRank}. */
export interface LowRankOptions {
  /** Target additive ℓ∞ error δ. @defaultValue 1e-3 */
  delta?: number;
  /** Kernel name. @defaultValue 'cpu/low-rank' */
  name?: string;
}

/** β = s·d·‖Q‖∞‖K‖∞ of an input (MATH.md §3; |s⟨q,k⟩| ≤ β). */
export function inputBeta(input: AttentionInput): number {
  return input.scale * input.q.cols * maxAbs(input.q.data) * maxAbs(input.k.data);
}

/**
 * The polynomial the low-rank kernel uses on `input` for target δ; throws when no degree
 * ≤ 200 certifies it (the input is far above the threshold).
 */
export function lowRankPolynomial(input: AttentionInput, delta: number): ExpPolynomial {
  const vInf = maxAbs(input.v.data);
  const eps = delta / (2 * Math.max(vInf, Number.MIN_VALUE) + delta);
  const poly = certifiedExpPolynomial(inputBeta(input), eps);
  if (!poly) throw new RangeArgumentError('input', `no polynomial of degree ≤ 200 certifies δ = ${delta} at β = ${inputBeta(input)}`);
  return poly;
}

/** The E1 bound the kernel declares: max over columns of 2ε/(1−ε)·(max V_c − min V_c)/2. */
export function lowRankErrorBound(input: AttentionInput, poly: ExpPolynomial): number {
  return Math.max(...e1BoundPerColumn(poly.relativeError, input.v));
}

/** Streamed low-rank attention for a given polynomial (same function as spec `lowRankAttention`). */
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

/** Throw unless δ is a finite positive number (the `delta` option of every low-rank kernel). */
export function requireDelta(delta: number): number {
  if (!(delta > 0) || !Number.isFinite(delta)) throw new RangeArgumentError('options.delta', `expected δ > 0, got ${delta}`);
  return delta;
}

/**
 * The `errorBound` every low-rank kernel for target δ declares (whatever its arithmetic): the
 * E1 bound of the certified polynomial chosen for the input. Throws `RangeArgumentError` (the
 * kernel declines) when no degree ≤ 200 certifies δ.
 */
export function declaredLowRankBound(delta: number): (input: AttentionInput) => number {
  requireDelta(delta);
  return (input) => {
    checkAttentionInput(input);
    return lowRankErrorBound(input, lowRankPolynomial(input, delta));
  };
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
    errorBound: declaredLowRankBound(delta),
    run(input: AttentionInput): Matrix {
      checkAttentionInput(input);
      return lowRankAttentionCpu(input, lowRankPolynomial(input, delta));
    },
  };
}
