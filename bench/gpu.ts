/**
 * The accelerator benchmark (varcheck issue 11). On every GPU kernel available here — gpu.js
 * `gpujs/exact` and `gpujs/low-rank` on the chosen gpu.js backends, the hand-written WGSL kernels
 * `wgsl/exact` and `wgsl/low-rank` on Dawn (`@node-webgpu`, where Dawn has an adapter) and, with
 * --chromium, in Chromium's WebGPU (`@chromium-webgpu`) — it runs
 *
 *   (a) the conformance battery (random cases, --runs per law), and
 *   (b) conformance at large block-causal sizes — geometric(128), L = 21,845 and VAR-1024,
 *       L = 9,451 (--quick: geometric(16), L = 341 and VAR-256, L = 680) — judged on --rows
 *       sampled query rows (16-row groups inside scale blocks) against the row-sampled float64
 *       reference `attentionRows`, with the float32 tolerance evaluated on the same rows;
 *
 * and times each large case: compile (first call minus second), kernel ms (WebGPU
 * timestamp-query, where the adapter has it), end-to-end ms, GFLOP/s, % of the H100's FP32
 * peak (67 TFLOP/s), speed-up over cpu/exact — estimated as its time on the sampled row groups
 * × L / rows (not run in full) — and over onnxruntime-node's exact block-causal attention
 * measured in the same process. One table on stdout, JSON to --json (and Markdown to --md).
 *
 *   here (CPU backends, CI, < 2 min):  xvfb-run -a npx tsx bench/gpu.ts --quick
 *   on the GPU machine:                 see docs/guide-gpu.md (bench/h100.sh)
 *
 * Results are written after every phase. Dawn keeps the event loop alive once a device
 * exists, so this ends with process.exit.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { attentionInput, attentionRows, type AttentionInput } from '../spec/attention.js';
import { keyLimits, blockCausalMask } from '../spec/mask.js';
import { matrix, maxAbsDiff, type Matrix } from '../spec/matrix.js';
import { attentionPairCounts, scalePyramid, type PyramidSpec } from '../spec/pyramid.js';
import { mulberry32, uniformMatrix } from '../spec/random.js';
import type { AttentionKernel, InterpolationKernel, MeasuredPrecision } from '../spec/contract.js';
import { lowRankPolynomial } from '../spec/certificate.js';
import { rank } from '../spec/low-rank.js';
import { RangeArgumentError } from '../spec/errors.js';
import { attentionBattery, pickRows } from '../properties/battery/attention.js';
import { float32Tolerance, naiveFloat32Attention } from '../properties/battery/float32.js';
import { interpolationBattery } from '../properties/battery/interpolation.js';
import { checkLaw } from '../properties/runner/check-law.js';
import { resolveSeed } from '../properties/runner/seed.js';
import { exactAttentionCpu } from '../src/kernels/cpu/exact.js';
import { cpuLowRank } from '../src/kernels/cpu/low-rank.js';
import { availableBackends, probeWebGPU, type GpuBackend } from '../src/kernels/gpujs/backend.js';
import { gpujsExact } from '../src/kernels/gpujs/exact.js';
import { gpujsDownsampleArea, gpujsUpsampleBicubic } from '../src/kernels/gpujs/interpolation.js';
import { gpujsLowRank } from '../src/kernels/gpujs/low-rank.js';
import { probePrecision } from '../src/kernels/gpujs/probe.js';
import { wgslExact, type KernelTiming } from '../src/kernels/wgsl/exact.js';
import { wgslLowRank } from '../src/kernels/wgsl/low-rank.js';
import { nodeWgslDevice } from '../src/kernels/wgsl/node.js';
import { fmt, table } from '../src/cli/table.js';
import { onnxBlockCausal } from './onnx-attention.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    backends: { type: 'string' },
    chromium: { type: 'boolean', default: false },
    json: { type: 'string' },
    md: { type: 'string' },
    seed: { type: 'string' },
    runs: { type: 'string' },
    rows: { type: 'string', default: '256' },
    budget: { type: 'string' },
  },
});
const quick = values.quick === true;
const seed = resolveSeed(values.seed ?? process.env.VARCHECK_SEED);
const numRuns = Number(values.runs ?? (quick ? 10 : 25));
const sampleRows = Number(values.rows);
const budgetMs = Number(values.budget ?? (quick ? 90 : 200)) * 1000;
const jsonPath = values.json ?? (quick ? 'bench/results/gpu-quick.json' : 'bench/results/gpu.json');
const started = performance.now();
const elapsed = (): number => performance.now() - started;
const PEAK_FP32 = 67e12;

const adapter = await probeWebGPU();
const backends: GpuBackend[] = values.backends ? (values.backends.split(',') as GpuBackend[]) : (await availableBackends()).filter((b) => b === 'webgpu' || (adapter === undefined && b === 'webasm'));
console.log(
  `varcheck GPU benchmark — ${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length}, Node ${process.version}; WebGPU adapter: ${adapter ?? 'none'}; gpu.js backends: ${backends.join(', ') || 'none'}; seed ${seed}${quick ? '; --quick' : ''}`,
);

const out: Record<string, unknown> = {
  date: new Date().toISOString(),
  machine: `${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length}`,
  node: process.version,
  adapter: adapter ?? null,
  backends,
  seed,
  quick,
  sampleRows,
  peakFp32: PEAK_FP32,
};
function save(): void {
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify(out, null, 2)}\n`);
}

// ---------------------------------------------------------------- kernels
type Timed = AttentionKernel & { readonly lastTiming?: KernelTiming };
interface Entry {
  kernel: Timed;
  measured: MeasuredPrecision;
  where: string;
}
const entries: Entry[] = [];
const resizers: { kernel: InterpolationKernel; where: string }[] = [];
const unavailable: string[] = [];
const closers: (() => unknown)[] = [];
for (const backend of backends) {
  const measured = await probePrecision(backend);
  console.log(
    `gpu.js ${backend}: exp relative error ${measured.expRelativeError.toExponential(2)}, sum relative error ${measured.sumRelativeError.toExponential(2)}, flushes subnormals ${measured.flushesSubnormals}`,
  );
  entries.push({ kernel: await gpujsExact({ backend }), measured, where: backend }, { kernel: await gpujsLowRank({ backend, delta: 1e-3 }), measured, where: backend });
  resizers.push({ kernel: await gpujsUpsampleBicubic({ backend }), where: backend }, { kernel: await gpujsDownsampleArea({ backend }), where: backend });
}
try {
  const dev = await nodeWgslDevice();
  const measured = await probePrecision('webgpu');
  console.log(`wgsl on Dawn: adapter ${dev.adapter}, timestamp-query ${dev.timestamps}`);
  entries.push(
    { kernel: wgslExact(dev, { name: 'wgsl/exact@node-webgpu' }), measured, where: 'node-webgpu' },
    { kernel: wgslLowRank(dev, { name: 'wgsl/low-rank@node-webgpu', delta: 1e-3 }), measured, where: 'node-webgpu' },
  );
} catch (e) {
  unavailable.push(`node-webgpu: ${(e as Error).message}`);
}
if (values.chromium) {
  try {
    // A computed specifier: the packed GPU bundle (esbuild) must not pull in playwright-core.
    const driver = '../src/kernels/browser/chromium.js';
    const { chromiumKernels } = (await import(/* @vite-ignore */ driver)) as typeof import('../src/kernels/browser/chromium.js');
    const s = await chromiumKernels('webgpu');
    closers.push(() => s.close());
    for (const k of s.attention.filter((x) => x.name.startsWith('wgsl/'))) entries.push({ kernel: k, measured: s.measured, where: 'chromium-webgpu' });
  } catch (e) {
    unavailable.push(`chromium-webgpu: ${(e as Error).message}`);
  }
}
for (const u of unavailable) console.log(`unavailable — ${u}`);
out.kernels = entries.map((e) => e.kernel.name);
out.unavailable = unavailable;

