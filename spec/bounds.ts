/**
 * Error propagation (MATH.md §6): E1 kernel → output, E2 logit perturbation, E3 linear maps,
 * E4 range. Their composition through the stylised VAR pipeline is the a-posteriori bound of
 * spec/pipeline-bound.ts (docs/math.md §6–7). Every bound here is [derived] in MATH.md and used
 * as a test assertion.
 * @module
 */
import { RangeArgumentError } from './errors.js';
import { bicubicLambda, PYTORCH_BICUBIC_A } from './interpolation.js';
import { conv3x3Lipschitz, type Conv3x3 } from './conv.js';
import { checkMatrix, type Matrix } from './matrix.js';

/**
 * E1: if |Ã − A| ≤ εA entrywise (ε < 1) then ‖D̃⁻¹ÃV − D⁻¹AV‖∞ ≤ 2ε/(1−ε)·‖V‖∞.
 * Returns ∞ when ε ≥ 1 (nothing is certified).
 * @see MATH.md §6 E1
 */
export function e1Bound(eps: number, vInf: number): number {
  if (!(eps >= 0)) throw new RangeArgumentError('eps', `expected ε ≥ 0, got ${eps}`);
  if (!(vInf >= 0) || !Number.isFinite(vInf)) throw new RangeArgumentError('vInf', `expected a finite ‖V‖∞ ≥ 0, got ${vInf}`);
  return eps < 1 ? ((2 * eps) / (1 - eps)) * vInf : Infinity;
}

/**
 * E1, per-column form: column c's error is ≤ 2ε/(1−ε)·(max V_c − min V_c)/2, since
 * Σ_j(p̃_j − p_j) = 0 lets every value be centred at the column's mid-range.
 * @see MATH.md §6 E1
 */
export function e1BoundPerColumn(eps: number, v: Matrix): Float64Array {
  const out = new Float64Array(v.cols);
  for (let c = 0; c < v.cols; c++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let j = 0; j < v.rows; j++) {
      const x = v.data[j * v.cols + c];
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    out[c] = e1Bound(eps, (hi - lo) / 2);
  }
  return out;
}

/**
 * E2 logit shift: η ≤ s·d·(‖Q − Q′‖∞‖K‖∞ + ‖Q′‖∞‖K − K′‖∞).
 * @see MATH.md §6 E2
 */
export function logitPerturbation(scale: number, d: number, dQ: number, kInf: number, q2Inf: number, dK: number): number {
  return scale * d * (dQ * kInf + q2Inf * dK);
}

/**
 * E2: if every logit of a row moves by ≤ η, ‖Att(Q′,K′,V′) − Att(Q,K,V)‖∞ ≤ (e^{2η} − 1)‖V‖∞ + ‖V′ − V‖∞.
 * @see MATH.md §6 E2
 */
export function e2Bound(eta: number, vInf: number, dV: number): number {
  // η and ‖V′ − V‖∞ may be +∞ (a composed bound that has become vacuous); NaN or negative never.
  for (const [name, x] of [['eta', eta], ['dV', dV]] as const) {
    if (!(x >= 0)) throw new RangeArgumentError(name, `expected a value ≥ 0 (or +∞), got ${x}`);
  }
  if (!(vInf >= 0) || !Number.isFinite(vInf)) throw new RangeArgumentError('vInf', `expected a finite ‖V‖∞ ≥ 0, got ${vInf}`);
  return Math.expm1(2 * eta) * vInf + dV;
}

/** E3: ‖XW − X′W‖∞ ≤ ‖X − X′‖∞ · max_col Σ_row |W| — the factor of W. @see MATH.md §6 E3 */
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

/** E3 factor of bicubic up-interpolation: Λ_a² (1.890625 for a = −0.75). @see MATH.md §6 E3 */
export function bicubicFactor(a: number = PYTORCH_BICUBIC_A): number {
  return bicubicLambda(a) ** 2;
}

/** E3 factor of area downsampling: 1. @see MATH.md §6 E3 */
export const AREA_FACTOR = 1;

/** E3 factor of φ(h) = ½h + ½Conv(h): ½ + ½·(conv factor). */
export function phiFactor(conv: Conv3x3): number {
  return 0.5 + 0.5 * conv3x3Lipschitz(conv);
}
