/**
 * The low-rank promise (docs/math.md §5, §6, §8): for a target δ and the arithmetic a kernel
 * actually performs, the certified polynomial chosen for an input and the additive ℓ∞ bound the
 * kernel declares with it — the polynomial's own error (sharp E1 on per-row logit bounds β_i)
 * plus a rigorous floating-point term (γ_n = nu/(1 − nu) analysis of the coefficients, feature
 * products, the r-term dot product, the prefix sums over the allowed keys and the division).
 * A kernel declines (throws `DeclinedInputError`, a `RangeArgumentError`) every input whose certified total exceeds δ.
 * Part of the specification — kernels import it, laws check it.
 * @module
 */
import { checkAttentionInput, type AttentionInput } from './attention.js';
import { columnRanges, e1L1Bound } from './bounds.js';
import { DeclinedInputError, RangeArgumentError } from './errors.js';
import { lowRankAttention, rank } from './low-rank.js';
import { keyLimits } from './mask.js';
import { maxAbs, type Matrix } from './matrix.js';
import { certifiedExpPolynomial, taylorRelativeError, type ExpPolynomial } from './polynomial.js';

/** β = s·d·‖Q‖∞‖K‖∞ of an input (docs/math.md §3; |s⟨q,k⟩| ≤ β): the global logit bound. */
export function inputBeta(input: AttentionInput): number {
  return input.scale * input.q.cols * maxAbs(input.q.data) * maxAbs(input.k.data);
}

/** The largest feature rank a low-rank kernel accepts; above it the kernel declines (exact attention is cheaper, and the features would not fit). */
export const MAX_RANK = 50_000;

/** γ_n = nu/(1 − nu) (+∞ once nu ≥ 1): the relative error of n roundings (docs/math.md §8). */
export function gamma(n: number, u: number): number {
  const nu = n * u;
  return nu < 1 ? nu / (1 - nu) : Infinity;
}

/** Round a float64 bound up past the error of the `ops` float64 operations that computed it. */
function up(x: number, ops: number): number {
  return x * (1 + gamma(ops + 1, 2 ** -53)) + Number.MIN_VALUE;
}

/**
 * Per-row logit bounds β_i ≥ s·⟨|q_i|, |k_j|⟩ ≥ |s⟨q_i, k_j⟩| for every key j:
 * β_i = s·min(‖q_i‖₂·max_j ‖k_j‖₂, Σ_l |q_il|·max_j |k_jl|) (Cauchy–Schwarz and ℓ1·ℓ∞),
 * rounded up past its own float64 evaluation (docs/math.md §6, per-row logit bounds).
 */
export function rowBetas(input: AttentionInput): Float64Array {
  const { q, k, scale } = input;
  const d = q.cols;
  let kNorm = 0;
  const kCol = new Float64Array(d);
  for (let j = 0; j < k.rows; j++) {
    let s2 = 0;
    for (let l = 0; l < d; l++) {
      const x = Math.abs(k.data[j * d + l]);
      s2 += x * x;
      if (x > kCol[l]) kCol[l] = x;
    }
    kNorm = Math.max(kNorm, Math.sqrt(s2));
  }
  const out = new Float64Array(q.rows);
  for (let i = 0; i < q.rows; i++) {
    let s2 = 0;
    let l1 = 0;
    for (let l = 0; l < d; l++) {
      const x = Math.abs(q.data[i * d + l]);
      s2 += x * x;
      l1 += x * kCol[l];
    }
    const cs = Math.abs(scale) * Math.sqrt(s2) * kNorm;
    const mixed = Math.abs(scale) * l1;
    out[i] = up(Math.min(cs, mixed), 2 * d + 4);
  }
  return out;
}

/**
 * What a low-rank kernel's arithmetic does, as a count of roundings per quantity (docs/math.md
 * §8). Every operation of the kernel is modelled as fl(x ∘ y) = (x ∘ y)(1 + θ) + η with
 * |θ| ≤ u, |η| ≤ `tiny` (underflow or flush-to-zero).
 */
