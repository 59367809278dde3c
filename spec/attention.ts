/**
 * Softmax attention Att(Q, K, V) = D⁻¹ A V with A = exp(s·QKᵀ) (docs/math.md §3), masked
 * block-causally over the VAR pyramid, and the AAttC approximation contract.
 * @module
 */
import { NonFiniteError, RangeArgumentError, ReferenceOverflowError, ShapeError } from './errors.js';
import { checkMask, keyLimits, NO_MASK, type Mask } from './mask.js';
import { checkMatrix, matrix, maxAbsDiff, type Matrix } from './matrix.js';

/** The input of every attention kernel (the kernel contract (docs/guide-kernels.md)). */
export interface AttentionInput {
  /** Queries, L_q × d. */
  q: Matrix;
  /** Keys, L_k × d. */
  k: Matrix;
  /** Values, L_k × d_v. */
  v: Matrix;
  /** Logit scale s; AS23 and the paper use s = 1/d (docs/math.md §3). */
  scale: number;
  /** `none`, or `block-causal` with Σ blocks = L_q = L_k. */
  mask: Mask;
}

/**
 * Build an {@link AttentionInput}, defaulting `scale` to 1/d (docs/math.md §3) and `mask` to none,
 * and validate it.
 */
export function attentionInput(q: Matrix, k: Matrix, v: Matrix, options: { scale?: number; mask?: Mask } = {}): AttentionInput {
  const input: AttentionInput = { q, k, v, scale: options.scale ?? 1 / q.cols, mask: options.mask ?? NO_MASK };
  return checkAttentionInput(input);
}

/**
 * Validate an attention input at the boundary: shapes (q: L_q×d, k: L_k×d, v: L_k×d_v),
 * finite entries, a finite positive scale, and a mask that fits.
 * @throws {@link ShapeError}, {@link NonFiniteError}, {@link RangeArgumentError} or `MaskError`, naming the field.
 */
export function checkAttentionInput(input: unknown, argument = 'input'): AttentionInput {
  if (typeof input !== 'object' || input === null) throw new ShapeError(argument, 'expected { q, k, v, scale, mask }');
  const x = input as Partial<AttentionInput>;
  const q = checkMatrix(`${argument}.q`, x.q);
  const k = checkMatrix(`${argument}.k`, x.k, { cols: q.cols });
  checkMatrix(`${argument}.v`, x.v, { rows: k.rows });
  if (typeof x.scale !== 'number' || !Number.isFinite(x.scale)) {
    throw new NonFiniteError(`${argument}.scale`, `expected a finite number, got ${String(x.scale)}`);
  }
  if (!(x.scale > 0)) throw new RangeArgumentError(`${argument}.scale`, `expected a positive scale, got ${x.scale}`);
  checkMask(`${argument}.mask`, x.mask, q.rows, k.rows);
  return input as AttentionInput;
}

/**
 * The multiply–adds of exact attention on `input`, L_q·L_k·(d + d_v) (the scores, then the
 * weighted sum of V): the cost a kernel that does not declare its own is assumed to have
 * (`AttentionKernel.cost`). Reads only the shapes, so it never throws on a malformed input.
 */
export function attentionWork(input: AttentionInput): number {
  return input.q.rows * input.k.rows * (input.q.cols + input.v.cols);
}

/**
 * The float64 reference Att(Q, K, V) = D⁻¹ A V, A = exp(s·QKᵀ) with masked entries 0,
 * computed per row with a row-max shift (docs/math.md §3). O(L_q·L_k·(d + d_v)), no L×L buffer.
 * @throws {@link NonFiniteError} if a logit overflows to ±Infinity (never returns NaN).
 * @see docs/math.md §3
 */
export function attention(input: AttentionInput): Matrix {
  const x = checkAttentionInput(input);
  const out = matrix(x.q.rows, x.v.cols);
  const logits = new Float64Array(x.k.rows);
  const limits = keyLimits(x.mask, x.q.rows, x.k.rows);
  for (let i = 0; i < x.q.rows; i++) attentionRow(x, i, limits[i], logits, out.data, i * x.v.cols);
  return out;
}

