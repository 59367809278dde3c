/**
 * Polynomial approximations of exp with certified error bounds (MATH.md §5, E5): the Taylor
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
  /** Certified sup_{|x|≤β} |P(x) − eˣ| / eˣ. */
  relativeError: number;
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
 * |x| ≤ β (MATH.md §5, E5; for x < 0 the remainder is |x|^{g+1}/(g+1)! ≤ that times e^{−x}·e^{x}).
 * Computed in logs, so it never overflows.
 * @see MATH.md §5
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
 * g_T(β, ε) = min{g : ε_T(β, g) ≤ ε} (MATH.md §5), or `undefined` past {@link MAX_DEGREE}.
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
  return { kind: 'taylor', degree: g, beta, coefficients: c, relativeError: taylorRelativeError(beta, g) };
}

/**
 * The certificate of the degree-g Chebyshev interpolant of eˣ on [−β, β]:
 * |p − eˣ| ≤ β^{g+1} e^β / (2^g (g+1)!) (interpolation at Chebyshev nodes), so relative to
 * eˣ ≥ e^{−β} the error is ≤ β^{g+1} e^{2β} / (2^g (g+1)!).
 * @see MATH.md §5 ("Chebyshev fits … must carry their own certified bound")
 */
export function chebyshevRelativeError(beta: number, g: number): number {
  checkBeta(beta);
  requireInteger('g', g, 0);
  if (beta === 0) return 0;
  return Math.exp((g + 1) * Math.log(beta) + 2 * beta - g * Math.LN2 - logFactorial(g + 1));
}

/** min{g : chebyshevRelativeError(β, g) + rounding ≤ ε}, or `undefined` past {@link MAX_DEGREE}. */
export function chebyshevDegree(beta: number, eps: number): number | undefined {
  checkBeta(beta);
  if (!(eps > 0) || !Number.isFinite(eps)) throw new RangeArgumentError('eps', `expected ε > 0, got ${eps}`);
  for (let g = 0; g <= MAX_DEGREE; g++) if (chebyshevRelativeError(beta, g) <= eps && chebyshevPolynomial(beta, g).relativeError <= eps) return g;
  return undefined;
}

/**
 * The degree-g interpolant of eˣ at the Chebyshev nodes of [−β, β], in the monomial basis.
 * Its certificate adds to {@link chebyshevRelativeError} a bound on the float64 rounding of the
 * basis change: 8(g+1)²·EPS·Σ_t |c_t| βᵗ · e^β (relative to eˣ ≥ e^{−β}).
 */
export function chebyshevPolynomial(beta: number, g: number): ExpPolynomial {
  checkBeta(beta);
  requireInteger('g', g, 0);
  const n = g + 1;
  // Chebyshev coefficients a_k of f(βu) = e^{βu}, u ∈ [−1, 1], by the discrete cosine sum.
  const a = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let s = 0;
    for (let j = 0; j < n; j++) {
      const th = (Math.PI * (j + 0.5)) / n;
      s += Math.exp(beta * Math.cos(th)) * Math.cos(k * th);
    }
    a[k] = ((k === 0 ? 1 : 2) / n) * s;
  }
  // Σ a_k T_k(u) → monomials in u (T_{k+1} = 2u T_k − T_{k−1}), then u = x/β.
  const mono = new Float64Array(n);
  let prev = new Float64Array(n);
  let cur = new Float64Array(n);
  prev[0] = 1; // T_0
  mono[0] += a[0];
  if (n > 1) {
    cur[1] = 1; // T_1
    mono[1] += a[1];
  }
  for (let k = 2; k < n; k++) {
    const next = new Float64Array(n);
    for (let t = 0; t < n; t++) next[t] = (t > 0 ? 2 * cur[t - 1] : 0) - prev[t];
    for (let t = 0; t < n; t++) mono[t] += a[k] * next[t];
    prev = cur;
    cur = next;
  }
  const c = new Float64Array(n);
  let absSum = 0;
  for (let t = 0; t < n; t++) {
    c[t] = beta === 0 ? (t === 0 ? 1 : 0) : mono[t] / beta ** t;
    absSum += Math.abs(c[t]) * beta ** t;
  }
  const rounding = 8 * n * n * Number.EPSILON * absSum * Math.exp(beta);
  return { kind: 'chebyshev', degree: g, beta, coefficients: c, relativeError: chebyshevRelativeError(beta, g) + rounding };
}

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
 * the symmetric features). `undefined` when neither certifies ε below {@link MAX_DEGREE}.
 */
export function certifiedExpPolynomial(beta: number, eps: number): ExpPolynomial | undefined {
  const gt = taylorDegree(beta, eps);
  const gc = chebyshevDegree(beta, eps);
  if (gt === undefined && gc === undefined) return undefined;
  if (gc === undefined || (gt !== undefined && gt <= gc)) return taylorPolynomial(beta, gt as number);
  return chebyshevPolynomial(beta, gc);
}
