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
 * `main()` (at the bottom) reads the options, finds the kernels, runs the two phases and writes
 * the results after each. Dawn keeps the event loop alive once a device exists, so this ends with
 * process.exit.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { attentionInput, attentionRows, type AttentionInput } from '../spec/attention.js';
import { keyLimits, blockCausalMask } from '../spec/mask.js';
import { matrix, maxAbsDiff, type Matrix } from '../spec/matrix.js';
import { attentionPairCounts, scalePyramid, type PyramidSpec, type ScalePyramid } from '../spec/pyramid.js';
import { mulberry32, uniformMatrix } from '../spec/random.js';
import type { AttentionKernel, InterpolationKernel, MeasuredPrecision } from '../spec/contract.js';
import { lowRankPolynomial } from '../spec/certificate.js';
import { rank } from '../spec/low-rank.js';
import { RangeArgumentError } from '../spec/errors.js';
import { attentionBattery, pickRows } from '../properties/battery/attention.js';
import { float32Tolerance, naiveFloat32Attention } from '../properties/battery/float32.js';
import { interpolationBattery } from '../properties/battery/interpolation.js';
import type { Law } from '../properties/law.js';
import { checkLaw } from '../properties/runner/check-law.js';
import { resolveSeed } from '../properties/runner/seed.js';
import { exactAttentionCpu } from '../src/kernels/cpu/exact.js';
import { cpuLowRank } from '../src/kernels/cpu/low-rank.js';
import { availableBackends, probeWebGPU, type GpuBackend } from '../src/kernels/gpujs/backend.js';
import { gpujsExact, type GpujsKernelOptions, type GpujsRunInfo } from '../src/kernels/gpujs/exact.js';
import { gpujsDownsampleArea, gpujsUpsampleBicubic } from '../src/kernels/gpujs/interpolation.js';
import { gpujsLowRank } from '../src/kernels/gpujs/low-rank.js';
import { probePrecision } from '../src/kernels/gpujs/probe.js';
import { wgslExact, WGSL_SPLIT_TARGET, type KernelTiming, type WgslExactShape } from '../src/kernels/wgsl/exact.js';
import { BufferUsage, MAP_READ, type WgslDevice } from '../src/kernels/wgsl/webgpu.js';
import { wgslLowRank, type WgslLowRankOptions } from '../src/kernels/wgsl/low-rank.js';
import { nodeWgslDevice } from '../src/kernels/wgsl/node.js';
import { fmt, table } from '../src/cli/table.js';
import { onnxBlockCausal } from './onnx-attention.js';

/** The H100's FP32 peak in FLOP/s, the denominator of the "% of peak" column. */
const PEAK_FP32 = 67e12;
/** δ of the low-rank kernels and of the cpu/low-rank peer. */
const DELTA = 1e-3;
/** Names of the CPU peer rows of the large-case table. */
const CPU_EXACT = 'cpu/exact (estimate: sampled rows × L/rows)';
const ONNX = 'onnxruntime-node exact (CPU, per block)';
const CPU_LOW_RANK = 'cpu/low-rank (δ = 1e-3)';

const started = performance.now();
/** Milliseconds since the benchmark started. */
const elapsed = (): number => performance.now() - started;

/** The first line of a thrown error's message. */
const firstLine = (e: unknown): string => (e as Error).message.split('\n')[0];

// ---------------------------------------------------------------- options

/** The command line (docs/guide-gpu.md; bench/h100.sh passes --json, --md and extra flags through). */
interface Options {
  /** --quick: small pyramids and fewer cases, for CPU backends and CI. */
  quick: boolean;
  /** --backends a,b: the gpu.js backends to run; undefined: those available here. */
  backends: GpuBackend[] | undefined;
  /** --chromium: also the WGSL kernels in Chromium's WebGPU. */
  chromium: boolean;
  /** --seed, else VARCHECK_SEED, else a fresh seed. */
  seed: number;
  /** --runs: cases per battery law. */
  numRuns: number;
  /** --rows: query rows judged (and timed for the cpu/exact estimate) per large case. */
  sampleRows: number;
  /** --budget (s): large cases still to run after this long are skipped. */
  budgetMs: number;
  /** --json: where the JSON goes. */
  jsonPath: string;
  /** --md: where the Markdown summary goes, if anywhere. */
  mdPath: string | undefined;
  /** --sweep t1,t2,…: phase (c) ({@link sweepPhase}), with these split targets of wgsl/exact. */
  sweep: number[];
  /** --sweep-only: phase (c) alone (no battery, no phase (b)); the split targets default to {@link WGSL_SPLIT_TARGET}. */
  sweepOnly: boolean;
  /** --reps: timed runs per GPU kernel and large case after the compiling run; the medians are reported. */
  reps: number;
}

/** Reads the options from the command line, with the defaults of a full or a --quick run. */
function parseOptions(): Options {
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
      sweep: { type: 'string' },
      'sweep-only': { type: 'boolean', default: false },
      reps: { type: 'string', default: '1' },
    },
  });
  const quick = values.quick === true;
  return {
    quick,
    backends: values.backends ? (values.backends.split(',') as GpuBackend[]) : undefined,
    chromium: values.chromium === true,
    seed: resolveSeed(values.seed ?? process.env.VARCHECK_SEED),
    numRuns: Number(values.runs ?? (quick ? 10 : 25)),
    sampleRows: Number(values.rows),
    budgetMs: Number(values.budget ?? (quick ? 90 : 200)) * 1000,
    jsonPath: values.json ?? (quick ? 'bench/results/gpu-quick.json' : 'bench/results/gpu.json'),
    mdPath: values.md,
    sweep: values.sweep ? values.sweep.split(',').map(Number) : values['sweep-only'] ? [WGSL_SPLIT_TARGET] : [],
    sweepOnly: values['sweep-only'] === true,
    reps: Math.max(1, Number(values.reps)),
  };
}

// ---------------------------------------------------------------- report

/** A battery law's result on one kernel (JSON `battery[]`). */
interface LawRow {
  kernel: string;
  property: string;
  cases: number;
  error: number;
  bound: number;
  passed: boolean;
  ms: number;
}

