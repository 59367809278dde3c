/**
 * Polynomial approximations of exp with certified error bounds (docs/math.md §5, E5): the Taylor
 * polynomial P_g with ε_T(β, g) = β^{g+1} e^β/(g+1)!, and a Chebyshev interpolant on
 * [−β, β] with the classical interpolation remainder as its certificate.
 * @module
 */
import { RangeArgumentError, requireFinite, requireInteger } from './errors.js';

/** A polynomial approximation of eˣ on [−β, β] with a certified relative error. */
export interface ExpPolynomial {
  /** Which construction. */
  kind: 'taylor' | 'chebyshev';
  /** Degree g. */
  degree: number;
  /** Half-width β of the interval it is certified on. */
  beta: number;
  /** Monomial coefficients c_0..c_g: P(x) = Σ_t c_t xᵗ. */
  coefficients: Float64Array;
  /**
   * Certified sup_{|x|≤β} |P*(x) − eˣ| / eˣ of the *ideal* polynomial P* (exact coefficients:
   * 1/t! for Taylor, the dyadic `exact` ones for Chebyshev).
   */
  relativeError: number;
  /**
   * Each stored coefficient is c*_t(1 + θ_t) with |θ_t| ≤ γ_n(2⁻⁵³), n this count (docs/math.md §8):
   * the kernels' rounding certificate starts from it.
   */
  coefficientRoundings: number;
  /** Chebyshev only: P*(x) = Σ_t numerators[t]·2^{−scaleBits}·(x/β)ᵗ exactly (what was certified). */
  exact?: {
    /** N_t, t = 0..g. */
    numerators: readonly bigint[];
    /** The common scale: coefficients are N_t·2^{−scaleBits}. */
    scaleBits: number;
  };
  /** Chebyshev only: a rigorous lower bound on sup |P*(x) − eˣ|/eˣ (the certificate's best sample). */
  lowerBound?: number;
}

function logFactorial(n: number): number {
  let s = 0;
  for (let k = 2; k <= n; k++) s += Math.log(k);
  return s;
}

function checkBeta(beta: number): void {
  requireFinite('beta', beta);
  if (beta < 0) throw new RangeArgumentError('beta', `expected β ≥ 0, got ${beta}`);
}

/**
 * ε_T(β, g) = β^{g+1} e^β / (g+1)!: the Lagrange-remainder bound on |P_g(x) − eˣ|/eˣ for
 * |x| ≤ β (docs/math.md §5, E5; for x < 0 the remainder is |x|^{g+1}/(g+1)! ≤ that times e^{−x}·e^{x}).
 * Computed in logs, so it never overflows.
 * @see docs/math.md §5
 */
export function taylorRelativeError(beta: number, g: number): number {
  checkBeta(beta);
  requireInteger('g', g, 0);
  if (beta === 0) return 0;
  return Math.exp((g + 1) * Math.log(beta) + beta - logFactorial(g + 1));
}

/** Degrees tried before a degree rule gives up (and reports no certified degree). */
export const MAX_DEGREE = 200;

/**
 * g_T(β, ε) = min{g : ε_T(β, g) ≤ ε} (docs/math.md §5), or `undefined` past {@link MAX_DEGREE}.
 */
export function taylorDegree(beta: number, eps: number): number | undefined {
  checkBeta(beta);
  if (!(eps > 0) || !Number.isFinite(eps)) throw new RangeArgumentError('eps', `expected ε > 0, got ${eps}`);
  for (let g = 0; g <= MAX_DEGREE; g++) if (taylorRelativeError(beta, g) <= eps) return g;
  return undefined;
}

/** The Taylor polynomial P_g(x) = Σ_{t≤g} xᵗ/t! with its certificate ε_T(β, g). */
export function taylorPolynomial(beta: number, g: number): ExpPolynomial {
  checkBeta(beta);
  requireInteger('g', g, 0);
  const c = new Float64Array(g + 1);
  c[0] = 1;
  for (let t = 1; t <= g; t++) c[t] = c[t - 1] / t;
  // c_t = fl(c_{t−1}/t): t correctly rounded divisions from 1/t! (while no c_t underflows, t ≤ 170).
  return { kind: 'taylor', degree: g, beta, coefficients: c, relativeError: taylorRelativeError(beta, g), coefficientRoundings: g };
}

/**
 * The a priori certificate of the degree-g Chebyshev interpolant of eˣ on [−β, β]:
 * |p − eˣ| ≤ β^{g+1} e^β / (2^g (g+1)!) (interpolation at Chebyshev nodes), so relative to
 * eˣ ≥ e^{−β} the error is ≤ β^{g+1} e^{2β} / (2^g (g+1)!). Loose (the e^{2β}); the
 * polynomials of {@link chebyshevPolynomial} carry the sharper a posteriori certificate.
 * @see docs/math.md §5
 */
