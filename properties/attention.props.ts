/**
 * Properties of the reference attention (docs/math.md §3, §6 E4) and of the block-causal mask (§2).
 * @module
 */
import * as fc from 'fast-check';
import { attention, attentionInput, attentionWeights, blockCausalMask, keyLimits, levelOf, matrix, maxAbs, maxAbsDiff, NO_MASK, type AttentionInput, type Matrix } from '../spec/index.js';
import { attentionInputArb, matrixArb, pyramidArb } from './arbitraries.js';
import { law, roundoff, type Law } from './law.js';
import { withRowShifts } from './battery/attention.js';

/** Rounding allowance for a softmax-weighted average over L keys of values bounded by ‖V‖∞. */
function averagingSlack(L: number, vmax: number, logitMax = 0): number {
  return roundoff(8 * (L + 4 + logitMax), vmax);
}

function logitMax(x: AttentionInput): number {
  return x.scale * x.q.cols * maxAbs(x.q.data) * maxAbs(x.k.data);
}

/** Rows perm[0], perm[1], … of m (a permutation, or any selection of rows). */
function permuteRows(m: Matrix, perm: readonly number[]): Matrix {
  const out = matrix(perm.length, m.cols);
  perm.forEach((src, dst) => out.data.set(m.data.subarray(src * m.cols, (src + 1) * m.cols), dst * m.cols));
  return out;
}