/** A row of the large-case table (JSON `large[]`); null where the column does not apply or was not measured. */
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
  /** Each pass's GPU ms (timestamp-query) in the run whose kernel ms is the median. */
  passMs?: number[] | null;
}

/** The JSON written to --json; each phase adds its fields (in this order) and the file is rewritten. */
interface Report {
  date: string;
  machine: string;
  node: string;
  adapter: string | null;
  backends: GpuBackend[];
  seed: number;
  quick: boolean;
  sampleRows: number;
  /** Timed runs per large case and kernel (medians reported). */
  reps: number;
  peakFp32: number;
  kernels?: string[];
  unavailable?: string[];
  battery?: LawRow[];
  large?: Row[];
  sweep?: Row[];
  /** Host↔device transfer times on Dawn (with --sweep). */
  transfers?: Transfers;
  elapsedMs?: number;
}

/** This machine's CPU model × core count. */
function machineName(): string {
  return `${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length}`;
}

/** The report's fixed fields: machine, adapter, backends and settings. */
function newReport(opts: Options, adapter: string | undefined, backends: GpuBackend[]): Report {
  return {
    date: new Date().toISOString(),
    machine: machineName(),
    node: process.version,
    adapter: adapter ?? null,
    backends,
    seed: opts.seed,
    quick: opts.quick,
    sampleRows: opts.sampleRows,
    reps: opts.reps,
    peakFp32: PEAK_FP32,
  };
}

/** The first line printed: machine, Node, adapter, backends and seed. */
function headerLine(r: Report): string {
  return `varcheck GPU benchmark — ${r.machine}, Node ${r.node}; WebGPU adapter: ${r.adapter ?? 'none'}; gpu.js backends: ${r.backends.join(', ') || 'none'}; seed ${r.seed}; median of ${r.reps} timed run(s)${r.quick ? '; --quick' : ''}`;
}

/** Writes the report as JSON to `path` (creating its folder). */
function writeJson(path: string, report: Report): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
}

// ---------------------------------------------------------------- kernels

/** An attention kernel that may report its GPU time (the WGSL kernels' `lastTiming`). */
type Timed = AttentionKernel & { readonly lastTiming?: KernelTiming };
/** An attention kernel under test, the precision measured on its backend, and where it runs. */
interface Entry {
  kernel: Timed;
  measured: MeasuredPrecision;
  where: string;
}
/** An interpolation kernel under test and where it runs. */
interface Resizer {
  kernel: InterpolationKernel;
  where: string;
}
/** What one source of kernels provides. */
interface Found {
  entries: Entry[];
  resizers?: Resizer[];
  close?: () => unknown;
  /** Dawn's device (for --sweep's extra wgsl/exact kernels), where there is one. */
  dawn?: { dev: WgslDevice; measured: MeasuredPrecision };
}
/** Every kernel found, the sources that were not (with the reason), and what to close at the end. */
interface Kernels {
  entries: Entry[];
  resizers: Resizer[];
  unavailable: string[];
  closers: (() => unknown)[];
  dawn?: Found['dawn'];
}

/** The gpu.js backends to run: --backends, else those available here that matter — `webgpu`, and `webasm` where there is no WebGPU adapter. */
async function chooseBackends(requested: GpuBackend[] | undefined, adapter: string | undefined): Promise<GpuBackend[]> {
  return requested ?? (await availableBackends()).filter((b) => b === 'webgpu' || (adapter === undefined && b === 'webasm'));
}

/** gpu.js exact and low-rank attention and the two resizes on `backend`, after measuring (and printing) its precision. */
async function gpujsKernels(backend: GpuBackend): Promise<Found> {
  const measured = await probePrecision(backend);
  console.log(
    `gpu.js ${backend}: exp relative error ${measured.expRelativeError.toExponential(2)}, sum relative error ${measured.sumRelativeError.toExponential(2)}, flushes subnormals ${measured.flushesSubnormals}`,
  );
  return {
    entries: [
      { kernel: await gpujsExact({ backend }), measured, where: backend },
      { kernel: await gpujsLowRank({ backend, delta: DELTA }), measured, where: backend },
    ],
    resizers: [
      { kernel: await gpujsUpsampleBicubic({ backend }), where: backend },
      { kernel: await gpujsDownsampleArea({ backend }), where: backend },
    ],
  };
}

/** The WGSL kernels on Dawn in this process; throws where Dawn has no adapter. */
async function dawnKernels(): Promise<Found> {
  const dev = await nodeWgslDevice();
  const measured = await probePrecision('webgpu');
  console.log(`wgsl on Dawn: adapter ${dev.adapter}, timestamp-query ${dev.timestamps}`);
  return {
    entries: [
      { kernel: wgslExact(dev, { name: 'wgsl/exact@node-webgpu' }), measured, where: 'node-webgpu' },
      { kernel: wgslLowRank(dev, { name: 'wgsl/low-rank@node-webgpu', delta: DELTA }), measured, where: 'node-webgpu' },
    ],
    dawn: { dev, measured },
  };
}

/** The WGSL kernels in Chromium's WebGPU; throws where Chromium, playwright-core or an adapter is missing. */
async function chromiumWebgpuKernels(): Promise<Found> {
  // A computed specifier: the packed GPU bundle (esbuild) must not pull in playwright-core.
  const driver = '../src/kernels/browser/chromium.js';
  const { chromiumKernels } = (await import(/* @vite-ignore */ driver)) as typeof import('../src/kernels/browser/chromium.js');
  const s = await chromiumKernels('webgpu');
  return { entries: s.attention.filter((k) => k.name.startsWith('wgsl/')).map((kernel) => ({ kernel, measured: s.measured, where: 'chromium-webgpu' })), close: () => s.close() };
}

/**
 * Finds the kernels: gpu.js on each backend (a failure there is fatal), then the WGSL kernels on
 * Dawn and, with --chromium, in Chromium — those two reported unavailable, with the reason, when
 * they fail to start.
 */