// ---------------------------------------------------------------- (a) battery
const battery: { kernel: string; property: string; cases: number; error: number; bound: number; passed: boolean; ms: number }[] = [];
for (const { kernel, measured } of entries) {
  for (const law of attentionBattery(kernel, { maxL: 64, measured, numRuns })) {
    const t0 = performance.now();
    const r = await checkLaw(law, { seed });
    battery.push({ kernel: kernel.name, property: law.name, cases: r.cases, error: r.worst.error, bound: r.worst.bound, passed: r.status === 'passed', ms: performance.now() - t0 });
  }
}
for (const { kernel } of resizers) {
  for (const law of interpolationBattery(kernel, { numRuns })) {
    const t0 = performance.now();
    const r = await checkLaw(law, { seed });
    battery.push({ kernel: kernel.name, property: law.name, cases: r.cases, error: r.worst.error, bound: r.worst.bound, passed: r.status === 'passed', ms: performance.now() - t0 });
  }
}
console.log(`\n(a) conformance battery — ${numRuns} cases per law, seed ${seed} (${fmt(elapsed() / 1000)} s so far)\n`);
console.log(
  table(
    ['property', 'cases', 'worst error / bound', 'ms', 'status'],
    battery.map((c) => [c.property, String(c.cases), `${fmt(c.error)} / ${fmt(c.bound)}`, fmt(c.ms), c.passed ? 'pass' : 'FAIL']),
  ),
);
out.battery = battery;
save();

