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
import { clampToValueRange, declaredLowRankBound, FLOAT64_CPU, lowRankCost, lowRankPolynomial, requireDelta } from '../../../spec/certificate.js';
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
 * S[c·r + m] += u[m]·v'[c] for the columns c ≤ d_v of V' = [V | 1] (c = d_v is the ones column:
 * u·1 = u exactly), four columns per pass over m. Each entry of S still gets one addition per key,
 * in key order, so the result is that of one column at a time.
 */
function addKey(S: Float64Array, u: Float64Array, v: Matrix['data'], offset: number, dv: number, r: number): void {
  for (let c = 0; c <= dv; c += 4) {
    const w = Math.min(4, dv + 1 - c);
    const a = c < dv ? v[offset + c] : 1;
    const b = c + 1 < dv ? v[offset + c + 1] : 1;
    const e = c + 2 < dv ? v[offset + c + 2] : 1;
    const f = c + 3 < dv ? v[offset + c + 3] : 1;
    const oa = c * r;
    const ob = oa + r;
    const oe = ob + r;
    const of = oe + r;
    if (w === 4) {
      for (let m = 0; m < r; m++) {
        const um = u[m];
        S[oa + m] += um * a;
        S[ob + m] += um * b;
        S[oe + m] += um * e;
        S[of + m] += um * f;
      }
    } else if (w === 3) {
      for (let m = 0; m < r; m++) {
        const um = u[m];
        S[oa + m] += um * a;
        S[ob + m] += um * b;
        S[oe + m] += um * e;
      }
    } else if (w === 2) {
      for (let m = 0; m < r; m++) {
        const um = u[m];
        S[oa + m] += um * a;
        S[ob + m] += um * b;
      }
    } else {
      for (let m = 0; m < r; m++) S[oa + m] += u[m] * a;
    }
  }
}

/**
 * dots[c] = Σ_m u[m]·S[c·r + m] for the columns c ≤ d_v, m in order for each (four columns per
 * pass over m; each sum is accumulated exactly as one column at a time would).
 */
function dots(u: Float64Array, S: Float64Array, dv: number, r: number, out: Float64Array): void {
  for (let c = 0; c <= dv; c += 4) {
    const w = Math.min(4, dv + 1 - c);
    const oa = c * r;
    const ob = oa + r;
    const oe = ob + r;
    const of = oe + r;
    let a = 0;
    let b = 0;
    let e = 0;
    let f = 0;
    if (w === 4) {
      for (let m = 0; m < r; m++) {
        const um = u[m];
        a += um * S[oa + m];
        b += um * S[ob + m];
        e += um * S[oe + m];
        f += um * S[of + m];
      }
    } else if (w === 3) {
      for (let m = 0; m < r; m++) {
        const um = u[m];
        a += um * S[oa + m];
        b += um * S[ob + m];
        e += um * S[oe + m];
      }
    } else if (w === 2) {
      for (let m = 0; m < r; m++) {
        const um = u[m];
        a += um * S[oa + m];
        b += um * S[ob + m];
      }
    } else {
      for (let m = 0; m < r; m++) a += u[m] * S[oa + m];
    }
    out[c] = a;
    if (w > 1) out[c + 1] = b;
    if (w > 2) out[c + 2] = e;
    if (w > 3) out[c + 3] = f;
  }
}

/** One side's feature map as the passes use it: the rows (d columns), the monomial set and weights, and scratch space. */
interface FeatureSide {
  data: Matrix['data'];
  d: number;
  parent: Int32Array;
  coord: Int32Array;
  weight: Float64Array;
  xs: number;
  r: number;
  scratch: Float64Array;
  u: Float64Array;
}

/** Row t's feature row into side.u (see {@link features}). */
function featureRow(side: FeatureSide, t: number): Float64Array {
  features(side.data, t * side.d, side.parent, side.coord, side.weight, side.xs, side.r, side.scratch, side.u);
  return side.u;
}

/** Keys j0 ≤ j < j1 into S: each key's feature row, then {@link addKey}. (Per block, in small functions the JIT optimizes early.) */
function addKeys(S: Float64Array, keys: FeatureSide, vd: Matrix['data'], dv: number, j0: number, j1: number): void {
  for (let j = j0; j < j1; j++) addKey(S, featureRow(keys, j), vd, j * dv, dv, keys.r);
}

/** Query rows i0 ≤ i < i1 against S: out_ic = ⟨u_i, S_c⟩ / ⟨u_i, S_ones⟩. */
function readQueries(od: Matrix['data'], S: Float64Array, queries: FeatureSide, dv: number, acc: Float64Array, i0: number, i1: number): void {
  for (let i = i0; i < i1; i++) {
    dots(featureRow(queries, i), S, dv, queries.r, acc);
    const den = acc[dv];
    if (!(den > 0) || !Number.isFinite(den)) {
      throw new NonFiniteError('input', `row ${i}: approximate normaliser ${den} is not positive; the polynomial is not certified on this logit range`);
    }
    for (let c = 0; c < dv; c++) od[i * dv + c] = acc[c] / den;
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
  // The working arrays share one allocation.
  const work = new Float64Array((dv + 1) * r + 2 * r + dv + 1);
  const S = work.subarray(0, (dv + 1) * r);
  const u = work.subarray((dv + 1) * r, (dv + 2) * r);
  const scratch = work.subarray((dv + 2) * r, (dv + 3) * r);
  const acc = work.subarray((dv + 3) * r);
  const out = matrix(q.rows, dv);
  const side = (x: Matrix, w: typeof wq): FeatureSide => ({ data: x.data, d, parent: set.parent, coord: set.coord, weight: w.weight, xs: w.xs, r, scratch, u });
  const keys = side(k, wk);
  const queries = side(q, wq);
  const kBlocks = mask.kind === 'block-causal' ? mask.blocks : [k.rows];
  const qBlocks = mask.kind === 'block-causal' ? mask.blocks : [q.rows];
  let j = 0;
  let i = 0;
  for (let b = 0; b < kBlocks.length; b++) {
    addKeys(S, keys, v.data, dv, j, (j += kBlocks[b]));
    readQueries(out.data, S, queries, dv, acc, i, (i += qBlocks[b]));
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
    cost: lowRankCost(delta, FLOAT64_CPU),
    run(input: AttentionInput): Matrix {
      checkAttentionInput(input);
      return clampToValueRange(lowRankAttentionCpu(input, lowRankPolynomial(input, delta, FLOAT64_CPU)), input.v);
    },
  };
}