/** A random permutation of 0..rows−1 that keeps every token inside its own scale block. */
function blockPermutation(x: AttentionInput, rows: number, keys: number[]): number[] {
  const blocks = x.mask.kind === 'block-causal' ? x.mask.blocks : [rows];
  const perm: number[] = [];
  let off = 0;
  let r = 0;
  for (const b of blocks) {
    const idx = Array.from({ length: b }, (_, i) => off + i);
    for (let i = b - 1; i > 0; i--) {
      const j = keys[r++ % keys.length] % (i + 1);
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    perm.push(...idx);
    off += b;
  }
  return perm;
}

const withShuffle = fc.tuple(attentionInputArb(), fc.array(fc.nat(), { minLength: 1, maxLength: 64 }));

/** Laws of Att (docs/math.md §3, §6 E4) and the block-causal mask (docs/math.md §2). */
export const attentionLaws: Law<unknown>[] = [
  law({
    id: 'attention.weights',
    name: 'attention: row i is attentionWeights(i)·V; the weights are ≥ 0, sum to 1 and vanish on masked keys',
    cites: 'docs/math.md §3 (Att = D⁻¹AV)',
    arbitrary: attentionInputArb({ B: 3 }),
    check: (x) => {
      const out = attention(x);
      const limits = keyLimits(x.mask, x.q.rows, x.k.rows);
      let err = 0;
      for (let i = 0; i < x.q.rows; i++) {
        const w = attentionWeights(x, i);
        let sum = 0;
        for (let j = 0; j < w.length; j++) {
          sum += w[j];
          err = Math.max(err, -w[j], j >= limits[i] ? Math.abs(w[j]) : 0);
        }
        err = Math.max(err, Math.abs(sum - 1));
        for (let c = 0; c < x.v.cols; c++) {
          let acc = 0;
          for (let j = 0; j < w.length; j++) acc += w[j] * x.v.data[j * x.v.cols + c];
          err = Math.max(err, Math.abs(acc - out.data[i * x.v.cols + c]));
        }
      }
      return { error: err, bound: averagingSlack(x.k.rows, Math.max(1, maxAbs(x.v.data)), logitMax(x)) };
    },
  }),
  law({
    id: 'attention.rows-are-stochastic-v-eq',
    name: 'attention: rows are stochastic (V = I gives weights ≥ 0 summing to 1)',
    cites: 'docs/math.md §3',
    arbitrary: attentionInputArb({ maxDv: 1 }),
    check: (x) => {
      const L = x.k.rows;
      const eye = matrix(L, L);
      for (let i = 0; i < L; i++) eye.data[i * L + i] = 1;
      const p = attention({ ...x, v: eye });
      let err = 0;
      for (let i = 0; i < p.rows; i++) {
        let s = 0;
        for (let j = 0; j < L; j++) {
          const w = p.data[i * L + j];
          if (w < 0) err = Math.max(err, -w);
          s += w;
        }
        err = Math.max(err, Math.abs(s - 1));
      }
      return { error: err, bound: averagingSlack(L, 1) };
    },
  }),
  law({
    id: 'attention.e4-range-min-v-le',
    name: 'attention: E4 range, min V ≤ Att ≤ max V per column',
    cites: 'docs/math.md §6 E4',
    arbitrary: attentionInputArb(),
    check: (x) => {
      const out = attention(x);
      const dv = x.v.cols;
      let err = 0;
      for (let c = 0; c < dv; c++) {
        let lo = Infinity;
        let hi = -Infinity;
        for (let j = 0; j < x.v.rows; j++) {
          lo = Math.min(lo, x.v.data[j * dv + c]);
          hi = Math.max(hi, x.v.data[j * dv + c]);
        }
        for (let i = 0; i < out.rows; i++) {
          const o = out.data[i * dv + c];
          err = Math.max(err, o - hi, lo - o);
        }
      }
      return { error: Math.max(0, err), bound: averagingSlack(x.k.rows, maxAbs(x.v.data)) };
    },
  }),
  law({
    id: 'attention.invariant-under-a-per-row',
    name: 'attention: invariant under a per-row logit shift',
    cites: 'docs/math.md §3 (softmax shift invariance)',
    arbitrary: fc.tuple(attentionInputArb(), fc.array(fc.double({ min: -20, max: 20, noNaN: true }), { minLength: 64, maxLength: 64 })),
    check: ([x, shifts]) => {
      const a = attention(x);
      const b = attention(withRowShifts(x, shifts));
      const shiftMax = Math.max(...shifts.map(Math.abs));
      return { error: maxAbsDiff(a.data, b.data), bound: averagingSlack(x.k.rows, maxAbs(x.v.data), 2 * (logitMax(x) + shiftMax) * x.k.rows) };
    },
  }),
  law({
    id: 'attention.equivariant-under-permuting-queries-within',
    name: 'attention: equivariant under permuting queries (within scales when masked)',
    cites: 'docs/math.md §3',
    arbitrary: withShuffle,
    check: ([x, keys]) => {
      const perm = blockPermutation(x, x.q.rows, keys);
      const permuted = attention({ ...x, q: permuteRows(x.q, perm) });
      return { error: maxAbsDiff(permuted.data, permuteRows(attention(x), perm).data), bound: 0 };
    },
  }),
  law({
    id: 'attention.invariant-under-permuting-keys-and',
    name: 'attention: invariant under permuting keys and values together (within scales when masked)',
    cites: 'docs/math.md §3',
    arbitrary: withShuffle,
    check: ([x, keys]) => {
      const perm = blockPermutation(x, x.k.rows, keys);
      const a = attention(x);
      const b = attention({ ...x, k: permuteRows(x.k, perm), v: permuteRows(x.v, perm) });
      return { error: maxAbsDiff(a.data, b.data), bound: averagingSlack(x.k.rows, maxAbs(x.v.data), logitMax(x)) };
    },
  }),
  law({
    id: 'attention.a-masked-row-equals-unmasked',
    name: 'attention: a masked row equals unmasked attention over its allowed keys',
    cites: 'docs/math.md §2 (allowed(i, j) ⇔ level(i) ≥ level(j)), §3',
    arbitrary: pyramidArb(4, 3).chain((p) => fc.tuple(fc.constant(p), matrixArb(p.L, 3, 2), matrixArb(p.L, 3, 2), matrixArb(p.L, 2, 2), fc.integer({ min: 0, max: p.L - 1 }))),
    check: ([p, q, k, v, i]) => {
      const masked = attention(attentionInput(q, k, v, { mask: blockCausalMask(p) }));
      const keep = Array.from({ length: p.L }, (_, j) => j).filter((j) => levelOf(p.blocks, i) >= levelOf(p.blocks, j));
      const row = attention(attentionInput(permuteRows(q, [i]), permuteRows(k, keep), permuteRows(v, keep), { scale: 1 / 3, mask: NO_MASK }));
      return { error: maxAbsDiff(row.data, masked.data.subarray(i * 2, i * 2 + 2)), bound: averagingSlack(p.L, 2, 6) };
    },
  }),
];