// ---------------------------------------------------------------- (b) large sizes
/** 16-row groups (fewer in blocks smaller than 16) spread evenly over L, each inside one scale block. */
function rowGroups(blocks: readonly number[], total: number): { start: number; end: number }[] {
  const L = blocks.reduce((a, b) => a + b, 0);
  const groups: { start: number; end: number }[] = [];
  const n = Math.max(1, Math.round(total / 16));
  for (let g = 0; g < n; g++) {
    const at = Math.floor(((g + 0.5) * L) / n);
    let s = 0;
    for (const b of blocks) {
      if (at < s + b) {
        const start = Math.max(s, Math.min(at, s + b - 16));
        groups.push({ start, end: Math.min(s + b, start + 16) });
        break;
      }
      s += b;
    }
  }
  return groups;
}
/** The sub-input of query rows start..end−1 (all in one block) against their key prefix. */
function groupInput(x: AttentionInput, start: number, end: number, lim: number): AttentionInput {
  const d = x.q.cols;
  const dv = x.v.cols;
  return attentionInput(matrix(end - start, d, x.q.data.subarray(start * d, end * d)), matrix(lim, d, x.k.data.subarray(0, lim * d)), matrix(lim, dv, x.v.data.subarray(0, lim * dv)), {
    scale: x.scale,
  });
}

const specs: { label: string; spec: PyramidSpec }[] = quick
  ? [
      { label: 'geometric(16)', spec: { geometric: 16 } },
      { label: 'var-256', spec: 'var-256' },
    ]
  : [
      { label: 'geometric(128)', spec: { geometric: 128 } },
      { label: 'var-1024', spec: 'var-1024' },
    ];
