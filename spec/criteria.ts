/**
 * The provably-efficient criteria (docs/math.md §4, §5, §8): for (L or a pyramid, d, B, δ) the
 * logit bound β, the certified degree and rank *including the float64 rounding term*, exact and
 * low-rank operation counts, whether the low-rank construction is provably efficient *at this
 * size*, the float ceilings β_max(u, r, ε) of float64 and float32 next to the √ln L threshold,
 * and a regime read from the slope of log r against log L along the growth family of B.
 * @module
 */
import { match, P } from 'ts-pattern';
import { FLOAT32_GPUJS, FLOAT64_CPU, chooseCertifiedPolynomial, gamma, featureMagnitudes, floatCeiling, rowBound } from './certificate.js';
import { RangeArgumentError, requireFinite, requireInteger } from './errors.js';
import { rank } from './low-rank.js';
import { CHEBYSHEV_MAX_BETA, chebyshevDegree, taylorDegree, type ExpPolynomial } from './polynomial.js';
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
  /** The family this (L, B) belongs to, for the regime: B(L′) = B·(ln L′/ln L)^{1/2, 1/4 or 0}. @defaultValue 'sqrt-log' */
  growth?: Growth;
}

/** Where B sits relative to the √(ln L) threshold, read from the rank slope (see {@link criteria}). */
export type Regime = 'below' | 'near' | 'at-or-above';

/** How B grows with L in a family of inputs: B = c·√ln L (the threshold), c·(ln L)^{1/4}, or constant. */
export type Growth = 'sqrt-log' | 'quarter-log' | 'constant';

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
  /** β = s·d·B², the logit bound (docs/math.md §3). */
  beta: number;
  /** Relative kernel error ε that sharp E1 turns into δ: ½‖p̃ − p‖₁(ε)·2B = δ (exact arithmetic). */
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
  /** The float64 certified total (polynomial + rounding) for ‖Q‖∞, ‖K‖∞, ‖V‖∞ ≤ B over L keys (∞: none ≤ δ). */
  certifiedBound: number;
  /** Float ceilings β_max(u, r, ε) = ½ ln(ε(1−ε)/γ_K) of float64 and float32 at this r, L, ε (docs/math.md §8). */
  floatCeiling: {
    /** β_max of float64 (`FLOAT64_CPU`); −∞ when no degree is certified. */
    float64: number;
    /** β_max of float32 (`FLOAT32_GPUJS`); negative: no β ≥ 0 passes. */
    float32: number;
  };
  /** Local slope d ln r/d ln L along the growth family (exact-arithmetic Taylor degree, d ∝ ln L), from L to 10L. */
  rankSlope: number;
  /** The same slope from 10³L to 10⁴L minus `rankSlope`: ≥ 0 rising (r = L^{Θ(1)}), < 0 falling. */
  rankSlopeTrend: number;
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
  /**
   * From the rank slope: `below` — provably efficient here and the slope falls (r = L^{o(1)} along the
   * family); `at-or-above` — not provably efficient here and the slope does not fall; `near` —
   * otherwise. Never `at-or-above` next to `provablyEfficient: true`.
   */
  regime: Regime;
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7). */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let a = c[0];
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The real degree g ≥ 0 solving ε_T(β, g) = β^{g+1}e^β/Γ(g+2) = ε (the Taylor rule, made continuous). */
export function realTaylorDegree(beta: number, eps: number): number {
  const f = (g: number): number => (g + 1) * Math.log(beta) + beta - logGamma(g + 2) - Math.log(eps);
  if (!(beta > 0) || f(0) <= 0) return 0;
  let lo = 0;
  let hi = 1;
  while (f(hi) > 0) hi *= 2;
  for (let i = 0; i < 80; i++) {
    const m = (lo + hi) / 2;
    if (f(m) > 0) lo = m;
    else hi = m;
  }
  return hi;
}

/** The ε with ½‖p̃ − p‖₁(ε)·2B = δ (sharp E1 on a value range ≤ 2B). */
function epsFor(delta: number, B: number): number {
  const y = Math.min(delta / B, 1.999999);
  const sa = (2 + y) / (2 - y);
  const a = sa * sa;
  return Math.min(0.5, ((a - 1) / (a + 1)) * (1 - 1e-12));
}

/**
 * ln r along a family (docs/math.md §4): at each L, B(L) from `growth` with B(L0) = B0, d(L) =
 * d0·ln L/ln L0 (the theorem's d = Θ(log n)), s = 1/d so β = B², ε from sharp E1 and δ, g the real
 * Taylor degree, ln r = ln Γ(d+g+1) − ln Γ(d+1) − ln Γ(g+1). Exact arithmetic: the asymptotic
 * statement, not a float certificate.
 */
export function familyLogRank(growth: Growth, L0: number, B0: number, d0: number, delta: number, L: number): number {
  const ratio = Math.log(L) / Math.log(L0);
  const B = B0 * (growth === 'sqrt-log' ? Math.sqrt(ratio) : growth === 'quarter-log' ? ratio ** 0.25 : 1);
  const d = d0 * ratio;
  const g = realTaylorDegree(B * B, epsFor(delta, B));
  return logGamma(d + g + 1) - logGamma(d + 1) - logGamma(g + 1);
}