export interface RoundingProfile {
  /** Name of the arithmetic (for messages). */
  name: string;
  /** Relative error of one operation (2⁻⁵³ correctly rounded float64; 2⁻²³ = one ulp for float32 on a GPU). */
  u: number;
  /** Absolute error of one operation near zero (smallest normal: covers subnormals and flush-to-zero). */
  tiny: number;
  /** Largest finite value of the format (an intermediate beyond it overflows). */
  maxFinite: number;
  /** Roundings between the exact pair product U1_iα·U2_jα and the computed one, for degree g. */
  featureOps(g: number, poly: ExpPolynomial): number;
  /** Roundings of one term of the key sums S = Σ_j U2_jᵀ[V_j | 1] over n keys in `blocks` blocks (product, sums, prefix). */
  keyOps(n: number, blocks: number): number;
  /** Roundings of one term of the r-term dot product U1_i·S. */
  dotOps(r: number): number;
  /** Relative error of the final division, in units of u. */
  divOps: number;
  /** Whether the kernel clamps each output to its column's [min V, max V] (then an error never exceeds max V − min V). */
  clamps: boolean;
}

/**
 * `cpu/low-rank` (and the spec's `lowRankAttention`): correctly rounded float64, features by the
 * graded recurrence (symmetric: c_t from the ideal coefficient in `coefficientRoundings`, t!/α! in
 * ≤ 2t, the product and √ in 2, √s once per factor and two products per factor, the final
 * product; asymmetric: c_t, sᵗ in t − 1, t!/α! in 2t, two products, one per factor on each side),
 * sequential prefix sums over the allowed keys (one product + n − 1 sums), a sequential r-term dot
 * product, one division, and a clamp to [min V, max V].
 */
export const FLOAT64_CPU: RoundingProfile = {
  name: 'float64',
  u: 2 ** -53,
  tiny: 2 ** -1022,
  maxFinite: Number.MAX_VALUE,
  featureOps: (g, poly) => 2 * (poly.coefficientRoundings + 5 * g + 3) + 2,
  keyOps: (n) => n,
  dotOps: (r) => r,
  divOps: 1,
  clamps: true,
};

/**
 * Float32 low-rank with sequential key sums (what `naiveFloat32LowRank` computes; the float32
 * kernels refine its key-sum count with {@link chunkedFloat32Profile}): one ulp (u = 2⁻²³) per
 * operation so that faithfully rounded GPU arithmetic is covered too (the gpu.js `cpu` and
 * `webasm` backends round at least as well). The host computes the feature weights in float64
 * (≤ 6g + 4 float64 roundings, < one float32 ulp for g ≤ 10⁶) and rounds them to float32 (1); Q,
 * K, V and √s are rounded to float32 on upload (1 each); each factor of a monomial costs xs·x and
 * p·(xs·x) (2) — per side ≤ 2 + 5g; V's rounding 1; the per-block sums (one product + n_b − 1
 * sums), the prefix over blocks (blocks − 1 sums); the r-term output dot product; the division
 * (≤ 2.5 ulp, counted 3); clamped on the host.
 */
export const FLOAT32_GPUJS: RoundingProfile = {
  name: 'float32',
  u: 2 ** -23,
  tiny: 2 ** -126,
  maxFinite: 3.4028234663852886e38,
  featureOps: (g) => 2 * (5 * g + 2) + 1,
  keyOps: (n, blocks) => n + blocks,
  dotOps: (r) => r,
  divOps: 3,
  clamps: true,
};

