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
 * One side's feature map as the passes use it: the rows (d columns), the monomial set and
 * weights, and scratch space.
 */
interface FeatureSide {
  data: Matrix['data'];
  d: number;
  parent: Int32Array;
  coord: Int32Array;
  weight: Float64Array;
  xs: number;
  r: number;
  /** Π(xs·x)^α of the monomials of the current row (the graded recurrence's state). */
  scratch: Float64Array;
  /** The current row's features, kept for the columns past the first four. */
  u: Float64Array;
}

/**
 * Where the first pass over a row's monomials reads and writes S: value columns 0–3 at c·r for
 * c < d_v, else a spare column past S's own d_v + 1 (S is allocated with it), so that one loop
 * serves every d_v (the spare column's contents are never read as results); and the ones column
 * at d_v·r.
 */
function firstPassColumns(dv: number, r: number): [number, number, number, number, number] {
  const at = (c: number): number => (c < dv ? c * r : (dv + 1) * r);
  return [at(0), at(1), at(2), at(3), dv * r];
}

/**
 * Keys j0 ≤ j < j1 into S: each key's features by the graded recurrence in the operation order of
 * spec `featureRow` (bit-identical), and in the same pass over m, S[c·r + m] += u[m]·v'[c] for the
 * ones column (u·1 = u exactly) and the first four value columns; columns 4, 8, … follow over the
 * stored features ({@link addColumns}). Each entry of S still gets one addition per key, in key
 * order, so the result is that of one column at a time (the spec's order). One function with both
 * loops: no call or allocation per row.
 */
function addKeys(S: Float64Array, side: FeatureSide, v: Matrix['data'], dv: number, j0: number, j1: number): void {
  const { data: x, d, parent, coord, weight, xs, r, scratch, u } = side;
  const [oa, ob, oe, of, o1] = firstPassColumns(dv, r);
  const keep = dv > 4;
  const u0 = weight[0];
  scratch[0] = 1;
  u[0] = u0;
  for (let j = j0; j < j1; j++) {
    const xo = j * d;
    const vo = j * dv;
    const a = v[vo];
    const b = dv > 1 ? v[vo + 1] : 0;
    const e = dv > 2 ? v[vo + 2] : 0;
    const f = dv > 3 ? v[vo + 3] : 0;
    S[oa] += u0 * a;
    S[ob] += u0 * b;
    S[oe] += u0 * e;
    S[of] += u0 * f;
    S[o1] += u0;
    for (let m = 1; m < r; m++) {
      const p = scratch[parent[m]] * xs * x[xo + coord[m]];
      scratch[m] = p;
      const um = weight[m] * p;
      if (keep) u[m] = um;
      S[oa + m] += um * a;
      S[ob + m] += um * b;
      S[oe + m] += um * e;
      S[of + m] += um * f;
      S[o1 + m] += um;
    }
    if (keep) addColumns(S, u, v, vo, dv, r);
  }
}

/** S[c·r + m] += u[m]·v[vo + c] for the value columns c ≥ 4, four per pass over m ({@link addKeys}). */
function addColumns(S: Float64Array, u: Float64Array, v: Matrix['data'], vo: number, dv: number, r: number): void {
  const spare = (dv + 1) * r;
  for (let c = 4; c < dv; c += 4) {
    const w = Math.min(4, dv - c);
    const ga = v[vo + c];
    const gb = w > 1 ? v[vo + c + 1] : 0;
    const ge = w > 2 ? v[vo + c + 2] : 0;
    const gf = w > 3 ? v[vo + c + 3] : 0;
    const pa = c * r;
    const pb = w > 1 ? pa + r : spare;
    const pe = w > 2 ? pa + 2 * r : spare;
    const pf = w > 3 ? pa + 3 * r : spare;
    for (let m = 0; m < r; m++) {
      const um = u[m];
      S[pa + m] += um * ga;
      S[pb + m] += um * gb;
      S[pe + m] += um * ge;
      S[pf + m] += um * gf;
    }
  }
}