/** d ln r/d ln L along the family between L1 and L2 (> L1). */
export function familyRankSlope(growth: Growth, L0: number, B0: number, d0: number, delta: number, L1: number, L2: number): number {
  return (familyLogRank(growth, L0, B0, d0, delta, L2) - familyLogRank(growth, L0, B0, d0, delta, L1)) / (Math.log(L2) - Math.log(L1));
}

/**
 * Evaluate the criteria at one size. Rule: the low-rank construction is *provably efficient at
 * this size* iff some certified polynomial (Taylor or Chebyshev, docs/math.md §5) gives a float64
 * certified total — sharp E1 plus the rounding term of docs/math.md §8 for ‖Q‖∞, ‖K‖∞, ‖V‖∞ ≤ B
 * and L keys — ≤ δ, and 2·L·r·(d_v+1) + 2Lr < pairs·(d + d_v). The regime reads the slope of
 * ln r against ln L along the growth family of B through this point (default: the threshold
 * family B ∝ √ln L, with d ∝ ln L): see {@link Criteria.regime}. One size never proves an
 * asymptotic statement — the slope is the analytic sweep the theorem is about.
 * @see docs/math.md §4, §5, §8
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
  const growth = input.growth ?? 'sqrt-log';
  const [L, exactPairs, blocks] = match(input)
    .with({ pyramid: P.nonNullable }, ({ pyramid }) => {
      const p = typeof pyramid === 'object' && 'blocks' in pyramid ? pyramid : scalePyramid(pyramid);
      return [p.L, attentionPairCounts(p).kvCache, p.blocks.length] as const;
    })
    .with({ L: P.number }, ({ L: l }) => {
      requireInteger('L', l, 1);
      return [l, l * l, 1] as const;
    })
    .otherwise(() => {
      throw new RangeArgumentError('L', 'expected L or pyramid');
    });
  const beta = Math.abs(scale) * d * B * B;
  const eps = epsFor(delta, B);
  const worst = (poly: ExpPolynomial): { poly: ExpPolynomial; bound: number } => {
    const r = rank(d, poly.degree);
    const { gq, gk } = featureMagnitudes(poly, d, scale, B, B);
    return { poly, bound: rowBound(FLOAT64_CPU, poly, { beta, n: L, blocks, gq, gk }, 2 * B, B, r).total };
  };
  // ρ ≥ γ_{L+1}e^{2β} for every certified polynomial (docs/math.md §8): ≥ 1 means nothing certifies.
  const { ok } = gamma(L + 1, FLOAT64_CPU.u) * Math.exp(2 * beta) >= 1 ? { ok: undefined } : chooseCertifiedPolynomial(beta, delta, 2 * B, worst);
  const poly = ok?.poly;
  const r = poly ? rank(d, poly.degree) : Infinity;
  const exactMacs = exactPairs * (d + dv);
  const lowRankMacs = 2 * L * r + 2 * L * r * (dv + 1);
  const thresholdRatio = B / Math.sqrt(Math.log(Math.max(L, 2)));
  const gT = taylorDegree(beta, eps);
  const ceilPoly = poly ?? (gT !== undefined ? { kind: 'taylor' as const, degree: gT, beta, coefficients: new Float64Array(gT + 1), relativeError: eps, coefficientRoundings: gT } : undefined);
  const ceilR = ceilPoly ? rank(d, ceilPoly.degree) : Infinity;
  const floatCeilingOf = (profile: typeof FLOAT64_CPU): number => (ceilPoly && Number.isFinite(ceilR) ? floatCeiling(profile, ceilPoly, ceilR, L, eps) : -Infinity);
  const Ls = Math.max(L, 3);
  const rankSlope = familyRankSlope(growth, Ls, B, d, delta, Ls, 10 * Ls);
  const rankSlopeTrend = familyRankSlope(growth, Ls, B, d, delta, 1e3 * Ls, 1e4 * Ls) - rankSlope;
  const provablyEfficient = poly !== undefined && lowRankMacs < exactMacs;
  const falling = rankSlopeTrend < 0;
  const regime: Regime = provablyEfficient ? (falling ? 'below' : 'near') : falling ? 'near' : 'at-or-above';
  return {
    L,
    d,
    dv,
    B,
    delta,
    scale,
    beta,
    eps,
    taylorDegree: gT,
    chebyshevDegree: beta <= CHEBYSHEV_MAX_BETA ? chebyshevDegree(beta, eps) : undefined,
    degree: poly?.degree,
    polynomial: poly?.kind,
    rank: r,
    certifiedBound: ok?.bound ?? Infinity,
    floatCeiling: { float64: floatCeilingOf(FLOAT64_CPU), float32: floatCeilingOf(FLOAT32_GPUJS) },
    rankSlope,
    rankSlopeTrend,
    exactPairs,
    exactMacs,
    lowRankMacs,
    predictedSpeedup: exactMacs / lowRankMacs,
    provablyEfficient,
    thresholdRatio,
    regime,
  };
}
