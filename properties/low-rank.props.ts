/**
 * Properties of the polynomial method (MATH.md §5): certified polynomial bounds, the feature
 * factorisation, the rank formula, and low-rank attention below the threshold.
 * @module
 */
import * as fc from 'fast-check';
import {
  attention, attentionInput, blockCausalMask, certifiedExpPolynomial, chebyshevDegree, chebyshevPolynomial, evaluatePolynomial, featurePair,
  lowRankAttention, matmul, maxAbsDiff, multiIndices, NO_MASK, rank, taylorDegree, taylorPolynomial, taylorRelativeError, type Matrix,
} from '../spec/index.js';
import { matrixArb, pyramidArb } from './arbitraries.js';
import { holds, law, roundoff, type Law } from './law.js';

const betaArb = fc.double({ min: 0.01, max: 8, noNaN: true });
const epsArb = fc.double({ min: 1e-12, max: 0.5, noNaN: true });
const kindArb = fc.constantFrom('taylor' as const, 'chebyshev' as const);

function poly(kind: 'taylor' | 'chebyshev', beta: number, g: number) {
  return kind === 'taylor' ? taylorPolynomial(beta, g) : chebyshevPolynomial(beta, g);
}

/** Worst |P(x) − eˣ|/eˣ on a dense grid of [−β, β] plus the given points. */
function sampledRelativeError(coefficients: ArrayLike<number>, beta: number, extra: number[]): { worst: number; at: number } {
  let worst = 0;
  let at = 0;
  const pts = [...Array.from({ length: 2001 }, (_, i) => -beta + (2 * beta * i) / 2000), ...extra.map((u) => u * beta)];
  for (const x of pts) {
    const e = Math.abs(evaluatePolynomial(coefficients, x) - Math.exp(x)) / Math.exp(x);
    if (e > worst) [worst, at] = [e, x];
  }
  return { worst, at };
}

