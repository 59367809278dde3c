/**
 * A fast slice of the mutation score (bench/fuzz.bench.ts measures all of it): `varcheck fuzz`
 * catches a handful of the subtle mutants of properties/fixtures/mutants/subtle.ts — one per
 * class where a cheap input shows the bug (many scales, a scale boundary, non-square maps, float64
 * exp accuracy, large β, odd d_v, Lq ≠ Lk, near ties, the low-rank prefix sums) — and passes the
 * unmutated kernel they are all made from.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fuzz } from '../src/fuzz/fuzz.js';

const seed = fc.readConfigureGlobal().seed ?? 1;
const MODULE = 'properties/fixtures/mutants/subtle.ts';

async function fuzzSubtle(exportName: string, timeMs: number) {
  const corpus = mkdtempSync(join(tmpdir(), 'varcheck-subtle-'));
  try {
    return await fuzz({ module: MODULE, exportName, seed, corpus, timeMs, inProcess: true, stopAtFirstFailure: true, out: () => {} });
  } finally {
    rmSync(corpus, { recursive: true, force: true });
  }
}

describe('varcheck fuzz catches subtle mutants', () => {
  const mutants = [
    'ninthScaleBoundaryOffByOne',
    'scale3BoundaryOffByOne',
    'maskRightOnlyForSquareMaps',
    'exp1e9RelativeError',
    'logitsClampedAt80',
    'vColumnMixupOddDv',
    'assumesSelfAttention',
    'dedupesNearTiedKeys',
    'lowRankNinthScalePrefixOffByOne',
  ];
  for (const name of mutants) {
    it(`catches ${name}`, async () => {
      const r = await fuzzSubtle(name, 20_000);
      const caught = r.results.find((x) => x.status === 'failed');
      expect(caught?.status, `${name} was not caught at seed ${seed}`).toBe('failed');
      expect(r.exitCode).toBe(1);
    });
  }

  it('passes the unmutated kernel the mutants are made from', async () => {
    const r = await fuzzSubtle('correct', 3000);
    expect(r.results.filter((x) => x.status === 'failed').map((x) => x.name)).toEqual([]);
    expect(r.exitCode).toBe(0);
  });
});