async function discoverKernels(backends: readonly GpuBackend[], chromium: boolean): Promise<Kernels> {
  const all: Kernels = { entries: [], resizers: [], unavailable: [], closers: [] };
  const add = (f: Found): void => {
    all.entries.push(...f.entries);
    all.resizers.push(...(f.resizers ?? []));
    if (f.close) all.closers.push(f.close);
    all.dawn ??= f.dawn;
  };
  for (const backend of backends) add(await gpujsKernels(backend));
  const optional: [string, () => Promise<Found>][] = [['node-webgpu', dawnKernels]];
  if (chromium) optional.push(['chromium-webgpu', chromiumWebgpuKernels]);
  for (const [where, load] of optional) {
    try {
      add(await load());
    } catch (e) {
      all.unavailable.push(`${where}: ${(e as Error).message}`);
    }
  }
  for (const u of all.unavailable) console.log(`unavailable — ${u}`);
  return all;
}

// ---------------------------------------------------------------- (a) conformance battery

/** Checks each of a kernel's laws with `seed`: one row per law, with its worst error, bound and time. */
async function checkLaws(kernel: string, laws: readonly Law<unknown>[], seed: number): Promise<LawRow[]> {
  const rows: LawRow[] = [];
  for (const law of laws) {
    const t0 = performance.now();
    const r = await checkLaw(law, { seed });
    rows.push({ kernel, property: law.name, cases: r.cases, error: r.worst.error, bound: r.worst.bound, passed: r.status === 'passed', ms: performance.now() - t0 });
  }
  return rows;
}

/** Phase (a): the attention battery (L ≤ 64) on every attention kernel, then the interpolation battery on every resize, --runs cases per law. */
async function conformancePhase(kernels: Kernels, opts: Options): Promise<LawRow[]> {
  const rows: LawRow[] = [];
  for (const { kernel, measured } of kernels.entries) rows.push(...(await checkLaws(kernel.name, attentionBattery(kernel, { maxL: 64, measured, numRuns: opts.numRuns }), opts.seed)));
  for (const { kernel } of kernels.resizers) rows.push(...(await checkLaws(kernel.name, interpolationBattery(kernel, { numRuns: opts.numRuns }), opts.seed)));
  return rows;
}

/** Prints the battery's table under its heading. */
function printBattery(rows: readonly LawRow[], opts: Options): void {
  console.log(`\n(a) conformance battery — ${opts.numRuns} cases per law, seed ${opts.seed} (${fmt(elapsed() / 1000)} s so far)\n`);
  console.log(
    table(
      ['property', 'cases', 'worst error / bound', 'ms', 'status'],
      rows.map((c) => [c.property, String(c.cases), `${fmt(c.error)} / ${fmt(c.bound)}`, fmt(c.ms), c.passed ? 'pass' : 'FAIL']),
    ),
  );
}

// ---------------------------------------------------------------- (b) large cases

/** The pyramids of phase (b): geometric(128) and VAR-1024, or with --quick geometric(16) and VAR-256. */
function largePyramids(quick: boolean): { label: string; spec: PyramidSpec }[] {
  return quick
    ? [
        { label: 'geometric(16)', spec: { geometric: 16 } },
        { label: 'var-256', spec: 'var-256' },
      ]
    : [
        { label: 'geometric(128)', spec: { geometric: 128 } },
        { label: 'var-1024', spec: 'var-1024' },
      ];
}

/**
 * The head sizes of phase (b) and the kernels judged there: exact kernels at d = d_v = 64, and
 * exact and low-rank kernels on one and the same d = d_v = 4 input (δ = 1e-3), so that a
 * low-rank kernel's speed-up over its exact sibling is read off the same case ({@link lowRankSpeedups});
 * Q, K, V entries ≤ 1. Float32 low-rank with sequential prefix sums (gpujs/low-rank) declines the
 * largest of these (its γ_L exceeds δ); wgsl/low-rank's chunked sums certify them
 * (docs/floating-point.md §2 "Chunked key sums").
 */
const HEADS = [
  { d: 64, exact: true, B: 1 },
  { d: 4, exact: true, B: 1 },
  { d: 4, exact: false, B: 1 },
] as const;
type Head = (typeof HEADS)[number];

/** {@link HEADS} grouped by head size: the kernels of one group are timed together, round-robin ({@link measureKernels}). */
function headGroups(): Head[][] {
  const byD = new Map<number, Head[]>();
  for (const h of HEADS) byD.set(h.d, [...(byD.get(h.d) ?? []), h]);
  return [...byD.values()];
}

/** Query rows start..end−1, all inside one scale block. */
interface RowGroup {
  start: number;
  end: number;
}

/** 16-row groups (fewer in blocks smaller than 16) spread evenly over L, each inside one scale block. */
function rowGroups(blocks: readonly number[], total: number): RowGroup[] {
  const L = blocks.reduce((a, b) => a + b, 0);
  const groups: RowGroup[] = [];
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

/** One large case: a pyramid and head size, its input, the sampled rows, their references and the work done. */
interface LargeCase {
  label: string;
  pyramid: ScalePyramid;
  d: number;
  exact: boolean;
  x: AttentionInput;
  groups: RowGroup[];
  /** The judged query rows (those of `groups`). */
  sampled: number[];
  /** The float64 reference `attentionRows` on the sampled rows. */
  ref: Matrix;
  /** Naive float32 attention on the sampled rows (exact cases: the float32 tolerance's rule). */
  naive: Matrix | undefined;
  /** FLOPs of exact attention on this input (4·d per allowed query–key pair). */
  exactFlops: number;
  /** FLOPs of the kernels judged here: exact attention, or the low-rank method's. */
  flops: number;
}

/** Builds the input of a large case (seeded by d and L), its sampled rows and their references. */
function largeCase(label: string, pyramid: ScalePyramid, head: Head, groups: RowGroup[]): LargeCase {
  const { d, exact, B } = head;
  const L = pyramid.L;
  const r = mulberry32(1000 + d + L);
  const x = attentionInput(uniformMatrix(r, L, d, B), uniformMatrix(r, L, d, B), uniformMatrix(r, L, d, 1), { mask: blockCausalMask(pyramid) });
  const sampled = groups.flatMap((g) => Array.from({ length: g.end - g.start }, (_, t) => g.start + t));
  const exactFlops = attentionPairCounts(pyramid).kvCache * 4 * d;
  return {
    label,
    pyramid,
    d,
    exact,
    x,
    groups,
    sampled,
    ref: attentionRows(x, sampled),
    naive: exact ? naiveFloat32Attention(x, sampled) : undefined,
    exactFlops,
    flops: exact ? exactFlops : 2 * L * rank(d, lowRankPolynomial(x, DELTA).degree) * (2 + 2 * (d + 1)),
  };
}

/** A large-case row for `kernel` on `c`, every column null unless given in `fields`. */
function largeRow(c: LargeCase, kernel: string, fields: Partial<Row> = {}): Row {
  return {
    kernel,
    pyramid: c.label,
    L: c.pyramid.L,
    d: c.d,
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
    ...fields,
  };
}

/** Runs `fn` twice — the first run compiles or warms up — and times both. */
async function runTwice<T>(fn: () => T | Promise<T>): Promise<{ first: T; firstMs: number; second: T; secondMs: number }> {
  const t0 = performance.now();
  const first = await fn();
  const firstMs = performance.now() - t0;
  const t1 = performance.now();
  const second = await fn();
  return { first, firstMs, second, secondMs: performance.now() - t1 };
}

/** The median of `xs` (the lower middle of an even count). */
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];

