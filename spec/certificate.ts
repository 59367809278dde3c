/**
 * The low-rank promise (MATH.md §5–6): for a target δ, the certified polynomial chosen for an
 * input and the additive ℓ∞ bound every low-rank kernel declares with it. Part of the
 * specification — kernels import it, laws check it.
 * @module
 */
import { checkAttentionInput, type AttentionInput } from './attention.js';
import { e1BoundPerColumn } from './bounds.js';
import { DeclinedInputError, RangeArgumentError } from './errors.js';
import { lowRankAttention, rank } from './low-rank.js';
import { maxAbs, type Matrix } from './matrix.js';
import { certifiedExpPolynomial, type ExpPolynomial } from './polynomial.js';

/** β = s·d·‖Q‖∞‖K‖∞ of an input (MATH.md §3; |s⟨q,k⟩| ≤ β). */
export function inputBeta(input: AttentionInput): number {
  return input.scale * input.q.cols * maxAbs(input.q.data) * maxAbs(input.k.data);
}

/** The largest feature rank a low-rank kernel accepts; above it the kernel declines (exact attention is cheaper). */
export const MAX_RANK = 50_000;

/**
 * The polynomial the low-rank kernel uses on `input` for target δ; throws when no degree
 * ≤ 200 certifies it (the input is far above the threshold).
 */
export function lowRankPolynomial(input: AttentionInput, delta: number): ExpPolynomial {
  const vInf = maxAbs(input.v.data);
  const eps = delta / (2 * Math.max(vInf, Number.MIN_VALUE) + delta);
  const poly = certifiedExpPolynomial(inputBeta(input), eps);
  if (!poly) throw new DeclinedInputError('input', `no polynomial of degree ≤ 200 certifies δ = ${delta} at β = ${inputBeta(input)}`);
  const r = rank(input.q.cols, poly.degree);
  if (r > MAX_RANK) throw new DeclinedInputError('input', `rank C(d + g, g) = ${r} at d = ${input.q.cols}, g = ${poly.degree} exceeds ${MAX_RANK}: low rank is no cheaper than exact attention here`);
  return poly;
}

/** The E1 bound the kernel declares: max over columns of 2ε/(1−ε)·(max V_c − min V_c)/2. */
export function lowRankErrorBound(input: AttentionInput, poly: ExpPolynomial): number {
  return Math.max(...e1BoundPerColumn(poly.relativeError, input.v));
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

/**
 * The spec's low-rank attention for a target δ: the certified polynomial of
 * {@link lowRankPolynomial}, evaluated by `lowRankAttention`. Throws `RangeArgumentError`
 * where no degree certifies δ (MATH.md §5).
 */
export function certifiedLowRankAttention(input: AttentionInput, delta: number): Matrix {
  return lowRankAttention(input, lowRankPolynomial(input, requireDelta(delta)));
}
