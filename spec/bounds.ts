/**
 * Error propagation (docs/math.md §6): E1 kernel → output, E2 logit perturbation, E3 linear maps,
 * E4 range. Their composition through the stylised VAR pipeline is the a-posteriori bound of
 * spec/pipeline-bound.ts (docs/math.md §6–7). Every bound here is [derived] in docs/math.md and used
 * as a test assertion.
 * @module
 */
import { RangeArgumentError } from './errors.js';
import { bicubicLambda, PYTORCH_BICUBIC_A } from './interpolation.js';
import { conv3x3Lipschitz, type Conv3x3 } from './conv.js';
import { checkMatrix, type Matrix } from './matrix.js';

/**
 * The sharp ℓ1 distance between two softmax rows whose unnormalised weights differ by factors
 * whose ratio max/min is at most `a` (a ≥ 1): sup ‖p̃ − p‖₁ = 2(√a − 1)/(√a + 1), attained with
 * the factor √a-times larger on a set of mass 1/(1 + √a).
 * @see docs/math.md §6 (sharp forms)
 */
export function l1RatioBound(a: number): number {
  if (!(a >= 1)) throw new RangeArgumentError('a', `expected a weight ratio a ≥ 1 (or +∞), got ${a}`);
  if (a === Infinity) return 2;
  const r = Math.sqrt(a);
  return (2 * (r - 1)) / (r + 1);
}

/**
 * Sharp E1 on the ℓ1 distance: weights scaled by factors in [1 − ε, 1 + ε] (ε < 1) move the
 * softmax row by ‖p̃ − p‖₁ ≤ 2(√a − 1)/(√a + 1), a = (1 + ε)/(1 − ε) (≈ ε for small ε; attained).
 * Returns 2 (the diameter of the simplex, always true) for ε ≥ 1.
 * @see docs/math.md §6 E1
 */
export function e1L1Bound(eps: number): number {
  if (!(eps >= 0)) throw new RangeArgumentError('eps', `expected ε ≥ 0, got ${eps}`);
  if (eps >= 1) return 2;
  // 2(√a − 1)/(√a + 1) with √a = √((1+ε)/(1−ε)), written without cancellation:
  // (√(1+ε) − √(1−ε))/(√(1+ε) + √(1−ε)) = ε/(1 + √(1 − ε²)).
  return (2 * eps) / (1 + Math.sqrt((1 - eps) * (1 + eps)));
}

/**
 * E1: if |Ã − A| ≤ εA entrywise then ‖D̃⁻¹ÃV − D⁻¹AV‖∞ ≤ ½‖p̃ − p‖₁·(max V − min V)
 * ≤ e1L1Bound(ε)·‖V‖∞ (the sharp form; the classical 2ε/(1−ε)·‖V‖∞ is ≥ it).
 * @see docs/math.md §6 E1
 */
export function e1Bound(eps: number, vInf: number): number {
  if (!(eps >= 0)) throw new RangeArgumentError('eps', `expected ε ≥ 0, got ${eps}`);
  if (!(vInf >= 0) || !Number.isFinite(vInf)) throw new RangeArgumentError('vInf', `expected a finite ‖V‖∞ ≥ 0, got ${vInf}`);
  return e1L1Bound(eps) * vInf;
}

/** max V_c − min V_c of every column c of V (over all rows; 0 for no rows). */
export function columnRanges(v: Matrix): Float64Array {
  checkMatrix('v', v);
  const out = new Float64Array(v.cols);
  for (let c = 0; c < v.cols; c++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let j = 0; j < v.rows; j++) {
      const x = v.data[j * v.cols + c];
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    out[c] = v.rows === 0 ? 0 : hi - lo;
  }
  return out;
}

/**
 * E1, per-column form: column c's error is ≤ ½‖p̃ − p‖₁·(max V_c − min V_c), since
 * Σ_j(p̃_j − p_j) = 0 lets every value be centred at the column's mid-range.
 * @see docs/math.md §6 E1
 */
export function e1BoundPerColumn(eps: number, v: Matrix): Float64Array {
  const l1 = e1L1Bound(eps);
  return columnRanges(v).map((r) => 0.5 * l1 * r);
}

/**
 * E2 logit shift: η ≤ s·d·(‖Q − Q′‖∞‖K‖∞ + ‖Q′‖∞‖K − K′‖∞).
 * @see docs/math.md §6 E2
 */
export function logitPerturbation(scale: number, d: number, dQ: number, kInf: number, q2Inf: number, dK: number): number {
  return scale * d * (dQ * kInf + q2Inf * dK);
}

/**
 * Sharp E2 on the ℓ1 distance: every logit of a row moved by ≤ η ⇒ ‖p′ − p‖₁ ≤ 2·tanh(η/2)
 * (attained: +η on a set of mass 1/(1 + e^η), −η elsewhere).
 * @see docs/math.md §6 E2
 */
export function e2L1Bound(eta: number): number {
  if (!(eta >= 0)) throw new RangeArgumentError('eta', `expected η ≥ 0 (or +∞), got ${eta}`);
  return 2 * Math.tanh(eta / 2);
}

/**
 * E2: if every logit of a row moves by ≤ η, ‖Att(Q′,K′,V′) − Att(Q,K,V)‖∞ ≤
 * tanh(η/2)·(max V − min V) + ‖V′ − V‖∞ ≤ 2·tanh(η/2)·‖V‖∞ + ‖V′ − V‖∞ (sharp; the classical
 * (e^{2η} − 1)‖V‖∞ is ≥ it and vacuous for large η, this never exceeds 2‖V‖∞ + ‖V′ − V‖∞).
 * @see docs/math.md §6 E2
 */
export function e2Bound(eta: number, vInf: number, dV: number): number {
  // η and ‖V′ − V‖∞ may be +∞ (a composed bound that has become vacuous); NaN or negative never.
  for (const [name, x] of [
    ['eta', eta],
    ['dV', dV],
  ] as const) {
    if (!(x >= 0)) throw new RangeArgumentError(name, `expected a value ≥ 0 (or +∞), got ${x}`);
  }
  if (!(vInf >= 0) || !Number.isFinite(vInf)) throw new RangeArgumentError('vInf', `expected a finite ‖V‖∞ ≥ 0, got ${vInf}`);
  return e2L1Bound(eta) * vInf + dV;
}

/** E3: ‖XW − X′W‖∞ ≤ ‖X − X′‖∞ · max_col Σ_row |W| — the factor of W. @see docs/math.md §6 E3 */
export function linearFactor(w: Matrix): number {
  checkMatrix('w', w);
  let best = 0;
  for (let c = 0; c < w.cols; c++) {
    let s = 0;
    for (let r = 0; r < w.rows; r++) s += Math.abs(w.data[r * w.cols + c]);
    best = Math.max(best, s);
  }
  return best;
}

/** E3 factor of bicubic up-interpolation: Λ_a² (1.890625 for a = −0.75). @see docs/math.md §6 E3 */
export function bicubicFactor(a: number = PYTORCH_BICUBIC_A): number {
  return bicubicLambda(a) ** 2;
}

/** E3 factor of area downsampling: 1. @see docs/math.md §6 E3 */
export const AREA_FACTOR = 1;

/** E3 factor of φ(h) = ½h + ½Conv(h): ½ + ½·(conv factor). */
export function phiFactor(conv: Conv3x3): number {
  return 0.5 + 0.5 * conv3x3Lipschitz(conv);
}
