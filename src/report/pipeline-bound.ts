/**
 * How tight is the a-posteriori VAR pipeline bound (docs/math.md §6–7)? Sample the composition
 * law's own cases (pyramids of 2–4 scales, 2 layers, D = 4, weights driven to β ∈ [1, 4],
 * δ ∈ {1e-2, 1e-3, 1e-5}, every attention the certified low-rank kernel), measure the fast
 * pipeline against the exact one, and summarise bound/measured as a distribution — next to the
 * two factors it splits into: declared/actual of the kernel's own certificate, and bound/declared
 * of the composition.
 * @module
 */
import * as fc from 'fast-check';
import { certificateLowRankFast, compositionCaseArb, lowRankFast, measureComposition } from '../../properties/bounds.props.js';
import { fmt } from '../cli/table.js';

/** One sampled case. */
export interface PipelineBoundSample {
  /** Tokens L. */
  L: number;
  /** Scales K. */
  scales: number;
  /** Largest β of the transformer's calls. */
  beta: number;
  /** Target δ of the low-rank kernel. */
  delta: number;
  /** ‖f̂_fast − f̂‖∞ measured. */
  fhatError: number;
  /** Its a-posteriori bound. */
  fhatBound: number;
  /** ‖image_fast − image‖∞ measured (Phase 3). */
  imageError: number;
  /** Its bound. */
  imageBound: number;
  /** Largest declared kernel bound over the calls. */
  declared: number;
  /** Largest measured kernel error over the calls. */
  actual: number;
}

/** Quantiles of one ratio over the samples. */
export interface Quantiles {
  /** Smallest. */
  min: number;
  /** 10th percentile. */
  p10: number;
  /** Median. */
  median: number;
  /** 90th percentile. */
  p90: number;
  /** Largest. */
  max: number;
}

/** What {@link pipelineBoundDistribution} returns. */
export interface PipelineBoundDistribution {
  /** fast-check seed of the sampled cases. */
  seed: number;
  /** Largest pyramid side sampled. */
  maxSide: number;
  /** Every case. */
  samples: PipelineBoundSample[];
  /** Fraction of cases whose f̂ and image bounds are finite. */
  finite: number;
  /** Cases where a bound was broken (must be 0). */
  violations: number;
  /** bound/measured on f̂. */
  fhat: Quantiles;
  /** bound/measured on the decoded image. */
  image: Quantiles;
  /** declared/actual of the kernel's certificate (largest call of each case). */
  kernel: Quantiles;
  /** f̂ bound / largest declared kernel bound: what the composition itself adds. */
  composition: Quantiles;
}

function quantiles(xs: number[]): Quantiles {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  const q = (f: number): number => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(f * s.length))]);
  return { min: q(0), p10: q(0.1), median: q(0.5), p90: q(0.9), max: s.length === 0 ? NaN : s[s.length - 1] };
}

/**
 * Sample `cases` composition cases (sides ≤ maxSide) with `seed` and summarise the bound's
 * tightness. `declared: 'certificate'` uses spec/certificate.ts's one-number declaration instead
 * of the sharp per-entry one the composition law uses.
 */
export function pipelineBoundDistribution(options: { cases?: number; seed?: number; maxSide?: number; declared?: 'sharp' | 'certificate' } = {}): PipelineBoundDistribution {
  const seed = options.seed ?? 20250107;
  const maxSide = options.maxSide ?? 4;
  const samples: PipelineBoundSample[] = [];
  let violations = 0;
  for (const c of fc.sample(compositionCaseArb(maxSide), { seed, numRuns: options.cases ?? 100 })) {
    const m = measureComposition(c, options.declared === 'certificate' ? certificateLowRankFast : lowRankFast);
    if (!(m.worst.error <= m.worst.bound)) violations++;
    samples.push({
      L: c[0].L,
      scales: c[0].blocks.length,
      beta: m.beta,
      delta: c[2],
      fhatError: m.fhat.error,
      fhatBound: m.fhat.bound,
      imageError: m.image.error,
      imageBound: m.image.bound,
      declared: m.kernel.declared,
      actual: m.kernel.actual,
    });
  }
  return {
    seed,
    maxSide,
    samples,
    violations,
    finite: samples.filter((s) => Number.isFinite(s.fhatBound) && Number.isFinite(s.imageBound)).length / Math.max(1, samples.length),
    fhat: quantiles(samples.map((s) => s.fhatBound / s.fhatError)),
    image: quantiles(samples.map((s) => s.imageBound / s.imageError)),
    kernel: quantiles(samples.map((s) => s.declared / s.actual)),
    composition: quantiles(samples.map((s) => s.fhatBound / s.declared)),
  };
}

/** The distribution as plain text (one line per ratio). */
export function pipelineBoundText(d: PipelineBoundDistribution): string {
  const row = (name: string, q: Quantiles): string => `${name.padEnd(34)} ${[q.min, q.p10, q.median, q.p90, q.max].map((x) => fmt(x).padStart(10)).join(' ')}`;
  return [
    `a-posteriori pipeline bound: ${d.samples.length} cases (seed ${d.seed}, sides ≤ ${d.maxSide}), finite ${(100 * d.finite).toFixed(0)}%, violations ${d.violations}`,
    `${''.padEnd(34)} ${['min', 'p10', 'median', 'p90', 'max'].map((h) => h.padStart(10)).join(' ')}`,
    row('bound/measured, f̂ (Phase 2)', d.fhat),
    row('bound/measured, image (Phase 3)', d.image),
    row('kernel declared/actual', d.kernel),
    row('f̂ bound / largest declared', d.composition),
  ].join('\n');
}

/** The distribution as an HTML section for `varcheck report`. */
export function pipelineBoundSection(d: PipelineBoundDistribution): string {
  const cell = (q: Quantiles): string => [q.min, q.p10, q.median, q.p90, q.max].map((x) => `<td>${fmt(x)}</td>`).join('');
  return `<h2>A-posteriori VAR pipeline bound</h2>
<p>${d.samples.length} cases of the composition law (seed ${d.seed}; pyramids of 2–4 scales, sides ≤ ${d.maxSide}; 2 layers, D = 4; β ∈ [1, 4]; δ ∈ {1e-2, 1e-3, 1e-5}; every attention certified low-rank). Finite in ${(100 * d.finite).toFixed(0)}% of cases; bound broken in ${d.violations}. The ratio splits into what the kernel's own certificate declares over its actual error, and what the composition adds over the largest declared bound (docs/pipeline-bound.md).</p>
<table><tr><th>ratio</th><th>min</th><th>p10</th><th>median</th><th>p90</th><th>max</th></tr>
<tr><td>bound/measured, f̂ (Phase 2)</td>${cell(d.fhat)}</tr>
<tr><td>bound/measured, image (Phase 3)</td>${cell(d.image)}</tr>
<tr><td>kernel declared/actual</td>${cell(d.kernel)}</tr>
<tr><td>f̂ bound / largest declared</td>${cell(d.composition)}</tr></table>`;
}
