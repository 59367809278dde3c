/**
 * The kernel contract of docs/guide-kernels.md — the plug-in surface. Keep these names stable.
 * @module
 */
import { attentionWork, type AttentionInput } from './attention.js';
import type { Mask } from './mask.js';
import type { FeatureMap, Matrix } from './matrix.js';

/** Naive float32 and float64 evaluations of a kernel's own formula (see `formulaReference`). */
export interface FormulaReference {
  /** Every operation rounded to float32. */
  float32: Matrix;
  /** The same formula in float64. */
  float64: Matrix;
}

/** A kernel's online-softmax structure ({@link AttentionKernel.rescales}). */
export type SoftmaxRescales =
  | 'none'
  | {
      /** Keys per rescale: the running maximum is updated (and the sums rescaled) once per tile of this many keys. */
      keysPerRescale: number;
      /** Further rescales per weight, e.g. merges of split-K partial results. */
      extra: number;
    };

/** An attention kernel under test. */
export interface AttentionKernel {
  /** Unique name, e.g. `'cpu/low-rank'`. */
  name: string;
  /** The op it implements. */
  op: 'attention';
  /** false: approximate, must give {@link AttentionKernel.errorBound}. */
  exact: boolean;
  /** Masks it supports. */
  masks: readonly Mask['kind'][];
  /** Arithmetic it uses. */
  precision: 'float32' | 'float64';
  /** Capability gate: the most tokens (L_q or L_k) it accepts. */
  maxTokens?: number;
  /**
   * Capability gate: the largest head size it accepts, d (of Q and K) and d_v (of V) alike — e.g. a
   * kernel whose shaders are compiled for a fixed set of head sizes. The battery and the guided search
   * never give it more; a law that needs a wider V (V = I) splits it into column slices.
   */
  maxHeadSize?: number;
  /** Additive ℓ∞ bound it promises on this input (approximate kernels). */
  errorBound?(input: AttentionInput): number;
  /**
   * The multiply–adds one call does on `input`, for the time a fuzzer gives the call: `varcheck
   * fuzz` scales its per-call deadline by this count, and its guided search does not start a call
   * it predicts will outlast the budget. Declare it when the work is not exact attention's
   * L_q·L_k·(d + d_v) (the default, {@link attentionWork}) — e.g. a low-rank kernel's grows with its
   * rank ({@link lowRankCost}). An estimate; it must not throw (return the default where unsure).
   */
  cost?(input: AttentionInput): number;
  /**
   * How many online-softmax rescale factors one softmax weight can pass through; the float
   * tolerance floor of exact kernels counts one exp error per factor (docs/math.md §8).
   * `'none'`: the row maximum is known before any exp (two passes). `{ keysPerRescale: b, extra: e }`:
   * at most ⌈n/b⌉ + e for a row with n allowed keys (one rescale per tile of b keys, plus e
   * merges of partial results). Omitted: n − 1 (one per key), which covers any order.
   */
  rescales?: SoftmaxRescales;
  /**
   * For float32 kernels whose formula is not exact attention (approximations): naive float32
   * and float64 evaluations of that formula, so the FlashAttention rule can measure the float
   * error of the formula itself (docs/guide-kernels.md (Tolerance policy)). Optional.
   */
  formulaReference?(input: AttentionInput): FormulaReference;
  /** Compute Att(Q, K, V) (or its approximation). */
  run(input: AttentionInput): Matrix | Promise<Matrix>;
  /** Free resources (GL contexts, workers). */
  dispose?(): void;
}

/** An interpolation kernel under test. */
export interface InterpolationKernel {
  /** Unique name. */
  name: string;
  /** Which resize it implements. */
  op: 'upsample-bicubic' | 'downsample-area';
  /** Arithmetic it uses. */
  precision: 'float32' | 'float64';
  /** Resize x to h2×w2. */
  run(x: FeatureMap, h2: number, w2: number): FeatureMap | Promise<FeatureMap>;
  /** Free resources. */
  dispose?(): void;
}

/** Any kernel of the contract. */
export type Kernel = AttentionKernel | InterpolationKernel;

/** What a backend's float arithmetic was measured to do (see `probePrecision`). */
export interface MeasuredPrecision {
  /** Backend name. */
  backend: string;
  /** max |exp_backend(x) − eˣ| / eˣ over x ∈ [−30, 0] (softmax's shifted range). */
  expRelativeError: number;
  /** Relative error of a 4096-term float32 running sum of positive values. */
  sumRelativeError: number;
  /** Does it flush float32 subnormals (|x| < 2⁻¹²⁶) to zero, as GL drivers may? */
  flushesSubnormals: boolean;
}

/**
 * The multiply–adds of one call of `kernel` on `input`: its declared `cost`, else exact attention's
 * {@link attentionWork}. Never throws (a cost that throws or is not a finite non-negative number
 * counts as the default).
 */
export function kernelCost(kernel: AttentionKernel, input: AttentionInput): number {
  const fallback = attentionWork(input);
  if (!kernel.cost) return fallback;
  try {
    const c = kernel.cost(input);
    return Number.isFinite(c) && c >= 0 ? c : fallback;
  } catch {
    return fallback;
  }
}
