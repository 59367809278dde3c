/**
 * gpu.js (each backend) versus cpu/exact and cpu/low-rank, with onnxruntime-node as the peer
 * baseline for exact CPU attention.
 *
 *   xvfb-run -a npx tsx bench/gpujs.bench.ts [--sizes 1024,4096,16384] [--backends headlessgl,webasm,cpu,webgpu] [--budget 120]
 *
 * Exact attention: unmasked, d = d_v = 64, entries uniform on [−1, 1], scale 1/d. Low-rank:
 * d = d_v = 4, B = 1, δ = 1e-3. One timed run after a warm-up at the smallest size (compiles);
 * a case whose time, extrapolated from the previous size (×(L′/L)² exact, ×L′/L low-rank),
 * exceeds --budget seconds is skipped and marked so. Error is against cpu/exact (which the
 * battery checks against the spec). Ratios are against the CPU kernel measured in the same run.
 * Writes bench/results/gpujs.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { attentionInput, maxAbsDiff, mulberry32, uniformMatrix, type AttentionInput, type Matrix } from '../index.js';
import type { AttentionKernel } from '../spec/contract.js';
import { exactAttentionCpu } from '../src/kernels/cpu/exact.js';
import { cpuLowRank } from '../src/kernels/cpu/low-rank.js';
import { availableBackends, type GpuBackend } from '../src/kernels/gpujs/backend.js';
import { gpujsExact } from '../src/kernels/gpujs/exact.js';
import { gpujsLowRank } from '../src/kernels/gpujs/low-rank.js';
import { fmt, table } from '../src/cli/table.js';
import { onnxAttention } from './onnx-attention.js';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '1024,4096,16384' }, backends: { type: 'string' }, budget: { type: 'string', default: '120' } } });
const sizes = String(values.sizes).split(',').map(Number);
const budgetMs = Number(values.budget) * 1000;
const backends = values.backends ? (values.backends.split(',') as GpuBackend[]) : await availableBackends();

interface Row {
  family: string;
  impl: string;
  L: number;
  ms?: number;
  skipped?: string;
  ratio?: number;
  error?: number;
}
const rows: Row[] = [];
const last = new Map<string, { L: number; ms: number }>();

async function timed(impl: string, L: number, growth: number, run: () => Promise<Float32Array | Float64Array>): Promise<{ ms?: number; out?: Float32Array | Float64Array; skipped?: string }> {
  const prev = last.get(impl);
  if (prev) {
    const est = prev.ms * (L / prev.L) ** growth;
    if (est > budgetMs) return { skipped: `est. ${fmt(est / 1000)} s` };
  }
  const t0 = performance.now();
  const out = await run();
  const ms = performance.now() - t0;
  last.set(impl, { L, ms });
  return { ms, out };
}

function input(L: number, d: number, B: number, seed: number): AttentionInput {
  const r = mulberry32(seed);
  return attentionInput(uniformMatrix(r, L, d, B), uniformMatrix(r, L, d, B), uniformMatrix(r, L, d, B));
}

async function runKernel(k: AttentionKernel, x: AttentionInput): Promise<Float64Array | Float32Array> {
  return ((await k.run(x)) as Matrix).data;
}

// ---- exact, d = 64
const gpuExact = new Map<GpuBackend, AttentionKernel>();
for (const b of backends) gpuExact.set(b, await gpujsExact({ backend: b }));
const onnx = await onnxAttention(64, 64, 1 / 64);
{
  const warm = input(256, 64, 1, 1);
  exactAttentionCpu(warm);
  for (const k of gpuExact.values()) await k.run(warm);
  await onnx(Float32Array.from(warm.q.data), Float32Array.from(warm.k.data), Float32Array.from(warm.v.data), 256, 256);
}
for (const L of sizes) {
  const x = input(L, 64, 1, L);
  const base = await timed('cpu/exact', L, 2, async () => exactAttentionCpu(x).data);
  rows.push({ family: 'exact d=64', impl: 'cpu/exact', L, ms: base.ms, skipped: base.skipped, ratio: base.ms ? 1 : undefined });
  const ref = base.out;
  const o = await timed('onnxruntime-node', L, 2, () => onnx(Float32Array.from(x.q.data), Float32Array.from(x.k.data), Float32Array.from(x.v.data), L, L));
  rows.push({
    family: 'exact d=64',
    impl: 'onnxruntime-node (CPU)',
    L,
    ms: o.ms,
    skipped: o.skipped,
    ratio: base.ms && o.ms ? base.ms / o.ms : undefined,
    error: ref && o.out ? maxAbsDiff(o.out, ref) : undefined,
  });
  for (const [b, k] of gpuExact) {
    const g = await timed(k.name, L, 2, () => runKernel(k, x));
    rows.push({ family: 'exact d=64', impl: k.name, L, ms: g.ms, skipped: g.skipped, ratio: base.ms && g.ms ? base.ms / g.ms : undefined, error: ref && g.out ? maxAbsDiff(g.out, ref) : undefined });
    void b;
  }
}
for (const k of gpuExact.values()) k.dispose?.();

// ---- low-rank, d = 4
const cpuLR = cpuLowRank({ delta: 1e-3 });
const gpuLR = new Map<GpuBackend, AttentionKernel>();
for (const b of backends) gpuLR.set(b, await gpujsLowRank({ backend: b, delta: 1e-3 }));
{
  const warm = input(256, 4, 1, 2);
  await cpuLR.run(warm);
  for (const k of gpuLR.values()) await k.run(warm);
}
for (const L of sizes) {
  const x = input(L, 4, 1, 7 * L);
  const exact = await timed('cpu/exact d=4', L, 2, async () => exactAttentionCpu(x).data);
  rows.push({ family: 'low-rank d=4', impl: 'cpu/exact (reference)', L, ms: exact.ms, skipped: exact.skipped });
  const base = await timed('cpu/low-rank', L, 1, () => runKernel(cpuLR, x));
  rows.push({ family: 'low-rank d=4', impl: 'cpu/low-rank', L, ms: base.ms, ratio: 1, error: exact.out && base.out ? maxAbsDiff(base.out, exact.out) : undefined });
  for (const k of gpuLR.values()) {
    const g = await timed(k.name, L, 1, () => runKernel(k, x));
    rows.push({
      family: 'low-rank d=4',
      impl: k.name,
      L,
      ms: g.ms,
      skipped: g.skipped,
      ratio: base.ms && g.ms ? base.ms / g.ms : undefined,
      error: exact.out && g.out ? maxAbsDiff(g.out, exact.out) : undefined,
    });
  }
}
for (const k of gpuLR.values()) k.dispose?.();

console.log(`gpu.js vs CPU kernels vs onnxruntime-node — ${os.cpus()[0]?.model ?? 'unknown'} × ${os.cpus().length}, Node ${process.version}, backends: ${backends.join(', ')}`);
console.log('ratio = time of the CPU kernel of the family (cpu/exact or cpu/low-rank) / time of this row, same run; error vs cpu/exact\n');
console.log(
  table(
    ['family', 'L', 'implementation', 'ms', 'speed-up vs CPU kernel', '‖err‖∞ vs cpu/exact'],
    rows.map((r) => [
      r.family,
      String(r.L),
      r.impl,
      r.ms === undefined ? `skipped (${r.skipped})` : fmt(r.ms),
      r.ratio === undefined ? '—' : `${fmt(r.ratio)}×`,
      r.error === undefined ? '—' : fmt(r.error),
    ]),
  ),
);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('./results/gpujs.json', import.meta.url),
  `${JSON.stringify({ date: new Date().toISOString(), machine: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, backends, rows }, null, 2)}\n`,
);
process.exit(0);