interface Row {
  kernel: string;
  pyramid: string;
  L: number;
  d: number;
  compileMs: number | null;
  kernelMs: number | null;
  endToEndMs: number | null;
  gflops: number | null;
  peakFraction: number | null;
  speedupCpuExactEst: number | null;
  speedupOnnx: number | null;
  error: number | null;
  bound: number | null;
  passed: boolean | null;
  note?: string;
}
const rows: Row[] = [];
out.large = rows;
for (const { label, spec } of specs) {
  const p = scalePyramid(spec);
  const blocks = p.blocks;
  const pairs = attentionPairCounts(p).kvCache;
  const groups = rowGroups(blocks, sampleRows);
  const sampled = groups.flatMap((g) => Array.from({ length: g.end - g.start }, (_, t) => g.start + t));
  for (const d of [64, 4]) {
    const users = entries.filter((e) => (d === 64) === e.kernel.exact);
    if (users.length === 0) continue;
    const r = mulberry32(1000 + d + p.L);
    // Low-rank cases keep their entries at 0.25, inside the float32 certificate's ceiling where L allows it.
    const B = d === 64 ? 1 : 0.25;
    const x = attentionInput(uniformMatrix(r, p.L, d, B), uniformMatrix(r, p.L, d, B), uniformMatrix(r, p.L, d, 1), { mask: blockCausalMask(p) });
    const ref = attentionRows(x, sampled);
    const naive = d === 64 ? naiveFloat32Attention(x, sampled) : undefined;
    // cpu/exact on the sampled row groups (each group against its key prefix), scaled by L / rows
    const limits = keyLimits(x.mask, p.L, p.L);
    const subs = groups.map((g) => groupInput(x, g.start, g.end, limits[g.start]));
    for (const s of subs) exactAttentionCpu(s); // JIT warm-up
    const t0 = performance.now();
    for (const s of subs) exactAttentionCpu(s);
    const cpuEst = ((performance.now() - t0) * p.L) / sampled.length;
    const flops = d === 64 ? pairs * (2 * d + 2 * d) : 2 * p.L * rank(d, lowRankPolynomial(x, 1e-3).degree) * (2 + 2 * (d + 1));
    rows.push({
      kernel: 'cpu/exact (estimate: sampled rows × L/rows)',
      pyramid: label,
      L: p.L,
      d,
      compileMs: null,
      kernelMs: null,
      endToEndMs: cpuEst,
      gflops: (pairs * 4 * d) / cpuEst / 1e6,
      peakFraction: null,
      speedupCpuExactEst: 1,
      speedupOnnx: null,
      error: null,
      bound: null,
      passed: null,
    });
    let onnxMs: number | null = null;
    try {
      const onnx = await onnxBlockCausal(d, d, x.scale);
      const q32 = Float32Array.from(x.q.data);
      const k32 = Float32Array.from(x.k.data);
      const v32 = Float32Array.from(x.v.data);
      const o1 = await onnx(q32, k32, v32, blocks); // warm-up
      const t1 = performance.now();
      await onnx(q32, k32, v32, blocks);
      onnxMs = performance.now() - t1;
      const err = maxAbsDiff(pickRows(matrix(p.L, d, o1), sampled).data, ref.data);
      rows.push({
        kernel: 'onnxruntime-node exact (CPU, per block)',
        pyramid: label,
        L: p.L,
        d,
        compileMs: null,
        kernelMs: null,
        endToEndMs: onnxMs,
        gflops: (pairs * 4 * d) / onnxMs / 1e6,
        peakFraction: null,
        speedupCpuExactEst: cpuEst / onnxMs,
        speedupOnnx: 1,
        error: err,
        bound: null,
        passed: null,
      });
    } catch (e) {
      rows.push({
        kernel: 'onnxruntime-node exact (CPU, per block)',
        pyramid: label,
        L: p.L,
        d,
        compileMs: null,
        kernelMs: null,
        endToEndMs: null,
        gflops: null,
        peakFraction: null,
        speedupCpuExactEst: null,
        speedupOnnx: null,
        error: null,
        bound: null,
        passed: null,
        note: `unavailable: ${(e as Error).message.split('\n')[0]}`,
      });
    }
    if (d === 4) {
      const low = cpuLowRank({ delta: 1e-3 });
      await low.run(x);
      const t2 = performance.now();
      await low.run(x);
      const ms = performance.now() - t2;
      rows.push({
        kernel: 'cpu/low-rank (δ = 1e-3)',
        pyramid: label,
        L: p.L,
        d,
        compileMs: null,
        kernelMs: null,
        endToEndMs: ms,
        gflops: flops / ms / 1e6,
        peakFraction: null,
        speedupCpuExactEst: cpuEst / ms,
        speedupOnnx: onnxMs ? onnxMs / ms : null,
        error: null,
        bound: null,
        passed: null,
      });
    }
    for (const { kernel, measured } of users) {
      const base = { kernel: kernel.name, pyramid: label, L: p.L, d };
      if (elapsed() > budgetMs) {
        rows.push({
          ...base,
          compileMs: null,
          kernelMs: null,
          endToEndMs: null,
          gflops: null,
          peakFraction: null,
          speedupCpuExactEst: null,
          speedupOnnx: null,
          error: null,
          bound: null,
          passed: null,
          note: `skipped: over the ${budgetMs / 1000} s budget`,
        });
        continue;
      }
      try {
        const a0 = performance.now();
        await kernel.run(x);
        const first = performance.now() - a0;
        const a1 = performance.now();
        const got = await kernel.run(x);
        const e2e = performance.now() - a1;
        const kernelMs = kernel.lastTiming?.kernelMs ?? null;
        const error = maxAbsDiff(pickRows(got, sampled).data, ref.data);
        const floatTol = float32Tolerance(x, ref, measured, naive ? { float32: naive, float64: ref } : kernel.formulaReference?.(x));
        const bound = kernel.exact ? floatTol : (kernel.errorBound?.(x) ?? 0) + floatTol;
        const ms = kernelMs ?? e2e;
        rows.push({
          ...base,
          compileMs: Math.max(0, first - e2e),
          kernelMs,
          endToEndMs: e2e,
          gflops: flops / ms / 1e6,
          peakFraction: flops / (ms / 1e3) / PEAK_FP32,
          speedupCpuExactEst: cpuEst / e2e,
          speedupOnnx: onnxMs ? onnxMs / e2e : null,
          error,
          bound,
          passed: error <= bound,
        });
      } catch (e) {
        rows.push({
          ...base,
          compileMs: null,
          kernelMs: null,
          endToEndMs: null,
          gflops: null,
          peakFraction: null,
          speedupCpuExactEst: null,
          speedupOnnx: null,
          error: null,
          bound: null,
          // A declined input (beyond the kernel's certified range, e.g. float32 prefix sums over this many keys) is no verdict.
          passed: e instanceof RangeArgumentError ? null : false,
          note: `${e instanceof RangeArgumentError ? 'declined' : 'threw'}: ${(e as Error).message.split('\n')[0]}`,
        });
      }
      save();
      console.log(`  ${kernel.name} ${label} d = ${d}: done (${fmt(elapsed() / 1000)} s)`);
    }
  }
}
const o = (x: number | null, suffix = ''): string => (x === null ? '—' : `${fmt(x)}${suffix}`);
const header = [
  'kernel',
  'pyramid',
  'L',
  'd',
  'compile ms',
  'kernel ms',
  'end-to-end ms',
  'GFLOP/s',
  '% of 67 TFLOP/s',
  '× cpu/exact (est.)',
  '× onnxruntime',
  `error / bound (${sampleRows} rows)`,
  'status',
];
const body = rows.map((r) => [
  r.kernel,
  r.pyramid,
  String(r.L),
  String(r.d),
  o(r.compileMs),
  o(r.kernelMs),
  o(r.endToEndMs),
  o(r.gflops),
  r.peakFraction === null ? '—' : fmt(100 * r.peakFraction),
  o(r.speedupCpuExactEst, '×'),
  o(r.speedupOnnx, '×'),
  r.error === null ? '—' : `${fmt(r.error)} / ${r.bound === null ? '—' : fmt(r.bound)}`,
  r.note ?? (r.passed === null ? '' : r.passed ? 'pass' : 'FAIL'),
]);
console.log(
  `\n(b) large block-causal cases — exact kernels d = d_v = 64, low-rank d = d_v = 4 (δ = 1e-3) with Q, K entries ≤ 0.25, V ≤ 1, exact B = 1; one timed run after a first (compiling) run; kernel ms from timestamp-query where the adapter has it, GFLOP/s from kernel ms when known, else end-to-end\n`,
);
console.log(table(header, body));
out.elapsedMs = elapsed();
save();
if (values.md) {
  mkdirSync(dirname(values.md), { recursive: true });
  const mdRow = (r: readonly string[]): string => `| ${r.join(' | ')} |`;
  const failed = battery.filter((b) => !b.passed);
  writeFileSync(
    values.md,
    [
      `# bench/gpu.ts — ${out.date}`,
      '',
      `Machine: ${String(out.machine)}, Node ${process.version}; WebGPU adapter: ${adapter ?? 'none'}; gpu.js backends: ${backends.join(', ') || 'none'}; seed ${seed}; total ${fmt(elapsed() / 1000)} s.`,
      unavailable.length ? `Unavailable: ${unavailable.join('; ')}.` : '',
      '',
      `Battery: ${battery.length - failed.length}/${battery.length} laws pass (${numRuns} cases each)${failed.length ? `; failing: ${failed.map((b) => b.property).join('; ')}` : ''}.`,
      '',
      mdRow(header),
      mdRow(header.map(() => '---')),
      ...body.map(mdRow),
      '',
    ].join('\n'),
  );
  console.log(`wrote ${values.md}`);
}
console.log(`\nwrote ${jsonPath} (${fmt(elapsed() / 1000)} s)`);
for (const c of closers) await c();
const ok = battery.every((b) => b.passed) && rows.every((r) => r.passed !== false);
process.exit(ok ? 0 : 1);
