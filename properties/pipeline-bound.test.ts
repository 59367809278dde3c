/**
 * Meta-tests of the composition law (properties/bounds.props.ts): with the weights driven to
 * β ∈ [1, 4] it must catch an attention that ignores Q and K and one that uses scale 1/√d,
 * each declaring the low-rank certificate; and a trace of the exact attention bounds itself by 0.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkLaw } from './runner/check-law.js';
import { compositionLaw, measureComposition, type CompositionCase } from './bounds.props.js';
import { uniformAverageAttention, wrongScaleAttention } from './fixtures/mutants/pipeline.js';
import { EXACT_ATTENTION, tracePipelineBound } from '../spec/pipeline-bound.js';
import { attention } from '../spec/attention.js';
import { RangeArgumentError } from '../spec/errors.js';
import { varModel } from '../spec/pipeline.js';
import { scalePyramid } from '../spec/pyramid.js';
import { within, type Law } from './law.js';

const seed = fc.readConfigureGlobal().seed ?? 42;

describe('meta: the composition law sees attention', () => {
  for (const [label, mutant] of [
    ['an attention that ignores Q and K (uniform average over allowed keys)', uniformAverageAttention],
    ['scale 1/√d instead of 1/d', wrongScaleAttention],
  ] as const) {
    it(`catches: ${label}`, async () => {
      let caught = 0;
      let cases = 0;
      // The end-to-end comparison alone (measured f̂ / outputs / image error above the pipeline
      // bound), counted where δ ≤ 1e-3: at δ = 1e-2 the per-call declarations are loose enough that
      // a small pyramid's mutant error can hide under the composed bound, and only the per-call
      // check sees it (over 400 cases: 27 % at δ = 1e-2, 95 % at δ ≤ 1e-3; the law itself 91 %).
      let tight = 0;
      let caughtByPipeline = 0;
      const l = compositionLaw(mutant, 'mutant') as Law<unknown>;
      // Count how many of 30 cases catch it — by the law, and by the end-to-end comparison alone —
      // then let fast-check find and shrink one.
      await checkLaw(
        {
          ...l,
          check: (v) => {
            const c = v as CompositionCase;
            const m = measureComposition(c, mutant);
            cases++;
            if (!within(m.worst)) caught++;
            if (c[2] <= 1e-3) {
              tight++;
              if (!within(m.pipeline)) caughtByPipeline++;
            }
            return { error: 0, bound: 0 };
          },
        },
        { seed, numRuns: 30 },
      );
      const r = await checkLaw(l, { seed, numRuns: 100 });
      console.log(
        `[varcheck] composition law vs ${label}: caught in ${caught} of ${cases} cases (by the end-to-end bound alone in ${caughtByPipeline} of the ${tight} with δ ≤ 1e-3); first failure ${r.status === 'failed' ? r.failure.message.slice(0, 140) : r.status}`,
      );
      expect(r.status).toBe('failed');
      expect(caught).toBeGreaterThan(cases / 2);
      expect(tight).toBeGreaterThan(0);
      expect(caughtByPipeline).toBeGreaterThan(tight / 2);
    });
  }
  it('the exact attention (declared 0) is bounded by 0 plus rounding', () => {
    const m = measureComposition([scalePyramid({ sides: [1, 2, 3] }), 7, 1e-3, 3], () => EXACT_ATTENTION);
    expect(m.fhat.bound).toBe(0);
    expect(m.image.bound).toBe(0);
    expect(within(m.worst)).toBe(true);
  });
});

describe('pipeline-bound arguments', () => {
  it('a declared bound that is negative, NaN or of the wrong length is a RangeArgumentError naming declared', () => {
    const model = varModel(scalePyramid({ sides: [1, 2] }), { D: 4, layers: 1 });
    for (const declared of [() => -1, () => NaN, () => new Float64Array(3)]) {
      try {
        tracePipelineBound(model, { attend: attention, declared });
        expect.unreachable('no error thrown');
      } catch (e) {
        expect(e).toBeInstanceOf(RangeArgumentError);
        expect((e as RangeArgumentError).argument).toBe('declared');
      }
    }
  });
  it('qkGain ≤ 0 is a RangeArgumentError naming options.qkGain', () => {
    expect(() => varModel(scalePyramid({ sides: [1] }), { qkGain: 0 })).toThrow(RangeArgumentError);
  });
});