/**
 * A float32 kernel whose key sums are chunked (docs/floating-point.md §2 "Chunked key sums"):
 * each chunk of at most `chunk` consecutive keys (never straddling a scale block) is summed
 * sequentially, then the chunk sums are combined — by a scan tree over `lanes` lanes (Hillis–
 * Steele: each term passes through at most one addition per level, depth ⌈log₂ lanes⌉), or, when
 * `lanes` is omitted, by a sequential prefix over the chunks (≤ ⌈n/chunk⌉ + blocks of them). One
 * term of a row's key sums then sees its product and ≤ min(n, chunk) − 1 additions inside its chunk:
 * keyOps = min(n, chunk) + ⌈log₂ lanes⌉ (scan) or min(n, chunk) + ⌈n/chunk⌉ + blocks (prefix),
 * instead of {@link FLOAT32_GPUJS}'s n + blocks. Everything else (features, dot product,
 * division, clamp) is counted as for {@link FLOAT32_GPUJS}. At L = 21,845 this is 263 (chunks of
 * 256, scan) or 307 (chunks of 128, prefix) roundings instead of 21,853, which is what lets float32
 * certify δ = 1e-3 there at all.
 */
export function chunkedFloat32Profile(chunk: number, lanes?: number): RoundingProfile {
  if (!(Number.isInteger(chunk) && chunk >= 1)) throw new RangeArgumentError('chunk', `expected an integer ≥ 1, got ${chunk}`);
  if (lanes === undefined) {
    return { ...FLOAT32_GPUJS, name: `float32 (key sums in chunks of ${chunk}, sequential prefix)`, keyOps: (n, blocks) => Math.min(n, chunk) + Math.ceil(n / chunk) + blocks };
  }
  if (!(Number.isInteger(lanes) && lanes >= 1)) throw new RangeArgumentError('lanes', `expected an integer ≥ 1, got ${lanes}`);
  const depth = Math.ceil(Math.log2(lanes));
  return { ...FLOAT32_GPUJS, name: `float32 (key sums in chunks of ${chunk}, scan depth ${depth})`, keyOps: (n) => Math.min(n, chunk) + depth };
}

/** The rounding profile of a kernel precision (`float64` → {@link FLOAT64_CPU}, `float32` → {@link FLOAT32_GPUJS}). */
export function roundingProfile(precision: 'float32' | 'float64'): RoundingProfile {
  return precision === 'float64' ? FLOAT64_CPU : FLOAT32_GPUJS;
}

/** The certificate of one input (what a kernel declares and why). */
export interface LowRankCertificate {
  /** The polynomial used. */
  poly: ExpPolynomial;
  /** Rank r = C(d + g, g). */
  rank: number;
  /** The declared additive ℓ∞ bound: max over rows and columns of the three terms (≤ max V_c − min V_c when clamped). */
  bound: number;
  /** max over rows/columns of the polynomial term ½‖p̃ − p‖₁(max V_c − min V_c) (sharp E1 at ε_i). */
  polynomialTerm: number;
  /** max over rows/columns of the floating-point term. */
  roundingTerm: number;
  /** The largest per-row logit bound max_i β_i. */
  beta: number;
  /** The largest relative rounding ratio ρ_i (computed normaliser error / normaliser). */
  rho: number;
  /** The float ceiling β_max at this r, L and ε for this arithmetic ({@link floatCeiling}). */
  ceiling: number;
}

/**
 * The float ceiling of an arithmetic (docs/math.md §8): the largest β for which the rounding
 * ratio γ_K·e^{2β}/(1 − ε) of a degree-g, rank-r feature dot product over n keys stays ≤ ε,
 * β_max = ½·ln(ε(1 − ε)/γ_K), K = featureOps + keyOps(n) + dotOps(r). Below it the rounding term
 * is at most the polynomial's own error; above it, it dominates (it grows like e^{2β}).
 */
export function floatCeiling(profile: RoundingProfile, poly: ExpPolynomial, r: number, n: number, eps: number): number {
  const K = profile.featureOps(poly.degree, poly) + profile.keyOps(n, 1) + profile.dotOps(r);
  const g = gamma(K, profile.u);
  return 0.5 * Math.log((eps * (1 - eps)) / g);
}

