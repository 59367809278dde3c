/**
 * `gpujs/exact`: exact softmax attention as gpu.js kernels, float32, that stay on the device
 * (docs/math.md §3 for the formula, §8 for the float32 rules):
 *
 * 1. Q, K, V are uploaded once per call into pipeline buffers (textures on GL), Q and K
 *    transposed on the device so that threads scoring neighbouring keys read neighbouring words.
 * 2. Row maxima in two parallel passes: a partial maximum of s·⟨q_i, k_j⟩ per (row, set of keys
 *    j ≡ c mod ⌈L/{@link MAX_CHUNK}⌉, fewer sets where L_q of them would pass 2²⁴ cells), then the
 *    maximum over the sets — L_q·⌈L/chunk⌉ threads, not L_q.
 * 3. Per tile of query rows: P = exp(S − m) over the row's allowed keys only (each exp computed
 *    once); then partial sums Σ_j P_ij·[V_j ∣ 1] over chunks of {@link OUT_CHUNK} keys, one thread
 *    per (row, column, chunk) — a thread per (row, column) looping over all keys left the GPU
 *    nearly idle (682 × 64 threads per tile at L = 21,845) — and then the output rows, the chunk
 *    sums added in order and divided. The other rows are carried over from the previous tile's
 *    output buffer (two kernels in ping-pong, so no kernel reads its own output and no pipeline
 *    buffer is ever deleted). Any summation order is within the exact kernels' tolerance
 *    (docs/floating-point.md: sums in any order).
 *
 * Only the final output is read back. Every loop is bounded by the row's key limit (a
 * block-causal row stops at the end of its scale), and `loopMaxIterations` is set from the
 * sizes (gpu.js's default, 1000, silently truncates loops; {@link loopBound}). Sizes are kernel
 * arguments with dynamic outputs, so one compilation serves every shape under that bound.
 *
 * The passes are described once ({@link passes}) and sent to the device either one call each or
 * as a gpu.js plan, one submission for all of them ({@link Orchestration}).
 * @module
 */
import { checkAttentionInput, type AttentionInput } from '../../../spec/attention.js';
import { keyLimits } from '../../../spec/mask.js';
import { matrix, type Matrix } from '../../../spec/matrix.js';
import type { AttentionKernel } from '../../../spec/contract.js';
import { createGpu, flatOutput, loopLimit, MAX_INDEXED_CELLS, maxTextureSide, padded, requireIndexedCells, sizeBucket, type GpuBackend, type GpuInstance } from './backend.js';
import { RangeArgumentError } from '../../../spec/errors.js';

/** Keys per partial row maximum (pass 2), at most. */
export const MAX_CHUNK = 256;

/** Keys per partial output sum (pass 3), by default: {@link GpujsKernelOptions.outChunk}. */
export const OUT_CHUNK = 256;

/**
 * Largest probability tile (query rows × keys), per backend: 2²⁴ cells on WebGPU, 2²² elsewhere.
 * Never above 2²⁴: gpu.js may compute a flat index r·width + j in float32, exact only below 2²⁴
 * (a 5,461 × 5,461 tile on WebGPU read wrong cells — found by the battery's large inputs).
 */