/** Runs `fn` once to warm up, then `reps` times: the first run's result and the median of the timed runs. */
async function runMedian<T>(fn: () => T | Promise<T>, reps: number): Promise<{ first: T; ms: number }> {
  const first = await fn();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return { first, ms: median(times) };
}

/** GFLOP/s of `flops` done in `ms`. */
const gflops = (flops: number, ms: number): number => flops / ms / 1e6;

/** The peers' times on one case: the speed-up columns' denominators (onnxMs null where onnxruntime did not run). */
interface PeerTimes {
  cpuExactMs: number;
  onnxMs: number | null;
}

/** The speed-up columns of a run taking `ms`. */
function speedups(peers: PeerTimes, ms: number): Pick<Row, 'speedupCpuExactEst' | 'speedupOnnx'> {
  return { speedupCpuExactEst: Number.isFinite(peers.cpuExactMs) ? peers.cpuExactMs / ms : null, speedupOnnx: peers.onnxMs ? peers.onnxMs / ms : null };
}

/** cpu/exact's time on the whole case, estimated: its (second) time on the sampled row groups, each against its key prefix, × L / rows. */
async function cpuExactEstimate(c: LargeCase): Promise<number> {
  const limits = keyLimits(c.x.mask, c.pyramid.L, c.pyramid.L);
  const subs = c.groups.map((g) => groupInput(c.x, g.start, g.end, limits[g.start]));
  const { secondMs } = await runTwice(() => {
    for (const s of subs) exactAttentionCpu(s);
  });
  return (secondMs * c.pyramid.L) / c.sampled.length;
}

/** onnxruntime-node's exact block-causal attention (one session run per scale block): its row, and its time (null, with the reason in the row, where it is unavailable). */
async function onnxPeer(c: LargeCase, cpuExactMs: number, reps: number): Promise<{ row: Row; ms: number | null }> {
  try {
    const onnx = await onnxBlockCausal(c.d, c.d, c.x.scale);
    const [q, k, v] = [c.x.q, c.x.k, c.x.v].map((m) => Float32Array.from(m.data));
    const { first, ms } = await runMedian(() => onnx(q, k, v, c.pyramid.blocks), reps);
    const error = maxAbsDiff(pickRows(matrix(c.pyramid.L, c.d, first), c.sampled).data, c.ref.data);
    return { row: largeRow(c, ONNX, { endToEndMs: ms, gflops: gflops(c.exactFlops, ms), ...speedups({ cpuExactMs, onnxMs: ms }, ms), error }), ms };
  } catch (e) {
    return { row: largeRow(c, ONNX, { note: `unavailable: ${firstLine(e)}` }), ms: null };
  }
}

/**
 * The CPU peers of one case, in table order — cpu/exact (estimated from one run after a warm-up),
 * onnxruntime and, on low-rank cases, cpu/low-rank (each the median of `reps` runs after a warm-up,
 * like the GPU kernels) — and their times.
 */
async function measurePeers(c: LargeCase, reps: number): Promise<{ rows: Row[]; times: PeerTimes }> {
  const cpuExactMs = await cpuExactEstimate(c);
  const rows = [largeRow(c, CPU_EXACT, { endToEndMs: cpuExactMs, gflops: gflops(c.exactFlops, cpuExactMs), speedupCpuExactEst: 1 })];
  const onnx = await onnxPeer(c, cpuExactMs, reps);
  rows.push(onnx.row);
  const times = { cpuExactMs, onnxMs: onnx.ms };
  if (!c.exact) {
    const low = cpuLowRank({ delta: DELTA });
    const { ms } = await runMedian(() => low.run(c.x), reps);
    rows.push(largeRow(c, CPU_LOW_RANK, { endToEndMs: ms, gflops: gflops(c.flops, ms), ...speedups(times, ms) }));
  }
  return { rows, times };
}

/** Milliseconds of round-robin runs before any run of a case is timed ({@link measureKernels}). */
const WARM_UP_MS = 2000;

/** One timed run: end-to-end ms and, where the kernel reports them, its GPU ms and each pass's. */
interface TimedRun {
  e2e: number;
  kernelMs: number | null;
  passMs: number[] | null;
}

/** A kernel to time on its case, with the peers' times on that case (the speed-up columns). */
interface TimedCase {
  entry: Entry;
  c: LargeCase;
  peers: PeerTimes;
}

/**
 * Times a group of GPU kernels, each on its own case, and judges them: the exact and low-rank
 * kernels at d = 4 form one group on the same input, so that the low-rank speed-up compares
 * kernels timed under the same conditions. Each kernel runs twice first (compile =
 * first run − second); then all of them run round-robin for {@link WARM_UP_MS} untimed (a GPU
 * raises its clocks only after seconds of load: on the H100 the kernel timed first in a case ran
 * up to 5× slower than the same kernel timed later) and then `reps` timed rounds, each kernel once
 * per round, so that every kernel is timed under the same conditions. Reported: the medians of
 * end-to-end and kernel ms (from timestamp-query where reported, else end-to-end, for GFLOP/s);
 * the second run's sampled rows are judged against the float64 reference with the float32
 * tolerance (plus the declared bound of an approximation). A declined input (RangeArgumentError,
 * e.g. beyond float32 prefix sums) has no verdict; any other throw fails.
 */
