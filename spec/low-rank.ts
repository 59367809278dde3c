/**
 * The polynomial method (docs/math.md §5): graded multi-index enumeration, the feature maps
 * U1, U2 with (U1 U2ᵀ)_ij = P(s⟨q_i, k_j⟩), and low-rank attention — dense
 * (w = U1(U2ᵀ1), N = U1(U2ᵀV)) and block-causal with prefix sums over scale blocks.
 * @module
 */
import { match } from 'ts-pattern';
import { checkAttentionInput, type AttentionInput } from './attention.js';
import { NonFiniteError, RangeArgumentError, requireInteger } from './errors.js';
import { checkMatrix, matrix, type Matrix } from './matrix.js';
import type { ExpPolynomial } from './polynomial.js';

/** r = C(d+g, g): the number of monomials of degree ≤ g in d variables (docs/math.md §5). */
export function rank(d: number, g: number): number {
  requireInteger('d', d, 1);
  requireInteger('g', g, 0);
  let r = 1;
  for (let k = 1; k <= g; k++) r = (r * (d + k)) / k;
  return Math.round(r);
}

/** AS23's looser stated rank bound C(2(g+d), 2g). */
export function rankAS23(d: number, g: number): number {
  return rank(2 * d, 2 * g);
}

/**
 * The multi-indices α ∈ ℕᵈ with |α| ≤ g in graded order. Monomial m (m ≥ 1) is monomial
 * `parent[m]` times coordinate `coord[m]`, so a row's monomials cost O(1) each.
 */
export interface MultiIndexSet {
  /** Variables d. */
  d: number;
  /** Maximum degree g. */
  g: number;
  /** Number of monomials r = C(d+g, g). */
  size: number;
  /** |α| of each monomial. */
  degree: Int32Array;
  /** Index of the parent monomial (−1 for the constant). */
  parent: Int32Array;
  /** Coordinate multiplied onto the parent (−1 for the constant). */
  coord: Int32Array;
  /** t!/α! (the multinomial coefficient) of each monomial. */
  multinomial: Float64Array;
}

/** Enumerate {α : |α| ≤ g} by degree, each multiset once (coordinates nondecreasing). */
export function multiIndices(d: number, g: number): MultiIndexSet {
  const size = rank(d, g);
  const degree = new Int32Array(size);
  const parent = new Int32Array(size).fill(-1);
  const coord = new Int32Array(size).fill(-1);
  const last = new Int32Array(size); // largest coordinate used (for nondecreasing extension)
  const multinomial = new Float64Array(size);
  const mult = new Int32Array(size); // multiplicity of `last` in α
  multinomial[0] = 1;
  let count = 1;
  let levelStart = 0;
  for (let t = 1; t <= g; t++) {
    const levelEnd = count;
    for (let p = levelStart; p < levelEnd; p++) {
      for (let j = t === 1 ? 0 : last[p]; j < d; j++) {
        degree[count] = t;
        parent[count] = p;
        coord[count] = j;
        last[count] = j;
        mult[count] = t > 1 && j === last[p] ? mult[p] + 1 : 1;
        // t!/α! = (t−1)!/α'! · t / α_j  where α = α' + e_j.
        multinomial[count] = (multinomial[p] * t) / mult[count];
        count++;
      }
    }
    levelStart = levelEnd;
  }
  if (count !== size) throw new Error(`internal: enumerated ${count} monomials, expected ${size}`);
  return { d, g, size, degree, parent, coord, multinomial };
}

/**
 * Which factorisation: `asymmetric` puts c_t sᵗ (t!/α!) on the query side and Kᵅ on the key
 * side; `symmetric` puts √(c_t t!/α!)(√s·x)ᵅ on both (needs c_t ≥ 0; better conditioned).
 */
export type FeatureForm = 'asymmetric' | 'symmetric';

/**
 * Per-monomial weights of one side of the factorisation, and the factor applied to every
 * input coordinate: U[i, α] = weight[α] · (xs · x_i)^α.
 */
export function featureWeights(
  set: MultiIndexSet,
  coefficients: ArrayLike<number>,
  scale: number,
  side: 'query' | 'key',
  form: FeatureForm,
): {
  /** weight[m] of monomial m. */
  weight: Float64Array;
  /** Coordinate scaling (√s for the symmetric form, 1 otherwise). */
  xs: number;
} {
  if (coefficients.length < set.g + 1) throw new RangeArgumentError('coefficients', `expected ${set.g + 1} coefficients, got ${coefficients.length}`);
  const weight = new Float64Array(set.size);
  // sᵗ by repeated multiplication (t − 1 correctly rounded products; Math.pow is not
  // correctly rounded, and the rounding certificate counts operations: docs/math.md §8).
  const sPow = new Float64Array(set.g + 1);
  sPow[0] = 1;
  for (let t = 1; t <= set.g; t++) sPow[t] = t === 1 ? scale : sPow[t - 1] * scale;
  for (let m = 0; m < set.size; m++) {
    const t = set.degree[m];
    const ct = coefficients[t];
    weight[m] = match(form)
      .with('asymmetric', () => (side === 'query' ? ct * sPow[t] * set.multinomial[m] : 1))
      .with('symmetric', () => {
        if (ct < 0) throw new RangeArgumentError('coefficients', `the symmetric form needs c_t ≥ 0, got c_${t} = ${ct}`);
        return Math.sqrt(ct * set.multinomial[m]);
      })
      .exhaustive();
  }
  return { weight, xs: form === 'symmetric' ? Math.sqrt(scale) : 1 };
}

