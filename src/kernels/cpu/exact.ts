/**
 * `cpu/exact`: exact float64 softmax attention, fast on one core. Block-causal inputs only
 * touch the allowed key prefix of each query (Σ_k h_k w_k L_k pairs, docs/math.md §4); queries are
 * processed in tiles that share each key row while it is in cache; no L×L buffer.
 * @module
 */
import { checkAttentionInput, type AttentionInput } from '../../../spec/attention.js';
import { NonFiniteError } from '../../../spec/errors.js';
import { keyLimits } from '../../../spec/mask.js';
import { matrix, type Matrix } from '../../../spec/matrix.js';
import type { AttentionKernel } from '../../../spec/contract.js';

const TILE = 16;

/**
 * Exact attention in float64 with the row-max shift, in tiles of 16 queries:
 * pass 1 computes the tile's logits key by key (K read once per tile), pass 2 exponentiates
 * and accumulates P·V.
 */
export function exactAttentionCpu(input: AttentionInput): Matrix {
  const { q, k, v, scale, mask } = checkAttentionInput(input);
  const d = q.cols;
  const dv = v.cols;
  const Lq = q.rows;
  const limits = keyLimits(mask, Lq, k.rows);
  const out = matrix(Lq, dv);
  const maxLim = Math.max(...limits);
  const logits = new Float64Array(TILE * maxLim);
  const qd = q.data;
  const kd = k.data;
  const vd = v.data;
  for (let i0 = 0; i0 < Lq; i0 += TILE) {
    const i1 = Math.min(Lq, i0 + TILE);
    let tileLim = 0;
    for (let i = i0; i < i1; i++) tileLim = Math.max(tileLim, limits[i]);
    // pass 1: logits (the tile's rows may have different limits; compute up to the max)
    for (let j = 0; j < tileLim; j++) {
      const ko = j * d;
      for (let i = i0; i < i1; i++) {
        const qo = i * d;
        let dot = 0;
        for (let t = 0; t < d; t++) dot += qd[qo + t] * kd[ko + t];
        logits[(i - i0) * maxLim + j] = scale * dot;
      }
    }
    // pass 2: per row, shift, exponentiate, accumulate
    for (let i = i0; i < i1; i++) {
      const lo = (i - i0) * maxLim;
      const lim = limits[i];
      let rowMax = -Infinity;
      for (let j = 0; j < lim; j++) if (logits[lo + j] > rowMax) rowMax = logits[lo + j];
      if (!Number.isFinite(rowMax)) throw new NonFiniteError('input', `row ${i}: a logit overflows; rescale q or k`);
      let denom = 0;
      const oo = i * dv;
      for (let j = 0; j < lim; j++) {
        const p = Math.exp(logits[lo + j] - rowMax);
        denom += p;
        const vo = j * dv;
        for (let c = 0; c < dv; c++) out.data[oo + c] += p * vd[vo + c];
      }
      for (let c = 0; c < dv; c++) out.data[oo + c] /= denom;
    }
  }
  return out;
}

/** The `cpu/exact` kernel. */
export const cpuExact: AttentionKernel = {
  name: 'cpu/exact',
  op: 'attention',
  exact: true,
  masks: ['none', 'block-causal'],
  precision: 'float64',
  run: exactAttentionCpu,
};
