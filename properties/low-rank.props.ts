/**
 * Properties of the polynomial method (docs/math.md §5, §8): certified polynomial bounds and
 * their tightness, the feature factorisation, the rank formula, low-rank attention below the
 * threshold, and the rounding-aware certificate on adversarial inputs.
 * @module
 */
import * as fc from 'fast-check';
import {
  attention,
  attentionInput,
  blockCausalMask,
  certifiedExpPolynomial,
  chebyshevDegree,
  chebyshevPolynomial,
  evaluatePolynomial,
  featurePair,
  lowRankAttention,
  matmul,
  matrix,
  maxAbsDiff,
  mulberry32,
  multiIndices,
  NO_MASK,
  rank,
  rankAS23,
  taylorDegree,
  taylorPolynomial,
  taylorRelativeError,
  type Matrix,
} from '../spec/index.js';
import { RangeArgumentError } from '../spec/errors.js';
import { columnRanges, e1L1Bound } from '../spec/bounds.js';
import { certifiedLowRankAttention, declaredLowRankBound, FLOAT32_GPUJS, lowRankCertificate } from '../spec/certificate.js';
import { adversarialArb, lowRankFloat32 } from './adversarial.js';
import { matrixArb, pyramidArb } from './arbitraries.js';
import { holds, holdsAll, law, roundoff, type Law } from './law.js';

/** |P_g(−β) − e^{−β}|/e^{−β} from the tail Σ_{t>g} (−β)ᵗ/t! (no cancellation against e^{−β}). */
function taylorErrorAtMinusBeta(beta: number, g: number): number {
  let term = 1;
  for (let t = 1; t <= g; t++) term *= beta / t;
  let tail = 0;
  for (let t = g + 1; t < g + 400; t++) {
    term *= beta / t;
    tail += (t % 2 === 0 ? 1 : -1) * term;
    if (term < 1e-30 * Math.abs(tail)) break;
  }
  return Math.abs(tail) * Math.exp(beta);
}

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

