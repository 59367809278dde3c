/**
 * The accelerator entry point (issue: WebGPU on an NVIDIA H100). On whatever gpu.js backends
 * exist it runs (a) the conformance battery on every gpu.js kernel — random cases plus the large
 * block-causal inputs CI cannot afford (geometric n = 128, L = 21,845; VAR-1024, L = 9451) — and
 * (b) the benchmark: gpu.js exact (d = 64) and low-rank (d = 4) attention versus cpu/exact and
 * cpu/low-rank on the same machine, block-causal pyramids, with achieved GFLOP/s next to the
 * H100's FP32 non-tensor peak (≈ 67 TFLOP/s). One table on stdout, JSON to --json.
 *
 *   here (CPU backends):   xvfb-run -a npx tsx bench/gpu.ts --quick
 *   on the GPU machine:    bash ../shared/gpu-machine/pack.sh bench/gpu.ts && bash .gpu-carry/run.sh
 *
 * Dawn keeps the event loop alive once a device exists, so this ends with process.exit.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { attentionInput, type AttentionInput } from '../spec/attention.js';
import { blockCausalMask } from '../spec/mask.js';
import { maxAbsDiff, type Matrix } from '../spec/matrix.js';
import { attentionPairCounts, scalePyramid, type PyramidSpec } from '../spec/pyramid.js';
import { mulberry32, uniformMatrix } from '../spec/random.js';
import { attentionBattery, kernelTolerance } from '../properties/battery/attention.js';
import { interpolationBattery } from '../properties/battery/interpolation.js';
import { checkLaw } from '../properties/runner/check-law.js';
import { resolveSeed } from '../properties/runner/seed.js';
import type { AttentionKernel } from '../spec/contract.js';
import { exactAttentionCpu } from '../src/kernels/cpu/exact.js';
import { lowRankPolynomial } from '../spec/certificate.js';
import { cpuLowRank } from '../src/kernels/cpu/low-rank.js';
import { availableBackends, probeWebGPU, type GpuBackend } from '../src/kernels/gpujs/backend.js';
import { gpujsExact } from '../src/kernels/gpujs/exact.js';
import { gpujsDownsampleArea, gpujsUpsampleBicubic } from '../src/kernels/gpujs/interpolation.js';
import { gpujsLowRank } from '../src/kernels/gpujs/low-rank.js';
import { probePrecision } from '../src/kernels/gpujs/probe.js';
import { rank } from '../spec/low-rank.js';
import { fmt, table } from '../src/cli/table.js';

const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, backends: { type: 'string' }, json: { type: 'string', default: 'gpu-results.json' }, seed: { type: 'string' }, runs: { type: 'string', default: '100' }, budget: { type: 'string', default: '120' } },
});
const quick = values.quick === true;
const seed = resolveSeed(values.seed ?? process.env.VARCHECK_SEED);
const budgetMs = Number(values.budget) * 1000;
const adapter = await probeWebGPU();
const backends: GpuBackend[] = values.backends ? (values.backends.split(',') as GpuBackend[]) : (await availableBackends()).filter((b) => b === 'webgpu' || (adapter === undefined && b === 'webasm'));
console.log(`varcheck GPU entry — ${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length}, Node ${process.version}; WebGPU adapter: ${adapter ?? 'none'}; backends: ${backends.join(', ') || 'none'}; seed ${seed}`);

const PEAK_FP32 = 67e12;
const out: Record<string, unknown> = { date: new Date().toISOString(), machine: os.cpus()[0]?.model, adapter: adapter ?? null, backends, seed };

function pyramidInput(spec: PyramidSpec, d: number, B: number, s: number): AttentionInput {
  const p = scalePyramid(spec);
  const r = mulberry32(s);
  return attentionInput(uniformMatrix(r, p.L, d, B), uniformMatrix(r, p.L, d, B), uniformMatrix(r, p.L, d, B), { mask: blockCausalMask(p) });
}

// (a) conformance
const conformance: { backend: string; kernel: string; property: string; cases: number; error: number; bound: number; passed: boolean }[] = [];
const largeSpecs: PyramidSpec[] = quick ? [{ geometric: 16 }, 'var-256'] : [{ geometric: 128 }, 'var-1024'];
for (const backend of backends) {
  const measured = await probePrecision(backend);
  console.log(`${backend}: exp relative error ${measured.expRelativeError.toExponential(2)}, sum relative error ${measured.sumRelativeError.toExponential(2)}, flushes subnormals ${measured.flushesSubnormals}`);
  const exact = await gpujsExact({ backend });
  const low = await gpujsLowRank({ backend, delta: 1e-3 });
  for (const k of [exact, low]) {
    for (const law of attentionBattery(k, { maxL: 64, measured, numRuns: Number(values.runs) })) {
      const r = await checkLaw(law, { seed });
      conformance.push({ backend, kernel: k.name, property: law.name, cases: r.cases, error: r.worst.error, bound: r.worst.bound, passed: r.status === 'passed' });
    }
    for (const spec of largeSpecs) {
      const x = pyramidInput(spec, k.exact ? 64 : 4, 1, 11);
      const ref = exactAttentionCpu(x);
      const got = (await k.run(x)) as Matrix;
      const error = maxAbsDiff(got.data, ref.data);
      const bound = kernelTolerance(k, x, ref, measured);
      conformance.push({ backend, kernel: k.name, property: `large block-causal ${typeof spec === 'string' ? spec : `geometric(${(spec as { geometric: number }).geometric})`} (L = ${x.q.rows})`, cases: 1, error, bound, passed: error <= bound });
    }
  }
  for (const k of [await gpujsUpsampleBicubic({ backend }), await gpujsDownsampleArea({ backend })]) {
    for (const law of interpolationBattery(k, { numRuns: Number(values.runs) })) {
      const r = await checkLaw(law, { seed });
      conformance.push({ backend, kernel: k.name, property: law.name, cases: r.cases, error: r.worst.error, bound: r.worst.bound, passed: r.status === 'passed' });
    }
    k.dispose?.();
  }
  exact.dispose?.();
  low.dispose?.();
}
console.log('\n(a) conformance\n');
console.log(table(['backend', 'property', 'cases', 'worst error / bound', 'status'], conformance.map((c) => [c.backend, c.property, String(c.cases), `${fmt(c.error)} / ${fmt(c.bound)}`, c.passed ? 'pass' : 'FAIL'])));
out.conformance = conformance;

// (b) benchmark
const specs: { label: string; spec: PyramidSpec }[] = quick
  ? [{ label: 'geometric(8)', spec: { geometric: 8 } }, { label: 'geometric(16)', spec: { geometric: 16 } }, { label: 'var-256', spec: 'var-256' }]
  : [
    { label: 'geometric(32)', spec: { geometric: 32 } }, { label: 'geometric(64)', spec: { geometric: 64 } }, { label: 'geometric(128)', spec: { geometric: 128 } },
    { label: 'var-256', spec: 'var-256' }, { label: 'var-512', spec: 'var-512' }, { label: 'var-1024', spec: 'var-1024' },
  ];
const rows: Record<string, unknown>[] = [];
async function time(f: () => Promise<unknown> | unknown): Promise<number> {
  await f(); // warm-up (compiles)
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}
let lastCpu: { pairs: number; ms: number } | undefined;
for (const { label, spec } of specs) {
  const p = scalePyramid(spec);
  const pairs = attentionPairCounts(p).kvCache;
  const xe = pyramidInput(spec, 64, 1, 5);
  const estCpu = lastCpu ? (lastCpu.ms * pairs) / lastCpu.pairs : 0;
  const cpuMs = estCpu > budgetMs ? undefined : await time(() => exactAttentionCpu(xe));
  if (cpuMs !== undefined) lastCpu = { pairs, ms: cpuMs };
  const flops = pairs * (2 * 64 + 2 * 64);
  const xl = pyramidInput(spec, 4, 1, 6);
  const poly = lowRankPolynomial(xl, 1e-3);
  const lrFlops = 2 * p.L * rank(4, poly.degree) * (2 + 2 * 5);
  const cpuLrMs = await time(() => cpuLowRank({ delta: 1e-3 }).run(xl));
  for (const backend of backends) {
    const ge = await gpujsExact({ backend });
    const gl = await gpujsLowRank({ backend, delta: 1e-3 });
    const gpuMs = await time(() => ge.run(xe));
    const gpuLrMs = await time(() => gl.run(xl));
    rows.push({
      pyramid: label, L: p.L, backend,
      cpuExactMs: cpuMs ?? null, gpuExactMs: gpuMs, exactSpeedup: cpuMs ? cpuMs / gpuMs : null, exactGflops: flops / gpuMs / 1e6, peakFraction: flops / (gpuMs / 1e3) / PEAK_FP32,
      cpuLowRankMs: cpuLrMs, gpuLowRankMs: gpuLrMs, lowRankSpeedup: cpuLrMs / gpuLrMs, gpuLowRankVsGpuExact: gpuMs / gpuLrMs, lowRankGflops: lrFlops / gpuLrMs / 1e6,
    });
    ge.dispose?.();
    gl.dispose?.();
  }
}
console.log('\n(b) benchmark — block-causal; exact d = d_v = 64; low-rank d = d_v = 4, B = 1, δ = 1e-3; one timed run after a warm-up\n');
console.log(table(
  ['pyramid', 'L', 'backend', 'cpu/exact ms', 'gpujs/exact ms', 'speed-up', 'GFLOP/s', '% of 67 TFLOP/s', 'cpu/low-rank ms', 'gpujs/low-rank ms', 'speed-up', 'gpu exact / gpu low-rank'],
  rows.map((r) => [String(r.pyramid), String(r.L), String(r.backend), r.cpuExactMs === null ? 'skipped' : fmt(r.cpuExactMs as number), fmt(r.gpuExactMs as number), r.exactSpeedup === null ? '—' : `${fmt(r.exactSpeedup as number)}×`, fmt(r.exactGflops as number), fmt(100 * (r.peakFraction as number)), fmt(r.cpuLowRankMs as number), fmt(r.gpuLowRankMs as number), `${fmt(r.lowRankSpeedup as number)}×`, `${fmt(r.gpuLowRankVsGpuExact as number)}×`]),
));
out.benchmark = rows;
writeFileSync(String(values.json), `${JSON.stringify(out, null, 2)}\n`);
console.log(`\nwrote ${values.json}`);
process.exit(conformance.every((c) => c.passed) ? 0 : 1);
