/**
 * The published pyramid figures of docs/math.md §2/§4, typed in by hand from docs/math.md (not computed
 * by varcheck): token counts and exact attention pair counts of the VAR presets.
 */
import { describe, expect, it } from 'vitest';
import { attentionPairCounts, scalePyramid } from '../spec/index.js';

describe('VAR presets (docs/math.md §2, §4)', () => {
  it('VAR-256: K = 10, L = 680, 286,434 pairs with a KV cache, 743,654 recomputing', () => {
    const p = scalePyramid('var-256');
    expect(p.blocks.length).toBe(10);
    expect(p.L).toBe(680);
    expect(attentionPairCounts(p)).toEqual({ kvCache: 286_434, recompute: 743_654 });
  });
  it('VAR-512: L = 2240; VAR-1024: L = 9451, K = 14', () => {
    expect(scalePyramid('var-512').L).toBe(2240);
    const p = scalePyramid('var-1024');
    expect(p.L).toBe(9451);
    expect(p.blocks.length).toBe(14);
  });
  it('geometric n = 128: L = (4n² − 1)/3 = 21845; pair counts ≈ 1.4222 n⁴ and ≈ 1.8963 n⁴', () => {
    const p = scalePyramid({ geometric: 128 });
    expect(p.L).toBe(21845);
    const { kvCache, recompute } = attentionPairCounts(p);
    expect(kvCache / 128 ** 4).toBeCloseTo(1.4222, 3);
    expect(recompute / 128 ** 4).toBeCloseTo(1.8963, 3);
  });
});
