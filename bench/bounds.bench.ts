/**
 * Rounding-aware low-rank certificates on adversarial inputs (docs/math.md §8).
 *
 *   npx tsx bench/bounds.bench.ts [--cases 10000] [--seed 1] [--backend cpu] [--deltas 1e-2,1e-3,1e-4] [--maxBeta 36]
 *
 * Part 1, done-when: `--cases` adversarial cases (β up to 36; the row structure — query +b, keys
 * ≈ −b, alternating values — and random structure) through `cpu/low-rank` (float64) and
 * `gpujs/low-rank@<backend>` (float32), δ cycling through `--deltas`: every case must be within the
 * declared bound or declined with a RangeArgumentError. Prints declined/accepted counts, violations
 * (must be 0), and min / median / p90 / max of the declared bound, the measured error and their
 * ratio. Part 2: how tight each bound is — bound/attained for E1 and E2 two-point extremes, ε_T
 * against the error at x = −β, the Chebyshev certificate against its rigorous lower bound, the
 * float32 rounding term against a float32 evaluation on adversarial rows. Part 3: the certified
 * Chebyshev degrees for β ≤ 16, ε ∈ {1e-4, 1e-8} with the rigorous lower bound at g − 1, and float
 * ceilings (docs/floating-point.md §4–5). Writes bench/results/bounds.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  attention,
  attentionInput,
  chebyshevDegree,
  chebyshevPolynomial,
  chebyshevRelativeError,
  matrix,
  maxAbsDiff,
  mulberry32,
  rank,
  taylorDegree,
  taylorPolynomial,
  taylorRelativeError,
  lowRankAttention,
} from '../spec/index.js';
import { e1L1Bound, e2Bound } from '../spec/bounds.js';
import { FLOAT32_GPUJS, FLOAT64_CPU, floatCeiling, lowRankCertificate, rowBetas } from '../spec/certificate.js';
import type { AttentionKernel } from '../spec/contract.js';
import { cpuLowRank } from '../src/kernels/cpu/low-rank.js';
import { gpujsLowRank } from '../src/kernels/gpujs/low-rank.js';
import type { GpuBackend } from '../src/kernels/gpujs/backend.js';
import { adversarialInput, lowRankFloat32 } from '../properties/adversarial.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    backend: { type: 'string', default: 'cpu' },
    deltas: { type: 'string', default: '1e-2,1e-3,1e-4' },
    maxBeta: { type: 'string', default: '36' },
  },
});
const cases = Number(values.cases);
const seed = Number(values.seed);
const deltas = String(values.deltas).split(',').map(Number);
const maxBeta = Number(values.maxBeta);

function quantiles(xs: number[]): { n: number; min: number; median: number; p90: number; max: number } {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1)))];
  return { n: s.length, min: s[0], median: q(0.5), p90: q(0.9), max: s[s.length - 1] };
}
const e = (x: number): string => (x === undefined ? '—' : Number.isFinite(x) ? x.toExponential(2) : String(x));
function line(label: string, xs: number[]): void {
  const d = quantiles(xs);
  console.log(`  ${label.padEnd(34)} n=${String(d.n).padStart(5)}  min ${e(d.min)}  median ${e(d.median)}  p90 ${e(d.p90)}  max ${e(d.max)}`);
}

const results: Record<string, unknown> = {};

async function sweep(make: (delta: number) => Promise<AttentionKernel>, label: string): Promise<void> {
  const kernels = new Map<number, AttentionKernel>();
  for (const d of deltas) kernels.set(d, await make(d));
  const bounds: number[] = [];
  const measured: number[] = [];
  const ratio: number[] = [];
  let declined = 0;
  let violations = 0;
  const byStructure = { row: { accepted: 0, declined: 0 }, random: { accepted: 0, declined: 0 } };
  let maxAcceptedBeta = 0;
  let maxAcceptedRowBeta = 0;
  const t0 = performance.now();
  for (let i = 0; i < cases; i++) {
    const c = adversarialInput(mulberry32(seed * 1_000_003 + i), { maxBeta });
    const delta = deltas[i % deltas.length];
    const k = kernels.get(delta) as AttentionKernel;
    let bound: number;
    try {
      bound = (k.errorBound as (x: typeof c.input) => number)(c.input);
    } catch (err) {
      if (err instanceof Error && err.name === 'RangeArgumentError') {
        declined++;
        byStructure[c.structure].declined++;
        continue;
      }
      throw err;
    }
    byStructure[c.structure].accepted++;
    maxAcceptedBeta = Math.max(maxAcceptedBeta, c.beta);
    if (bound > 0) maxAcceptedRowBeta = Math.max(maxAcceptedRowBeta, ...rowBetas(c.input));
    let err: number;
    try {
      err = maxAbsDiff((await k.run(c.input)).data, attention(c.input).data);
    } catch (x) {
      err = Infinity;
      console.log(`  run threw on an accepted input (case ${i}, β = ${c.beta}): ${String(x)}`);
    }
    if (!(err <= bound) || !(bound <= delta)) {
      violations++;
      if (violations <= 5) console.log(`  VIOLATION case ${i} (${c.structure}, β = ${c.beta.toFixed(3)}, δ = ${delta}): measured ${err} > declared ${bound}`);
    }
    bounds.push(bound);
    measured.push(err);
    ratio.push(err / bound);
  }
  for (const k of kernels.values()) k.dispose?.();
  console.log(
    `${label}: ${cases} cases, ${declined} declined, ${cases - declined} accepted (row ${byStructure.row.accepted}, random ${byStructure.random.accepted}), largest accepted drawn β = s·d·B² ${maxAcceptedBeta.toFixed(2)} (largest per-row β_i with a nonzero bound ${maxAcceptedRowBeta.toFixed(2)}), violations ${violations}, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  line('declared bound', bounds);
  line('measured ‖out − exact‖∞', measured);
  line('measured / declared', ratio);
  results[label] = { cases, declined, violations, byStructure, maxAcceptedBeta, maxAcceptedRowBeta, bound: quantiles(bounds), measured: quantiles(measured), ratio: quantiles(ratio) };
}

console.log(`bounds bench: ${cases} adversarial cases per kernel, β ≤ ${maxBeta}, δ ∈ {${deltas.join(', ')}}, seed ${seed}`);
await sweep(async (delta) => cpuLowRank({ delta }), 'cpu/low-rank (float64)');
await sweep(async (delta) => gpujsLowRank({ backend: values.backend as GpuBackend, delta }), `gpujs/low-rank@${values.backend} (float32)`);

// Part 2: tightness (bound / attained; 1 is sharp).
console.log('tightness: bound / attained (1 = sharp; the laws fail above 4, or 50,000 for the rounding term)');
const rand = mulberry32(seed);
const n2 = Math.min(2000, cases);
const e1r: number[] = [];
const e2r: number[] = [];
const tr: number[] = [];
for (let i = 0; i < n2; i++) {
  const eps = 1e-6 + 0.9 * rand();
  const m = 1 / (1 + Math.sqrt((1 + eps) / (1 - eps)));
  const x = attentionInput(matrix(1, 1, [1]), matrix(2, 1, [Math.log(m / (1 - m)), 0]), matrix(2, 1, [1, 0]), { scale: 1 });
  const p = attention(x).data[0];
  const w0 = m * (1 + eps);
  const w1 = (1 - m) * (1 - eps);
  e1r.push((0.5 * e1L1Bound(eps)) / Math.abs(w0 / (w0 + w1) - p));
  const eta = 20 * rand() + 1e-6;
  const mm = 1 / (1 + Math.exp(eta));
  const z = Math.log(mm / (1 - mm));
  const a = attentionInput(matrix(1, 1, [1]), matrix(2, 1, [z, 0]), matrix(2, 1, [1, -1]), { scale: 1 });
  const b = attentionInput(matrix(1, 1, [1]), matrix(2, 1, [z + eta, -eta]), matrix(2, 1, [1, -1]), { scale: 1 });
  e2r.push(e2Bound(eta, 1, 0) / maxAbsDiff(attention(a).data, attention(b).data));
  const beta = 0.1 + 15.9 * rand();
  const ge = 10 ** (-12 + 10 * rand());
  const g = taylorDegree(beta, ge) as number;
  let term = 1;
  for (let t = 1; t <= g; t++) term *= beta / t;
  let tail = 0;
  for (let t = g + 1; t < g + 400; t++) {
    term *= beta / t;
    tail += (t % 2 === 0 ? 1 : -1) * term;
    if (term < 1e-30 * Math.abs(tail)) break;
  }
  tr.push(taylorRelativeError(beta, g) / (Math.abs(tail) * Math.exp(beta)));
}
line('E1 two-point extreme', e1r);
line('E2 two-point extreme', e2r);
line('Taylor ε_T vs error at −β', tr);
const cr: number[] = [];
for (let i = 0; i < 60; i++) {
  const p = chebyshevPolynomial(0.1 + 15.9 * rand(), 1 + Math.floor(40 * rand()));
  if (p.lowerBound && p.relativeError > 1e-15) cr.push(p.relativeError / p.lowerBound);
}
line('Chebyshev certificate vs lower', cr);
const rr: number[] = [];
for (let i = 0; i < 300; i++) {
  const beta = 1 + 2 * rand();
  const L = 2 + Math.floor(23 * rand());
  const bb = Math.sqrt(beta);
  const p = taylorPolynomial(beta * (1 + 1e-9), Math.max(6 + Math.floor(9 * rand()), taylorDegree(beta * (1 + 1e-9), 0.1) as number));
  const x = attentionInput(
    matrix(1, 1, [bb]),
    matrix(
      L,
      1,
      Array.from({ length: L }, () => -bb * (1 - rand())),
    ),
    matrix(
      L,
      1,
      Array.from({ length: L }, (_, j) => (j % 2 ? 1 : -1)),
    ),
  );
  const cert = lowRankCertificate(x, p, { ...FLOAT32_GPUJS, clamps: false });
  rr.push(cert.roundingTerm / maxAbsDiff(lowRankFloat32(x, p).data, lowRankAttention(x, p).data));
}
line('float32 rounding term vs float32', rr);
results.tightness = { e1: quantiles(e1r), e2: quantiles(e2r), taylor: quantiles(tr), chebyshev: quantiles(cr), rounding: quantiles(rr) };

// Part 3: degree table and float ceilings.
console.log('certified degrees: β, ε, Taylor g_T, a priori Chebyshev, certified Chebyshev g, certificate(g), rigorous lower bound at g − 1');
const degrees: unknown[] = [];
for (const eps of [1e-4, 1e-8])
  for (const beta of [1, 2, 4, 8, 12, 16]) {
    let old = 0;
    while (chebyshevRelativeError(beta, old) > eps && old < 200) old++;
    const g = chebyshevDegree(beta, eps) as number;
    const row = {
      beta,
      eps,
      taylor: taylorDegree(beta, eps),
      aPriori: old,
      chebyshev: g,
      certificate: chebyshevPolynomial(beta, g).relativeError,
      lowerAtGMinus1: chebyshevPolynomial(beta, g - 1).lowerBound,
    };
    degrees.push(row);
    console.log(`  β ${String(beta).padStart(2)}  ε ${eps}  Taylor ${row.taylor}  a priori ${old}  certified ${g}  cert ${e(row.certificate)}  lower(g−1) ${e(row.lowerAtGMinus1 as number)}`);
  }
console.log('float ceilings β_max = ½ ln(ε(1−ε)/γ_K): d, ε, L, Taylor degree at β, r, float64, float32');
for (const [d, eps, L] of [
  [1, 1e-3, 16],
  [1, 1e-6, 1000],
  [4, 1e-3, 1000],
  [4, 1e-6, 100000],
  [8, 1e-3, 10000],
] as const)
  for (const beta of [2, 8]) {
    const g = taylorDegree(beta, eps) as number;
    const p = taylorPolynomial(beta, g);
    const r = rank(d, g);
    console.log(
      `  d ${d}  ε ${eps}  L ${L}  g ${g} (β = ${beta})  r ${r}  float64 ${floatCeiling(FLOAT64_CPU, p, r, L, eps).toFixed(2)}  float32 ${floatCeiling(FLOAT32_GPUJS, p, r, L, eps).toFixed(2)}`,
    );
  }
results.degrees = degrees;
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/bounds.json', JSON.stringify({ cases, seed, deltas, maxBeta, backend: values.backend, results }, null, 2));
process.exit(0);