/** Σ_t |c*_t| bᵗ for the ideal coefficients c*_t (within `coefficientRoundings` of the stored ones), rounded up. */
function absPoly(poly: ExpPolynomial, b: number): number {
  let s = 0;
  let p = 1;
  for (let t = 0; t <= poly.degree; t++) {
    s += Math.abs(poly.coefficients[t]) * p;
    p *= b;
  }
  return up(s * (1 + gamma(poly.coefficientRoundings, 2 ** -53)), 3 * poly.degree + 4);
}

/** One query row as the certificate sees it (docs/math.md §8). */
export interface CertificateRow {
  /** Logit bound β_i of the row. */
  beta: number;
  /** Allowed keys n_i. */
  n: number;
  /** Scale blocks the key sums run over. */
  blocks: number;
  /** Bound on every computed query feature entry's chain of partial products (≥ 1). */
  gq: number;
  /** The same for key features (≥ 1). */
  gk: number;
}

/** The certified bound of one row and column and its parts. */
export interface RowBound {
  /** Total (capped at the column range when the kernel clamps). */
  total: number;
  /** ½‖p̃ − p‖₁(ε_i)·(max V_c − min V_c). */
  polynomialTerm: number;
  /** The floating-point term. */
  roundingTerm: number;
  /** ρ_i. */
  rho: number;
}

/**
 * The bound of one row i and one column c (docs/math.md §8): with ε_i the polynomial's relative
 * error on [−β_i, β_i], P_abs(β_i) = Σ|c*_t|β_iᵗ, K_i = featureOps + keyOps(n_i) + dotOps(r),
 *   ρ_γ = γ_{K_i}·P_abs(β_i)·e^{β_i}/(1 − ε_i),  ρ_A = tiny·K_i·r·gq·gk·2/(e^{−β_i}(1 − ε_i)),
 *   term = ½‖p̃ − p‖₁(ε_i)(max V_c − min V_c) + t₂ + divOps·u(‖V_c‖∞ + t₂) + tiny,
 *   t₂ = (2ρ_γ‖V_c‖∞ + ρ_A(1 + 2‖V_c‖∞))/(1 − ρ_γ − ρ_A),
 * capped at max V_c − min V_c when the kernel clamps; +∞ when ε_i ≥ 1, ρ ≥ 1 or an
 * intermediate may overflow.
 */
export function rowBound(profile: RoundingProfile, poly: ExpPolynomial, row: CertificateRow, range: number, vmax: number, r: number): RowBound {
  return columnBound(profile, rowRounding(profile, poly, row, r), range, vmax);
}

/** The parts of {@link rowBound} that depend on the row only (computed once per row, then per column). */
interface RowRounding {
  /** ε_i; +∞ when the row is outside the polynomial's certified range. */
  eps: number;
  /** ρ_γ. */
  rhoG: number;
  /** ρ_A. */
  rhoA: number;
  /** ρ_γ + ρ_A. */
  rho: number;
  /** The row (n, gq, gk bound the largest intermediate). */
  row: CertificateRow;
}

function rowRounding(profile: RoundingProfile, poly: ExpPolynomial, row: CertificateRow, r: number): RowRounding {
  const g = poly.degree;
  const b = row.beta;
  // ε_T is evaluated as exp((g+1)ln β + β − ln (g+1)!): libm exp/log err by ≤ a few ulp of an argument
  // of size ≤ ~10³, so 1e-11 relative covers it (docs/floating-point.md §3).
  const eps = poly.kind === 'taylor' ? taylorRelativeError(b, g) * (1 + 1e-11) : poly.relativeError;
  if (!(eps < 1) || b > poly.beta) return { eps: Infinity, rhoG: Infinity, rhoA: Infinity, rho: Infinity, row };
  const u = profile.u;
  const K = profile.featureOps(g, poly) + profile.keyOps(row.n, row.blocks) + profile.dotOps(r);
  const rhoG = up((gamma(K, u) * absPoly(poly, b) * Math.exp(b)) / (1 - eps), 8);
  // Underflow: each of ≤ K roundings per term may add |η| ≤ tiny, then be multiplied by the
  // remaining factors (≤ gq·gk·max(1, ‖V‖∞)); n·r terms; against Σ_j P ≥ n e^{−β_i}(1 − ε_i).
  const rhoA = up((profile.tiny * K * r * row.gq * row.gk * 2) / (Math.exp(-b) * (1 - eps)), 10);
  return { eps, rhoG, rhoA, rho: rhoG + rhoA, row };
}