async function measureKernels(items: readonly TimedCase[], reps = 1): Promise<Row[]> {
  const rows = new Map<TimedCase, Row>();
  const live: { item: TimedCase; firstMs: number; secondMs: number; second: Matrix; runs: TimedRun[] }[] = [];
  const fail = (item: TimedCase, e: unknown): void => {
    const declined = e instanceof RangeArgumentError;
    rows.set(item, largeRow(item.c, item.entry.kernel.name, { passed: declined ? null : false, note: `${declined ? 'declined' : 'threw'}: ${firstLine(e)}` }));
  };
  for (const item of items) {
    try {
      const { firstMs, second, secondMs } = await runTwice(() => item.entry.kernel.run(item.c.x));
      live.push({ item, firstMs, secondMs, second, runs: [] });
    } catch (e) {
      fail(item, e);
    }
  }
  const round = async (record: boolean): Promise<void> => {
    for (const k of live) {
      if (rows.has(k.item)) continue;
      try {
        const t0 = performance.now();
        await k.item.entry.kernel.run(k.item.c.x);
        const t = k.item.entry.kernel.lastTiming;
        if (record) k.runs.push({ e2e: performance.now() - t0, kernelMs: t?.kernelMs ?? null, passMs: t?.passMs ?? null });
      } catch (e) {
        fail(k.item, e);
      }
    }
  };
  const pending = (): boolean => live.some((k) => !rows.has(k.item));
  for (const t0 = performance.now(); performance.now() - t0 < WARM_UP_MS && pending();) await round(false);
  for (let r = 0; r < reps; r++) await round(true);
  for (const { item, firstMs, secondMs, second, runs } of live) {
    if (rows.has(item)) continue;
    const { entry, c, peers } = item;
    const { kernel, measured } = entry;
    const e2e = median(runs.map((r) => r.e2e));
    const byKernel = runs.filter((r) => r.kernelMs !== null).sort((a, b) => a.kernelMs! - b.kernelMs!);
    const mid = byKernel.length ? byKernel[(byKernel.length - 1) >> 1] : undefined;
    const kernelMs = mid?.kernelMs ?? null;
    // Pass times of the median run by kernel time, or by end-to-end time for kernels without one (gpujs/exact's profilePasses).
    const midE2e = [...runs].sort((a, b) => a.e2e - b.e2e)[(runs.length - 1) >> 1];
    const error = maxAbsDiff(pickRows(second, c.sampled).data, c.ref.data);
    // Exact kernels: the battery's policy (rigorous floor, then the rule on the precomputed naive float32 rows); approximations: their own formula.
    // (c.naive is passed to both: float32Tolerance's default would evaluate naive float32 attention on all L rows, minutes at L = 21,845.)
    const floatTol = kernel.exact
      ? float32Tolerance(c.x, c.ref, measured, undefined, c.sampled, c.naive, kernel.rescales)
      : float32Tolerance(c.x, c.ref, measured, kernel.formulaReference?.(c.x), c.sampled, c.naive);
    const bound = kernel.exact ? floatTol : (kernel.errorBound?.(c.x) ?? 0) + floatTol;
    const ms = kernelMs ?? e2e;
    // gpujs/exact: which orchestration ran, and on which of gpu.js's plan executors (a fallback says why).
    const run = (kernel as { lastRun?: GpujsRunInfo }).lastRun;
    const how = run?.orchestration === 'plan' ? `; plan on gpu.js's ${run.executor}${run.fallbackReason ? ` (fell back: ${run.fallbackReason})` : ''}` : '';
    rows.set(
      item,
      largeRow(c, kernel.name, {
        compileMs: Math.max(0, firstMs - secondMs),
        kernelMs,
        endToEndMs: e2e,
        gflops: gflops(c.flops, ms),
        peakFraction: c.flops / (ms / 1e3) / PEAK_FP32,
        ...speedups(peers, e2e),
        error,
        bound,
        passed: error <= bound,
        ...(how ? { note: `${error <= bound ? 'pass' : 'FAIL'}${how}` } : {}),
        passMs: (mid ?? midE2e)?.passMs ?? null,
      }),
    );
  }
  return items.map((i) => rows.get(i)!);
}

/**
 * Phase (b): for each pyramid and head size that has kernels, the peers and then each kernel
 * (skipped once over --budget), appending to `rows`; `onMeasured` is called after each kernel's row.
 */
async function largeCasePhase(entries: readonly Entry[], opts: Options, rows: Row[], onMeasured: (row: Row) => void): Promise<void> {
  for (const { label, spec } of largePyramids(opts.quick)) {
    const pyramid = scalePyramid(spec);
    const groups = rowGroups(pyramid.blocks, opts.sampleRows);
    for (const heads of headGroups()) {
      const items: TimedCase[] = [];
      for (const head of heads) {
        const users = entries.filter((e) => e.kernel.exact === head.exact);
        if (users.length === 0) continue;
        const c = largeCase(label, pyramid, head, groups);
        const peers = await measurePeers(c, opts.reps);
        rows.push(...peers.rows);
        items.push(...users.map((entry) => ({ entry, c, peers: peers.times })));
      }
      if (elapsed() > opts.budgetMs) {
        rows.push(...items.map(({ entry, c }) => largeRow(c, entry.kernel.name, { note: `skipped: over the ${opts.budgetMs / 1000} s budget` })));
        continue;
      }
      for (const row of await measureKernels(items, opts.reps)) {
        rows.push(row);
        onMeasured(row);
      }
    }
  }
}

/** The shapes of wgsl/exact the sweep times ({@link WgslExactShape}): the hardware default first, the pre-2026-11-27 kernel (class pipelines, one key at a time, stopping at each row's limit) last. */
const EXACT_SHAPES: readonly Required<WgslExactShape>[] = [
  { specialize: true, fullTiles: true },
  { specialize: true, fullTiles: false },
  { specialize: false, fullTiles: false },
];

