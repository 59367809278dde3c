/**
 * Exact versus low-rank CPU attention on block-causal geometric pyramids (issue: low-rank).
 *
 *   npx tsx bench/low-rank.bench.ts [--sizes 16,32,64,128] [--d 4] [--B 1] [--delta 1e-3] [--reps 3]
 *
 * Per size: median wall time of `cpu/exact`, `cpu/low-rank` and the peer — onnxruntime-node's
 * exact block-causal attention (float32, one MatMul–Softmax–MatMul run per scale block,
 * bench/onnx-attention.ts) — on the same inputs in the same process; the ratios; measured
 * ‖low-rank − exact‖∞ against the declared bound and δ; and at the end the least-squares
 * exponent of time in n. Absolute times are noise; ratios are the result. Writes
 * bench/results/low-rank.json. (--no-onnx skips the peer; --onnx-threads 1 runs it on one core,
 * like cpu/low-rank.)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import os from 'node:os';
import { attentionInput, blockCausalMask, maxAbsDiff, mulberry32, scalePyramid, uniformMatrix } from '../index.js';
import { rank } from '../spec/low-rank.js';
import { exactAttentionCpu } from '../src/kernels/cpu/exact.js';
import { lowRankPolynomial } from '../spec/certificate.js';
import { cpuLowRank } from '../src/kernels/cpu/low-rank.js';
import { fmt, table } from '../src/cli/table.js';
import { onnxBlockCausal } from './onnx-attention.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '16,32,64,128' },
    d: { type: 'string', default: '4' },
    B: { type: 'string', default: '1' },
    delta: { type: 'string', default: '1e-3' },
    reps: { type: 'string', default: '3' },
    'no-onnx': { type: 'boolean', default: false },
    'onnx-threads': { type: 'string' },
  },
});
const sizes = String(values.sizes).split(',').map(Number);
const d = Number(values.d);
const B = Number(values.B);
const delta = Number(values.delta);
const reps = Number(values.reps);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
/** Warm-up before timing: at least one run and at least this long (V8 optimizes the hot loops concurrently; before that they run ~2× slower). */
const WARM_UP_MS = 1500;
function time<T>(f: () => T): { ms: number; out: T } {
  let out: T = f(); // warm-up (JIT), not timed
  for (const t0 = performance.now(); performance.now() - t0 < WARM_UP_MS;) out = f();
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    out = f();
    ts.push(performance.now() - t0);
  }
  return { ms: median(ts), out };
}
async function timeAsync<T>(f: () => Promise<T>): Promise<{ ms: number; out: T }> {
  let out: T = await f(); // warm-up, not timed
  for (const t0 = performance.now(); performance.now() - t0 < WARM_UP_MS;) out = await f();
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    out = await f();
    ts.push(performance.now() - t0);
  }
  return { ms: median(ts), out };
}
function slope(xs: number[], ys: number[]): number {
  const lx = xs.map(Math.log);
  const ly = ys.map(Math.log);
  const mx = lx.reduce((a, b) => a + b) / lx.length;
  const my = ly.reduce((a, b) => a + b) / ly.length;
  let num = 0;
  let den = 0;
  lx.forEach((x, i) => {
    num += (x - mx) * (ly[i] - my);
    den += (x - mx) ** 2;
  });
  return num / den;
}

const kernel = cpuLowRank({ delta });
const rows: string[][] = [];
const results = [];
for (const n of sizes) {
  const p = scalePyramid({ geometric: n });
  const rand = mulberry32(1000 + n);
  const input = attentionInput(uniformMatrix(rand, p.L, d, B), uniformMatrix(rand, p.L, d, B), uniformMatrix(rand, p.L, d, B), { mask: blockCausalMask(p) });
  const exact = time(() => exactAttentionCpu(input));
  const low = time(() => kernel.run(input) as ReturnType<typeof exactAttentionCpu>);
  let onnx: { ms: number; error: number } | null = null;
  if (!values['no-onnx']) {
    try {
      const run = await onnxBlockCausal(d, d, input.scale, values['onnx-threads'] ? { intraOpNumThreads: Number(values['onnx-threads']) } : {});
      const [q32, k32, v32] = [input.q, input.k, input.v].map((m) => Float32Array.from(m.data));
      const o = await timeAsync(() => run(q32, k32, v32, p.blocks));
      onnx = { ms: o.ms, error: maxAbsDiff(o.out, exact.out.data) };
    } catch (e) {
      console.log(`onnxruntime-node unavailable: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const poly = lowRankPolynomial(input, delta);
  const error = maxAbsDiff(low.out.data, exact.out.data);
  const bound = kernel.errorBound!(input);
  const r = {
    n,
    L: p.L,
    degree: poly.degree,
    polynomial: poly.kind,
    // The rank the kernel ran with on this input (criteria's worst-case rank for ‖·‖∞ ≤ B can be larger).
    rank: rank(d, poly.degree),
    exactMs: exact.ms,
    lowRankMs: low.ms,
    ratio: exact.ms / low.ms,
    onnxMs: onnx?.ms ?? null,
    onnxError: onnx?.error ?? null,
    lowRankVsOnnx: onnx ? onnx.ms / low.ms : null,
    error,
    bound,
    delta,
    withinBound: error <= bound,
    boundWithinDelta: bound <= delta,
  };
  results.push(r);
  rows.push([
    String(n),
    String(p.L),
    `${poly.kind} ${poly.degree}`,
    String(r.rank),
    fmt(exact.ms),
    onnx ? fmt(onnx.ms) : '—',
    fmt(low.ms),
    `${fmt(r.ratio)}×`,
    onnx ? `${fmt(onnx.ms / low.ms)}×` : '—',
    fmt(error),
    fmt(bound),
    r.withinBound && r.boundWithinDelta ? 'yes' : 'NO',
  ]);
}
const exactExp = slope(
  sizes,
  results.map((r) => r.exactMs),
);
const lowExp = slope(
  sizes,
  results.map((r) => r.lowRankMs),
);
console.log(
  `cpu/exact and onnxruntime-node (exact, float32, per scale block) vs cpu/low-rank — block-causal geometric pyramids, d = ${d}, d_v = ${d}, B = ${B}, δ = ${delta}, median of ${reps} after a warm-up (one run, and at least ${WARM_UP_MS / 1000} s)`,
);
console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown'} × ${os.cpus().length}, Node ${process.version}; onnxruntime intra-op threads: ${values['onnx-threads'] ?? 'its default (one per core)'}\n`);
console.log(table(['n', 'L', 'poly g', 'rank r', 'cpu/exact ms', 'onnxruntime ms', 'cpu/low-rank ms', '× cpu/exact', '× onnxruntime', '‖err‖∞', 'bound', 'err ≤ bound ≤ δ'], rows));
console.log(`\nfitted exponent in n (least squares over n = ${sizes.join(', ')}): exact ${exactExp.toFixed(2)}, low-rank ${lowExp.toFixed(2)}`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('./results/low-rank.json', import.meta.url),
  `${JSON.stringify({ date: new Date().toISOString(), machine: os.cpus()[0]?.model, node: process.version, d, B, delta, reps, results, exactExp, lowExp }, null, 2)}\n`,
);