function columnBound(profile: RoundingProfile, parts: RowRounding, range: number, vmax: number): RowBound {
  const { eps, rhoG, rhoA, rho, row } = parts;
  // Overflow: the largest intermediate (a key sum) is ≤ n·gq·gk·max(1, ‖V‖∞)·2.
  if (!(rho < 1) || !(row.n * row.gq * row.gk * Math.max(1, vmax) * 4 < profile.maxFinite))
    return { total: profile.clamps ? range : Infinity, polynomialTerm: Infinity, roundingTerm: Infinity, rho: Infinity };
  const pt = up(0.5 * e1L1Bound(eps) * range, 4);
  const t2 = up((2 * rhoG * vmax + rhoA * (1 + 2 * vmax)) / (1 - rho), 8);
  const rt = up(t2 + profile.divOps * profile.u * (vmax + t2) + profile.tiny, 4);
  const total = profile.clamps ? Math.min(up(pt + rt, 1), range) : up(pt + rt, 1);
  return { total, polynomialTerm: pt, roundingTerm: rt, rho };
}

/**
 * What a certificate reads from its input, computed once per input (each an O(L·d) scan) and
 * shared by every polynomial {@link certifyLowRank} tries on it.
 */
interface CertifiedInput {
  /** d, s and the number of scale blocks. */
  d: number;
  scale: number;
  blocks: number;
  /** Per-row logit bounds ({@link rowBetas}) and max_i β_i. */
  betas: Float64Array;
  betaMax: number;
  /** Allowed keys per query row, and for each distinct count the largest β_i ({@link worstRows}). */
  limits: Int32Array;
  worst: Map<number, number>;
  /** max V_c − min V_c and max |V_c| per value column. */
  ranges: Float64Array;
  vmax: Float64Array;
  /** ‖Q‖∞ and ‖K‖∞. */
  qInf: number;
  kInf: number;
}

/** The summaries of a checked input that {@link lowRankCertificate} uses. */
function certifiedInput(x: AttentionInput): CertifiedInput {
  const { q, k, v, scale, mask } = x;
  const betas = rowBetas(x);
  const limits = keyLimits(mask, q.rows, k.rows);
  const vmax = new Float64Array(v.cols);
  for (let j = 0; j < v.rows; j++) for (let c = 0; c < v.cols; c++) vmax[c] = Math.max(vmax[c], Math.abs(v.data[j * v.cols + c]));
  let betaMax = 0;
  for (const b of betas) betaMax = Math.max(betaMax, b);
  return {
    d: q.cols,
    scale,
    blocks: mask.kind === 'block-causal' ? mask.blocks.length : 1,
    betas,
    betaMax,
    limits,
    worst: worstRows(betas, limits),
    ranges: Float64Array.from(columnRanges(v)),
    vmax,
    qInf: maxAbs(q.data),
    kInf: maxAbs(k.data),
  };
}

/** {@link lowRankCertificate} on an input's summaries. */
function certificateOf(x: CertifiedInput, poly: ExpPolynomial, profile: RoundingProfile): LowRankCertificate {
  const r = rank(x.d, poly.degree);
  const { gq, gk } = featureMagnitudes(poly, x.d, x.scale, x.qInf, x.kInf);
  let bound = 0;
  let polyMax = 0;
  let roundMax = 0;
  let rhoMax = 0;
  let nMax = 1;
  for (const [n, beta] of x.worst) {
    nMax = Math.max(nMax, n);
    const row = rowRounding(profile, poly, { beta, n, blocks: x.blocks, gq, gk }, r);
    for (let c = 0; c < x.vmax.length; c++) {
      const rb = columnBound(profile, row, x.ranges[c], x.vmax[c]);
      bound = Math.max(bound, rb.total);
      polyMax = Math.max(polyMax, rb.polynomialTerm);
      roundMax = Math.max(roundMax, rb.roundingTerm);
      rhoMax = Math.max(rhoMax, rb.rho);
    }
  }
  if (!(rhoMax < 1)) bound = Infinity; // declined even where clamping would cap it: the run may be non-finite
  return {
    poly,
    rank: r,
    bound,
    polynomialTerm: polyMax,
    roundingTerm: roundMax,
    beta: x.betaMax,
    rho: rhoMax,
    ceiling: floatCeiling(profile, poly, r, nMax, Math.min(0.5, Math.max(poly.relativeError, Number.MIN_VALUE))),
  };
}

