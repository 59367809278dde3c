/**
 * The host-side steps of one `gpujs/exact` call on WebGPU, before and after the changes of
 * 2026-11-28, timed alone (no GPU: these are the CPU copies around it):
 *
 *   npx tsx bench/gpujs-host.bench.ts [--L 21845] [--d 64] [--reps 15]
 *
 * - inputs: `padded()` copies of Q, K, V and then gpu.js's copy into a plan's argument buffers
 *   (before), against gpu.js's copy straight from the Float64Arrays (after);
 * - output: a d_v × rows result shaped by gpu.js into one row view per query row and flattened
 *   again (before), against a flat result (after) — both starting from the mapped bytes and ending
 *   in the Float64Array the Matrix holds.
 *
 * Each step runs `reps` times, before and after alternating; medians and their ratio are printed.
 * Absolute times are noise here; the ratio is the result.
 */
import { parseArgs } from 'node:util';
import os from 'node:os';
import { createRequire } from 'node:module';
import { padded, flatOutput, sizeBucket } from '../src/kernels/gpujs/backend.js';
import { mulberry32, uniformMatrix } from '../spec/random.js';
import { fmt, table } from '../src/cli/table.js';

const { values } = parseArgs({ options: { L: { type: 'string', default: '21845' }, d: { type: 'string', default: '64' }, reps: { type: 'string', default: '15' } } });
const [L, d, reps] = [Number(values.L), Number(values.d), Number(values.reps)];
// gpu.js's own shaping of a result (what its WebGPU backend calls on readback).
const { utils } = createRequire(import.meta.url)('gpu.js/src/utils.js') as {
  utils: { erectMemoryOptimized2DFloat(a: Float32Array, w: number, h: number): Float32Array[]; erectMemoryOptimizedFloat(a: Float32Array, w: number): Float32Array };
};

const r = mulberry32(1);
const [q, k, v] = [0, 1, 2].map(() => uniformMatrix(r, L, d, 1).data);
// A plan's argument buffers, allocated once per shape (gpu.js's fused encoder keeps them).
const scratchPadded = [q, k, v].map((x) => new Float32Array(sizeBucket(x.length)));
const scratchRaw = [q, k, v].map((x) => new Float32Array(x.length));
const rowsB = sizeBucket(L);
const mapped = new Float32Array(rowsB * d).fill(0.5).buffer;

const steps: Record<string, [() => unknown, () => unknown]> = {
  'inputs: Q, K, V into the plan': [() => [q, k, v].forEach((x, i) => scratchPadded[i].set(padded(x))), () => [q, k, v].forEach((x, i) => scratchRaw[i].set(x))],
  'output: readback to Float64Array': [
    async () => {
      const data = new Float32Array(mapped.slice(0));
      const flat = await flatOutput(utils.erectMemoryOptimized2DFloat(data, d, rowsB));
      return new Float64Array(flat.subarray(0, L * d));
    },
    async () => {
      const data = new Float32Array(mapped.slice(0));
      return new Float64Array(utils.erectMemoryOptimizedFloat(data, d * rowsB).subarray(0, L * d));
    },
  ],
};

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const rows: string[][] = [];
for (const [name, [before, after]] of Object.entries(steps)) {
  const times: [number[], number[]] = [[], []];
  for (let n = 0; n < reps + 2; n++)
    for (const [i, f] of [before, after].entries()) {
      const t = performance.now();
      await f();
      // The first two rounds warm the JIT and the allocator.
      if (n >= 2) times[i].push(performance.now() - t);
    }
  const [b, a] = times.map(median);
  rows.push([name, fmt(b), fmt(a), `${fmt(b / a)}×`]);
}
console.log(`${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, Node ${process.version}; L = ${L}, d = ${d}; median of ${reps} runs each, alternating`);
console.log(table(['host step', 'before ms', 'after ms', 'speed-up'], rows));