/** The wgsl/low-rank variants the sweep times ({@link WgslLowRankOptions}): the hardware default first. */
const LOW_RANK_VARIANTS: readonly Required<Pick<WgslLowRankOptions, 'features' | 'keySums' | 'specialize' | 'slices'>>[] = [
  { features: 'fused', keySums: 'sliced', specialize: true, slices: 8 },
  { features: 'fused', keySums: 'sliced', specialize: true, slices: 16 },
  { features: 'fused', keySums: 'sliced', specialize: true, slices: 32 },
  { features: 'stored', keySums: 'sliced', specialize: true, slices: 8 },
  { features: 'fused', keySums: 'sliced', specialize: false, slices: 8 },
  { features: 'stored', keySums: 'sequential', specialize: false, slices: 8 },
];

/** Host↔device transfer rates on Dawn, measured by {@link transferProbe}. */
interface Transfers {
  /** Bytes per transfer. */
  bytes: number;
  /** Median ms: `queue.writeBuffer` into a fresh storage buffer, until the queue is idle. */
  writeBufferMs: number;
  /** Median ms: a fresh buffer `mappedAtCreation`, filled, unmapped, until the queue is idle. */
  mappedAtCreationMs: number;
  /** Median ms: copy a storage buffer to a MAP_READ buffer, `mapAsync`, copy the range out. */
  readbackMs: number;
  /** Median ms: an empty submit until `onSubmittedWorkDone` resolves. */
  roundTripMs: number;
}

/**
 * Time the transfers every kernel's end-to-end time includes, on Dawn's device, at the size of one
 * of Q, K, V at L = 21,845, d = 64 (5.6 MB): 5 repetitions each, medians.
 */
async function transferProbe(dev: WgslDevice): Promise<Transfers> {
  const { device } = dev;
  const n = 21845 * 64;
  const bytes = 4 * n;
  const data = new Float32Array(n).map((_, i) => (i % 1000) / 1000);
  const time = async (f: () => Promise<void>): Promise<number> => {
    const xs: number[] = [];
    for (let r = 0; r < 6; r++) {
      const t0 = performance.now();
      await f();
      if (r > 0) xs.push(performance.now() - t0);
    }
    return median(xs);
  };
  const writeBufferMs = await time(async () => {
    const b = device.createBuffer({ size: bytes, usage: BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC });
    device.queue.writeBuffer(b, 0, data);
    await device.queue.onSubmittedWorkDone();
    b.destroy();
  });
  const mappedAtCreationMs = await time(async () => {
    const b = device.createBuffer({ size: bytes, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC, mappedAtCreation: true });
    new Float32Array(b.getMappedRange()).set(data);
    b.unmap();
    device.queue.submit([]);
    await device.queue.onSubmittedWorkDone();
    b.destroy();
  });
  const src = device.createBuffer({ size: bytes, usage: BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC });
  device.queue.writeBuffer(src, 0, data);
  const readbackMs = await time(async () => {
    const staging = device.createBuffer({ size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(src, 0, staging, 0, bytes);
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(MAP_READ);
    new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
  });
  src.destroy();
  const roundTripMs = await time(async () => {
    device.queue.submit([]);
    await device.queue.onSubmittedWorkDone();
  });
  return { bytes, writeBufferMs, mappedAtCreationMs, readbackMs, roundTripMs };
}

/** One line for {@link Transfers}. */
function transferLine(t: Transfers): string {
  const rate = (ms: number): string => `${fmt(ms)} ms (${fmt(t.bytes / 1e6 / (ms / 1e3))} MB/s)`;
  return `host↔device on Dawn, ${fmt(t.bytes / 1e6)} MB: writeBuffer ${rate(t.writeBufferMs)}, mappedAtCreation ${rate(t.mappedAtCreationMs)}, readback ${rate(t.readbackMs)}; empty submit round trip ${fmt(t.roundTripMs)} ms`;
}

/**
 * The gpujs/exact variants the sweep times on WebGPU ({@link GpujsKernelOptions}): each
 * orchestration (a plan in one command encoder — the default at these sizes — or a submission per
 * pass, the default before 2026-11-28); as a plan with the row maxima over all rows or per tile
 * (scores computed once), each with q_i in registers up to d = 8 or 64 (`qRegisters`); and per pass
 * waiting for the device after every stage, which gives the stage times (`profilePasses`). (Tiles of 2²² and 2²³ cells, the
 * output pass before 2026-11-28 — one thread per (row, column) over all keys — and uploads through
 * `mappedAtCreation` buffers were timed on 2026-11-27: bench/results/h100-sweeps/.)
 */
const GPUJS_VARIANTS: readonly { label: string; options: Partial<GpujsKernelOptions> }[] = [
  { label: 'plan, rowMax global, qRegisters 8 (default)', options: {} },
  { label: 'plan, rowMax per-tile', options: { rowMax: 'per-tile' } },
  { label: 'plan, rowMax global, qRegisters 64', options: { qRegisters: 64 } },
  { label: 'plan, rowMax per-tile, qRegisters 64', options: { rowMax: 'per-tile', qRegisters: 64 } },
  { label: 'per-pass, rowMax global', options: { orchestration: 'per-pass' } },
  { label: 'per-pass, rowMax global, synced per stage: upload, row max, scores, partial sums, combine, readback', options: { profilePasses: true } },
];

/**
 * Phase (c), --sweep: on the large cases (grouped as in phase (b)), wgsl/exact on Dawn in each code shape
 * ({@link EXACT_SHAPES}) and, in the default shape, with each split target (`splitTarget`) on the
 * exact cases, and wgsl/low-rank with each feature mode and key-sum variant on the low-rank ones
 * (timed and judged like phase (b), peers not re-run), so that the defaults are chosen from
 * measurements on the device. Where gpu.js runs on WebGPU, gpujs/exact in each of
 * {@link GPUJS_VARIANTS} on the exact cases, in a group of its own (its long runs would change the
 * GPU's load, and with it the WGSL kernels' times).
 */
async function sweepPhase(dawn: NonNullable<Kernels['dawn']>, opts: Options, gpujsWebgpu: boolean, rows: Row[], onMeasured: (row: Row) => void): Promise<void> {
  const none: PeerTimes = { cpuExactMs: NaN, onnxMs: null };
  const name = (kind: string, what: string, isDefault: boolean): string => `wgsl/${kind}@node-webgpu ${what}${isDefault ? ' (default)' : ''}`;
  for (const { label, spec } of largePyramids(opts.quick)) {
    const pyramid = scalePyramid(spec);
    const groups = rowGroups(pyramid.blocks, opts.sampleRows);
    // The exact and low-rank d = 4 kernels are timed in one group, on one input.
    for (const heads of headGroups()) {
      const items: TimedCase[] = [];
      const gpujsItems: TimedCase[] = [];
      for (const head of heads) {
        const c = largeCase(label, pyramid, head, groups);
        const kernels = head.exact
          ? [
              ...EXACT_SHAPES.map((shape, n) => wgslExact(dawn.dev, { name: name('exact', `specialize ${shape.specialize}, fullTiles ${shape.fullTiles}`, n === 0), ...shape })),
              ...opts.sweep.filter((t) => t !== WGSL_SPLIT_TARGET).map((t) => wgslExact(dawn.dev, { name: name('exact', `splitTarget ${t}`, false), splitTarget: t })),
            ]
          : LOW_RANK_VARIANTS.map((v, n) =>
              wgslLowRank(dawn.dev, { name: name('low-rank', `features ${v.features}, keySums ${v.keySums}, specialize ${v.specialize}, slices ${v.slices}`, n === 0), delta: DELTA, ...v }),
            );
        items.push(...kernels.map((kernel) => ({ entry: { kernel, measured: dawn.measured, where: 'node-webgpu' }, c, peers: none })));
        if (head.exact && gpujsWebgpu)
          for (const { label, options } of GPUJS_VARIANTS) {
            const kernel = await gpujsExact({ backend: 'webgpu', ...options, name: `gpujs/exact@webgpu ${label}` });
            gpujsItems.push({ entry: { kernel, measured: dawn.measured, where: 'webgpu' }, c, peers: none });
          }
      }
      for (const group of [items, gpujsItems]) {
        if (group.length === 0) continue;
        if (elapsed() > opts.budgetMs + 120_000) {
          rows.push(...group.map(({ entry, c }) => largeRow(c, entry.kernel.name, { note: `skipped: over the ${opts.budgetMs / 1000} s budget + 120 s` })));
        } else {
          for (const row of await measureKernels(group, opts.reps)) {
            rows.push(row);
            onMeasured(row);
          }
        }
      }
      for (const { entry } of gpujsItems) entry.kernel.dispose?.();
    }
  }
}

/** Each low-rank row of the sweep against the sweep's default wgsl/exact row on the same input (kernel ms). */
function sweepSpeedups(rows: readonly Row[]): string[] {
  return rows
    .filter((r) => r.kernel.startsWith('wgsl/low-rank@') && r.kernelMs !== null)
    .flatMap((low) => {
      const exact = rows.find((r) => r.kernel.startsWith('wgsl/exact@') && r.kernel.endsWith('(default)') && r.pyramid === low.pyramid && r.d === low.d && r.kernelMs !== null);
      return exact ? [`${low.kernel} vs ${exact.kernel}, ${low.pyramid} (L = ${low.L}, d = ${low.d}): kernel ${fmt(exact.kernelMs! / low.kernelMs!)}×`] : [];
    });
}

/** A table as header and rows of cells (for the terminal and for Markdown). */
interface Cells {
  header: string[];
  body: string[][];
}

/** The large-case table: header and one line of cells per row. */
function largeTable(rows: readonly Row[], sampleRows: number): Cells {
  const cell = (x: number | null, suffix = ''): string => (x === null ? '—' : `${fmt(x)}${suffix}`);
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
    cell(r.compileMs),
    cell(r.kernelMs),
    cell(r.endToEndMs),
    cell(r.gflops),
    r.peakFraction === null ? '—' : fmt(100 * r.peakFraction),
    cell(r.speedupCpuExactEst, '×'),
    cell(r.speedupOnnx, '×'),
    r.error === null ? '—' : `${fmt(r.error)} / ${r.bound === null ? '—' : fmt(r.bound)}`,
    r.note ?? (r.passed === null ? '' : r.passed ? 'pass' : 'FAIL'),
  ]);
  return { header, body };
}