/**
 * The certificate of `poly` on `input` for a kernel with `profile` (docs/math.md §8): the
 * maximum of {@link rowBound} over query rows i (β_i = {@link rowBetas}, n_i allowed keys) and
 * value columns c.
 */
export function lowRankCertificate(input: AttentionInput, poly: ExpPolynomial, profile: RoundingProfile): LowRankCertificate {
  return certificateOf(certifiedInput(checkAttentionInput(input)), poly, profile);
}

/**
 * The rows that carry a certificate's maxima: for each distinct key count n_i, the largest β_i
 * among the rows with that count. Every term of {@link rowBound} is nondecreasing in β_i at fixed
 * n_i (ε_i, P_abs(β_i), e^{β_i}, ρ_γ, ρ_A, and so t₂ and the totals, grow with it; `up` and the
 * caps are monotone), so its maximum over all rows is its maximum over these — one row per scale
 * block instead of one per query. Exported for the law that checks it against every row.
 */
export function worstRows(betas: Float64Array, limits: Int32Array): Map<number, number> {
  const worst = new Map<number, number>();
  for (let i = 0; i < betas.length; i++) {
    const b = worst.get(limits[i]);
    if (b === undefined || betas[i] > b) worst.set(limits[i], betas[i]);
  }
  return worst;
}

/**
 * Bounds gq, gk ≥ 1 on every computed feature entry's partial products:
 * max(1, |weight|)·max(1, xs·‖X‖∞)^g, t!/α! ≤ dᵗ (multinomial theorem), doubled for rounding.
 */
export function featureMagnitudes(
  poly: ExpPolynomial,
  d: number,
  scale: number,
  qInf: number,
  kInf: number,
): {
  /** Query side bound. */
  gq: number;
  /** Key side bound. */
  gk: number;
} {
  const g = poly.degree;
  const symmetric = poly.coefficients.every((c) => c >= 0);
  const xs = symmetric ? Math.sqrt(Math.abs(scale)) : 1;
  let cMax = 0;
  let sp = 1;
  for (let t = 0; t <= g; t++) {
    cMax = Math.max(cMax, Math.abs(poly.coefficients[t]) * (symmetric ? 1 : sp) * Math.max(1, d) ** t);
    sp *= Math.abs(scale);
  }
  const wMax = up(Math.max(1, cMax) ** (symmetric ? 0.5 : 1), 2 * g + 8);
  const side = (xInf: number, w: number): number => up(Math.max(1, w) * Math.max(1, xs * xInf) ** g, 2 * g + 4) * 2;
  return { gq: side(qInf, wMax), gk: side(kInf, symmetric ? wMax : 1) };
}

/** The ε whose sharp E1 term ½‖p̃ − p‖₁(ε)·R equals `budget` (inverse of {@link e1L1Bound}). */
function epsForBudget(budget: number, range: number): number {
  if (!(range > 0)) return 0.5;
  const y = Math.min((2 * budget) / range, 1.999999);
  const sa = (2 + y) / (2 - y);
  const a = sa * sa;
  return Math.min(0.5, ((a - 1) / (a + 1)) * (1 - 1e-12));
}