/** Laws of the polynomials and features (MATH.md §5). */
export const lowRankLaws: Law<unknown>[] = [
  law({
    name: 'polynomial: certified relative bound ≥ the true error (dense grid + random points)',
    cites: 'MATH.md §5 (ε_T, E5; Chebyshev remainder)',
    arbitrary: fc.tuple(kindArb, betaArb, fc.integer({ min: 0, max: 24 }), fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 16, maxLength: 16 })),
    check: ([kind, beta, g, us]) => {
      const p = poly(kind, beta, g);
      const { worst, at } = sampledRelativeError(p.coefficients, beta, us);
      // Horner evaluation itself rounds: (g+1) steps on terms ≤ Σ|c_t|βᵗ ≤ e^{2β}-ish.
      const evalSlack = roundoff(4 * (g + 2), Array.from(p.coefficients).reduce((s, c, t) => s + Math.abs(c) * beta ** t, 0) * Math.exp(beta));
      return { error: worst, bound: p.relativeError + evalSlack, detail: `${kind} g=${g} β=${beta} worst at x=${at}` };
    },
  }),
  law({
    name: 'polynomial: certified degrees are monotone in β and in 1/ε',
    cites: 'MATH.md §5 (g_T(β, ε))',
    arbitrary: fc.tuple(betaArb, betaArb, epsArb, epsArb),
    check: ([b1, b2, e1, e2]) => {
      const [bl, bh] = b1 <= b2 ? [b1, b2] : [b2, b1];
      const [el, eh] = e1 <= e2 ? [e1, e2] : [e2, e1];
      const ok = (f: (b: number, e: number) => number | undefined): boolean => {
        const g = (b: number, e: number): number => f(b, e) ?? Infinity;
        return g(bl, eh) <= g(bh, eh) && g(bl, eh) <= g(bl, el);
      };
      const tMin = taylorDegree(bl, eh);
      const minimal = tMin === undefined || tMin === 0 || taylorRelativeError(bl, tMin - 1) > eh;
      return holds(ok(taylorDegree) && ok(chebyshevDegree) && minimal, `β ∈ [${bl}, ${bh}], ε ∈ [${el}, ${eh}]`);
    },
  }),
  law({
    name: 'features: U1 U2ᵀ = P(s·QKᵀ) entrywise (1e-10 relative)',
    cites: 'MATH.md §5 (multinomial theorem)',
    arbitrary: fc
      .record({ d: fc.integer({ min: 1, max: 4 }), g: fc.integer({ min: 0, max: 6 }), lq: fc.integer({ min: 1, max: 6 }), lk: fc.integer({ min: 1, max: 6 }), kind: kindArb, sym: fc.boolean() })
      .chain((c) => fc.tuple(fc.constant(c), matrixArb(c.lq, c.d, 1.5), matrixArb(c.lk, c.d, 1.5))),
    check: ([c, q, k]) => {
      const input = attentionInput(q, k, k);
      const beta = input.scale * c.d * 1.5 * 1.5;
      const p = poly(c.kind, beta, c.g);
      const form = c.sym && p.coefficients.every((x) => x >= 0) ? 'symmetric' : 'asymmetric';
      const { u1, u2 } = featurePair(input, p, form);
      const u2t: Matrix = { rows: u2.cols, cols: u2.rows, data: new Float64Array(u2.cols * u2.rows) };
      for (let j = 0; j < u2.rows; j++) for (let m = 0; m < u2.cols; m++) u2t.data[m * u2.rows + j] = u2.data[j * u2.cols + m];
      const a = matmul(u1, u2t);
      let err = 0;
      for (let i = 0; i < q.rows; i++) for (let j = 0; j < k.rows; j++) {
        let dot = 0;
        for (let t = 0; t < c.d; t++) dot += q.data[i * c.d + t] * k.data[j * c.d + t];
        const want = evaluatePolynomial(p.coefficients, input.scale * dot);
        const scaleRef = Array.from(p.coefficients).reduce((s, x, t) => s + Math.abs(x) * Math.abs(input.scale * dot) ** t, 0);
        err = Math.max(err, Math.abs(a.data[i * k.rows + j] - want) / Math.max(scaleRef, Number.MIN_VALUE));
      }
      return { error: err, bound: 1e-10 };
    },
  }),
  law({
    name: 'features: rank = C(d+g, g) = #{α ∈ ℕᵈ : |α| ≤ g}, each multinomial t!/α! exact',
    cites: 'MATH.md §5',
    arbitrary: fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 5 })),
    check: ([d, g]) => {
      // Brute force: count d-tuples with entries 0..g and sum ≤ g.
      let count = 0;
      const rec = (left: number, vars: number): void => {
        if (vars === 0) { count++; return; }
        for (let a = 0; a <= left; a++) rec(left - a, vars - 1);
      };
      rec(g, d);
      const set = multiIndices(d, g);
      // Σ_{|α|=t} t!/α! = dᵗ (multinomial theorem at x = 1).
      const sums = new Float64Array(g + 1);
      for (let m = 0; m < set.size; m++) sums[set.degree[m]] += set.multinomial[m];
      const multOk = Array.from(sums).every((s, t) => s === d ** t);
      return holds(count === rank(d, g) && set.size === count && multOk, `count ${count}, rank ${rank(d, g)}, enumerated ${set.size}`);
    },
  }),
  law({
    name: 'features: certified P keeps Ã = U1 U2ᵀ > 0 on the logit range',
    cites: 'MATH.md §5–6 (E1 needs Ã > 0)',
    arbitrary: fc.tuple(betaArb, epsArb, fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 32, maxLength: 32 })),
    check: ([beta, eps, us]) => {
      const p = certifiedExpPolynomial(beta, eps);
      if (!p) return holds(true);
      return holds(us.every((u) => evaluatePolynomial(p.coefficients, u * beta) > 0), `P ≤ 0 somewhere on [−${beta}, ${beta}]`);
    },
  }),
  law({
    name: 'low-rank attention: prefix-sum block-causal = dense low-rank per allowed prefix',
    cites: 'MATH.md §5 (block-causal variant)',
    arbitrary: pyramidArb(4, 3).chain((p) => fc.tuple(fc.constant(p), matrixArb(p.L, 2, 1), matrixArb(p.L, 2, 1), matrixArb(p.L, 2, 1), fc.integer({ min: 1, max: 5 }))),
    check: ([p, q, k, v, g]) => {
      const masked = attentionInput(q, k, v, { mask: blockCausalMask(p) });
      const P = taylorPolynomial(1, g);
      const got = lowRankAttention(masked, P);
      let err = 0;
      p.cumulative.forEach((end, b) => {
        const start = b === 0 ? 0 : p.cumulative[b - 1];
        const rows = (m: Matrix, from: number, to: number): Matrix => ({ rows: to - from, cols: m.cols, data: m.data.slice(from * m.cols, to * m.cols) });
        const dense = lowRankAttention(attentionInput(rows(q, start, end), rows(k, 0, end), rows(v, 0, end), { mask: NO_MASK }), P);
        err = Math.max(err, maxAbsDiff(dense.data, got.data.subarray(start * 2, end * 2)));
      });
      return { error: err, bound: roundoff(64 * p.L, 1) };
    },
  }),
  law({
    name: 'low-rank attention: error vs exact ≤ E1(ε_P)·‖V‖∞ for the polynomial used',
    cites: 'MATH.md §6 E1 + E5',
    arbitrary: fc
      .record({ L: fc.integer({ min: 1, max: 24 }), d: fc.integer({ min: 1, max: 4 }), B: fc.double({ min: 0.1, max: 1.5, noNaN: true }), g: fc.integer({ min: 1, max: 8 }), kind: kindArb })
      .chain((c) => fc.tuple(fc.constant(c), matrixArb(c.L, c.d, c.B), matrixArb(c.L, c.d, c.B), matrixArb(c.L, 2, c.B))),
    check: ([c, q, k, v]) => {
      const input = attentionInput(q, k, v);
      const p = poly(c.kind, c.d * (1 / c.d) * c.B * c.B, c.g);
      if (!(p.relativeError < 1)) return holds(true);
      const err = maxAbsDiff(lowRankAttention(input, p).data, attention(input).data);
      const vInf = Math.max(...Array.from(v.data, Math.abs));
      return { error: err, bound: ((2 * p.relativeError) / (1 - p.relativeError)) * vInf + roundoff(64 * (c.L + 10), vInf) };
    },
  }),
];
