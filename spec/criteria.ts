/**
 * The provably-efficient criteria (MATH.md §4–5): for (L or a pyramid, d, B, δ) the logit
 * bound β, the certified degree and rank, exact and low-rank operation counts, whether the
 * low-rank construction is provably efficient *at this size*, and the threshold ratio
 * B/√(ln L) with the regime it indicates.
 * @module
 */
import { match, P } from 'ts-pattern';
import { RangeArgumentError, requireFinite, requireInteger } from './errors.js';
import { rank } from './low-rank.js';
import { certifiedExpPolynomial, chebyshevDegree, taylorDegree } from './polynomial.js';
import { attentionPairCounts, scalePyramid, type PyramidSpec, type ScalePyramid } from './pyramid.js';

/** Inputs of {@link criteria}. */
export interface CriteriaInput {
  /** Token count, for unmasked attention over L tokens (give `L` or `pyramid`). */
  L?: number;
  /** A pyramid: block-causal attention over its L tokens. */
  pyramid?: PyramidSpec | ScalePyramid;
  /** Head dimension d. */
  d: number;
  /** Entry bound B: ‖Q‖∞, ‖K‖∞, ‖V‖∞ ≤ B. */
  B: number;
  /** Additive ℓ∞ error δ allowed on the attention output. */
  delta: number;
  /** Logit scale s. @defaultValue 1/d */
  scale?: number;
  /** Value dimension d_v. @defaultValue d */
  dv?: number;
}

/** Where B sits relative to the √(ln L) threshold at this size. */
export type Regime = 'below' | 'near' | 'at-or-above';

/** What {@link criteria} returns. */
export interface Criteria {
  /** Tokens L. */
  L: number;
  /** Head and value dimensions. */
  d: number;
  /** Value dimension. */
  dv: number;
  /** Entry bound B. */
  B: number;
  /** Target additive error δ. */
  delta: number;
  /** Logit scale s. */
  scale: number;
  /** β = s·d·B², the logit bound (MATH.md §3). */
  beta: number;
  /** Relative kernel error ε that E1 turns into δ: 2ε/(1−ε)·B = δ ⇒ ε = δ/(2B + δ). */
  eps: number;
  /** Certified Taylor degree g_T(β, ε) (undefined: none below 200). */
  taylorDegree: number | undefined;
  /** Certified Chebyshev degree. */
  chebyshevDegree: number | undefined;
  /** The cheaper of the two and its kind. */
  degree: number | undefined;
  /** Which polynomial the low-rank kernel would use. */
  polynomial: 'taylor' | 'chebyshev' | undefined;
  /** Rank r = C(d+g, g) (∞ when no degree certifies). */
  rank: number;
  /** Exact query–key pairs (Σ_k h_k w_k L_k block-causal, L² unmasked). */
  exactPairs: number;
  /** Exact multiply-adds: pairs·(d + d_v) (+ one exp per pair, not counted). */
  exactMacs: number;
  /** Low-rank multiply-adds: features 2Lr, U2ᵀ[V|1] and U1·S: 2·L·r·(d_v + 1). */
  lowRankMacs: number;
  /** exactMacs / lowRankMacs. */
  predictedSpeedup: number;
  /** Certified error ≤ δ and fewer multiply-adds than exact, at this size. */
  provablyEfficient: boolean;
  /** B / √(ln L). */
  thresholdRatio: number;
  /** below (< 0.5), near (0.5–1), at-or-above (≥ 1). */
  regime: Regime;
}

/**
 * Evaluate the criteria at one size. Rule: the low-rank construction is *provably efficient
 * at this size* iff some certified degree g (Taylor or Chebyshev, MATH.md §5) gives E1 error
 * ≤ δ and 2·L·r·(d_v+1) + 2Lr < pairs·(d + d_v). The regime reads B/√(ln L): < 0.5 below the
 * threshold, 0.5–1 near it, ≥ 1 at or above it. The theorems are asymptotic: one size never
 * proves a regime — sweep n (varcheck criteria, the report's plots) before claiming one.
 * @see MATH.md §4, §5
 */
export function criteria(input: CriteriaInput): Criteria {
  const { d, B, delta } = input;
  requireInteger('d', d, 1);
  requireFinite('B', B);
  if (!(B > 0)) throw new RangeArgumentError('B', `expected B > 0, got ${B}`);
  if (!(delta > 0) || !Number.isFinite(delta)) throw new RangeArgumentError('delta', `expected δ > 0, got ${delta}`);
  const dv = input.dv ?? d;
  requireInteger('dv', dv, 1);
  const scale = input.scale ?? 1 / d;
  requireFinite('scale', scale);
  const [L, exactPairs] = match(input)
    .with({ pyramid: P.nonNullable }, ({ pyramid }) => {
      const p = typeof pyramid === 'object' && 'blocks' in pyramid ? pyramid : scalePyramid(pyramid);
      return [p.L, attentionPairCounts(p).kvCache] as const;
    })
    .with({ L: P.number }, ({ L: l }) => {
      requireInteger('L', l, 1);
      return [l, l * l] as const;
    })
    .otherwise(() => {
      throw new RangeArgumentError('L', 'expected L or pyramid');
    });
  const beta = scale * d * B * B;
  const eps = delta / (2 * B + delta);
  const poly = certifiedExpPolynomial(beta, eps);
  const r = poly ? rank(d, poly.degree) : Infinity;
  const exactMacs = exactPairs * (d + dv);
  const lowRankMacs = 2 * L * r + 2 * L * r * (dv + 1);
  const thresholdRatio = B / Math.sqrt(Math.log(Math.max(L, 2)));
  return {
    L, d, dv, B, delta, scale, beta, eps,
    taylorDegree: taylorDegree(beta, eps),
    chebyshevDegree: chebyshevDegree(beta, eps),
    degree: poly?.degree,
    polynomial: poly?.kind,
    rank: r,
    exactPairs, exactMacs, lowRankMacs,
    predictedSpeedup: exactMacs / lowRankMacs,
    provablyEfficient: poly !== undefined && lowRankMacs < exactMacs,
    thresholdRatio,
    regime: thresholdRatio < 0.5 ? 'below' : thresholdRatio < 1 ? 'near' : 'at-or-above',
  };
}
