/**
 * Both halves of the threshold (MATH.md §4–5): below it the low-rank kernel is certified and
 * within its bound; at it (hard instances, B = c·√ln L) exact attention decides the planted
 * nearest-neighbour question, while no rank below L certifies δ. Also the criteria's own
 * arithmetic.
 * @module
 */
import * as fc from 'fast-check';
import {
  attention, criteria, NonFiniteError, decodeHardInstance, e1Bound, hardInstance, lowRankAttention, maxAbsDiff, rank, taylorPolynomial, taylorRelativeError,
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
    name: 'at the threshold: exact attention decides the planted close pair on hard instances',
    cites: 'MATH.md §4 (hardness reduction)',
    arbitrary: fc.record({ n: fc.integer({ min: 4, max: 48 }), seed: fc.integer({ min: 1, max: 1_000_000 }), plantEvery: fc.integer({ min: 1, max: 4 }) }),
    check: ({ n, seed, plantEvery }) => {
      const h = hardInstance({ n, m: 32, t: 4, seed, planted: Array.from({ length: n }, (_, i) => i % plantEvery === 0) });
      const out = attention(h.input);
      const decided = decodeHardInstance(out);
      const wrong = decided.filter((b, i) => b !== h.truth[i]).length;
      return holds(wrong === 0 && h.delta > 0.2, `${wrong} of ${n} queries decided wrongly; margin δ = ${h.delta}`);
    },
    numRuns: 100,
  }),
  law({
    name: 'at the threshold: no rank below L certifies δ, and the largest such rank is measurably wrong or uncertified',
    cites: 'MATH.md §4–5 (r = n^{Θ(1)} at B = Θ(√log n))',
    arbitrary: fc.record({ n: fc.integer({ min: 24, max: 64 }), seed: fc.integer({ min: 1, max: 1_000_000 }) }),
    check: ({ n, seed }) => {
      const h = hardInstance({ n, m: 24, t: 2, seed });
      const { input, L } = h;
      const d = input.q.cols;
      const beta = h.B * h.B; // s·d·B² with s = 1/d
      // Every degree whose rank stays below L fails to certify δ by E1 + E5 …
      let gMax = -1;
      for (let g = 0; rank(d, g) < L; g++) {
        gMax = g;
        if (e1Bound(taylorRelativeError(beta, g), 1) <= h.delta) return holds(false, `degree ${g} (rank ${rank(d, g)} < L = ${L}) certifies δ = ${h.delta}`);
      }
      // … the criteria ask for a rank ≥ L (or no degree at all) …
      const c = criteria({ L, d, B: h.B, delta: h.delta, dv: 1 });
      if (c.rank < L) return holds(false, `criteria claim rank ${c.rank} < L = ${L} suffices`);
      // … and running the largest sub-L rank anyway shows the decision or the error breaks.
      if (gMax < 1) return holds(true);
      let approx;
      try {
        approx = lowRankAttention(input, taylorPolynomial(beta, gMax));
      } catch (e) {
        // The construction itself breaks down: some row's normaliser Σ_j P(logit) ≤ 0.
        return holds(e instanceof NonFiniteError, `degree ${gMax} threw ${String(e)}`);
      }
      const err = maxAbsDiff(approx.data, attention(input).data);
      const wrong = decodeHardInstance(approx).some((b, i) => b !== h.truth[i]);
      return holds(wrong || err > h.delta, `degree ${gMax} (rank ${rank(d, gMax)}) got every decision right with error ${err} ≤ δ = ${h.delta}`);
    },
    numRuns: 100,
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
