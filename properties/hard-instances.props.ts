/**
 * Hard instances at the threshold (docs/math.md §4–5): the generated instances really have
 * the advertised integer logit levels and margin δ, exact attention (and anything within δ of
 * it) decides the planted nearest-neighbour question, and sub-L-rank low-rank attention is
 * run on them: rank 1 must fail on every query without a close key, no rank below L certifies
 * δ, and whenever a sub-L rank happens to land within δ its decisions must be right.
 * @module
 */
import * as fc from 'fast-check';
import {
  attention,
  criteria,
  decodeHardInstance,
  e1Bound,
  hardInstance,
  lowRankAttention,
  NonFiniteError,
  rank,
  taylorPolynomial,
  taylorRelativeError,
  type HardInstance,
  type Matrix,
} from '../spec/index.js';
import { holds, law, roundoff, type Law } from './law.js';

/** Per query: the Hamming distance of every bit key, read back from the ±B entries of Q and K. */
function hammingFromInput(h: HardInstance, m: number): number[][] {
  const { q, k } = h.input;
  const d = q.cols;
  return Array.from({ length: q.rows }, (_, i) =>
    Array.from({ length: k.rows - 1 }, (_, j) => {
      let ham = 0;
      for (let l = 0; l < m; l++) if (Math.sign(q.data[i * d + l]) !== Math.sign(k.data[j * d + l])) ham++;
      return ham;
    }),
  );
}

/** Logit s·⟨q_i, k_j⟩ recomputed from the input. */
function logit(x: HardInstance['input'], i: number, j: number): number {
  let dot = 0;
  for (let l = 0; l < x.q.cols; l++) dot += x.q.data[i * x.q.cols + l] * x.k.data[j * x.q.cols + l];
  return x.scale * dot;
}

/** Column 0 of an attention output: the weight each query puts on the reference key. */
function refWeights(out: Matrix): number[] {
  return Array.from({ length: out.rows }, (_, i) => out.data[i * out.cols]);
}

/** Instance parameters: m ∈ {32, 48, 64}, t ≤ m/16, ε ∈ (0, 1.5] including non-integer (2+ε)t. */
const instanceArb = fc.record({
  n: fc.integer({ min: 4, max: 32 }),
  m: fc.constantFrom(32, 48, 64),
  tFrac: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
  epsGap: fc.oneof(fc.constantFrom(0.2, 0.5, 1, 1 / 3), fc.double({ min: 0.05, max: 1.5, noNaN: true })),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  plantEvery: fc.integer({ min: 1, max: 4 }),
});