/**
 * The float64 reference for a subset of query rows: row t of the result is row `rows[t]` of
 * {@link attention}`(input)`, computed the same way. Costs O(|rows|·L_k·(d + d_v)), so one
 * L = 21,845 case is judged from a few hundred sampled rows in well under a second.
 * @throws {@link RangeArgumentError} when a row index is not an integer in 0..L_q−1.
 * @see docs/math.md §3
 */
export function attentionRows(input: AttentionInput, rows: readonly number[]): Matrix {
  const x = checkAttentionInput(input);
  const limits = keyLimits(x.mask, x.q.rows, x.k.rows);
  const out = matrix(rows.length, x.v.cols);
  const logits = new Float64Array(x.k.rows);
  rows.forEach((i, t) => {
    if (!Number.isInteger(i) || i < 0 || i >= x.q.rows) throw new RangeArgumentError(`rows[${t}]`, `expected a query row in 0..${x.q.rows - 1}, got ${i}`);
    attentionRow(x, i, limits[i], logits, out.data, t * x.v.cols);
  });
  return out;
}

/** Query row i of Att over keys 0..lim−1, with a row-max shift, written at out[o..o+d_v). */
function attentionRow(x: AttentionInput, i: number, lim: number, logits: Float64Array, out: Float64Array | Float32Array, o: number): void {
  const { q, k, v, scale } = x;
  const d = q.cols;
  const dv = v.cols;
  let rowMax = -Infinity;
  for (let j = 0; j < lim; j++) {
    let dot = 0;
    for (let t = 0; t < d; t++) dot += q.data[i * d + t] * k.data[j * d + t];
    const z = scale * dot;
    if (!Number.isFinite(z)) {
      throw new ReferenceOverflowError('input', `logit (${i}, ${j}) = s·⟨q_${i}, k_${j}⟩ overflows to ${z}; rescale q or k`);
    }
    logits[j] = z;
    if (z > rowMax) rowMax = z;
  }
  let denom = 0;
  for (let j = 0; j < lim; j++) {
    const p = Math.exp(logits[j] - rowMax);
    denom += p;
    for (let c = 0; c < dv; c++) out[o + c] += p * v.data[j * dv + c];
  }
  for (let c = 0; c < dv; c++) out[o + c] /= denom;
}

/**
 * The softmax weights of query row `i` over all keys (zeros where masked): row i of D⁻¹A.
 * @see docs/math.md §3
 */
export function attentionWeights(input: AttentionInput, i: number): Float64Array {
  const { q, k, scale, mask } = checkAttentionInput(input);
  if (!Number.isInteger(i) || i < 0 || i >= q.rows) throw new RangeArgumentError('i', `expected a row in 0..${q.rows - 1}, got ${i}`);
  const lim = keyLimits(mask, q.rows, k.rows)[i];
  const w = new Float64Array(k.rows);
  let rowMax = -Infinity;
  for (let j = 0; j < lim; j++) {
    let dot = 0;
    for (let t = 0; t < q.cols; t++) dot += q.data[i * q.cols + t] * k.data[j * q.cols + t];
    w[j] = scale * dot;
    rowMax = Math.max(rowMax, w[j]);
  }
  let s = 0;
  for (let j = 0; j < lim; j++) s += w[j] = Math.exp(w[j] - rowMax);
  for (let j = 0; j < lim; j++) w[j] /= s;
  return w;
}

/** The result of checking the AAttC contract (docs/math.md §3). */
export interface AAttCResult {
  /** ‖T − Att(Q, K, V)‖∞. */
  error: number;
  /** The allowed additive error δ. */
  delta: number;
  /** error ≤ δ. */
  ok: boolean;
}

/**
 * AAttC(L, d, B, δ) check: does `t` approximate Att(Q, K, V) to additive ℓ∞ error δ?
 * @see docs/math.md §3
 */
export function checkAAttC(t: Matrix, input: AttentionInput, delta: number): AAttCResult {
  if (!(delta >= 0) || !Number.isFinite(delta)) throw new RangeArgumentError('delta', `expected a finite δ ≥ 0, got ${delta}`);
  const ref = attention(input);
  checkMatrix('t', t, { rows: ref.rows, cols: ref.cols });
  const error = maxAbsDiff(t.data, ref.data);
  return { error, delta, ok: error <= delta };
}
