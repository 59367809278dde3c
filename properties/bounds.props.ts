/**
 * Error propagation (MATH.md §6): E1 and E2 on random instances, and the composed bound of
 * the fast VAR pipeline (every attention low-rank) against the exact pipeline.
 * @module
 */
import * as fc from 'fast-check';
import {
  attention, blockCausalMask, decode, decoderErrorBound, decoderLite, e1Bound, e2Bound, keyLimits, logitPerturbation, matrix,
  maxAbs, maxAbsDiff, pipelineErrorBound, transformer, varGenerate, varModel, type AttentionFn, type AttentionInput, type LayerNorms, type Matrix,
} from '../spec/index.js';
import { certifiedLowRankAttention } from '../spec/certificate.js';
import { e1L1Bound, e2L1Bound } from '../spec/bounds.js';
import { attentionInputArb, pyramidArb } from './arbitraries.js';
import { law, roundoff, type Law } from './law.js';

/** D̃⁻¹ÃV with Ã = A ∘ (1 + E), E given per entry (|E| ≤ ε), on the allowed keys. */
function perturbedAttention(x: AttentionInput, e: (i: number, j: number) => number): Matrix {
  const limits = keyLimits(x.mask, x.q.rows, x.k.rows);
  const d = x.q.cols;
  const dv = x.v.cols;
  const out = matrix(x.q.rows, dv);
  for (let i = 0; i < x.q.rows; i++) {
    const logits: number[] = [];
    for (let j = 0; j < limits[i]; j++) {
      let dot = 0;
      for (let t = 0; t < d; t++) dot += x.q.data[i * d + t] * x.k.data[j * d + t];
      logits.push(x.scale * dot);
    }
    const mx = Math.max(...logits);
    let den = 0;
    logits.forEach((z, j) => {
      const a = Math.exp(z - mx) * (1 + e(i, j));
      den += a;
      for (let c = 0; c < dv; c++) out.data[i * dv + c] += a * x.v.data[j * dv + c];
    });
    for (let c = 0; c < dv; c++) out.data[i * dv + c] /= den;
  }
  return out;
}

function perturb(m: Matrix, by: readonly number[], size: number): Matrix {
  return { ...m, data: m.data.map((x, k) => x + size * by[k % by.length]) };
}

/** Records the sup-norms of Q, K, V of each attention call (layer l = call l). */
function recordingAttention(norms: LayerNorms[]): AttentionFn {
  return (input) => {
    norms.push({ q: maxAbs(input.q.data), k: maxAbs(input.k.data), v: maxAbs(input.v.data) });
    return attention(input);
  };
}