/** Laws of the hard instances (docs/math.md §4). */
export const hardInstanceLaws: Law<unknown>[] = [
  law({
    id: 'hard-instances.integer-logit-levels-keep',
    name: 'hard instances: integer logit levels keep the advertised gap; exact attention, and anything within δ of it, decides every query',
    cites: 'docs/math.md §4 (hardness reduction)',
    arbitrary: instanceArb,
    check: ({ n, m, tFrac, epsGap, seed, plantEvery }) => {
      const t = 1 + Math.floor(tFrac * (m / 16));
      const h = hardInstance({ n, m, t, epsGap, seed, planted: Array.from({ length: n }, (_, i) => i % plantEvery === 0) });
      const f = Math.ceil((1 + epsGap) * t);
      const ham = hammingFromInput(h, m);
      const x = h.input;
      const L = x.k.rows;
      const B2 = h.B * h.B;
      // The promise of the construction: gap ≥ B²εt/d, and δ > 0.
      if (!(h.gap >= ((B2 * epsGap * t) / x.q.cols) * (1 - 1e-12)) || !(h.delta > 0)) return holds(false, `advertised gap ${h.gap} < B²εt/d or δ = ${h.delta} ≤ 0`);
      const tol = 1e-9 * B2;
      for (let i = 0; i < n; i++) {
        const zRef = logit(x, i, L - 1);
        let close = false;
        for (let j = 0; j < L - 1; j++) {
          const z = logit(x, i, j);
          if (ham[i][j] <= t) {
            close = true;
            if (!(z - zRef >= h.gap - tol)) return holds(false, `query ${i}: close key ${j} (Hamming ${ham[i][j]}) sits ${z - zRef} above the reference, advertised gap ${h.gap}`);
          } else if (ham[i][j] >= f) {
            if (!(zRef - z >= h.gap - tol)) return holds(false, `query ${i}: far key ${j} (Hamming ${ham[i][j]}) sits ${zRef - z} below the reference, advertised gap ${h.gap}`);
          } else {
            return holds(false, `query ${i}: key ${j} at Hamming ${ham[i][j]}, strictly between t = ${t} and f = ${f}`);
          }
        }
        if (close !== h.truth[i]) return holds(false, `query ${i}: truth ${h.truth[i]} but a close key ${close ? 'exists' : 'does not exist'}`);
      }
      // Exact attention: the reference weight is ≤ ½ − δ with a close key and ≥ ½ + δ without.
      const w = refWeights(attention(x));
      const slack = roundoff(16 * (L + x.q.cols), 1);
      for (let i = 0; i < n; i++) {
        const margin = h.truth[i] ? 0.5 - w[i] : w[i] - 0.5;
        if (!(margin >= h.delta - slack)) return holds(false, `query ${i}: exact reference weight ${w[i]} is within ${margin} of ½, advertised δ = ${h.delta}`);
      }
      // Anything within δ (here: exact pushed towards ½ by 0.99δ) still decodes every query right.
      const pushed = attention(x);
      for (let i = 0; i < n; i++) pushed.data[i * pushed.cols] += (h.truth[i] ? 0.99 : -0.99) * h.delta;
      const wrong = decodeHardInstance(pushed).filter((b, i) => b !== h.truth[i]).length;
      return holds(wrong === 0, `${wrong} of ${n} queries decided wrongly by an output within 0.99δ of exact (δ = ${h.delta})`);
    },
    numRuns: 100,
  }),
  law({
    id: 'hard-instances.sub-l-rank-low',
    name: 'hard instances: sub-L-rank low-rank attention — rank 1 fails on every query without a close key, no rank below L certifies δ, any sub-L rank within δ decides right',
    cites: 'docs/math.md §4–5 (r = n^{Θ(1)} at B = Θ(√log n))',
    arbitrary: fc.record({ n: fc.integer({ min: 4, max: 48 }), seed: fc.integer({ min: 1, max: 1_000_000 }), plantEvery: fc.integer({ min: 1, max: 4 }), epsGap: fc.constantFrom(0.2, 0.5, 1) }),
    check: ({ n, seed, plantEvery, epsGap }) => {
      const h = hardInstance({ n, m: 24, t: 2, epsGap, seed, planted: Array.from({ length: n }, (_, i) => i % plantEvery === 0) });
      const { input, L } = h;
      const d = input.q.cols;
      const beta = h.B * h.B; // s·d·B² with s = 1/d
      // Rank 1 (degree 0): every logit weighs the same, the reference weight is 1/L < ½, so every
      // query is decoded "close pair present" — wrong exactly on the queries without one.
      const flat = decodeHardInstance(lowRankAttention(input, taylorPolynomial(beta, 0)));
      const wrong0 = flat.filter((b, i) => b !== h.truth[i]).length;
      const absent = h.truth.filter((b) => !b).length;
      if (!flat.every((b) => b) || wrong0 !== absent) return holds(false, `rank 1 decided ${wrong0} queries wrongly; ${absent} have no close key`);
      const details: string[] = [];
      for (let g = 0; rank(d, g) < L; g++) {
        // No degree whose rank stays below L certifies δ (E1 + E5) …
        if (e1Bound(taylorRelativeError(beta, g), 1) <= h.delta) return holds(false, `degree ${g} (rank ${rank(d, g)} < L = ${L}) certifies δ = ${h.delta}`);
        // … and when one lands within δ anyway, its decisions must all be right.
        let out: Matrix;
        try {
          out = lowRankAttention(input, taylorPolynomial(beta, g));
        } catch (e) {
          if (e instanceof NonFiniteError) {
            details.push(`g=${g}: normaliser ≤ 0`);
            continue;
          }
          throw e;
        }
        const exact = attention(input);
        let err = 0;
        for (let k = 0; k < out.data.length; k++) err = Math.max(err, Math.abs(out.data[k] - exact.data[k]));
        const wrong = decodeHardInstance(out).filter((b, i) => b !== h.truth[i]).length;
        details.push(`g=${g}: error ${err.toExponential(2)}, ${wrong} wrong`);
        if (err < h.delta && wrong > 0) return holds(false, `degree ${g} is within δ (${err} < ${h.delta}) but decides ${wrong} queries wrongly`);
      }
      // … and the criteria ask for a rank ≥ L (or no certified degree at all).
      const c = criteria({ L, d, B: h.B, delta: h.delta, dv: 1 });
      return holds(c.rank >= L, `criteria claim rank ${c.rank} < L = ${L} suffices (${details.join('; ')})`);
    },
    numRuns: 100,
  }),
];
