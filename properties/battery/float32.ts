/**
 * The float32 half of the tolerance policy (docs/guide-kernels.md): the FlashAttention rule — a float32
 * kernel's error against the float64 spec may be at most twice the error of a *naive float32
 * evaluation of the same formula*, plus the output's own rounding noise, plus (from the
 * backend's measured exp accuracy) E1 of the exp error beyond correct rounding.
 * @module
 */
import type { AttentionInput } from '../../spec/attention.js';
import { e1Bound } from '../../spec/bounds.js';
import { attentionRoundingBound, FLOAT32 } from '../../spec/rounding.js';
import { keyLimits } from '../../spec/mask.js';
import type { MeasuredPrecision, SoftmaxRescales } from '../../spec/contract.js';
import { matrix, maxAbs, maxAbsDiff, type Matrix } from '../../spec/matrix.js';

const f = Math.fround;

/** Unit roundoff of float32, 2⁻²⁴. */
export const U32 = 2 ** -24;

/**
 * Naive float32 attention: every operation rounded to float32 (Math.fround), in the textbook
 * order — logits, row max, Σ exp, Σ exp·v, divide — on all query rows or the given ones.
 */
export function naiveFloat32Attention(input: AttentionInput, rows?: readonly number[]): Matrix {
  const { q, k, v, scale, mask } = input;
  const d = q.cols;
  const dv = v.cols;
  const limits = keyLimits(mask, q.rows, k.rows);
  const which = rows ?? Array.from({ length: q.rows }, (_, i) => i);
  const out = matrix(which.length, dv);
  const s = new Float64Array(k.rows);
  const sc = f(scale);
  for (const [r, i] of which.entries()) {
    let m = -Infinity;
    for (let j = 0; j < limits[i]; j++) {
      let dot = 0;
      for (let t = 0; t < d; t++) dot = f(dot + f(f(q.data[i * d + t]) * f(k.data[j * d + t])));
      s[j] = f(dot * sc);
      m = Math.max(m, s[j]);
    }
    let l = 0;
    for (let j = 0; j < limits[i]; j++) l = f(l + f(Math.exp(f(s[j] - m))));
    for (let c = 0; c < dv; c++) {
      let acc = 0;
      for (let j = 0; j < limits[i]; j++) acc = f(acc + f(f(Math.exp(f(s[j] - m))) * f(v.data[j * dv + c])));
      out.data[r * dv + c] = f(acc / l);
    }
  }
  return out;
}

/**
 * The float32 tolerance of a float32 kernel on `input` given the float64 reference (docs/math.md §8):
 * never below the rigorous floor — the forward-error bound of softmax attention computed in float32
 * by any reasonable implementation, with the backend's measured exp error and subnormal flushing
 * ({@link attentionRoundingBound}) — and, on top of it, the FlashAttention rule: 2·‖naive32 − spec‖∞
 * (or, for an approximation's own `formula`, 2·‖formula32 − formula64‖∞) + 2u·‖spec‖∞ (output
 * rounding) + E1(max(0, ε_exp − u))·‖V‖∞ + 2⁻¹²²·(1 + ‖V‖∞) where the backend flushes subnormals.
 * The floor applies to exact kernels only: an approximation's formula is not softmax attention.
 * `naive32` is {@link naiveFloat32Attention}(input, rows), computed here unless the caller already has it.
 */
export function float32Tolerance(
  input: AttentionInput,
  reference: Matrix,
  measured?: MeasuredPrecision,
  formula?: { float32: Matrix; float64: Matrix },
  rows?: readonly number[],
  naive32: Matrix = naiveFloat32Attention(input, rows),
  rescales?: SoftmaxRescales,
): number {
  const naive = formula ? maxAbsDiff(formula.float32.data, formula.float64.data) : maxAbsDiff(naive32.data, reference.data);
  const noise = 2 * U32 * maxAbs(reference.data);
  const expExcess = measured ? Math.max(0, measured.expRelativeError - U32) : 0;
  const ftz = measured?.flushesSubnormals ? 2 ** -122 * (1 + maxAbs(input.v.data)) : 0;
  const rule = 2 * naive + noise + e1Bound(Math.min(expExcess, 0.5), maxAbs(input.v.data)) + ftz;
  if (formula) return rule;
  const floor = attentionRoundingBound(input, { ...FLOAT32, expRelativeError: measured?.expRelativeError, rescales });
  return Math.max(floor, rule);
}