/**
 * One feature row: out[m] = weight[m] · Π (xs·x)^α over the graded recurrence (O(r)).
 * `x` holds the row at `offset`; `scratch` and `out` have length r.
 */
export function featureRow(x: ArrayLike<number>, offset: number, set: MultiIndexSet, weight: Float64Array, xs: number, scratch: Float64Array, out: Float64Array | Float32Array, outOffset = 0): void {
  scratch[0] = 1;
  for (let m = 1; m < set.size; m++) scratch[m] = scratch[set.parent[m]] * xs * x[offset + set.coord[m]];
  for (let m = 0; m < set.size; m++) out[outOffset + m] = weight[m] * scratch[m];
}

/**
 * The feature matrix of `x` (L×d) for polynomial coefficients `c`, `side` query or key:
 * L×r, with (U1 U2ᵀ)_ij = Σ_t c_t (s⟨q_i, k_j⟩)ᵗ exactly in exact arithmetic (docs/math.md §5).
 * Built in O(L·r) by the graded parent-times-coordinate recurrence.
 */
export function features(x: Matrix, set: MultiIndexSet, coefficients: ArrayLike<number>, scale: number, side: 'query' | 'key', form: FeatureForm): Matrix {
  checkMatrix('x', x);
  if (x.cols !== set.d) throw new RangeArgumentError('x', `expected ${set.d} columns, got ${x.cols}`);
  const { weight, xs } = featureWeights(set, coefficients, scale, side, form);
  const U = matrix(x.rows, set.size);
  const scratch = new Float64Array(set.size);
  for (let i = 0; i < x.rows; i++) featureRow(x.data, i * set.d, set, weight, xs, scratch, U.data, i * set.size);
  return U;
}

/** The default form for a polynomial: symmetric when every coefficient is ≥ 0. */
export function defaultForm(poly: ExpPolynomial): FeatureForm {
  return poly.coefficients.every((c) => c >= 0) ? 'symmetric' : 'asymmetric';
}

/** The two factors of Ã = U1 U2ᵀ and the monomials they index. */
export interface FeaturePair {
  /** Query features, L_q × r. */
  u1: Matrix;
  /** Key features, L_k × r. */
  u2: Matrix;
  /** The monomials (columns). */
  set: MultiIndexSet;
}

/** The factor pair (U1, U2) of an attention input for a polynomial P. */
export function featurePair(input: AttentionInput, poly: ExpPolynomial, form?: FeatureForm): FeaturePair {
  const set = multiIndices(input.q.cols, poly.degree);
  const f: FeatureForm = form ?? defaultForm(poly);
  return {
    u1: features(input.q, set, poly.coefficients, input.scale, 'query', f),
    u2: features(input.k, set, poly.coefficients, input.scale, 'key', f),
    set,
  };
}

/**
 * Low-rank attention T̃ = diag(Ã1)⁻¹ Ã V with Ã = U1 U2ᵀ = P(s·QKᵀ), never forming the
 * L_q×L_k matrix (docs/math.md §5). Without a mask: S = U2ᵀ[V | 1] (r×(d_v+1)), T̃ = U1 S then
 * divide by the last column. Block-causal: S_b = Σ_{i≤b} U2[block i]ᵀ[V_i | 1] by prefix sums,
 * rows of block b are U1[block b] S_b — O(L·r·d_v), the KV-cached order.
 * @throws {@link NonFiniteError} if a row's approximate normaliser is not positive (P not
 * certified on the input's logit range).
 * @see docs/math.md §5
 */
export function lowRankAttention(input: AttentionInput, poly: ExpPolynomial, form?: FeatureForm): Matrix {
  const { v, mask } = checkAttentionInput(input);
  const { u1, u2 } = featurePair(input, poly, form);
  const r = u1.cols;
  const dv = v.cols;
  const w = dv + 1;
  const blocks = mask.kind === 'block-causal' ? mask.blocks : [u2.rows];
  const qBlocks = mask.kind === 'block-causal' ? mask.blocks : [u1.rows];
  const S = new Float64Array(r * w);
  const out = matrix(u1.rows, dv);
  let kOff = 0;
  let qOff = 0;
  const numBlocks = mask.kind === 'block-causal' ? blocks.length : 1;
  for (let b = 0; b < numBlocks; b++) {
    // S += U2[block]ᵀ [V | 1]
    for (let j = kOff; j < kOff + blocks[b]; j++) {
      for (let m = 0; m < r; m++) {
        const u = u2.data[j * r + m];
        if (u === 0) continue;
        const so = m * w;
        for (let c = 0; c < dv; c++) S[so + c] += u * v.data[j * dv + c];
        S[so + dv] += u;
      }
    }
    kOff += blocks[b];
    // rows of this block: U1 S, divided by the last column
    const acc = new Float64Array(w);
    for (let i = qOff; i < qOff + qBlocks[b]; i++) {
      acc.fill(0);
      for (let m = 0; m < r; m++) {
        const u = u1.data[i * r + m];
        if (u === 0) continue;
        const so = m * w;
        for (let c = 0; c < w; c++) acc[c] += u * S[so + c];
      }
      if (!(acc[dv] > 0) || !Number.isFinite(acc[dv])) {
        throw new NonFiniteError('input', `row ${i}: approximate normaliser Σ_j P(s⟨q_i, k_j⟩) = ${acc[dv]} is not positive; the polynomial is not certified on this logit range`);
      }
      for (let c = 0; c < dv; c++) out.data[i * dv + c] = acc[c] / acc[dv];
    }
    qOff += qBlocks[b];
  }
  return out;
}