export function chebyshevRelativeError(beta: number, g: number): number {
  checkBeta(beta);
  requireInteger('g', g, 0);
  if (beta === 0) return 0;
  return Math.exp((g + 1) * Math.log(beta) + 2 * beta - g * Math.LN2 - logFactorial(g + 1));
}

/** Fixed-point fraction bits of the exact (dyadic) Chebyshev coefficients. */
const FR = 200;
const POW2: number[] = [1];
for (let k = 1; k <= 1023; k++) POW2.push(POW2[k - 1] * 2);
const NEG_POW2: number[] = [1];
for (let k = 1; k <= 1022; k++) NEG_POW2.push(NEG_POW2[k - 1] / 2);

/** x·2ᵏ, exact while the result is a normal double. */
function ldexp(x: number, k: number): number {
  while (k > 1023) {
    x *= POW2[1023];
    k -= 1023;
  }
  while (k < -1022) {
    x *= NEG_POW2[1022];
    k += 1022;
  }
  return k >= 0 ? x * POW2[k] : x * NEG_POW2[-k];
}

function bitLength(a: bigint): number {
  const hex = a.toString(16);
  return (hex.length - 1) * 4 + (32 - Math.clz32(parseInt(hex[0], 16)));
}

/**
 * b·2^{−shift} as a double: correctly rounded, relative error ≤ 2⁻⁵³ (`Number` of a BigInt rounds
 * to nearest, and the power of two is exact), or absolute ≤ 2⁻¹⁰²² when subnormal. Past 2¹⁰²⁴,
 * where `Number` overflows, b is first cut to its top 64 bits: relative error ≤ 2⁻⁵².
 */
function bigToDouble(b: bigint, shift: number): number {
  const x = Number(b);
  if (Number.isFinite(x)) return ldexp(x, -shift);
  const neg = b < 0n;
  const a = neg ? -b : b;
  const cut = bitLength(a) - 64;
  const y = ldexp(Number(a >> BigInt(cut)), cut - shift);
  return neg ? -y : y;
}

/** a_k·2^{FR} of e^{βu} = Σ a_k T_k(u): a_0 = I_0(β), a_k = 2I_k(β), I_k(β) = Σ_m (β/2)^{2m+k}/(m!(m+k)!). */
function chebyshevSeries(beta: number, g: number): bigint[] {
  const F = BigInt(FR);
  const ONE = 1n << F;
  const H = BigInt(Math.round(ldexp(beta / 2, FR)));
  const H2 = (H * H) >> F;
  const out: bigint[] = [];
  let tk = ONE; // (β/2)^k / k!
  for (let k = 0; k <= g; k++) {
    if (k > 0) tk = ((tk * H) >> F) / BigInt(k);
    let t = tk;
    let s = 0n;
    for (let m = 1; t > 0n; m++) {
      s += t;
      t = ((t * H2) >> F) / BigInt(m * (m + k));
    }
    out.push(k === 0 ? s : 2n * s);
  }
  return out;
}

/** Σ_k a_k T_k(u) in the monomial basis of u, exactly (T_{k+1} = 2uT_k − T_{k−1}). */
function toMonomials(a: readonly bigint[]): bigint[] {
  const n = a.length;
  const mono: bigint[] = new Array<bigint>(n).fill(0n);
  let prev: bigint[] = new Array<bigint>(n).fill(0n);
  let cur: bigint[] = new Array<bigint>(n).fill(0n);
  prev[0] = 1n;
  mono[0] += a[0];
  if (n > 1) {
    cur[1] = 1n;
    mono[1] += a[1];
  }
  for (let k = 2; k < n; k++) {
    const next = new Array<bigint>(n).fill(0n);
    for (let t = 0; t < n; t++) next[t] = (t > 0 ? 2n * cur[t - 1] : 0n) - prev[t];
    for (let t = 0; t < n; t++) if (next[t] !== 0n) mono[t] += a[k] * next[t];
    prev = cur;
    cur = next;
  }
  return mono;
}

/** γ_n for float64. */
function g64(n: number): number {
  const nu = n * 2 ** -53;
  return nu / (1 - nu);
}

/**
 * Rigorous enclosure of sup_{u∈[−1,1]} |f(u)|, f(u) = P*(βu)e^{−βu} − 1, P*(βu) = Σ_t N_t 2^{−FR} uᵗ
 * (docs/math.md §8): on each subinterval [m − h, m + h] (m, h dyadic) the Taylor shift
 * P*(β(m + y)) = Σ p_k yᵏ is exact (BigInt), e^{−βy}P*(β(m + y)) = Σ_k w_k yᵏ with
 * w_k = Σ_j p_j(−β)^{k−j}/(k−j)! (float64, each with its γ error bound, tail after g + T terms
 * bounded by Σ_j|p_j|hʲ·(βh)^{T+1}/(T+1)!·e^{βh}), so |f(m + y)| ≤ |f(m)| + e^{−βm}Σ_{k≥1}|w_k|hᵏ.
 * |f(m)| is enclosed with Math.exp trusted to 1 ulp. Returns the upper bound and a lower bound
 * (max_m of the certified |f(m)| lower ends).
 */
