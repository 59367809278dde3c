/**
 * What a call costs and how long fuzz waits for it: a low-rank kernel's declared cost grows with
 * the rank of its certified degree (spec `lowRankCost`), `kernelCost` falls back to exact
 * attention's count, and the per-call deadline scales with the declared cost (./isolate.ts).
 */
import { describe, expect, it } from 'vitest';
import { attentionInput, attentionWork } from '../../spec/attention.js';
import { FLOAT64_CPU, lowRankCost, lowRankPolynomial } from '../../spec/certificate.js';
import { kernelCost, type AttentionKernel } from '../../spec/contract.js';
import { matrix } from '../../spec/matrix.js';
import { mulberry32 } from '../../spec/random.js';
import { cpuLowRank } from '../kernels/cpu/low-rank.js';
import { callDeadline, DEADLINE_WORK } from './isolate.js';

/** C(n, k) by the product formula (independent of spec `rank`). */
const binomial = (n: number, k: number): number => {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return Math.round(c);
};
const rand = mulberry32(7);
const uniform = (rows: number, cols: number, a: number) =>
  matrix(
    rows,
    cols,
    Array.from({ length: rows * cols }, () => (2 * rand() - 1) * a),
  );
/** The shape that took gpujs/low-rank 10 s a call in Chromium: 21 queries, 1,004 keys, d = 18, d_v = 1. */
const highRank = attentionInput(uniform(21, 18, 1.5), uniform(1004, 18, 1.5), uniform(1004, 1, 1));
const stub = (cost?: AttentionKernel['cost']): AttentionKernel => ({
  name: 'stub',
  op: 'attention',
  exact: true,
  masks: ['none'],
  precision: 'float64',
  run: () => matrix(1, 1),
  ...(cost ? { cost } : {}),
});

describe('the cost of a call', () => {
  it("a low-rank kernel's: (L_q + L_k)·(d + r·(d + g + d_v + 1)), r = C(d + g, g) of the certified degree g — far above exact attention's here", () => {
    const g = lowRankPolynomial(highRank, 1e-3, FLOAT64_CPU).degree;
    expect(g).toBeGreaterThanOrEqual(4);
    const cost = lowRankCost(1e-3, FLOAT64_CPU)(highRank);
    expect(cost).toBe((21 + 1004) * (18 + binomial(18 + g, g) * (18 + g + 1 + 1)));
    expect(cost).toBeGreaterThan(50 * attentionWork(highRank));
    expect(cpuLowRank({ delta: 1e-3 }).cost!(highRank)).toBe(cost);
  });
  it('an input the kernel declines costs its certificate, (L_q + L_k)·d', () => {
    const declined = attentionInput(uniform(3, 18, 4), uniform(50, 18, 4), uniform(50, 2, 1));
    expect(() => lowRankPolynomial(declined, 1e-3, FLOAT64_CPU)).toThrow(/declines/);
    expect(lowRankCost(1e-3, FLOAT64_CPU)(declined)).toBe(53 * 18);
  });
  it('kernelCost: the declared cost, else L_q·L_k·(d + d_v); a cost that throws or is not a finite count is ignored', () => {
    expect(attentionWork(highRank)).toBe(21 * 1004 * (18 + 1));
    expect(kernelCost(stub(), highRank)).toBe(attentionWork(highRank));
    expect(
      kernelCost(
        stub(() => 123),
        highRank,
      ),
    ).toBe(123);
    expect(
      kernelCost(
        stub(() => {
          throw new Error('no');
        }),
        highRank,
      ),
    ).toBe(attentionWork(highRank));
    expect(
      kernelCost(
        stub(() => NaN),
        highRank,
      ),
    ).toBe(attentionWork(highRank));
    expect(
      kernelCost(
        stub(() => -1),
        highRank,
      ),
    ).toBe(attentionWork(highRank));
  });
  it('the per-call deadline scales with the declared cost past DEADLINE_WORK', () => {
    expect(callDeadline(10_000, [highRank])).toBe(10_000);
    expect(
      callDeadline(
        10_000,
        [highRank],
        stub(() => 5 * DEADLINE_WORK),
      ),
    ).toBe(50_000);
    expect(
      callDeadline(
        10_000,
        [highRank],
        stub(() => DEADLINE_WORK / 2),
      ),
    ).toBe(10_000);
    const lowRank = cpuLowRank({ delta: 1e-3 });
    expect(lowRank.cost!(highRank)).toBeGreaterThan(DEADLINE_WORK);
    expect(callDeadline(10_000, [highRank], lowRank)).toBe(Math.round((10_000 * lowRank.cost!(highRank)) / DEADLINE_WORK));
  });
});