/** Prints the large-case table under its heading. */
function printLarge(t: Cells): void {
  console.log(
    `\n(b) large block-causal cases — exact kernels at d = d_v = 64 and d = 4, low-rank at d = d_v = 4 (δ = 1e-3) on the same d = 4 inputs; Q, K, V entries ≤ 1; median of --reps timed runs after a first (compiling) run, for the GPU kernels, onnxruntime and cpu/low-rank alike (cpu/exact: estimated from one timed run over sampled rows); kernel ms from timestamp-query where the adapter has it, GFLOP/s from kernel ms when known, else end-to-end\n`,
  );
  console.log(table(t.header, t.body));
}

/**
 * Each low-rank kernel against the exact kernel of its family and backend (`wgsl/low-rank@x` vs
 * `wgsl/exact@x`) on the same case: the ratio of kernel ms (timestamp-query, where both have it)
 * and of end-to-end ms, with the low-rank run's verdict.
 */
function lowRankSpeedups(rows: readonly Row[]): string[] {
  const family = (name: string): string => name.replace(/\/(exact|low-rank)@/, '/*@');
  return rows
    .filter((r) => r.kernel.includes('/low-rank@') && r.endToEndMs !== null)
    .flatMap((low) => {
      const exact = rows.find((r) => r.kernel.includes('/exact@') && family(r.kernel) === family(low.kernel) && r.pyramid === low.pyramid && r.d === low.d && r.endToEndMs !== null);
      if (!exact) return [];
      const ratio = (a: number | null, b: number | null): string => (a !== null && b !== null && b > 0 ? `${fmt(a / b)}×` : '—');
      const verdict = low.passed === null ? (low.note ?? '') : low.passed ? 'within its bound' : 'FAILED its bound';
      return [
        `${low.kernel} vs ${exact.kernel}, ${low.pyramid} (L = ${low.L}, d = ${low.d}): kernel ${ratio(exact.kernelMs, low.kernelMs)}, end-to-end ${ratio(exact.endToEndMs, low.endToEndMs)}, ${verdict}`,
      ];
    });
}

/** One line per row whose passes were timed: each pass's GPU ms. */
function passLines(rows: readonly Row[]): string[] {
  return rows.filter((r) => r.passMs && r.passMs.length > 1).map((r) => `${r.kernel}, ${r.pyramid} d = ${r.d}: passes ${r.passMs!.map((x) => fmt(x)).join(' + ')} ms`);
}

