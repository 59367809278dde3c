/**
 * Runs the low-rank, error-bound and threshold laws (properties/index.ts) through
 * @fast-check/vitest, and pins the criteria to figures typed in from docs/math.md §5.
 */
import { describe, expect, it } from 'vitest';
import { criteria, rank } from '../spec/index.js';
import { lowRankSpecLaws } from './index.js';
import { describeLaws } from './vitest.js';

describeLaws('low-rank battery', lowRankSpecLaws);

describe('rank in practice (docs/math.md §5 table)', () => {
  it('d=4: g=4→70, g=6→210, g=8→495; d=8: g=4→495, g=6→3003; d=16: g=4→4845', () => {
    expect([rank(4, 4), rank(4, 6), rank(4, 8), rank(8, 4), rank(8, 6), rank(16, 4)]).toEqual([70, 210, 495, 495, 3003, 4845]);
  });
  it('VAR-256, d = 64: g = 2 already gives r = 2145 > L = 680', () => {
    expect(rank(64, 2)).toBe(2145);
    const c = criteria({ pyramid: 'var-256', d: 64, B: 1, delta: 1e-3 });
    expect(c.L).toBe(680);
    expect(c.exactPairs).toBe(286_434);
    expect(c.degree).toBeGreaterThanOrEqual(2);
    expect(c.rank).toBeGreaterThan(680);
    expect(c.provablyEfficient).toBe(false);
  });
});
