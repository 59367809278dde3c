/**
 * Runs the low-rank, error-bound and threshold laws (properties/index.ts) through
 * @fast-check/vitest, pins the criteria to figures typed in from docs/math.md §5, and checks the
 * certificate's one-row-per-key-count shortcut against every row.
 */
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { columnRanges } from '../spec/bounds.js';
import { chunkedFloat32Profile, featureMagnitudes, FLOAT32_GPUJS, FLOAT64_CPU, lowRankCertificate, rowBetas, rowBound } from '../spec/certificate.js';
import { criteria, rank } from '../spec/index.js';
import { keyLimits } from '../spec/mask.js';
import { maxAbs, type Matrix } from '../spec/matrix.js';
import { chebyshevPolynomial, taylorPolynomial } from '../spec/polynomial.js';
import { lowRankAttention } from '../spec/low-rank.js';
import { lowRankAttentionCpu } from '../src/kernels/cpu/low-rank.js';
import { attentionInputArb } from './arbitraries.js';
import { lowRankSpecLaws } from './index.js';
import { describeLaws } from './vitest.js';

describeLaws('low-rank battery', lowRankSpecLaws);

describe('rank in practice (docs/math.md §5 table)', () => {
  it('d=4: g=4→70, g=6→210, g=8→495; d=8: g=4→495, g=6→3003; d=16: g=4→4845', () => {
    expect([rank(4, 4), rank(4, 6), rank(4, 8), rank(8, 4), rank(8, 6), rank(16, 4)]).toEqual([70, 210, 495, 495, 3003, 4845]);
  });
  it('VAR-256, d = 64: g = 2 already gives r = 2145 > L = 680', () => {
    expect(rank(64, 2)).toBe(2145);
    const c = criteria({ pyramid: 'var-256', d: 64, B: 1, delta: 1e-3 });
    expect(c.L).toBe(680);
    expect(c.exactPairs).toBe(286_434);
    expect(c.degree).toBeGreaterThanOrEqual(2);
    expect(c.rank).toBeGreaterThan(680);
    expect(c.provablyEfficient).toBe(false);
  });
});

describe('certificate maxima (docs/math.md §8)', () => {
  // lowRankCertificate evaluates one row per distinct key count (worstRows): its totals must be the
  // maxima of rowBound over every row and column, for float64 and float32 arithmetic, Taylor and Chebyshev.
  it('equal the per-row maxima of rowBound over all rows and columns', () => {
    const profiles = [FLOAT64_CPU, FLOAT32_GPUJS, chunkedFloat32Profile(4), chunkedFloat32Profile(8, 16)];
    fc.assert(
      fc.property(
        attentionInputArb({ B: 1.5, maxD: 3, maxDv: 3, maxL: 20 }),
        fc.constantFrom(...profiles),
        fc.constantFrom('taylor', 'chebyshev'),
        fc.integer({ min: 1, max: 9 }),
        (x, profile, kind, g) => {
          const betas = rowBetas(x);
          const beta = Math.max(1e-3, ...betas) * (1 + 1e-9);
          const poly = kind === 'taylor' ? taylorPolynomial(beta, g) : chebyshevPolynomial(beta, g);
          const cert = lowRankCertificate(x, poly, profile);
          const limits = keyLimits(x.mask, x.q.rows, x.k.rows);
          const blocks = x.mask.kind === 'block-causal' ? x.mask.blocks.length : 1;
          const ranges = columnRanges(x.v);
          const { gq, gk } = featureMagnitudes(poly, x.q.cols, x.scale, maxAbs(x.q.data), maxAbs(x.k.data));
          let total = 0;
          let poly1 = 0;
          let round1 = 0;
          for (let i = 0; i < x.q.rows; i++)
            for (let c = 0; c < x.v.cols; c++) {
              let vmax = 0;
              for (let j = 0; j < x.v.rows; j++) vmax = Math.max(vmax, Math.abs(x.v.data[j * x.v.cols + c]));
              const rb = rowBound(profile, poly, { beta: betas[i], n: limits[i], blocks, gq, gk }, ranges[c], vmax, cert.rank);
              total = Math.max(total, rb.total);
              poly1 = Math.max(poly1, rb.polynomialTerm);
              round1 = Math.max(round1, rb.roundingTerm);
            }
          if (Number.isFinite(cert.rho) && cert.rho < 1) expect(cert.bound).toBe(total);
          expect(cert.polynomialTerm).toBe(poly1);
          expect(cert.roundingTerm).toBe(round1);
        },
      ),
    );
  });
});

describe('cpu/low-rank is the spec, bit for bit (src/kernels/cpu/low-rank.ts)', () => {
  // lowRankAttentionCpu streams feature rows through S in fused passes of four value columns plus
  // the ones column; its doc promises the spec's float64 operations in the spec's order. So every
  // output equals spec lowRankAttention's exactly (=== : ±0 aside, which the spec's skip of zero
  // features may flip), for both factorisations (Taylor: symmetric; Chebyshev: asymmetric), and
  // d_v on both sides of four (the first fused pass, then passes over the stored features).
  it('equals spec lowRankAttention entry for entry, or both decline', () => {
    const kinds = [taylorPolynomial, chebyshevPolynomial];
    fc.assert(
      fc.property(attentionInputArb({ B: 1, maxD: 6, maxDv: 13, maxL: 30 }), fc.integer({ min: 2, max: 6 }), fc.integer({ min: 0, max: 1 }), (input, g, kind) => {
        const poly = kinds[kind](1, g);
        let want: Matrix | Error;
        let got: Matrix | Error;
        try {
          want = lowRankAttention(input, poly);
        } catch (e) {
          want = e as Error;
        }
        try {
          got = lowRankAttentionCpu(input, poly);
        } catch (e) {
          got = e as Error;
        }
        if (want instanceof Error || got instanceof Error) {
          expect(got instanceof Error && want instanceof Error).toBe(true);
          return;
        }
        expect(got.rows).toBe(want.rows);
        expect(got.cols).toBe(want.cols);
        const differ = Array.from(got.data).findIndex((x, t) => !(x === want.data[t]));
        expect(differ).toBe(-1);
      }),
      { numRuns: 300 },
    );
  });
});
