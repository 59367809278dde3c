/**
 * Regression of issue 9: m = 32, t = 2, ε = 0.2 used to advertise gap 4.22 and δ = 0.247 while
 * the rounded levels had gap 0 and exact attention decoded 4 of 8 queries wrongly.
 */
import { describe, expect, it } from 'vitest';
import { attention, decodeHardInstance, hardInstance, RangeArgumentError } from '../spec/index.js';

describe('hardInstance with non-integer (2+ε)t', () => {
  it('m = 32, t = 2, ε = 0.2: far threshold ⌈2.4⌉ = 3, gap B²(3 − 2)/d, exact attention decides all 8 queries', () => {
    const h = hardInstance({ n: 8, m: 32, t: 2, epsGap: 0.2 });
    expect(h.farMin).toBe(3);
    const d = h.input.q.cols;
    expect(d).toBe(32 + (32 - 2 - 3));
    expect(h.gap).toBeCloseTo((h.B * h.B) / d, 12);
    expect(h.delta).toBeGreaterThan(0);
    const decided = decodeHardInstance(attention(h.input));
    expect(decided).toEqual(h.truth);
  });
  it('rejects t + ⌈(1+ε)t⌉ ≥ m with a RangeArgumentError naming t', () => {
    expect(() => hardInstance({ n: 4, m: 8, t: 3, epsGap: 0.5 })).toThrow(RangeArgumentError);
    try {
      hardInstance({ n: 4, m: 8, t: 3, epsGap: 0.5 });
    } catch (e) {
      expect((e as RangeArgumentError).argument).toBe('t');
    }
  });
});
