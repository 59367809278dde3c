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

/** S[c·r + m] += u[m]·v[c] for every column c, then S[dv·r + m] += u[m] (the ones column). */
function addKey(S: Float64Array, u: Float64Array, v: Matrix['data'], offset: number, dv: number, r: number): void {
  for (let c = 0; c < dv; c++) {
    const vc = v[offset + c];
    const o = c * r;
    for (let m = 0; m < r; m++) S[o + m] += u[m] * vc;
  }
  const o = dv * r;
  for (let m = 0; m < r; m++) S[o + m] += u[m];
}

/** Σ_m u[m]·S[offset + m], m in order. */
function dot(u: Float64Array, S: Float64Array, offset: number, r: number): number {
  let s = 0;
  for (let m = 0; m < r; m++) s += u[m] * S[offset + m];
  return s;
}

/** Keys j0 ≤ j < j1 into S: each key's feature row, then {@link addKey}. (Per block, in small functions the JIT optimizes early.) */
function addKeys(
  S: Float64Array,
  kd: Matrix['data'],
  vd: Matrix['data'],
  j0: number,
  j1: number,
  d: number,
  dv: number,
  parent: Int32Array,
  coord: Int32Array,
  weight: Float64Array,
  xs: number,
  r: number,
  scratch: Float64Array,
  u: Float64Array,
): void {
  for (let j = j0; j < j1; j++) {
    features(kd, j * d, parent, coord, weight, xs, r, scratch, u);
    addKey(S, u, vd, j * dv, dv, r);
  }
}

/** Query rows i0 ≤ i < i1 against S: out_ic = ⟨u_i, S_c⟩ / ⟨u_i, S_ones⟩. */
function readQueries(
  od: Matrix['data'],
  S: Float64Array,
  qd: Matrix['data'],
  i0: number,
  i1: number,
  d: number,
  dv: number,
  parent: Int32Array,
  coord: Int32Array,
  weight: Float64Array,
  xs: number,
  r: number,
  scratch: Float64Array,
  u: Float64Array,
): void {
  for (let i = i0; i < i1; i++) {
    features(qd, i * d, parent, coord, weight, xs, r, scratch, u);
    const den = dot(u, S, dv * r, r);
    if (!(den > 0) || !Number.isFinite(den)) {
      throw new NonFiniteError('input', `row ${i}: approximate normaliser ${den} is not positive; the polynomial is not certified on this logit range`);
    }
    for (let c = 0; c < dv; c++) od[i * dv + c] = dot(u, S, c * r, r) / den;
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
    addKeys(S, kd, vd, j, (j += kBlocks[b]), d, dv, parent, coord, wk.weight, wk.xs, r, scratch, u);
    readQueries(od, S, qd, i, (i += qBlocks[b]), d, dv, parent, coord, wq.weight, wq.xs, r, scratch, u);
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