function tileCells(backend: GpuBackend): number {
  return backend === 'webgpu' ? 1 << 24 : 1 << 22;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- gpu.js kernel bodies are untyped JS transpiled to shaders */
type GpuKernelFn = ((...args: any[]) => any) & { setOutput(o: number[]): void };

interface Passes {
  upload: GpuKernelFn[];
  maxPartial: GpuKernelFn;
  rowMax: GpuKernelFn;
  probs: GpuKernelFn;
  scores: GpuKernelFn;
  tileMaxPartial: GpuKernelFn;
  tileRowMax: GpuKernelFn;
  tileExp: GpuKernelFn;
  outPart: GpuKernelFn;
  outFirst: GpuKernelFn;
  outA: GpuKernelFn;
  outB: GpuKernelFn;
}

/**
 * Head sizes up to which the scoring passes hold q_i in registers, by default
 * ({@link GpujsKernelOptions.qRegisters}): 8, which saved 35–55 % of the row-maximum pass on
 * llvmpipe. 64 (d = 64 in registers) is an option that `bench/gpu.ts --sweep` times on WebGPU; on
 * SwiftShader it changed nothing (L = 1,365, d = 64: 1.84–1.91 s per call against 1.86–1.95 s).
 */
export const Q_REGISTERS = 8;

/**
 * The source of a gpu.js kernel that scores row i against keys j: `body`, in which `SCORE` stands
 * for `let s = ⟨q_i, k_j⟩` (Q and K transposed, summed in the order t = 0, 1, …, d − 1), after
 * `prologue`, which defines i. For d ≤ `registers` the row q_i is first read into registers
 * q0, q1, … (each key then costs d reads instead of 2d, and no index arithmetic for q); above,
 * the loop over t. The same products added in the same order either way: the same bits.
 */
function scoreSource(params: string, prologue: string, body: string, registers: number): string {
  const loop = 'for (let t = 0; t < d; t++) s += q[t * lq + i] * k[t * lk + j];';
  const fn = (head: string, score: string): string => `function (${params}) {\n      ${prologue}\n      ${head}\n      ${body.replace('SCORE', score)}\n    }`;
  if (registers === 0) return fn('', `let s = 0;\n        ${loop}`);
  const t = Array.from({ length: registers }, (_, n) => n);
  const load = `${t.map((n) => `let q${n} = 0;`).join(' ')}
      if (d <= ${registers}) {
        ${t.map((n) => (n === 0 ? 'q0 = q[i];' : `if (d > ${n}) q${n} = q[${n} * lq + i];`)).join('\n        ')}
      }`;
  const dot = t.map((n) => (n === 0 ? 's += q0 * k[j];' : `if (d > ${n}) s += q${n} * k[${n} * lk + j];`)).join('\n          ');
  return fn(
    load,
    `let s = 0;
        if (d <= ${registers}) {
          ${dot}
        } else {
          ${loop}
        }`,
  );
}

/**
 * Compile the passes for loops of up to `loopMax` iterations. On device backends every kernel
 * is a pipeline kernel: its result stays on the device and feeds the next pass. (gpu.js's `cpu`
 * backend ignores `setOutput` on pipeline kernels, and has no device: there `pipeline` is off.)
 */
function buildPasses(gpu: GpuInstance, loopMax: number, pipeline: boolean, qRegisters: number): Passes {
  const common = { loopMaxIterations: loopMax, precision: 'single' as const, tactic: 'precision' as const, dynamicArguments: true, dynamicOutput: true, pipeline };
  // upload[0], upload[1]: Q and K, transposed on the device (cell x = t·rows + i gets a[i·cols + t]);
  // upload[2]: V as it is.
  const transpose = function (this: any, a: number[], rows: number, cols: number) {
    let t = Math.floor(this.thread.x / rows);
    let i = this.thread.x - t * rows;
    // x/rows is a float32 quotient (and GPU division is not correctly rounded): correct the floor
    // by one either way, with exact integer products (all below 2²⁴).
    if (i < 0) {
      t = t - 1;
      i = i + rows;
    }
    if (i >= rows) {
      t = t + 1;
      i = i - rows;
    }
    if (t >= cols) return 0;
    return a[i * cols + t];
  } as any;
  const upload = [
    gpu.createKernel(transpose, { ...common, output: [1] }) as GpuKernelFn,
    gpu.createKernel(transpose, { ...common, output: [1] }) as GpuKernelFn,
    gpu.createKernel(
      function (this: any, a: number[]) {
        return a[this.thread.x];
      } as any,
      { ...common, output: [1] },
    ) as GpuKernelFn,
  ];
  // Q and K are transposed (qT[t·lq + i], kT[t·lk + j]): neighbouring threads, which score
  // neighbouring keys (and rows), then read neighbouring words instead of words d apart.
  // Cell (c, i): max of s·⟨q_i, k_j⟩ over the keys j = c, c + chunks, c + 2·chunks, … below row i's
  // limit (−1e30 if none): interleaved, so that neighbouring threads read neighbouring keys.
  // For d ≤ qRegisters the row q_i is read once into registers (scoreSource).
  const maxPartial = gpu.createKernel(
    scoreSource(
      'q, k, lim, lq, lk, d, scale, chunks',
      `const i = this.thread.y;
      if (i >= lq) return -1e30;
      const c = this.thread.x;
      const li = lim[i];`,
      `let m = -1e30;
      for (let n = 0; n < lk; n++) {
        const j = c + n * chunks;
        if (j >= li) break;
        SCORE
        m = Math.max(m, s * scale);
      }
      return m;`,
      qRegisters,
    ),
    { ...common, output: [1, 1] },
  ) as GpuKernelFn;
  const rowMax = gpu.createKernel(
    function (this: any, part: number[], chunks: number) {
      const i = this.thread.x;
      let m = -1e30;
      for (let c = 0; c < chunks; c++) m = Math.max(m, part[i * chunks + c]);
      return m;
    } as any,
    { ...common, output: [1] },
  ) as GpuKernelFn;
  // Cell (j, r) of a tile starting at row i0: exp(s·⟨q_i, k_j⟩ − m_i), 0 past the row's limit.
  const tileCell = `if (this.thread.y >= rows) return OUTSIDE;
      const i = i0 + this.thread.y;
      const j = this.thread.x;
      if (j >= lim[i]) return OUTSIDE;`;
  const probs = gpu.createKernel(
    scoreSource('q, k, m, lim, i0, rows, lq, lk, d, scale', tileCell.replaceAll('OUTSIDE', '0'), 'SCORE\n      return Math.exp(s * scale - m[i]);', qRegisters),
    { ...common, output: [1, 1] },
  ) as GpuKernelFn;
  // rowMax: 'per-tile' — the scores of a tile are computed once and stored (cell (j, r):
  // s·⟨q_i, k_j⟩, the same products in the same order as above), their row maxima taken from the
  // stored scores (interleaved partial maxima, then the maximum over them), then P = exp(S − m).
  const scores = gpu.createKernel(
    scoreSource('q, k, lim, i0, rows, lq, lk, d, scale', tileCell.replaceAll('OUTSIDE', '-1e30'), 'SCORE\n      return s * scale;', qRegisters),
    { ...common, output: [1, 1] },
  ) as GpuKernelFn;
  const tileMaxPartial = gpu.createKernel(
    function (this: any, sc: number[], lim: number[], i0: number, rows: number, width: number, chunks: number) {
      const r = this.thread.y;
      if (r >= rows) return -1e30;
      const c = this.thread.x;
      const li = lim[i0 + r];
      let m = -1e30;
      for (let n = 0; n < width; n++) {
        const j = c + n * chunks;
        if (j >= li) break;
        m = Math.max(m, sc[r * width + j]);
      }
      return m;
    } as any,
    { ...common, output: [1, 1] },
  ) as GpuKernelFn;
  const tileRowMax = gpu.createKernel(
    function (this: any, part: number[], chunks: number) {
      const r = this.thread.x;
      let m = -1e30;
      for (let c = 0; c < chunks; c++) m = Math.max(m, part[r * chunks + c]);
      return m;
    } as any,
    { ...common, output: [1] },
  ) as GpuKernelFn;
  const tileExp = gpu.createKernel(
    function (this: any, sc: number[], m: number[], lim: number[], i0: number, rows: number, width: number) {
      const r = this.thread.y;
      if (r >= rows) return 0;
      const j = this.thread.x;
      if (j >= lim[i0 + r]) return 0;
      return Math.exp(sc[r * width + j] - m[r]);
    } as any,
    { ...common, output: [1, 1] },
  ) as GpuKernelFn;
  // Cell (x, r) with x = h·(dv + 1) + c: the sum of P_rj·[V_j ∣ 1]_c over the keys j of chunk h below
  // row i0 + r's limit (0 for a chunk past it). Column dv is the chunk's share of the denominator.
  // h = ⌊x/(dv + 1)⌋ from a float32 quotient, corrected by one either way (as in the transpose above).
  const outPart = gpu.createKernel(
    function (this: any, p: number[], v: number[], lim: number[], i0: number, rows: number, width: number, dv: number, chunk: number) {
      const r = this.thread.y;
      if (r >= rows) return 0;
      let h = Math.floor(this.thread.x / (dv + 1));
      let c = this.thread.x - h * (dv + 1);
      if (c < 0) {
        h = h - 1;
        c = c + dv + 1;
      }
      if (c > dv) {
        h = h + 1;
        c = c - dv - 1;
      }
      const li = lim[i0 + r];
      const j0 = h * chunk;
      const pb = r * width;
      let acc = 0;
      for (let n = 0; n < chunk; n++) {
        const j = j0 + n;
        if (j >= li) break;
        const pj = p[pb + j];
        if (c < dv) {
          acc += pj * v[j * dv + c];
        } else {
          acc += pj;
        }
      }
      return acc;
    } as any,
    { ...common, output: [1, 1] },
  ) as GpuKernelFn;
  // Cell x = i·dv + c (a flat output, read back without reshaping): rows of the tile get
  // Σ_h part_h,c / Σ_h part_h,dv over the chunks below the row's limit, in order; other rows keep
  // prev (0 on the first tile). i = ⌊x/dv⌋ from a float32 quotient, corrected by one either way.
  const outSource = function (this: any, part: number[], prev: number[], lim: number[], i0: number, rows: number, partWidth: number, dv: number, chunk: number, first: number) {
    let i = Math.floor(this.thread.x / dv);
    let c = this.thread.x - i * dv;
    if (c < 0) {
      i = i - 1;
      c = c + dv;
    }
    if (c >= dv) {
      i = i + 1;
      c = c - dv;
    }
    const r = i - i0;
    if (r < 0 || r >= rows) {
      if (first > 0) return 0;
      return prev[this.thread.x];
    }
    // ⌈lim/chunk⌉ from a float32 quotient (GPU division may be off by ulps even where the quotient is
    // an integer), made exact with integer products: one chunk too many would read the next row's sums.
    const li = lim[i];
    let chunks = Math.floor(li / chunk);
    if (chunks * chunk > li) chunks = chunks - 1;
    if ((chunks + 1) * chunk <= li) chunks = chunks + 1;
    if (chunks * chunk < li) chunks = chunks + 1;
    const pb = r * partWidth;
    let acc = 0;
    let den = 0;
    for (let h = 0; h < chunks; h++) {
      const b = pb + h * (dv + 1);
      acc += part[b + c];
      den += part[b + dv];
    }
    return acc / den;
  } as any;
  // The first tile reads V's upload as `prev` (ignored); later tiles alternate A and B, each always
  // reading the other's output — so every kernel always sees arguments of one type (gpu.js's
  // dynamic arguments give up on a kernel whose argument types keep changing: argumentMismatch).
  const outFirst = gpu.createKernel(outSource, { ...common, output: [1] }) as GpuKernelFn;
  const outA = gpu.createKernel(outSource, { ...common, output: [1] }) as GpuKernelFn;
  const outB = gpu.createKernel(outSource, { ...common, output: [1] }) as GpuKernelFn;
  return { upload, maxPartial, rowMax, probs, scores, tileMaxPartial, tileRowMax, tileExp, outPart, outFirst, outA, outB };
}

/** The loop limit compiled for L keys and head size d ({@link loopLimit}: one compile up to 32,767). */
export function loopBound(L: number, d: number): number {
  return loopLimit(Math.max(L, d, MAX_CHUNK));
}

/** Read a pipeline result (a device buffer / texture handle, or an array on CPU backends) as one flat array. */
export async function readResult(x: unknown): Promise<Float32Array> {
  const v = await x;
  if (v && typeof v === 'object' && typeof (v as { toArray?: unknown }).toArray === 'function') {
    return flatOutput((v as { toArray(): unknown }).toArray());
  }
  return flatOutput(v);
}

/**
 * A pass's result as the next pass's argument: device handles pass through; the cpu backend's
 * 2-D results (arrays of rows) are flattened, since the kernels index them flat.
 */
export async function chain(x: unknown): Promise<unknown> {
  const v = await x;
  return Array.isArray(v) ? flatOutput(v) : v;
}

/** Options of {@link gpujsExact}. */
export interface GpujsKernelOptions {
  /** The gpu.js backend. */
  backend: GpuBackend;
  /** Override the kernel name (default `gpujs/exact@<backend>`). */
  name?: string;
  /**
   * Force gpu.js's loop limit (default: {@link loopBound}). Only for meta-tests:
   * 1000, gpu.js's own default, silently truncates every loop over more keys.
   */
  loopMaxIterations?: number;
  /** Force the probability tile size in cells (default: 2²⁴ on WebGPU, 2²² elsewhere). Meta-tests use it to force several tiles. */
  tileCells?: number;
  /**
   * Keys per partial output sum (default {@link OUT_CHUNK}; raised where the partial sums of a row
   * would be wider than the texture side). A chunk as long as the keys gives one thread per
   * (row, column), looping over all its keys: the kernel before 2026-11-28, which `bench/gpu.ts
   * --sweep` times beside the default.
   */
  outChunk?: number;
  /**
   * For benchmarks: record the wall time of each stage — upload (with the host-side transposes),
   * row maxima, scores, partial sums, combine, readback — as `lastTiming.passMs`, waiting for the
   * device after each stage on `webgpu` (wall times, not timestamp queries; the waits themselves
   * slow the kernel down). On the other backends nothing waits: GL work may be counted late.
   */
  profilePasses?: boolean;
  /**
   * Where the row maxima come from: `global` (default) — a pass over all rows before the tiles,
   * which computes every score once more; `per-tile` — each tile's scores are computed once,
   * stored, and their maxima taken from them (two more passes per tile, a second tile buffer).
   */
  rowMax?: 'global' | 'per-tile';
  /**
   * How the passes of one call reach the device ({@link Orchestration}). Default: `plan` on
   * `webgpu` for inputs of more than one tile, `per-pass` otherwise. `profilePasses` times stages
   * between passes, so it always runs `per-pass`.
   */
  orchestration?: Orchestration | 'auto';
  /**
   * Head sizes d up to which the passes that score rows against keys (row maxima, P, per-tile
   * scores) read q_i once into registers instead of once per key (default 8, `Q_REGISTERS`; 0:
   * never). Same products in the same order, so the same outputs bit for bit; `bench/gpu.ts
   * --sweep` times the choices.
   */
  qRegisters?: number;
  /**
   * The most cells a buffer of one call may have: default and at most {@link MAX_INDEXED_CELLS}
   * (2²⁴, what gpu.js indexes exactly); larger inputs are refused by name. Meta-tests lower it to
   * reach the limit, and the row-maximum pass's adaptation to it, on small inputs.
   */
  indexedCells?: number;
}

/**
 * How `gpujs/exact` sends one call's passes to the device. `per-pass`: each pass is a kernel call
 * whose result stays on the device (`pipeline: true`), so every pass costs a JavaScript call, a
 * bind and (on WebGPU) a queue submission of its own — 5 + 3·tiles calls, 104 at L = 21,845. `plan`:
 * gpu.js's `createPipeline` traces the same calls once per input shape into a plan, which on WebGPU
 * records every pass into one command encoder with one submission and one readback (its
 * `fused-encoder` executor; other backends run the plan step by step). A plan is traced for one
 * shape: every tile has the longest row's width (its kernels have one output size each), and
 * tracing and compiling it costs a few kernel builds, so `auto` plans only inputs of several tiles.
 * Both run the same kernels on the same values: outputs are equal bit for bit where both cut the
 * keys into the same output chunks.
 */
export type Orchestration = 'plan' | 'per-pass';

/** What ran on the last call: the orchestration, and for a plan gpu.js's executor and why it fell back to the generic one. */
export interface GpujsRunInfo {
  /** The orchestration that ran (`auto` resolved). */
  orchestration: Orchestration;
  /** gpu.js's `executorKind` (`fused-encoder` on WebGPU, `generic`, …); plans only. */
  executor?: string;
  /** gpu.js's `fallbackReason`: why the fused executor declined the plan (null while fused); plans only. */
  fallbackReason?: string | null;
}

/** Stage wall times of a gpujs/exact run with {@link GpujsKernelOptions.profilePasses} (the shape of the WGSL kernels' timing, without GPU time). */
export interface GpujsStageTiming {
  /** Always null: gpu.js has no timestamp queries. */
  kernelMs: null;
  /** Wall ms of each stage: upload, row maxima, scores, partial sums, combine, readback. */
  passMs: number[];
  /** Wall ms of the whole run after input validation. */
  endToEndMs: number;
}

/** A gpujs/exact kernel with {@link GpujsKernelOptions.profilePasses}: the stage times of its last run. */
export interface ProfiledGpujsKernel extends AttentionKernel {
  /** Stage wall times of the last run (undefined before it, and without profilePasses). */
  readonly lastTiming: GpujsStageTiming | undefined;
  /** How the last run reached the device (undefined before it). */
  readonly lastRun: GpujsRunInfo | undefined;
}

/** Wait until the WebGPU device behind a gpu.js kernel has finished the work submitted so far (no-op on other backends). */
async function deviceIdle(kernel: GpuKernelFn): Promise<void> {
  const device = (kernel as unknown as { _device?: { queue: { onSubmittedWorkDone(): Promise<void> } } })._device;
  if (device) await device.queue.onSubmittedWorkDone();
}

/** The sizes of one call, fixed before any pass runs. */
interface CallShape {
  Lq: number;
  L: number;
  d: number;
  dv: number;
  /** The scale, rounded to float32. */
  s: number;
  /** Each query row's key limit (spec/mask.ts keyLimits). */
  limits: ArrayLike<number>;
  /** The most cells a buffer may have ({@link GpujsKernelOptions.indexedCells}). */
  maxCells: number;
  /** The mask the limits come from, as a string (a plan's signature). */
  maskKey: string;
  /** Query rows per probability tile. */
  T: number;
  perTile: boolean;
}

/** The layout of one probability tile: its padded width and rows, and how its partial sums cut the keys. */
interface TileShape {
  maxLimit: number;
  width: number;
  rowsB: number;
  keyChunk: number;
  partWidth: number;
}

/** The layout of a tile of `rows` query rows whose longest key prefix is `maxLimit`. */
function tileShape(maxLimit: number, rows: number, cells: number, side: number, dv: number, outChunk: number): TileShape {
  const width = sizeBucket(maxLimit);
  // A bucket past the tile budget would break the 2²⁴-cell limit: then the exact row count.
  const rowsB = sizeBucket(rows) * width <= cells ? sizeBucket(rows) : rows;
  // A row's partial sums, (dv + 1) per chunk, fit the texture side and the tile's cell budget
  // (so flat indices stay below 2²⁴): longer chunks where they would not. The width is bucketed
  // like the rest; chunks past the tile's longest row are zeros that no row reads.
  const widthCap = Math.min(side, 1 << 16, Math.floor(cells / rowsB));
  const keyChunk = Math.max(outChunk, Math.ceil(maxLimit / Math.max(1, Math.floor(widthCap / (dv + 1)))));
  const partCells = Math.ceil(maxLimit / keyChunk) * (dv + 1);
  const partWidth = sizeBucket(partCells) <= widthCap ? sizeBucket(partCells) : partCells;
  return { maxLimit, width, rowsB, keyChunk, partWidth };
}

/** One pass: a kernel, its output size and arguments, and the stage whose time ends with it (profilePasses). */
interface Pass {
  kernel: GpuKernelFn;
  output: number[];
  args: unknown[];
  stage?: number;
}

/**
 * The passes of one call, in order, as a generator that receives each pass's result (a device
 * handle): the one description both orchestrations drive ({@link Orchestration}). `inputs` are Q,
 * K, V (padded Float32Arrays, or a plan's argument handles) and the key limits; `resident` says
 * whether V is already on the device (a plan's arguments are), else it is uploaded by a pass.
 * `tile` gives the layout of the tile of rows [i0, i0 + rows). Returns the output's handle.
 */
function* passes(p: Passes, z: CallShape, inputs: { q: unknown; k: unknown; v: unknown; lim: unknown }, resident: boolean, tile: (i0: number, rows: number) => TileShape): Generator<Pass, unknown, unknown> {
  const { Lq, L, d, dv, s, T } = z;
  const lim = inputs.lim;
  const LqB = sizeBucket(Lq);
  // 1. upload once: Q and K transposed on the device, V as it is
  const qh = yield { kernel: p.upload[0], output: [sizeBucket(Lq * d)], args: [inputs.q, Lq, d] };
  const kh = yield { kernel: p.upload[1], output: [sizeBucket(L * d)], args: [inputs.k, L, d] };
  const vh = resident ? inputs.v : yield { kernel: p.upload[2], output: [sizeBucket(L * dv)], args: [inputs.v], stage: 0 };
  // 2. row maxima (per tile instead, in step 3, with rowMax: 'per-tile')
  // Partial maxima per row: one per MAX_CHUNK keys, fewer where L_q of them would pass the buffer
  // limit (each then covers more keys; a maximum is exact in any order, so the same bits).
  const chunks = Math.min(Math.ceil(L / MAX_CHUNK), Math.max(1, Math.floor(z.maxCells / LqB)));
  let m: unknown;
  if (!z.perTile) {
    const part = yield { kernel: p.maxPartial, output: [chunks, LqB], args: [qh, kh, lim, Lq, L, d, s, chunks] };
    m = yield { kernel: p.rowMax, output: [LqB], args: [part, chunks], stage: 1 };
  }
  // 3. tiles of query rows
  let prev: unknown = vh;
  for (let i0 = 0, n = 0; i0 < Lq; i0 += T, n++) {
    const rows = Math.min(T, Lq - i0);
    const { maxLimit, width, rowsB, keyChunk, partWidth } = tile(i0, rows);
    let probs: unknown;
    if (z.perTile) {
      const sc = yield { kernel: p.scores, output: [width, rowsB], args: [qh, kh, lim, i0, rows, Lq, L, d, s], stage: 2 };
      const tileChunks = Math.ceil(maxLimit / MAX_CHUNK);
      const part = yield { kernel: p.tileMaxPartial, output: [tileChunks, rowsB], args: [sc, lim, i0, rows, width, tileChunks] };
      const mt = yield { kernel: p.tileRowMax, output: [rowsB], args: [part, tileChunks], stage: 1 };
      probs = yield { kernel: p.tileExp, output: [width, rowsB], args: [sc, mt, lim, i0, rows, width], stage: 2 };
    } else {
      probs = yield { kernel: p.probs, output: [width, rowsB], args: [qh, kh, m, lim, i0, rows, Lq, L, d, s], stage: 2 };
    }
    const sums = yield { kernel: p.outPart, output: [partWidth, rowsB], args: [probs, vh, lim, i0, rows, width, dv, keyChunk], stage: 3 };
    // The first tile reads V as `prev` (ignored); later tiles alternate A and B (per pass: each
    // reads the other's output) or run A throughout (a plan double-buffers it by itself).
    const out = n === 0 ? p.outFirst : n % 2 === 1 || resident ? p.outA : p.outB;
    prev = yield { kernel: out, output: [dv * LqB], args: [sums, prev, lim, i0, rows, partWidth, dv, keyChunk, n === 0 ? 1 : 0], stage: 4 };
  }
  return prev;
}

/**
 * Every buffer one call writes, as [pass, cells]: a dry walk of {@link passes} (no kernel runs),
 * each tile laid out like the widest row, as a plan lays them (the per-pass tiles are no larger).
 * The uploads cover Q, K and V themselves.
 */
function callBuffers(z: CallShape, widest: TileShape): [string, number][] {
  const name = (n: string) => n as unknown as GpuKernelFn;
  const names: Passes = {
    upload: [name('Q (L_q·d, padded)'), name('K (L·d, padded)'), name('V (L·d_v, padded)')],
    maxPartial: name('partial row maxima'),
    rowMax: name('row maxima'),
    probs: name('probability tile'),
    scores: name('score tile'),
    tileMaxPartial: name('tile partial row maxima'),
    tileRowMax: name('tile row maxima'),
    tileExp: name('probability tile'),
    outPart: name('partial output sums'),
    outFirst: name('output'),
    outA: name('output'),
    outB: name('output'),
  };
  const out: [string, number][] = [];
  const seq = passes(names, z, { q: null, k: null, v: null, lim: null }, false, () => widest);
  for (let step = seq.next(); !step.done; step = seq.next(undefined)) out.push([String(step.value.kernel), step.value.output.reduce((a, b) => a * b, 1)]);
  return out;
}

/** The longest key limit among rows [i0, i0 + rows). */
function maxLimitOf(limits: ArrayLike<number>, i0: number, rows: number): number {
  let m = 1;
  for (let i = i0; i < i0 + rows; i++) m = Math.max(m, limits[i]);
  return m;
}

/** A traced plan of one input shape, and the signature it was traced for. */
interface CachedPlan {
  key: string;
  run: (...args: unknown[]) => Promise<unknown>;
  shortcut: { executorKind: string; fallbackReason: string | null; destroy(): Promise<void> };
}

/** Plans kept per kernel (the most recent shapes); an older one is destroyed with its buffers. */
const PLANS_KEPT = 2;

/**
 * A `gpujs/exact` kernel on one backend. The passes are compiled once per loop bound (one bound
 * up to 32,767 keys) and cached; plans once per input shape (the last two);
 * `dispose()` destroys the GPU (frees GL contexts, device buffers and plans).
 */
export async function gpujsExact(options: GpujsKernelOptions): Promise<ProfiledGpujsKernel> {
  const gpu = await createGpu(options.backend);
  const cache = new Map<number, Passes>();
  const plans: CachedPlan[] = [];
  // A probability tile is a texture as wide as its longest key prefix (padded by sizeBucket), and the
  // partial row maxima as tall as the padded query rows: on GL no side may exceed the texture side.
  const side = maxTextureSide(gpu);
  const maxTokens = Number.isFinite(side) ? side : undefined;
  const profile = options.profilePasses === true;
  const outChunk = options.outChunk ?? OUT_CHUNK;
  const qRegisters = options.qRegisters ?? Q_REGISTERS;
  if (!Number.isInteger(qRegisters) || qRegisters < 0 || qRegisters > 256) throw new RangeArgumentError('options.qRegisters', `expected an integer in [0, 256], got ${String(qRegisters)}`);
  const maxCells = options.indexedCells ?? MAX_INDEXED_CELLS;
  if (!Number.isInteger(maxCells) || maxCells < 1 || maxCells > MAX_INDEXED_CELLS) throw new RangeArgumentError('options.indexedCells', `expected an integer in [1, 2²⁴], got ${String(maxCells)}`);
  // A tile is a buffer too: never more cells than the buffer limit.
  const cells = Math.min(options.tileCells ?? tileCells(options.backend), maxCells);
  const orchestration = options.orchestration ?? 'auto';
  if (!['auto', 'plan', 'per-pass'].includes(orchestration)) throw new RangeArgumentError('options.orchestration', `expected 'auto', 'plan' or 'per-pass', got ${String(orchestration)}`);
  // gpu.js's cpu backend hands 2-D results between a plan's steps as arrays of rows, which these
  // kernels index flat (the per-pass driver flattens them: chain): a plan there computes NaN.
  if (orchestration === 'plan' && options.backend === 'cpu') throw new RangeArgumentError('options.orchestration', "'plan' needs a device backend (webgpu, headlessgl, webasm, webgl2, webgl); gpu.js's cpu backend passes a plan's 2-D results as arrays of rows");
  const name = options.name ?? `gpujs/exact@${options.backend}`;
  let lastTiming: ProfiledGpujsKernel['lastTiming'];
  let lastRun: GpujsRunInfo | undefined;

  /** Per pass: each pass a kernel call, its result awaited (and timed, with profilePasses). */
  async function perPass(p: Passes, z: CallShape, q: Float32Array, k: Float32Array, v: Float32Array, lim: Float32Array, t0: number): Promise<Float32Array> {
    const stages = [0, 0, 0, 0, 0, 0];
    let mark = t0;
    const seq = passes(p, z, { q, k, v, lim }, false, (i0, rows) => tileShape(maxLimitOf(z.limits, i0, rows), rows, cells, side, z.dv, outChunk));
    let step = seq.next();
    while (!step.done) {
      const { kernel, output, args, stage } = step.value;
      kernel.setOutput(output);
      const result = await chain(kernel(...args));
      if (profile && stage !== undefined) {
        await deviceIdle(kernel);
        const now = performance.now();
        stages[stage] += now - mark;
        mark = now;
      }
      step = seq.next(result);
    }
    const out = await readResult(step.value);
    if (profile) {
      stages[5] += performance.now() - mark;
      lastTiming = { kernelMs: null, passMs: stages, endToEndMs: performance.now() - t0 };
    }
    return out;
  }

  /**
   * As a plan: traced on the first call of a shape (every tile in the layout of the longest row,
   * so that each kernel has one output size in the plan), then run with this call's Q, K, V and limits.
   */
  async function asPlan(loopMax: number, z: CallShape, shape: TileShape, q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, lim: ArrayLike<number>): Promise<Float32Array> {
    const key = JSON.stringify([loopMax, z.Lq, z.L, z.d, z.dv, z.s, z.T, z.perTile, z.maskKey]);
    let plan = plans.find((c) => c.key === key);
    if (!plan) {
      // Kernels of its own: a plan clones each kernel with the output size it has when the trace ends.
      const p = buildPasses(gpu, loopMax, true, qRegisters);
      const run = gpu.createPipeline(function (qa: unknown, ka: unknown, va: unknown, la: unknown) {
        const sizes = new Map<GpuKernelFn, string>();
        const seq = passes(p, z, { q: qa, k: ka, v: va, lim: la }, true, () => shape);
        let step = seq.next();
        while (!step.done) {
          const { kernel, output, args } = step.value;
          // gpu.js dispatches every step of a kernel at its last output size: one size per kernel.
          if ((sizes.get(kernel) ?? String(output)) !== String(output)) throw new Error(`gpujs/exact plan: a kernel traced with outputs ${sizes.get(kernel)} and ${String(output)}`);
          sizes.set(kernel, String(output));
          kernel.setOutput(output);
          step = seq.next(kernel(...args));
        }
        return step.value;
      }) as unknown as CachedPlan['run'] & CachedPlan['shortcut'];
      plan = { key, run, shortcut: run };
      plans.unshift(plan);
      for (const old of plans.splice(PLANS_KEPT)) await old.shortcut.destroy();
    }
    let out: Float32Array;
    try {
      out = await flatOutput(await plan.run(q, k, v, lim));
    } catch (e) {
      // A plan that failed (to trace, compile or run) is not kept: the next call of its shape starts afresh.
      plans.splice(plans.indexOf(plan), 1);
      await plan.shortcut.destroy().catch(() => undefined);
      throw e;
    }
    lastRun = { orchestration: 'plan', executor: plan.shortcut.executorKind, fallbackReason: plan.shortcut.fallbackReason };
    return out;
  }

  return {
    get lastTiming() {
      return lastTiming;
    },
    get lastRun() {
      return lastRun;
    },
    name,
    op: 'attention',
    exact: true,
    masks: ['none', 'block-causal'],
    precision: 'float32',
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    // Row maxima come first (step 2), so no exp is ever rescaled (docs/math.md §8).
    rescales: 'none',
    async run(input: AttentionInput): Promise<Matrix> {
      const { q, k, v, scale, mask } = checkAttentionInput(input);
      if (maxTokens !== undefined && Math.max(q.rows, k.rows) > maxTokens)
        throw new RangeArgumentError('input', `${q.rows} queries × ${k.rows} keys: gpujs/exact on ${options.backend} takes at most ${maxTokens} tokens (its texture side; maxTokens)`);
      const Lq = q.rows;
      const L = k.rows;
      const loopMax = options.loopMaxIterations ?? loopBound(L, q.cols);
      const t0 = performance.now();
      const limits = keyLimits(mask, Lq, L);
      // A probability tile is as wide as its longest row's key prefix; T rows of the widest fit the budget.
      const T = Math.max(1, Math.min(Lq, Math.floor(cells / sizeBucket(L))));
      const maskKey = mask.kind === 'block-causal' ? mask.blocks.join(',') : 'none';
      const z: CallShape = { Lq, L, d: q.cols, dv: v.cols, s: Math.fround(scale), limits, maxCells, maskKey, T, perTile: options.rowMax === 'per-tile' };
      // Every tile in the layout of the longest row: the plan's layout, and the largest buffers a call writes.
      const widest = tileShape(maxLimitOf(limits, 0, Lq), Math.min(T, Lq), cells, side, z.dv, outChunk);
      requireIndexedCells(name, callBuffers(z, widest), false, z.maxCells);
      const planned = !profile && (orchestration === 'plan' || (orchestration === 'auto' && options.backend === 'webgpu' && T < Lq));
      let out: Float32Array;
      if (planned && options.backend === 'webgpu') {
        // gpu.js's fused-encoder copies a plan's arguments into float32 buffers of their own on each
        // call (a plan has one shape: no padding needed), rounding as padded() would: pass them as
        // they are, which saves one copy of Q, K and V per call.
        out = await asPlan(loopMax, z, widest, q.data, k.data, v.data, limits);
      } else if (planned) {
        out = await asPlan(loopMax, z, widest, padded(q.data), padded(k.data), padded(v.data), padded(limits));
      } else {
        // Buffers and outputs are sized by sizeBucket (few distinct sizes, so few per-size builds);
        // padded query rows have limit 0 and are never read back.
        const args = [padded(q.data), padded(k.data), padded(v.data), padded(limits)] as const;
        let p = cache.get(loopMax);
        if (!p) {
          p = buildPasses(gpu, loopMax, options.backend !== 'cpu', qRegisters);
          cache.set(loopMax, p);
        }
        out = await perPass(p, z, ...args, t0);
        lastRun = { orchestration: 'per-pass' };
      }
      return matrix(Lq, z.dv, new Float64Array(out.subarray(0, Lq * z.dv)));
    },
    dispose(): void {
      gpu.destroy();
    },
  };
}