function certifyChebyshev(nums: readonly bigint[], beta: number): { upper: number; lower: number } {
  const g = nums.length - 1;
  if (beta === 0) {
    const v = Math.abs(bigToDouble(nums[0] - (1n << BigInt(FR)), FR));
    return { upper: v * (1 + 2 ** -50), lower: v * (1 - 2 ** -50) };
  }
  const T = 40;
  const cFac = new Float64Array(g + T + 1);
  cFac[0] = 1;
  for (let i = 1; i <= g + T; i++) cFac[i] = (cFac[i - 1] * -beta) / i;
  const gErr = g64(3 * (g + T) + 10);
  const e0 = Math.max(2, Math.ceil(Math.log2(4 * (g + 1))), Math.ceil(Math.log2(Math.max(1, 2 * beta))));
  const evalAt = (K: number, e: number): { up: number; lo: number } => {
    const h = ldexp(1, -e);
    const m = K * h;
    const C = nums.map((c, t) => c << BigInt(e * (g - t)));
    const BK = BigInt(K);
    for (let k = 0; k < g; k++) for (let t = g - 1; t >= k; t--) C[t] += BK * C[t + 1];
    const p = C.map((c, k) => bigToDouble(c, FR + e * (g - k)));
    let variation = 0;
    let hk = 1;
    let absP = 0;
    for (let j = 0; j <= g; j++) absP += Math.abs(p[j]) * h ** j;
    for (let k = 1; k <= g + T; k++) {
      hk *= h;
      let w = 0;
      let aw = 0;
      for (let j = Math.max(0, k - T - g); j <= Math.min(k, g); j++) {
        w += p[j] * cFac[k - j];
        aw += Math.abs(p[j] * cFac[k - j]);
      }
      variation += (Math.abs(w) + gErr * aw + 1e-300) * hk;
    }
    const bh = beta * h;
    let tail = 1;
    for (let i = 1; i <= T + 1; i++) tail = (tail * bh) / i;
    variation += absP * (1 + 2 ** -50) * tail * Math.exp(bh) * 2;
    variation *= 1 + g64(4 * (g + T) + 20);
    const x = -beta * m;
    const E = Math.exp(x);
    const eRel = 2 ** -51 + Math.abs(x) * 2 ** -52;
    const eUp = E * (1 + eRel);
    const eLo = E * (1 - eRel);
    const w0 = p[0];
    const wRel = 2 ** -51;
    const aLo = w0 >= 0 ? eLo * w0 * (1 - wRel) : eUp * w0 * (1 + wRel);
    const aHi = w0 >= 0 ? eUp * w0 * (1 + wRel) : eLo * w0 * (1 - wRel);
    const rnd = 8 * 2 ** -53 * (Math.abs(aHi) + 1);
    const fLo = aLo - 1;
    const fHi = aHi - 1;
    const fAbs = Math.max(Math.abs(fLo), Math.abs(fHi)) + rnd;
    const low = fLo > 0 ? fLo - rnd : fHi < 0 ? -fHi - rnd : 0;
    return { up: (fAbs + eUp * variation) * (1 + 2 ** -50), lo: Math.max(0, low) };
  };
  // Subintervals of half-width 2^{−e}: start coarse (2^{−e0+2}) and halve, level by level, the
  // ones whose bound is well above the best lower bound, down to 2^{−e0−3}.
  const eStart = Math.max(2, e0 - 2);
  let work: { K: number; e: number; up: number }[] = [];
  let lower = 0;
  const n0 = 2 ** eStart;
  for (let K = -(n0 - 1); K <= n0 - 1; K += 2) {
    const r = evalAt(K, eStart);
    lower = Math.max(lower, r.lo);
    work.push({ K, e: eStart, up: r.up });
  }
  for (let e = eStart; e < e0 + 3; e++) {
    const next: typeof work = [];
    for (const w of work) {
      if (w.up <= 1.05 * lower) {
        next.push(w);
        continue;
      }
      for (const K of [2 * w.K - 1, 2 * w.K + 1]) {
        const r = evalAt(K, w.e + 1);
        lower = Math.max(lower, r.lo);
        next.push({ K, e: w.e + 1, up: r.up });
      }
    }
    work = next;
  }
  return { upper: Math.max(...work.map((w) => w.up)), lower };
}

