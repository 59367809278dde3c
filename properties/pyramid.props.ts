/**
 * Properties of the scale pyramid and its exact attention cost (docs/math.md §2, §4).
 * @module
 */
import * as fc from 'fast-check';
import { allowed, attentionPairCounts, blockCausalMask, levelOf } from '../spec/index.js';
import { rectPyramidArb } from './arbitraries.js';
import { holds, holdsAll, law, type Law } from './law.js';

/** Laws of the pyramid (docs/math.md §2, §4). */
export const pyramidLaws: Law<unknown>[] = [
  law({
    id: 'pyramid.kv-cache-pair-count-eq',
    name: 'pyramid: KV-cache pair count = #{(i, j) : level(i) ≥ level(j)}',
    cites: 'docs/math.md §4 (Σ_k h_k w_k L_k)',
    arbitrary: rectPyramidArb(5, 4),
    check: (p) => {
      const mask = blockCausalMask(p);
      let pairs = 0;
      for (let i = 0; i < p.L; i++) for (let j = 0; j < p.L; j++) if (allowed(mask, i, j)) pairs++;
      const { kvCache } = attentionPairCounts(p);
      return holds(pairs === kvCache, `brute force ${pairs} ≠ formula ${kvCache}`);
    },
  }),
  law({
    id: 'pyramid.recompute-pair-count-eq-k',
    name: 'pyramid: recompute pair count = Σ_k L_k², L_k = Σ_{i≤k} h_i w_i',
    cites: 'docs/math.md §2, §4',
    arbitrary: rectPyramidArb(6, 5),
    check: (p) => {
      let sum = 0;
      let Lk = 0;
      p.heights.forEach((h, k) => {
        Lk += h * p.widths[k];
        sum += Lk * Lk;
      });
      return holdsAll({ 'Σ L_k² = recompute pair count': sum === attentionPairCounts(p).recompute, 'L_K = L': Lk === p.L }, `Σ L_k² = ${sum}, L = ${Lk}`);
    },
  }),
  law({
    id: 'pyramid.level-t-is-the-scale',
    name: 'pyramid: level(t) is the scale whose block contains t',
    cites: 'docs/math.md §2',
    arbitrary: rectPyramidArb(6, 5).chain((p) => fc.tuple(fc.constant(p), fc.integer({ min: 0, max: p.L - 1 }))),
    check: ([p, t]) => {
      const k = levelOf(p.blocks, t);
      const start = k === 0 ? 0 : p.cumulative[k - 1];
      return holdsAll({ "token at or after its scale's start": start <= t, "token before its scale's end": t < p.cumulative[k] }, `token ${t} placed at scale ${k}`);
    },
  }),
];
