/**
 * Attention masks (docs/math.md §2): none, or block-causal over the scale pyramid, where a token
 * of scale k attends to every token of scales 1..k.
 * @module
 */
import { match } from 'ts-pattern';
import { MaskError } from './errors.js';
import { levels, type ScalePyramid } from './pyramid.js';

/** A mask: `none`, or `block-causal` with tokens per scale (Σ blocks = rows). */
export type Mask =
  | {
      /** Every query attends to every key. */
      kind: 'none';
    }
  | {
      /** A token of scale k attends to the tokens of scales 1..k. */
      kind: 'block-causal';
      /** Tokens per scale h_k·w_k; Σ blocks = rows. */
      blocks: readonly number[];
    };

/** The block-causal mask of a pyramid (docs/math.md §2). */
export function blockCausalMask(p: ScalePyramid): Mask {
  return { kind: 'block-causal', blocks: p.blocks };
}

/** The empty mask (every query attends to every key). */
export const NO_MASK: Mask = { kind: 'none' };

/**
 * Validate `mask` for an Lq×Lk logit matrix: a block-causal mask needs positive integer
 * blocks with Σ blocks = Lq = Lk.
 * @throws {@link MaskError} naming `argument`.
 */
export function checkMask(argument: string, mask: unknown, lq: number, lk: number): Mask {
  if (typeof mask !== 'object' || mask === null || !('kind' in mask)) {
    throw new MaskError(argument, `expected { kind: 'none' } or { kind: 'block-causal', blocks }, got ${String(mask)}`);
  }
  const m = mask as Mask;
  return match(m)
    .with({ kind: 'none' }, () => m)
    .with({ kind: 'block-causal' }, (bc) => {
      if (!Array.isArray(bc.blocks) || bc.blocks.length === 0) throw new MaskError(`${argument}.blocks`, 'expected a non-empty array of tokens per scale');
      bc.blocks.forEach((b, k) => {
        if (!Number.isInteger(b) || b < 1) throw new MaskError(`${argument}.blocks[${k}]`, `expected a positive integer, got ${String(b)}`);
      });
      const total = bc.blocks.reduce((a, b) => a + b, 0);
      if (lq !== lk) throw new MaskError(argument, `a block-causal mask needs as many queries as keys, got ${lq} queries and ${lk} keys`);
      if (total !== lq) throw new MaskError(`${argument}.blocks`, `expected blocks to sum to the ${lq} rows, got Σ = ${total}`);
      return m;
    })
    .otherwise(() => {
      throw new MaskError(`${argument}.kind`, `expected 'none' or 'block-causal', got ${JSON.stringify((m as { kind: unknown }).kind)}`);
    });
}

/**
 * The number of keys query i may attend to: all of them, or for block-causal the tokens
 * of scales ≤ level(i), i.e. the keys 0..limit(i)−1 (a prefix).
 */
export function keyLimits(mask: Mask, lq: number, lk: number): Int32Array {
  return match(mask)
    .with({ kind: 'none' }, () => new Int32Array(lq).fill(lk))
    .with({ kind: 'block-causal' }, ({ blocks }) => {
      // Row i of block k sees the keys before the end of block k.
      const out = new Int32Array(blocks.reduce((a, b) => a + b, 0));
      let i = 0;
      let end = 0;
      for (const b of blocks) {
        end += b;
        out.fill(end, i, i + b);
        i += b;
      }
      return out;
    })
    .exhaustive();
}

/** allowed(i, j) ⇔ level(i) ≥ level(j) (docs/math.md §2); always true without a mask. */
export function allowed(mask: Mask, i: number, j: number): boolean {
  return match(mask)
    .with({ kind: 'none' }, () => true)
    .with({ kind: 'block-causal' }, ({ blocks }) => {
      const lv = levels(blocks);
      return lv[i] >= lv[j];
    })
    .exhaustive();
}
