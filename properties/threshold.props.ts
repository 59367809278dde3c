/**
 * The threshold (docs/math.md §4–5): below it the low-rank kernel is certified and within its
 * bound; the criteria against concrete inputs, and the sweep over L that the threshold is about.
 * The hard instances at the threshold are checked in properties/hard-instances.props.ts.
 * @module
 */
import * as fc from 'fast-check';
import {
  attention,
  attentionInput,
  criteria,
  NonFiniteError,
  decodeHardInstance,
  e1Bound,
  hardInstance,
  lowRankAttention,
  matrix,
  maxAbsDiff,
  mulberry32,
  rank,
  taylorPolynomial,
  taylorRelativeError,
  uniformMatrix,
} from '../spec/index.js';
import { familyRankSlope, type Growth } from '../spec/criteria.js';
import { certifiedLowRankAttention, declaredLowRankBound } from '../spec/certificate.js';
import { checkAAttC } from '../spec/attention.js';
import { attentionInputArb } from './arbitraries.js';
import { holds, law, roundoff, type Law } from './law.js';

/** Laws of the threshold criteria. */
export const thresholdLaws: Law<unknown>[] = [
  law({
    id: 'threshold.below-the-threshold-certified-low-rank',
    name: 'below the threshold: certified low-rank attention error ≤ its declared bound ≤ δ',
    cites: 'docs/math.md §5, §6 E1+E5',
    arbitrary: fc.tuple(
      fc.double({ min: 0.05, max: 1.5, noNaN: true }).chain((B) => fc.tuple(fc.constant(B), attentionInputArb({ B, maxL: 40, maxD: 4, maxDv: 3 }))),
      fc.constantFrom(1e-2, 1e-3, 1e-4, 1e-6),
    ),
    check: ([[, x], delta]) => {
      const bound = declaredLowRankBound(delta)(x);
      const slack = roundoff(64 * (x.k.rows + 16), 1.5);
      if (!(bound <= delta)) return { error: bound, bound: delta, detail: 'declared bound exceeds δ' };
      // The AAttC contract of docs/math.md §3 at the declared bound: ‖T − Att‖∞ ≤ bound (+ the reference's rounding).
      const aattc = checkAAttC(certifiedLowRankAttention(x, delta), x, bound + slack);
      return { error: aattc.error, bound: aattc.delta, detail: `δ = ${delta}; AAttC ${aattc.ok ? 'met' : 'broken'}` };
    },
  }),
  law({
    id: 'threshold.criteria-its-float64-worst-case-covers',
    name: 'criteria: its float64 worst case covers concrete inputs — a provably efficient (L, d, B, δ) is certified on corner and random inputs with entries ≤ B, and the spec meets it',
    cites: 'docs/math.md §5, §8',
    arbitrary: fc.record({
      L: fc.integer({ min: 1, max: 40 }),
      d: fc.integer({ min: 1, max: 4 }),
      B: fc.double({ min: 0.05, max: 4, noNaN: true }),
      delta: fc.constantFrom(1e-2, 1e-3, 1e-4, 1e-6),
      seed: fc.integer({ min: 1, max: 1e6 }),
    }),
    check: ({ L, d, B, delta, seed }) => {
      const c = criteria({ L, d, B, delta });
      if (c.provablyEfficient && c.regime === 'at-or-above') return holds(false, 'at-or-above printed next to provablyEfficient: true');
      if (c.degree === undefined) return holds(!(c.certifiedBound <= delta), `no degree but certified bound ${c.certifiedBound}`);
      if (!(c.certifiedBound <= delta)) return holds(false, `degree ${c.degree} with certified bound ${c.certifiedBound} > δ`);
      // The worst case: every query +B, every key −B (all logits −β), values ±B alternating; and a random input.
      const rand = mulberry32(seed);
      const corner = attentionInput(
        matrix(L, d, new Array<number>(L * d).fill(B)),
        matrix(L, d, new Array<number>(L * d).fill(-B)),
        matrix(
          L,
          d,
          Array.from({ length: L * d }, (_, t) => (Math.floor(t / d) % 2 ? B : -B)),
        ),
      );
      const random = attentionInput(uniformMatrix(rand, L, d, B), uniformMatrix(rand, L, d, B), uniformMatrix(rand, L, d, B));
      let worst = { error: 0, bound: 0, detail: '' };
      for (const x of [corner, random]) {
        let bound: number;
        try {
          bound = declaredLowRankBound(delta)(x);
        } catch (e) {
          return holds(false, `criteria certify (L=${L}, d=${d}, B=${B}, δ=${delta}) but the kernel declines: ${String(e)}`);
        }
        const err = maxAbsDiff(certifiedLowRankAttention(x, delta).data, attention(x).data);
        if (err / bound > worst.error / Math.max(worst.bound, Number.MIN_VALUE)) worst = { error: err, bound, detail: `L=${L}, d=${d}, B=${B}, δ=${delta}` };
      }
      return worst;
    },
  }),
  law({
    id: 'threshold.sweep-along-b-eq-c',
    name: 'threshold sweep: along B = c·√ln L (d ∝ ln L) the slope of ln r against ln L levels off (never 5% below its start) up to L = 1e9; along B = c·(ln L)^{1/4} and constant B it falls by > 10%',
    cites: 'docs/math.md §4 (r = n^{Θ(1)} at B = Θ(√log n), n^{o(1)} below)',
    arbitrary: fc.record({ c: fc.double({ min: 1, max: 2, noNaN: true }), delta: fc.constantFrom(1e-2, 1e-3, 1e-6), d0: fc.double({ min: 0.5, max: 2, noNaN: true }) }),
    check: ({ c, delta, d0 }) => {
      const L0 = 100;
      const slopes = (growth: Growth): number[] => {
        const out: number[] = [];
        for (let e = 2; e < 9; e++) out.push(familyRankSlope(growth, L0, c * Math.sqrt(Math.log(L0)), d0 * Math.log(L0), delta, 10 ** e, 10 ** (e + 1)));
        return out;
      };
      // Threshold family: the slope levels off at a positive constant (r = L^{Θ(1)}) — from below for
      // larger c (it rises), from above by < 5% for c near 1 with small d0 or δ. Others: every decade
      // drops and the last slope is < 90% of the first (r = L^{o(1)}: the slope tends to 0).
      const rises = (xs: number[]): boolean => xs.every((x) => x >= 0.95 * xs[0]);
      const falls = (xs: number[]): boolean => xs.every((x, i) => i === 0 || x < xs[i - 1]) && xs[xs.length - 1] < 0.9 * xs[0];
      const [s, q, k] = [slopes('sqrt-log'), slopes('quarter-log'), slopes('constant')];
      // criteria's regime along the families at L = 1e6: the threshold family is never labelled below.
      const at = criteria({ L: 1e6, d: 4, B: c * Math.sqrt(Math.log(1e6)), delta });
      const ok = rises(s) && falls(q) && falls(k) && at.regime !== 'below' && !(at.provablyEfficient && at.regime === 'at-or-above');
      return holds(
        ok,
        `c = ${c}, δ = ${delta}: √ln slopes ${s.map((x) => x.toFixed(3))}, ¼-log ${q.map((x) => x.toFixed(3))}, constant ${k.map((x) => x.toFixed(3))}; criteria regime at L = 1e6: ${at.regime}`,
      );
    },
    numRuns: 20,
  }),
];
