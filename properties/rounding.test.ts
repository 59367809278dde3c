/**
 * The float tolerance floor (`attentionRoundingBound`, docs/math.md §8 "Exact attention in floating
 * point") against the implementation its model must cover at its worst: float32 online softmax with
 * one rescale per key, logits that raise the running maximum at every key, and an exp whose error
 * is the declared ε_exp in the most harmful direction (rescale factors too small, weights too large).
 * The rescale errors multiply only the keys seen before them, so they do not cancel in the ratio.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { attention, attentionInput } from '../spec/attention.js';
import { matrix } from '../spec/matrix.js';
import { attentionRoundingBound, FLOAT32 } from '../spec/rounding.js';

const f = Math.fround;

/** Float32 per-key online softmax of one query row, logits `z`; every exp is off by ε_exp (rescales down, weights up). */
function onlineSoftmax32(z: ArrayLike<number>, v: ArrayLike<number>, epsExp: number): number {
  let m = -Infinity;
  let l = 0;
  let o = 0;
  for (let j = 0; j < z.length; j++) {
    const zj = f(z[j]);
    if (zj > m) {
      const alpha = m === -Infinity ? 0 : f(Math.exp(f(m - zj)) * (1 - epsExp));
      l = f(l * alpha);
      o = f(o * alpha);
      m = zj;
    }
    const p = f(Math.exp(f(zj - m)) * (1 + epsExp));
    l = f(l + p);
    o = f(o + f(p * f(v[j])));
  }
  return f(o / l);
}

/** Float32 online softmax over tiles of `tile` keys (one rescale per tile, computed even when the maximum stays), exp off by ε_exp. */
function tiledSoftmax32(z: ArrayLike<number>, v: ArrayLike<number>, epsExp: number, tile: number): number {
  let m = -Infinity;
  let l = 0;
  let o = 0;
  for (let j0 = 0; j0 < z.length; j0 += tile) {
    const end = Math.min(z.length, j0 + tile);
    let mt = m;
    for (let j = j0; j < end; j++) mt = Math.max(mt, f(z[j]));
    const alpha = m === -Infinity ? 0 : f(Math.exp(f(m - mt)) * (1 - epsExp));
    l = f(l * alpha);
    o = f(o * alpha);
    for (let j = j0; j < end; j++) {
      const p = f(Math.exp(f(f(z[j]) - mt)) * (1 + epsExp));
      l = f(l + p);
      o = f(o + f(p * f(v[j])));
    }
    m = mt;
  }
  return f(o / l);
}

/** The rising-logits input of length n (q = [β], k_j = j/n, v = +1 before `cut`, −1 after) and its float32 logits. */
function risingInput(n: number, beta: number, cut: number) {
  const k = matrix(
    n,
    1,
    Float64Array.from({ length: n }, (_, j) => f(j / n)),
  );
  const v = matrix(
    n,
    1,
    Float64Array.from({ length: n }, (_, j) => (j < Math.min(cut, n - 1) ? 1 : -1)),
  );
  const input = attentionInput(matrix(1, 1, [f(beta)]), k, v, { scale: 1 });
  const z = Float64Array.from({ length: n }, (_, j) => f(f(beta) * k.data[j]));
  return { input, z, v: v.data };
}

/** Arbitraries of a rising-logits case: n keys, ε_exp log-uniform from 4u (libm quality) to 1e-3, β, the sign cut of V. */
const risingCase = [
  fc.integer({ min: 2, max: 3000 }),
  fc.double({ min: 0, max: Math.log10(1e-3 / (4 * 2 ** -24)), noNaN: true }).map((t) => 4 * 2 ** -24 * 10 ** t),
  fc.double({ min: 0, max: 8, noNaN: true }),
  fc.integer({ min: 1, max: 2999 }),
] as const;

describe('attentionRoundingBound covers online softmax with an inexact exp', () => {
  it('rising logits (one rescale per key), exp off by ε_exp: |float32 − float64| ≤ the floor', () => {
    fc.assert(
      fc.property(...risingCase, (n, epsExp, beta, cut) => {
        // q = [β], k_j = j/n: logits rise from 0 to β·(n − 1)/n, each a new running maximum.
        const { input, z, v } = risingInput(n, beta, cut);
        const got = onlineSoftmax32(z, v, epsExp);
        const want = attention(input).data[0];
        const bound = attentionRoundingBound(input, { ...FLOAT32, expRelativeError: epsExp });
        expect(Math.abs(got - want)).toBeLessThanOrEqual(bound);
      }),
    );
  });
  it('tiles of b keys, declared { keysPerRescale: b, extra: 0 }: within the declared floor; declaring none undercounts and fails', () => {
    let undercountFailed = false;
    fc.assert(
      fc.property(...risingCase, fc.integer({ min: 1, max: 64 }), (n, epsExp, beta, cut, tile) => {
        const { input, z, v } = risingInput(n, beta, cut);
        const err = Math.abs(tiledSoftmax32(z, v, epsExp, tile) - attention(input).data[0]);
        const rescales = { keysPerRescale: tile, extra: 0 };
        expect(err).toBeLessThanOrEqual(attentionRoundingBound(input, { ...FLOAT32, expRelativeError: epsExp, rescales }));
        if (err > attentionRoundingBound(input, { ...FLOAT32, expRelativeError: epsExp, rescales: 'none' })) undercountFailed = true;
      }),
      { numRuns: 200 },
    );
    // The declaration matters: the same implementations exceed the floor of a kernel claiming no rescales.
    expect(undercountFailed).toBe(true);
  });
});