/**
 * Query rows i0 ≤ i < i1 against S: each row's features (as in {@link addKeys}) and, in the same
 * pass over m, acc[c] = Σ_m u[m]·S[c·r + m] for the ones column (c = d_v) and the first four value
 * columns, the others four at a time ({@link dotColumns}); every sum runs over m in order from 0,
 * as one column at a time. Then out_ic = acc[c] / acc[d_v].
 */
function readQueries(od: Matrix['data'], S: Float64Array, side: FeatureSide, dv: number, acc: Float64Array, i0: number, i1: number): void {
  const { data: x, d, parent, coord, weight, xs, r, scratch, u } = side;
  const [oa, ob, oe, of, o1] = firstPassColumns(dv, r);
  const keep = dv > 4;
  const u0 = weight[0];
  scratch[0] = 1;
  u[0] = u0;
  for (let i = i0; i < i1; i++) {
    const xo = i * d;
    let a = u0 * S[oa];
    let b = u0 * S[ob];
    let e = u0 * S[oe];
    let f = u0 * S[of];
    let g = u0 * S[o1];
    for (let m = 1; m < r; m++) {
      const p = scratch[parent[m]] * xs * x[xo + coord[m]];
      scratch[m] = p;
      const um = weight[m] * p;
      if (keep) u[m] = um;
      a += um * S[oa + m];
      b += um * S[ob + m];
      e += um * S[oe + m];
      f += um * S[of + m];
      g += um * S[o1 + m];
    }
    acc[0] = a;
    if (dv > 1) acc[1] = b;
    if (dv > 2) acc[2] = e;
    if (dv > 3) acc[3] = f;
    acc[dv] = g;
    if (keep) dotColumns(S, u, dv, r, acc);
    const den = acc[dv];
    if (!(den > 0) || !Number.isFinite(den)) {
      throw new NonFiniteError('input', `row ${i}: approximate normaliser ${den} is not positive; the polynomial is not certified on this logit range`);
    }
    for (let c = 0; c < dv; c++) od[i * dv + c] = acc[c] / den;
  }
}

/** acc[c] = Σ_m u[m]·S[c·r + m] for the value columns c ≥ 4, four per pass over m ({@link readQueries}). */
function dotColumns(S: Float64Array, u: Float64Array, dv: number, r: number, acc: Float64Array): void {
  const spare = (dv + 1) * r;
  for (let c = 4; c < dv; c += 4) {
    const w = Math.min(4, dv - c);
    const pa = c * r;
    const pb = w > 1 ? pa + r : spare;
    const pe = w > 2 ? pa + 2 * r : spare;
    const pf = w > 3 ? pa + 3 * r : spare;
    let ga = 0;
    let gb = 0;
    let ge = 0;
    let gf = 0;
    for (let m = 0; m < r; m++) {
      const um = u[m];
      ga += um * S[pa + m];
      gb += um * S[pb + m];
      ge += um * S[pe + m];
      gf += um * S[pf + m];
    }
    acc[c] = ga;
    if (w > 1) acc[c + 1] = gb;
    if (w > 2) acc[c + 2] = ge;
    if (w > 3) acc[c + 3] = gf;
  }
}

/**
 * Streamed low-rank attention for a given polynomial (same function as spec `lowRankAttention`,
 * unclamped). S is stored column-major, S[c·r + m] = Σ_j U2[j, m]·[V | 1][j, c], so every inner
 * loop runs over the r monomials; each sum is accumulated in the same order as the row-major
 * form (keys in order; monomials in order for the output dot products), so the rounding count of
 * `FLOAT64_CPU` is unchanged. Each feature row is built in the pass over m that uses it
 * (`addKeys`, `readQueries`): one pass per row for d_v ≤ 4. properties/low-rank.test.ts
 * checks the outputs against spec `lowRankAttention`'s, bit for bit.
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
  // S, with one spare column past its d_v + 1 ({@link firstPassColumns}), and the working arrays.
  const S = new Float64Array((dv + 2) * r);
  const u = new Float64Array(r);
  const scratch = new Float64Array(r);
  const acc = new Float64Array(dv + 1);
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