const chebyshevCache = new Map<string, ExpPolynomial>();

/**
 * The degree-g truncated Chebyshev series of eˣ on [−β, β] (coefficients 2I_k(β) computed in
 * 200-bit fixed point, converted exactly to P*(x) = Σ_t N_t 2^{−200} (x/β)ᵗ), with the rigorous a
 * posteriori certificate of `certifyChebyshev` for P* (docs/math.md §8). The float64
 * `coefficients` are c_t = fl(N_t 2^{−200}) · fl(1/β)ᵗ: 2t + 2 roundings from P*'s.
 */
export function chebyshevPolynomial(beta: number, g: number): ExpPolynomial {
  checkBeta(beta);
  requireInteger('g', g, 0);
  const key = `${beta}|${g}`;
  const hit = chebyshevCache.get(key);
  if (hit) return hit;
  const n = g + 1;
  const nums = beta === 0 ? [1n << BigInt(FR), ...new Array<bigint>(g).fill(0n)] : toMonomials(chebyshevSeries(beta, g));
  const c = new Float64Array(n);
  const inv = beta === 0 ? 0 : 1 / beta;
  let pw = 1;
  for (let t = 0; t < n; t++) {
    c[t] = t === 0 ? bigToDouble(nums[0], FR) : beta === 0 ? 0 : bigToDouble(nums[t], FR) * pw;
    pw *= inv;
  }
  const { upper, lower } = certifyChebyshev(nums, beta);
  const poly: ExpPolynomial = {
    kind: 'chebyshev',
    degree: g,
    beta,
    coefficients: c,
    relativeError: upper,
    coefficientRoundings: 2 * g + 2,
    exact: { numerators: nums, scaleBits: FR },
    lowerBound: lower,
  };
  if (chebyshevCache.size > 4096) chebyshevCache.clear();
  chebyshevCache.set(key, poly);
  return poly;
}

/**
 * min{g ≤ gMax : the certificate of chebyshevPolynomial(β, g) ≤ ε}, or `undefined`. Starts at the
 * degree where the leading neglected term 2(β/2)^{g+1}/(g+1)!·e^{β²/(4(g+2))}·e^β falls below ε
 * (a heuristic guess only) and walks up or down certifying each degree.
 */
export function chebyshevDegree(beta: number, eps: number, gMax: number = MAX_DEGREE): number | undefined {
  checkBeta(beta);
  if (!(eps > 0) || !Number.isFinite(eps)) throw new RangeArgumentError('eps', `expected ε > 0, got ${eps}`);
  const est = (g: number): number => Math.log(2) + (g + 1) * Math.log(Math.max(beta, 1e-300) / 2) - logFactorial(g + 1) + (beta * beta) / (4 * (g + 2)) + beta;
  let g = 0;
  while (g < gMax && est(g) > Math.log(eps)) g++;
  const ok = (x: number): boolean => chebyshevPolynomial(beta, x).relativeError <= eps;
  if (g > gMax) return undefined;
  if (ok(g)) {
    while (g > 0 && ok(g - 1)) g--;
    return g;
  }
  for (g = g + 1; g <= Math.min(gMax, MAX_DEGREE); g++) if (ok(g)) return g;
  return undefined;
}

/**
 * Above this β {@link certifiedExpPolynomial} and the criteria use Taylor only: the Chebyshev
 * certificate costs O(g³) BigInt work, and every float format's ceiling is far below.
 */
export const CHEBYSHEV_MAX_BETA = 40;

/** Evaluate P(x) = Σ c_t xᵗ by Horner's rule. */
export function evaluatePolynomial(coefficients: ArrayLike<number>, x: number): number {
  requireFinite('x', x);
  let s = 0;
  for (let t = coefficients.length - 1; t >= 0; t--) s = s * x + coefficients[t];
  return s;
}

/**
 * The cheapest certified approximation of eˣ on [−β, β] to relative error ε: the lower of
 * the Taylor and Chebyshev degrees (Taylor on ties, its coefficients are positive and allow
 * the symmetric features; Chebyshev only for β ≤ {@link CHEBYSHEV_MAX_BETA}). `undefined` when
 * neither certifies ε below {@link MAX_DEGREE}.
 */
export function certifiedExpPolynomial(beta: number, eps: number): ExpPolynomial | undefined {
  const gt = taylorDegree(beta, eps);
  const gc = gt === 0 || beta > CHEBYSHEV_MAX_BETA ? undefined : chebyshevDegree(beta, eps, gt === undefined ? MAX_DEGREE : gt - 1);
  if (gt === undefined && gc === undefined) return undefined;
  if (gc === undefined || (gt !== undefined && gt <= gc)) return taylorPolynomial(beta, gt as number);
  return chebyshevPolynomial(beta, gc);
}