/**
 * The lowest-degree certified polynomial on [−β, β] whose `total(poly)` is ≤ δ, trying polynomial
 * budgets ε for ½‖p̃ − p‖₁(ε)·range = 99%, 90%, 50% and 10% of δ; `undefined` (with the best
 * attempt) when none is. β is first rounded up to a 1/32-octave grid so that certified
 * polynomials are shared between inputs (the Chebyshev certificate is costly).
 */
export function chooseCertifiedPolynomial<
  T extends {
    /** The total bound of the attempt. */
    bound: number;
  },
>(
  beta: number,
  delta: number,
  range: number,
  total: (poly: ExpPolynomial) => T,
): {
  /** The first attempt with bound ≤ δ. */
  ok?: T;
  /** The attempt with the smallest bound. */
  best?: T;
} {
  const betaGrid = beta > 0 ? Math.max(beta, 2 ** (Math.ceil(Math.log2(beta) * 32) / 32)) : 0;
  let best: T | undefined;
  for (const frac of [0.99, 0.9, 0.5, 0.1]) {
    const poly = certifiedExpPolynomial(betaGrid, epsForBudget(frac * delta, range));
    if (!poly) continue;
    const cert = total(poly);
    if (cert.bound <= delta) return { ok: cert, best: cert };
    if (!best || cert.bound < best.bound) best = cert;
  }
  return { best };
}

/**
 * The certificate a kernel with `profile` declares on `input` for target δ: the lowest-degree
 * certified polynomial (on [−max_i β_i, max_i β_i]) whose total (polynomial + rounding) bound is
 * ≤ δ ({@link chooseCertifiedPolynomial}). Throws `RangeArgumentError` (the kernel declines)
 * naming β, r and the float ceiling when none is ≤ δ.
 */
export function certifyLowRank(input: AttentionInput, delta: number, profile: RoundingProfile = FLOAT64_CPU): LowRankCertificate {
  requireDelta(delta);
  const x = checkAttentionInput(input);
  const ci = certifiedInput(x);
  const { betas, betaMax: beta, limits } = ci;
  let range = 0;
  for (const c of ci.ranges) range = Math.max(range, c);
  // Quick decline: for every certified P, P_abs(β_i) ≥ P(β_i) ≥ e^{β_i}(1 − ε) and K_i ≥ n_i + 1, so
  // ρ_i ≥ γ_{n_i+1}e^{2β_i}; ≥ 1 means no polynomial can be certified on this input (docs/math.md §8).
  for (let i = 0; i < betas.length; i++) {
    if (gamma(limits[i] + 1, profile.u) * Math.exp(2 * betas[i]) >= 1) {
      throw new DeclinedInputError(
        'input',
        `${profile.name} low-rank declines: row ${i} has β_i = ${betas[i].toPrecision(4)} above the float ceiling (γ_{n+1}·e^{2β_i} ≥ 1 for any rank r, n = ${limits[i]}, u = ${profile.u.toExponential(2)}); δ = ${delta}`,
      );
    }
  }
  const { ok, best } = chooseCertifiedPolynomial(beta, delta, range, (poly) => certificateOf(ci, poly, profile));
  if (ok && ok.rank > MAX_RANK) {
    throw new DeclinedInputError(
      'input',
      `${profile.name} low-rank declines: rank C(d + g, g) = ${ok.rank} at d = ${x.q.cols}, g = ${ok.poly.degree} exceeds ${MAX_RANK} (low rank is no cheaper than exact attention here)`,
    );
  }
  if (ok) return ok;
  throw new DeclinedInputError(
    'input',
    `${profile.name} low-rank declines: no certified polynomial meets δ = ${delta} at β = ${beta.toPrecision(4)} ` +
      `(best: degree ${best?.poly.degree ?? 'none ≤ 200'}, rank r = ${best?.rank ?? Infinity}, bound ${best?.bound ?? Infinity}; ` +
      `float ceiling β_max(u = ${profile.u.toExponential(2)}, r, ε) = ${(best?.ceiling ?? NaN).toPrecision(4)})`,
  );
}

/**
 * The polynomial the float64 low-rank kernel uses on `input` for target δ (the one of
 * {@link certifyLowRank} with {@link FLOAT64_CPU}); throws `RangeArgumentError` when declined.
 */
