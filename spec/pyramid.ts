/**
 * The VAR scale pyramid (docs/math.md §2): scale sizes, token counts, block-causal levels and
 * the exact attention pair counts of docs/math.md §4.
 * @module
 */
import { match } from 'ts-pattern';
import { RangeArgumentError, requireInteger } from './errors.js';

/** A scale pyramid: K scales of sizes h_k × w_k, nondecreasing, ending at n × n. */
export interface ScalePyramid {
  /** Where the sides came from, e.g. `'var-256'`, `'geometric(8)'`, `'custom'`. */
  name: string;
  /** Heights h_1..h_K. */
  heights: readonly number[];
  /** Widths w_1..w_K. */
  widths: readonly number[];
  /** Tokens per scale h_k·w_k — the `blocks` of a block-causal mask. */
  blocks: readonly number[];
  /** Cumulative token counts L_1..L_K (L_k = Σ_{i≤k} h_i w_i). */
  cumulative: readonly number[];
  /** Total token count L = L_K. */
  L: number;
  /** Side n of the last (n×n) map. */
  n: number;
}

/** Names of the built-in pyramids (patch sides of the VAR checkpoints, docs/math.md §2). */
export type PyramidPreset = 'var-256' | 'var-512' | 'var-1024';

/** Patch sides of the VAR-256/512/1024 checkpoints (FoundationVision/VAR). */
export const PRESET_SIDES: Readonly<Record<PyramidPreset, readonly number[]>> = {
  'var-256': [1, 2, 3, 4, 5, 6, 8, 10, 13, 16],
  'var-512': [1, 2, 3, 4, 6, 9, 13, 18, 24, 32],
  'var-1024': [1, 2, 3, 4, 5, 7, 9, 12, 16, 21, 27, 36, 48, 64],
};

/** How to describe a pyramid: a preset name, `{ geometric: n }` (sides 1,2,4,…,n), or explicit sides. */
export type PyramidSpec =
  | PyramidPreset
  | {
      /** Side n (a power of two) of the pyramid 1, 2, 4, …, n. */
      geometric: number;
    }
  | {
      /** Square sides s_1 = 1 ≤ s_2 ≤ … ≤ s_K. */
      sides: readonly number[];
    }
  | {
      /** Heights h_1 = 1 ≤ … ≤ h_K. */
      heights: readonly number[];
      /** Widths w_1 = 1 ≤ … ≤ w_K. */
      widths: readonly number[];
    };

/**
 * Build a {@link ScalePyramid} (docs/math.md §2). Square scales unless `heights`/`widths` are given.
 * Sides must be positive integers, nondecreasing, starting at 1×1.
 * @throws {@link RangeArgumentError} naming the bad side.
 */
export function scalePyramid(spec: PyramidSpec): ScalePyramid {
  const [name, heights, widths] = match(spec)
    .with('var-256', 'var-512', 'var-1024', (p) => [p, PRESET_SIDES[p], PRESET_SIDES[p]] as const)
    .when(
      (s): s is { geometric: number } => typeof s === 'object' && 'geometric' in s,
      (s) => {
        const n = s.geometric;
        requireInteger('geometric', n, 1);
        if ((n & (n - 1)) !== 0) throw new RangeArgumentError('geometric', `expected a power of two, got ${n}`);
        const sides: number[] = [];
        for (let v = 1; v <= n; v *= 2) sides.push(v);
        return [`geometric(${n})`, sides, sides] as const;
      },
    )
    .when(
      (s): s is { sides: readonly number[] } => typeof s === 'object' && 'sides' in s,
      (s) => ['custom', s.sides, s.sides] as const,
    )
    .when(
      (s): s is { heights: readonly number[]; widths: readonly number[] } => typeof s === 'object' && 'heights' in s,
      (s) => ['custom', s.heights, s.widths] as const,
    )
    .otherwise(() => {
      throw new RangeArgumentError('spec', `expected 'var-256' | 'var-512' | 'var-1024' | { geometric } | { sides } | { heights, widths }, got ${JSON.stringify(spec)}`);
    });
  if (!Array.isArray(heights) || heights.length === 0) throw new RangeArgumentError('sides', 'expected at least one scale');
  if (!Array.isArray(widths) || widths.length !== heights.length) {
    throw new RangeArgumentError('widths', `expected ${heights.length} widths, got ${Array.isArray(widths) ? widths.length : String(widths)}`);
  }
  heights.forEach((h, k) => requireInteger(`heights[${k}]`, h, 1));
  widths.forEach((w, k) => requireInteger(`widths[${k}]`, w, 1));
  if (heights[0] !== 1 || widths[0] !== 1) throw new RangeArgumentError('sides[0]', `expected the first scale to be 1×1, got ${heights[0]}×${widths[0]}`);
  for (let k = 1; k < heights.length; k++) {
    if (heights[k] < heights[k - 1] || widths[k] < widths[k - 1]) {
      throw new RangeArgumentError(`sides[${k}]`, `expected nondecreasing sides, got ${heights[k - 1]}×${widths[k - 1]} then ${heights[k]}×${widths[k]}`);
    }
  }
  const blocks = heights.map((h, k) => h * widths[k]);
  const cumulative: number[] = [];
  blocks.reduce((s, b) => (cumulative.push(s + b), s + b), 0);
  const K = blocks.length;
  return { name, heights: [...heights], widths: [...widths], blocks, cumulative, L: cumulative[K - 1], n: Math.max(heights[K - 1], widths[K - 1]) };
}

/**
 * level(t): the 0-based scale of token `t` given tokens-per-scale `blocks` (docs/math.md §2).
 * @throws {@link RangeArgumentError} when t is outside 0..Σblocks−1.
 */
export function levelOf(blocks: readonly number[], t: number): number {
  let end = 0;
  for (let k = 0; k < blocks.length; k++) {
    end += blocks[k];
    if (t < end && t >= 0 && Number.isInteger(t)) return k;
  }
  throw new RangeArgumentError('t', `expected a token index in 0..${end - 1}, got ${t}`);
}

/** level(t) for every token t (0-based scale indices), length Σ blocks. */
export function levels(blocks: readonly number[]): Int32Array {
  const total = blocks.reduce((a, b) => a + b, 0);
  const out = new Int32Array(total);
  let t = 0;
  blocks.forEach((b, k) => {
    for (let i = 0; i < b; i++) out[t++] = k;
  });
  return out;
}

/**
 * Exact attention work of VAR inference in query–key pairs per layer (docs/math.md §4):
 * with a KV cache Σ_k h_k w_k L_k; recomputing every step from scratch Σ_k L_k².
 */
export function attentionPairCounts(p: ScalePyramid): {
  /** Σ_k h_k w_k L_k: new queries of each scale against every cached key. */
  kvCache: number;
  /** Σ_k L_k²: every step recomputed from scratch. */
  recompute: number;
} {
  let kvCache = 0;
  let recompute = 0;
  p.blocks.forEach((b, k) => {
    kvCache += b * p.cumulative[k];
    recompute += p.cumulative[k] * p.cumulative[k];
  });
  return { kvCache, recompute };
}