/** Laws of the polynomials and features (docs/math.md §5). */
export const lowRankLaws: Law<unknown>[] = [
  law({
    id: 'low-rank.rank-as23',
    name: "rank: r = C(d+g, g) never exceeds AS23's stated C(2(g+d), 2g), and equals the number of monomials of degree ≤ g",
    cites: 'docs/math.md §5 (rank)',
    arbitrary: fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 12 })),
    check: ([d, g]) => {
      let monomials = 0; // Σ_{k ≤ g} C(d + k − 1, k), counted independently of rank()
      for (let k = 0, c = 1; k <= g; k++) {
        monomials += c;
        c = (c * (d + k)) / (k + 1);
      }
      return holdsAll(
        { 'r ≤ rankAS23': rank(d, g) <= rankAS23(d, g), 'r = Σ_k C(d+k−1, k)': Math.round(monomials) === rank(d, g) },
        `d = ${d}, g = ${g}: r = ${rank(d, g)}, AS23 ${rankAS23(d, g)}, monomials ${monomials}`,
      );
    },
  }),
  law({
    id: 'low-rank.polynomial-certified-relative-bound-ge-the',
    name: 'polynomial: certified relative bound ≥ the true error (dense grid + random points)',
    cites: 'docs/math.md §5 (ε_T, E5; Chebyshev remainder)',
    arbitrary: fc.tuple(kindArb, betaArb, fc.integer({ min: 0, max: 24 }), fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 16, maxLength: 16 })),
    numRuns: 60,
    check: ([kind, beta, g, us]) => {
      const p = poly(kind, beta, g);
      const { worst, at } = sampledRelativeError(p.coefficients, beta, us);
      // Horner evaluation itself rounds: (g+1) steps on terms ≤ Σ|c_t|βᵗ ≤ e^{2β}-ish.
      // … and the stored coefficients are within γ_{coefficientRoundings} of the certified P*'s.
      const evalSlack = roundoff(4 * (g + 2) + 2 * p.coefficientRoundings + 4, Array.from(p.coefficients).reduce((s, c, t) => s + Math.abs(c) * beta ** t, 0) * Math.exp(beta));
      return { error: worst, bound: p.relativeError + evalSlack, detail: `${kind} g=${g} β=${beta} worst at x=${at}` };
    },
  }),
  law({
    id: 'low-rank.polynomial-taylor-degrees-are-minimal-and',
    name: 'polynomial: Taylor degrees are minimal and monotone in β and 1/ε; Chebyshev degrees are minimal for their certificate',
    cites: 'docs/math.md §5 (g_T(β, ε)), §8 (a posteriori certificate)',
    arbitrary: fc.tuple(betaArb, betaArb, epsArb, epsArb),
    numRuns: 40,
    check: ([b1, b2, e1, e2]) => {
      const [bl, bh] = b1 <= b2 ? [b1, b2] : [b2, b1];
      const [el, eh] = e1 <= e2 ? [e1, e2] : [e2, e1];
      const g = (b: number, e: number): number => taylorDegree(b, e) ?? Infinity;
      const mono = g(bl, eh) <= g(bh, eh) && g(bl, eh) <= g(bl, el);
      const tMin = taylorDegree(bl, eh);
      const minimal = tMin === undefined || tMin === 0 || taylorRelativeError(bl, tMin - 1) > eh;
      const gc = chebyshevDegree(bh, el);
      const cOk = gc === undefined || (chebyshevPolynomial(bh, gc).relativeError <= el && (gc === 0 || chebyshevPolynomial(bh, gc - 1).relativeError > el));
      return holdsAll({ 'degree monotone in β and ε': mono, 'Taylor degree minimal': minimal, 'Chebyshev certified': cOk }, `β ∈ [${bl}, ${bh}], ε ∈ [${el}, ${eh}]: Taylor ${tMin}, Chebyshev ${gc}`);
    },
  }),
  law({
    id: 'low-rank.polynomial-taylor-certificate-is-tight-the',
    name: 'polynomial: Taylor certificate is tight — the error at x = −β reaches ≥ 1/4 of ε_T(β, g) for the certified degree',
    cites: 'docs/math.md §5 (E5)',
    arbitrary: fc.tuple(fc.double({ min: 0.1, max: 16, noNaN: true }), fc.double({ min: 1e-12, max: 1e-2, noNaN: true })),
    check: ([beta, eps]) => {
      const g = taylorDegree(beta, eps);
      if (g === undefined) return holds(false, `no Taylor degree for β = ${beta}, ε = ${eps}`);
      const measured = taylorErrorAtMinusBeta(beta, g);
      const cert = taylorRelativeError(beta, g);
      // error ≥ bound/4 ⇔ bound ≤ 4·error: the law fails when the certificate is 4× loose.
      return { error: cert, bound: 4 * measured, detail: `β = ${beta}, g = ${g}: ε_T = ${cert}, measured at −β ${measured}` };
    },
  }),
  law({
    id: 'low-rank.polynomial-chebyshev-a-posteriori-certificate-is',
    name: 'polynomial: Chebyshev a posteriori certificate is rigorous and tight (lower ≤ sampled max ≤ certificate ≤ 4·sampled max)',
    cites: 'docs/math.md §8 (interval certificate of (P − eˣ)e^{−x})',
    arbitrary: fc.tuple(fc.double({ min: 0.05, max: 6, noNaN: true }), fc.integer({ min: 1, max: 26 })),
    numRuns: 40,
    check: ([beta, g]) => {
      const p = chebyshevPolynomial(beta, g);
      // Dense sampling of the stored polynomial in float64; at β ≤ 6 its rounding (≤ 4(g+2)u·e^{2β}
      // plus the coefficients' γ) is below 1e-9 of the errors met here, allowed for below.
      const { worst } = sampledRelativeError(p.coefficients, beta, []);
      const slack = roundoff(4 * (g + 2) + 2 * p.coefficientRoundings + 4, Array.from(p.coefficients).reduce((s, c, t) => s + Math.abs(c) * beta ** t, 0) * Math.exp(beta));
      const lower = p.lowerBound ?? 0;
      if (!(lower <= worst + slack)) return { error: lower, bound: worst + slack, detail: `β = ${beta}, g = ${g}: certified lower bound above the sampled max` };
      if (!(worst <= p.relativeError + slack)) return { error: worst, bound: p.relativeError + slack, detail: `β = ${beta}, g = ${g}: sampled max above the certificate` };
      if (worst < 1e3 * slack) return holds(true); // rounding-level errors: tightness is not measurable in float64
      return { error: p.relativeError, bound: 4 * worst, detail: `β = ${beta}, g = ${g}: certificate ${p.relativeError} vs sampled max ${worst}` };
    },
  }),
  law({
    id: 'low-rank.features-u1-u2t-eq-p-s',
    name: 'features: U1 U2ᵀ = P(s·QKᵀ) entrywise (1e-10 relative)',
    cites: 'docs/math.md §5 (multinomial theorem)',
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
      for (let i = 0; i < q.rows; i++)
        for (let j = 0; j < k.rows; j++) {
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
    id: 'low-rank.features-rank-eq-c-d-g',
    name: 'features: rank = C(d+g, g) = #{α ∈ ℕᵈ : |α| ≤ g}, each multinomial t!/α! exact',
    cites: 'docs/math.md §5',
    arbitrary: fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 5 })),
    check: ([d, g]) => {
      // Brute force: count d-tuples with entries 0..g and sum ≤ g.
      let count = 0;
      const rec = (left: number, vars: number): void => {
        if (vars === 0) {
          count++;
          return;
        }
        for (let a = 0; a <= left; a++) rec(left - a, vars - 1);
      };
      rec(g, d);
      const set = multiIndices(d, g);
      // Σ_{|α|=t} t!/α! = dᵗ (multinomial theorem at x = 1).
      const sums = new Float64Array(g + 1);
      for (let m = 0; m < set.size; m++) sums[set.degree[m]] += set.multinomial[m];
      const multOk = Array.from(sums).every((s, t) => s === d ** t);
      return holdsAll(
        { 'count = C(d+g, g)': count === rank(d, g), 'enumeration has no duplicates': set.size === count, 'multinomial coefficients': multOk },
        `count ${count}, rank ${rank(d, g)}, enumerated ${set.size}`,
      );
    },
  }),
  law({
    id: 'low-rank.features-certified-p-keeps-a-eq',
    name: 'features: certified P keeps Ã = U1 U2ᵀ > 0 on the logit range',
    cites: 'docs/math.md §5–6 (E1 needs Ã > 0)',
    arbitrary: fc.tuple(betaArb, epsArb, fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 32, maxLength: 32 })),
    numRuns: 40,
    check: ([beta, eps, us]) => {
      const p = certifiedExpPolynomial(beta, eps);
      if (!p) return holds(true);
      return holds(
        us.every((u) => evaluatePolynomial(p.coefficients, u * beta) > 0),
        `P ≤ 0 somewhere on [−${beta}, ${beta}]`,
      );
    },
  }),
  law({
    id: 'low-rank.attention-prefix-sum-block',
    name: 'low-rank attention: prefix-sum block-causal = dense low-rank per allowed prefix',
    cites: 'docs/math.md §5 (block-causal variant)',
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
    id: 'low-rank.attention-error-vs-exact',
    name: 'low-rank attention: error vs exact ≤ sharp E1 ½‖p̃ − p‖₁(ε_P)·(max V − min V) for the polynomial used',
    cites: 'docs/math.md §6 E1 + E5',
    arbitrary: fc
      .record({ L: fc.integer({ min: 1, max: 24 }), d: fc.integer({ min: 1, max: 4 }), B: fc.double({ min: 0.1, max: 1.5, noNaN: true }), g: fc.integer({ min: 1, max: 8 }), kind: kindArb })
      .chain((c) => fc.tuple(fc.constant(c), matrixArb(c.L, c.d, c.B), matrixArb(c.L, c.d, c.B), matrixArb(c.L, 2, c.B))),
    check: ([c, q, k, v]) => {
      const input = attentionInput(q, k, v);
      const p = poly(c.kind, c.d * (1 / c.d) * c.B * c.B, c.g);
      if (!(p.relativeError < 1)) return holds(true);
      const err = maxAbsDiff(lowRankAttention(input, p).data, attention(input).data);
      const vInf = Math.max(...Array.from(v.data, Math.abs));
      // β ≤ 2.25 here: the float64 rounding (≤ γ·e^{2β}) stays inside the roundoff allowance.
      return { error: err, bound: 0.5 * e1L1Bound(p.relativeError) * Math.max(...columnRanges(v)) + roundoff(64 * (c.L + 10) * Math.exp(2 * c.B * c.B), vInf) };
    },
  }),
  law({
    id: 'low-rank.certificate-on-adversarial-rows-query-b',
    name: 'certificate: on adversarial rows (query +b, keys ≈ −b, alternating values) and random inputs, β ≤ 36, the float64 spec is within its declared bound or declines',
    cites: 'docs/math.md §8',
    arbitrary: fc.tuple(adversarialArb(), fc.constantFrom(1e-2, 1e-3, 1e-4)),
    numRuns: 150,
    check: ([c, delta]) => {
      let bound: number;
      try {
        bound = declaredLowRankBound(delta, 'float64')(c.input);
      } catch (e) {
        return holds(e instanceof RangeArgumentError, `threw ${String(e)}`);
      }
      if (!(bound <= delta)) return { error: bound, bound: delta, detail: 'accepted with a bound above δ' };
      const err = maxAbsDiff(certifiedLowRankAttention(c.input, delta).data, attention(c.input).data);
      return { error: err, bound, detail: `${c.structure}, β = ${c.beta}, δ = ${delta}` };
    },
  }),
  law({
    id: 'low-rank.certificate-the-float32-rounding-term-is',
    name: 'certificate: the float32 rounding term is reached — the worst of 9 adversarial-row variants makes a float32 evaluation err ≥ 1/50,000 of it',
    cites: 'docs/math.md §8 (witness)',
    arbitrary: fc.record({ beta: fc.double({ min: 1, max: 3, noNaN: true }), L: fc.integer({ min: 2, max: 24 }), g: fc.integer({ min: 6, max: 14 }), seed: fc.integer({ min: 1, max: 1e6 }) }),
    numRuns: 40,
    check: ({ beta, L, g, seed }) => {
      const b = Math.sqrt(beta);
      // certified on [−β′, β′] with β′ just above the rows' rounded-up β_i
      const p = taylorPolynomial(beta * (1 + 1e-9), Math.max(g, taylorDegree(beta * (1 + 1e-9), 0.1) ?? g));
      const rand = mulberry32(seed);
      let worst = { ratio: Infinity, term: 0, measured: 0 };
      for (const spread of [0.001, 0.3, 1])
        for (const values of ['alternating', 'one-zero', 'random']) {
          const k = matrix(
            L,
            1,
            Array.from({ length: L }, () => -b * (1 - spread * rand())),
          );
          const v = matrix(
            L,
            1,
            Array.from({ length: L }, (_, j) => (values === 'alternating' ? (j % 2 ? 1 : -1) : values === 'one-zero' ? j % 2 : 2 * rand() - 1)),
          );
          const x = attentionInput(matrix(1, 1, [b]), k, v);
          const cert = lowRankCertificate(x, p, { ...FLOAT32_GPUJS, clamps: false });
          if (!Number.isFinite(cert.roundingTerm)) return holds(false, `rounding term not finite at β = ${beta}, g = ${g}`);
          const measured = maxAbsDiff(lowRankFloat32(x, p).data, lowRankAttention(x, p).data);
          // The float64 formula is exact to ~1e-16·e^{2β} ≪ the float32 differences measured here.
          if (!(measured <= cert.roundingTerm)) return { error: measured, bound: cert.roundingTerm, detail: 'float32 rounding above its certified term' };
          if (cert.roundingTerm / measured < worst.ratio) worst = { ratio: cert.roundingTerm / measured, term: cert.roundingTerm, measured };
        }
      return { error: worst.term, bound: 50_000 * worst.measured, detail: `β = ${beta}, L = ${L}, g = ${g}: term ${worst.term}, measured ${worst.measured}` };
    },
  }),
];