export function lowRankPolynomial(input: AttentionInput, delta: number, profile: RoundingProfile = FLOAT64_CPU): ExpPolynomial {
  return certifyLowRank(input, delta, profile).poly;
}

/** The bound a kernel with `profile` declares for `poly` on `input` (see {@link lowRankCertificate}). */
export function lowRankErrorBound(input: AttentionInput, poly: ExpPolynomial, profile: RoundingProfile = FLOAT64_CPU): number {
  return lowRankCertificate(input, poly, profile).bound;
}

/** Throw unless δ is a finite positive number (the `delta` option of every low-rank kernel). */
export function requireDelta(delta: number): number {
  if (!(delta > 0) || !Number.isFinite(delta)) throw new RangeArgumentError('options.delta', `expected δ > 0, got ${delta}`);
  return delta;
}

/**
 * The `errorBound` every low-rank kernel for target δ declares for its arithmetic (`precision`
 * picks {@link roundingProfile}, or pass a profile): the certified total of
 * {@link certifyLowRank}. Throws `RangeArgumentError` (the kernel declines) when it exceeds δ.
 */
export function declaredLowRankBound(delta: number, precision: 'float32' | 'float64' | RoundingProfile = 'float64'): (input: AttentionInput) => number {
  requireDelta(delta);
  const profile = typeof precision === 'string' ? roundingProfile(precision) : precision;
  return (input) => certifyLowRank(input, delta, profile).bound;
}

/**
 * What one call of a low-rank kernel for target δ and arithmetic `profile` costs on `input`, in
 * multiply–adds (its `AttentionKernel.cost`): the certificate's per-row logit bounds, the feature
 * rows of queries and keys evaluated directly (d + g per monomial: the gpu.js kernels' loop; the
 * graded recurrence of `cpu/low-rank` needs 2), then per monomial the key sums U2ᵀ[V | 1] and the
 * products U1·S — (L_q + L_k)·(d + r·(d + g + d_v + 1)) with r the rank of the certified degree g. At
 * d = 18 and degree 5, r = 33,649: for a few queries far above exact attention's L_q·L_k·(d + d_v).
 * An input the kernel declines costs the certificate alone, (L_q + L_k)·d.
 */
export function lowRankCost(delta: number, profile: RoundingProfile | ((input: AttentionInput) => RoundingProfile)): (input: AttentionInput) => number {
  requireDelta(delta);
  return (input) => {
    const rows = input.q.rows + input.k.rows;
    const d = input.q.cols;
    try {
      const { degree } = lowRankPolynomial(input, delta, typeof profile === 'function' ? profile(input) : profile);
      return rows * (d + rank(d, degree) * (d + degree + input.v.cols + 1));
    } catch {
      return rows * d;
    }
  };
}

/**
 * Clamp every output entry to its column's [min V, max V] in place (exact; never moves an entry
 * away from the true attention value, which lies in that range by E4) and return `out`.
 */
export function clampToValueRange(out: Matrix, v: Matrix): Matrix {
  for (let c = 0; c < v.cols; c++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let j = 0; j < v.rows; j++) {
      const x = v.data[j * v.cols + c];
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    if (!(lo <= hi)) continue;
    for (let i = 0; i < out.rows; i++) {
      const o = out.data[i * out.cols + c];
      out.data[i * out.cols + c] = o < lo ? lo : o > hi ? hi : o;
    }
  }
  return out;
}

/**
 * The spec's low-rank attention for a target δ: the certified polynomial of
 * {@link lowRankPolynomial}, evaluated by `lowRankAttention` and clamped to the value range.
 * Throws `RangeArgumentError` where the float64 certificate cannot meet δ (docs/math.md §5, §8).
 */
export function certifiedLowRankAttention(input: AttentionInput, delta: number): Matrix {
  return clampToValueRange(lowRankAttention(input, lowRankPolynomial(input, requireDelta(delta))), input.v);
}