/** Writes the Markdown summary (environment, battery verdict, large-case table) to `path`. */
function writeMarkdown(path: string, report: Report, numRuns: number, t: Cells): void {
  mkdirSync(dirname(path), { recursive: true });
  const mdRow = (r: readonly string[]): string => `| ${r.join(' | ')} |`;
  const battery = report.battery ?? [];
  const unavailable = report.unavailable ?? [];
  const failed = battery.filter((b) => !b.passed);
  writeFileSync(
    path,
    [
      `# bench/gpu.ts — ${report.date}`,
      '',
      `Machine: ${report.machine}, Node ${report.node}; WebGPU adapter: ${report.adapter ?? 'none'}; gpu.js backends: ${report.backends.join(', ') || 'none'}; seed ${report.seed}; median of ${report.reps} timed run(s) per large case; total ${fmt(elapsed() / 1000)} s.`,
      unavailable.length ? `Unavailable: ${unavailable.join('; ')}.` : '',
      '',
      `Battery: ${battery.length - failed.length}/${battery.length} laws pass (${numRuns} cases each)${failed.length ? `; failing: ${failed.map((b) => b.property).join('; ')}` : ''}.`,
      '',
      mdRow(t.header),
      mdRow(t.header.map(() => '---')),
      ...t.body.map(mdRow),
      '',
      ...lowRankSpeedups(report.large ?? []).map((l) => `- ${l}`),
      '',
      ...(passLines(report.large ?? []).length ? ['GPU time per pass (timestamp-query):', '', ...passLines(report.large ?? []).map((l) => `- ${l}`), ''] : []),
      ...(report.sweep?.length
        ? (() => {
            const w = largeTable(report.sweep, report.sampleRows);
            const sp = sweepSpeedups(report.sweep);
            const ps = passLines(report.sweep);
            return [
              'Sweep on Dawn (`--sweep`): wgsl/exact shapes and split targets, wgsl/low-rank feature modes and key sums, gpujs/exact variants (WebGPU):',
              '',
              mdRow(w.header),
              mdRow(w.header.map(() => '---')),
              ...w.body.map(mdRow),
              '',
              ...sp.map((l) => `- ${l}`),
              '',
              ...(report.transfers ? [`Transfers: ${transferLine(report.transfers)}.`, ''] : []),
              ...(ps.length ? ['Sweep, GPU time per pass (timestamp-query; for gpujs/exact "synced per stage", wall time of each stage):', '', ...ps.map((l) => `- ${l}`), ''] : []),
            ];
          })()
        : []),
    ].join('\n'),
  );
}

// ---------------------------------------------------------------- main

/** Runs the benchmark; resolves to the exit status (1 if any law or large case failed). */
async function main(): Promise<number> {
  const opts = parseOptions();
  const adapter = await probeWebGPU();
  const backends = await chooseBackends(opts.backends, adapter);
  const report = newReport(opts, adapter, backends);
  console.log(headerLine(report));

  const kernels = await discoverKernels(backends, opts.chromium);
  report.kernels = kernels.entries.map((e) => e.kernel.name);
  report.unavailable = kernels.unavailable;

  const battery = opts.sweepOnly ? [] : await conformancePhase(kernels, opts);
  if (!opts.sweepOnly) printBattery(battery, opts);
  report.battery = battery;
  writeJson(opts.jsonPath, report);

  const large: Row[] = (report.large = []);
  if (!opts.sweepOnly)
    await largeCasePhase(kernels.entries, opts, large, (row) => {
      writeJson(opts.jsonPath, report);
      console.log(`  ${row.kernel} ${row.pyramid} d = ${row.d}: done (${fmt(elapsed() / 1000)} s)`);
    });
  if (opts.sweep.length && kernels.dawn) {
    report.transfers = await transferProbe(kernels.dawn.dev);
    console.log(`\n${transferLine(report.transfers)}`);
    const sweep: Row[] = (report.sweep = []);
    await sweepPhase(kernels.dawn, opts, backends.includes('webgpu'), sweep, (row) => {
      writeJson(opts.jsonPath, report);
      console.log(
        `  ${row.kernel} ${row.pyramid} d = ${row.d}: kernel ${row.kernelMs ?? '—'} ms, end-to-end ${row.endToEndMs ?? '—'} ms, ${row.passed ? 'pass' : (row.note ?? 'FAIL')} (${fmt(elapsed() / 1000)} s)`,
      );
    });
  }
  const t = largeTable(large, opts.sampleRows);
  printLarge(t);
  if (report.sweep?.length) {
    const w = largeTable(report.sweep, opts.sampleRows);
    console.log(`\n(c) sweep on Dawn: wgsl/exact shapes and split targets, wgsl/low-rank feature modes and key sums, gpujs/exact variants (WebGPU)\n\n${table(w.header, w.body)}`);
    const sp = sweepSpeedups(report.sweep);
    if (sp.length) console.log(`\nsweep, low-rank vs the default exact shape on the same input:\n${sp.map((l) => `  ${l}`).join('\n')}`);
    const ps = passLines(report.sweep);
    if (ps.length) console.log(`\nsweep, GPU time per pass (timestamp-query; gpujs/exact synced per stage: wall time of each stage):\n${ps.map((l) => `  ${l}`).join('\n')}`);
  }
  const speedups = lowRankSpeedups(large);
  if (speedups.length) console.log(`\nlow-rank vs exact on the same input:\n${speedups.map((l) => `  ${l}`).join('\n')}`);
  const passes = passLines(large);
  if (passes.length) console.log(`\nGPU time per pass (timestamp-query):\n${passes.map((l) => `  ${l}`).join('\n')}`);
  report.elapsedMs = elapsed();
  writeJson(opts.jsonPath, report);
  if (opts.mdPath) {
    writeMarkdown(opts.mdPath, report, opts.numRuns, t);
    console.log(`wrote ${opts.mdPath}`);
  }
  console.log(`\nwrote ${opts.jsonPath} (${fmt(elapsed() / 1000)} s)`);

  for (const close of kernels.closers) await close();
  return battery.every((b) => b.passed) && [...large, ...(report.sweep ?? [])].every((r) => r.passed !== false) ? 0 : 1;
}

process.exit(await main());
