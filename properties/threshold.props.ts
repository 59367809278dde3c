/**
 * The threshold (MATH.md §4–5): below it the low-rank kernel is certified and within its
 * bound; the criteria's own arithmetic. The hard instances at the threshold are checked in
 * properties/hard-instances.props.ts.
 * @module
 */
import * as fc from 'fast-check';
import {
  attention, criteria, maxAbsDiff, rank, taylorRelativeError,
} from '../spec/index.js';
import { certifiedLowRankAttention, declaredLowRankBound } from '../spec/certificate.js';
import { attentionInputArb } from './arbitraries.js';
import { holds, law, roundoff, type Law } from './law.js';

/** Laws of the threshold criteria. */
export const thresholdLaws: Law<unknown>[] = [
  law({
    name: 'below the threshold: certified low-rank attention error ≤ its declared bound ≤ δ',
    cites: 'MATH.md §5, §6 E1+E5',
    arbitrary: fc.tuple(
      fc.double({ min: 0.05, max: 1.5, noNaN: true }).chain((B) => fc.tuple(fc.constant(B), attentionInputArb({ B, maxL: 40, maxD: 4, maxDv: 3 }))),
      fc.constantFrom(1e-2, 1e-3, 1e-4, 1e-6),
    ),
    check: ([[, x], delta]) => {
      const bound = declaredLowRankBound(delta)(x);
      const err = maxAbsDiff(certifiedLowRankAttention(x, delta).data, attention(x).data);
      const slack = roundoff(64 * (x.k.rows + 16), 1.5);
      if (!(bound <= delta)) return { error: bound, bound: delta, detail: 'declared bound exceeds δ' };
      return { error: err, bound: bound + slack, detail: `δ = ${delta}` };
    },
  }),
  law({
    name: 'criteria: β = s·d·B², degree minimal and certified, rank = C(d+g, g), cost counts',
    cites: 'MATH.md §3–5',
    arbitrary: fc.record({
      L: fc.integer({ min: 1, max: 100_000 }), d: fc.integer({ min: 1, max: 64 }), B: fc.double({ min: 0.05, max: 8, noNaN: true }),
      delta: fc.double({ min: 1e-9, max: 0.5, noNaN: true }),
    }),
    check: ({ L, d, B, delta }) => {
      const c = criteria({ L, d, B, delta });
      const betaOk = Math.abs(c.beta - B * B) <= 4 * Number.EPSILON * B * B;
      const epsOk = c.eps === delta / (2 * B + delta);
      const gOk = c.taylorDegree === undefined || (taylorRelativeError(c.beta, c.taylorDegree) <= c.eps && (c.taylorDegree === 0 || taylorRelativeError(c.beta, c.taylorDegree - 1) > c.eps));
      const rankOk = c.degree === undefined ? c.rank === Infinity : c.rank === rank(d, c.degree);
      const costOk = c.exactPairs === L * L && c.exactMacs === L * L * 2 * d && c.provablyEfficient === (c.degree !== undefined && c.lowRankMacs < c.exactMacs);
      const regimeOk = c.regime === (c.thresholdRatio < 0.5 ? 'below' : c.thresholdRatio < 1 ? 'near' : 'at-or-above');
      return holds(betaOk && epsOk && gOk && rankOk && costOk && regimeOk, JSON.stringify(c));
    },
  }),
];