/** Laws of MATH.md §6. */
export const boundLaws: Law<unknown>[] = [
  law({
    name: 'E1: |Ã − A| ≤ εA ⇒ ‖D̃⁻¹ÃV − D⁻¹AV‖∞ ≤ 2(√a−1)/(√a+1)·‖V‖∞, a = (1+ε)/(1−ε) (sharp)',
    cites: 'docs/math.md §6 E1',
    arbitrary: fc.tuple(attentionInputArb(), fc.double({ min: 0, max: 0.9, noNaN: true }), fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 1, maxLength: 97 })),
    check: ([x, eps, signs]) => {
      const got = perturbedAttention(x, (i, j) => eps * signs[(i * 31 + j) % signs.length]);
      const vInf = maxAbs(x.v.data);
      return { error: maxAbsDiff(got.data, attention(x).data), bound: e1Bound(eps, vInf) + roundoff(16 * (x.k.rows + 4), vInf) };
    },
  }),
  law({
    name: 'E2: logits moved by ≤ η ⇒ ‖Att′ − Att‖∞ ≤ 2tanh(η/2)‖V‖∞ + ‖V′ − V‖∞ (sharp)',
    cites: 'docs/math.md §6 E2',
    arbitrary: fc.tuple(
      attentionInputArb(),
      fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 1, maxLength: 61 }),
      fc.double({ min: 0, max: 0.5, noNaN: true }),
      fc.double({ min: 0, max: 0.5, noNaN: true }),
      fc.double({ min: 0, max: 0.5, noNaN: true }),
    ),
    check: ([x, dir, sq, sk, sv]) => {
      const q2 = perturb(x.q, dir, sq);
      const k2 = perturb(x.k, dir.slice().reverse(), sk);
      const v2 = perturb(x.v, dir, sv);
      const y = { ...x, q: q2, k: k2, v: v2 };
      const eta = logitPerturbation(x.scale, x.q.cols, maxAbsDiff(q2.data, x.q.data), maxAbs(x.k.data), maxAbs(q2.data), maxAbsDiff(k2.data, x.k.data));
      const vInf = maxAbs(x.v.data);
      return { error: maxAbsDiff(attention(y).data, attention(x).data), bound: e2Bound(eta, vInf, maxAbsDiff(v2.data, x.v.data)) + roundoff(32 * (x.k.rows + 4), vInf + sv) };
    },
  }),
  law({
    name: 'E1 is attained: weights ×(1+ε) on a key of mass 1/(1+√a), ×(1−ε) on the other, reach ≥ 1/4 of the sharp bound and never exceed it',
    cites: 'docs/math.md §6 (sharp forms)',
    arbitrary: fc.tuple(fc.double({ min: 1e-6, max: 0.95, noNaN: true }), fc.double({ min: 0.1, max: 10, noNaN: true })),
    check: ([eps, span]) => {
      const a = (1 + eps) / (1 - eps);
      const m = 1 / (1 + Math.sqrt(a));
      // Two keys with softmax masses m and 1 − m; values 0 and `span`.
      const x = { q: matrix(1, 1, [1]), k: matrix(2, 1, [Math.log(m / (1 - m)), 0]), v: matrix(2, 1, [span, 0]), scale: 1, mask: { kind: 'none' as const } };
      const err = maxAbsDiff(perturbedAttention(x, (_, j) => (j === 0 ? eps : -eps)).data, attention(x).data);
      const bound = 0.5 * e1L1Bound(eps) * span;
      // Two-sided: the extreme never exceeds the bound (it is the sup), and reaches ≥ 1/4 of it.
      if (!(err <= bound + roundoff(16, span))) return { error: err, bound: bound + roundoff(16, span), detail: `ε = ${eps}: the extreme exceeds the bound` };
      return { error: bound, bound: 4 * err, detail: `ε = ${eps}: bound ${bound}, attained ${err}` };
    },
  }),
  law({
    name: 'E2 is attained: logits +η on a key of mass 1/(1+e^η), −η on the other, reach ≥ 1/4 of 2tanh(η/2)‖V‖∞ and never exceed it',
    cites: 'docs/math.md §6 (sharp forms)',
    arbitrary: fc.tuple(fc.double({ min: 1e-6, max: 20, noNaN: true }), fc.double({ min: 0.1, max: 10, noNaN: true })),
    check: ([eta, vInf]) => {
      const m = 1 / (1 + Math.exp(eta));
      const z = Math.log(m / (1 - m));
      const x = { q: matrix(1, 1, [1]), k: matrix(2, 1, [z, 0]), v: matrix(2, 1, [vInf, -vInf]), scale: 1, mask: { kind: 'none' as const } };
      const y = { ...x, k: matrix(2, 1, [z + eta, -eta]) };
      const err = maxAbsDiff(attention(y).data, attention(x).data);
      const bound = e2Bound(eta, vInf, 0);
      if (!(err <= bound + roundoff(32, vInf))) return { error: err, bound: bound + roundoff(32, vInf), detail: `η = ${eta}: the extreme exceeds the bound` };
      return { error: bound, bound: 4 * err, detail: `η = ${eta}: bound ${bound} (ℓ1 ${e2L1Bound(eta)}), attained ${err}` };
    },
  }),
  law({
    name: 'composition: fast VAR pipeline (all attention low-rank) within the composed bound of the exact one, Phase 2 and Phase 3',
    cites: 'MATH.md §6 (composition), §7',
    arbitrary: fc.tuple(pyramidArb(4, 4), fc.integer({ min: 1, max: 100_000 }), fc.constantFrom(1e-2, 1e-3, 1e-5)),
    check: ([p, seed, delta]) => {
      const model = varModel(p, { D: 4, layers: 2, seed });
      const exact = varGenerate(model);
      const fast = varGenerate(model, { attend: (input) => certifiedLowRankAttention(input, delta) });
      const norms: LayerNorms[] = [];
      transformer(exact.inputs, model.layers, blockCausalMask(p), recordingAttention(norms));
      const bound = pipelineErrorBound(model, norms, () => delta);
      const dec = decoderLite(model.c, 4, seed + 1);
      const decNorms: LayerNorms[] = [];
      const imgExact = decode(exact.fhat, dec, recordingAttention(decNorms));
      const imgFast = decode(fast.fhat, dec, (input) => certifiedLowRankAttention(input, delta));
      const decBound = decoderErrorBound(bound.fhat, dec, decNorms[0], () => delta);
      const errF = maxAbsDiff(fast.fhat.data, exact.fhat.data);
      const errImg = maxAbsDiff(imgFast.data, imgExact.data);
      // Report the tighter of the two stages by ratio; both must hold.
      const slack = roundoff(1e4, maxAbs(exact.fhat.data) + maxAbs(imgExact.data));
      const stages = [{ error: errF, bound: bound.fhat + slack }, { error: errImg, bound: decBound + slack }];
      return stages.reduce((w, s) => (s.error / s.bound > w.error / w.bound ? s : w));
    },
    numRuns: 100,
  }),
];
