/**
 * `wgsl/exact`: exact softmax attention as one hand-written FlashAttention-2-style WGSL compute
 * shader, float32 (docs/math.md §3; float32 rules §8). A workgroup owns a tile of
 * {@link WGSL_QUERY_TILE} consecutive query rows, one row per invocation held in registers
 * (q, the running maximum m, the running sum l and the output accumulator o); it walks the keys
 * in tiles that the workgroup loads cooperatively into workgroup memory (K and V), and per key
 * tile computes the row's scores once, rescales (m, l, o) once, and adds each exp(s − m)·v_j
 * once (online softmax). Block-causal: the workgroup stops at the longest key prefix of its
 * rows, and each row stops at its own limit, so nothing is masked element by element inside a
 * scale; workgroups are dispatched longest key prefix first. Head sizes are compiled in a few
 * classes ({@link WGSL_HEAD_CLASSES}, one cached pipeline each).
 * @module
 */
import { checkAttentionInput, type AttentionInput } from '../../../spec/attention.js';
import { RangeArgumentError } from '../../../spec/errors.js';
import { keyLimits } from '../../../spec/mask.js';
import { matrix, type Matrix } from '../../../spec/matrix.js';
import type { AttentionKernel } from '../../../spec/contract.js';
import { BufferUsage, MAP_READ, type WebGpuBuffer, type WebGpuDevice, type WgslDevice } from './webgpu.js';

/** Query rows per workgroup (one per invocation). */
export const WGSL_QUERY_TILE = 64;
/** Largest head size (d or d_v) compiled. */
export const WGSL_MAX_HEAD = 256;

/** Timings of a kernel's last run. */
export interface KernelTiming {
  /** GPU time of the compute passes from 'timestamp-query', or null where the adapter lacks it. */
  kernelMs: number | null;
  /** Wall time of `run`: upload, dispatch, readback. */
  endToEndMs: number;
}

/** An attention kernel on a WebGPU device that reports its last run's timing. */
export interface WgslAttentionKernel extends AttentionKernel {
  /** Timing of the last completed run (undefined before the first). */
  readonly lastTiming: KernelTiming | undefined;
  /** The device's adapter description. */
  readonly adapter: string;
}

/** Keys per workgroup-memory tile for head size `cap`: K and V tiles fit 16 KiB together. */
function keyTile(cap: number): number {
  return Math.max(4, Math.min(64, Math.floor(2048 / cap)));
}

/**
 * Head-size classes: one pipeline per class serves every d, d_v up to it. Few on purpose: each
 * class costs a pipeline compile, 0.5–3 s on SwiftShader (whose cost grows with the register
 * state held across the workgroup barrier). 4 is the low-rank regime's d, 64 VAR's head size.
 */
export const WGSL_HEAD_CLASSES: readonly number[] = [4, 64, 128, WGSL_MAX_HEAD];

/** The smallest class of {@link WGSL_HEAD_CLASSES} ≥ n (n ≤ {@link WGSL_MAX_HEAD}). */
export function headClass(n: number): number {
  const c = WGSL_HEAD_CLASSES.find((h) => h >= n);
  if (c === undefined) throw new RangeArgumentError('n', `head size ${n} > ${WGSL_MAX_HEAD} is not compiled`);
  return c;
}

/**
 * The WGSL source of `wgsl/exact` for head sizes d, d_v up to DC = DVC = headClass(max(d, d_v)):
 * register arrays and loops have that constant length (unrolled); the actual d and d_v are
 * uniforms, guarded by uniform branches. One pipeline serves a whole class.
 */
export function wgslExactSource(d: number, dv: number): string {
  const DC = headClass(Math.max(d, dv));
  const DVC = DC;
  const BK = keyTile(Math.max(DC, DVC));
  const BQ = WGSL_QUERY_TILE;
  return /* wgsl */ `
struct Params { lq: u32, tiles: u32, d: u32, dv: u32, scale: f32, pad1: f32, pad2: f32, pad3: f32 };
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> K: array<f32>;
@group(0) @binding(3) var<storage, read> V: array<f32>;
@group(0) @binding(4) var<storage, read> lim: array<u32>;
@group(0) @binding(5) var<storage, read> tiles: array<vec2<u32>>;
@group(0) @binding(6) var<storage, read_write> O: array<f32>;
const DC: u32 = ${DC}u;
const DVC: u32 = ${DVC}u;
const BQ: u32 = ${BQ}u;
const BK: u32 = ${BK}u;
var<workgroup> Ks: array<f32, ${BK * DC}>;
var<workgroup> Vs: array<f32, ${BK * DVC}>;

@compute @workgroup_size(${BQ})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = tiles[wg.x];
  let keyEnd = t.y;
  let i = t.x + lid;
  let D = P.d;
  let DV = P.dv;
  let rowOk = i < P.lq;
  var li: u32 = 0u;
  var q: array<f32, ${DC}>;
  var o: array<f32, ${DVC}>;
  var s: array<f32, ${BK}>;
  for (var c: u32 = 0u; c < DC; c++) {
    q[c] = 0.0;
    if (rowOk && c < D) { q[c] = Q[i * D + c]; }
  }
  if (rowOk) { li = lim[i]; }
  for (var c: u32 = 0u; c < DVC; c++) { o[c] = 0.0; }
  var m: f32 = -3.0e38;
  var l: f32 = 0.0;
  for (var j0: u32 = 0u; j0 < keyEnd; j0 += BK) {
    let nk = min(BK, keyEnd - j0);
    for (var e: u32 = lid; e < nk * D; e += BQ) { Ks[e] = K[j0 * D + e]; }
    for (var e: u32 = lid; e < nk * DV; e += BQ) { Vs[e] = V[j0 * DV + e]; }
    workgroupBarrier();
    var n: u32 = 0u;
    if (li > j0) { n = min(nk, li - j0); }
    if (n > 0u) {
      var mt = m;
      for (var jj: u32 = 0u; jj < n; jj++) {
        var acc: f32 = 0.0;
        for (var c: u32 = 0u; c < DC; c++) {
          if (c >= D) { break; }
          acc = fma(q[c], Ks[jj * D + c], acc);
        }
        let z = acc * P.scale;
        s[jj] = z;
        mt = max(mt, z);
      }
      let alpha = exp(m - mt);
      l = l * alpha;
      for (var c: u32 = 0u; c < DVC; c++) {
        if (c >= DV) { break; }
        o[c] = o[c] * alpha;
      }
      for (var jj: u32 = 0u; jj < n; jj++) {
        let p = exp(s[jj] - mt);
        l = l + p;
        for (var c: u32 = 0u; c < DVC; c++) {
          if (c >= DV) { break; }
          o[c] = fma(p, Vs[jj * DV + c], o[c]);
        }
      }
      m = mt;
    }
    workgroupBarrier();
  }
  if (rowOk) {
    for (var c: u32 = 0u; c < DVC; c++) {
      if (c < DV) { O[i * DV + c] = o[c] / l; }
    }
  }
}
`;
}

/** Query tiles (first row, longest key prefix of its rows), longest prefix first. */
export function queryTiles(limits: Int32Array, tile = WGSL_QUERY_TILE): Uint32Array {
  const n = Math.ceil(limits.length / tile);
  const order = Array.from({ length: n }, (_, t) => {
    let end = 0;
    for (let i = t * tile; i < Math.min(limits.length, (t + 1) * tile); i++) end = Math.max(end, limits[i]);
    return [t * tile, end] as const;
  }).sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return Uint32Array.from(order.flat());
}

/** Create, fill and return a storage buffer holding `data`. */
export function storageBuffer(device: WebGpuDevice, data: ArrayBufferView & { byteLength: number }, extra = 0): WebGpuBuffer {
  const b = device.createBuffer({ size: Math.max(16, Math.ceil(data.byteLength / 4) * 4), usage: BufferUsage.STORAGE | BufferUsage.COPY_DST | extra });
  device.queue.writeBuffer(b, 0, data);
  return b;
}

/**
 * Encode `passes` (each: pipeline, bind group, workgroup count — folded into a 2-D grid past
 * 65,535) into one submission, copy
 * `result` (`bytes` long) back and, where the device has 'timestamp-query', time the passes.
 * Resolves to the bytes and the GPU milliseconds (null without timestamps).
 */
export async function dispatchAndRead(
  dev: WgslDevice,
  passes: readonly { pipeline: unknown; group: unknown; workgroups: number }[],
  result: WebGpuBuffer,
  bytes: number,
): Promise<{ data: Float32Array; kernelMs: number | null }> {
  const { device } = dev;
  const enc = device.createCommandEncoder();
  const querySet = dev.timestamps ? device.createQuerySet({ type: 'timestamp', count: 2 }) : undefined;
  passes.forEach((p, n) => {
    const ts =
      querySet && (n === 0 || n === passes.length - 1)
        ? { timestampWrites: { querySet, ...(n === 0 ? { beginningOfPassWriteIndex: 0 } : {}), ...(n === passes.length - 1 ? { endOfPassWriteIndex: 1 } : {}) } }
        : undefined;
    const pass = enc.beginComputePass(ts);
    pass.setPipeline(p.pipeline);
    pass.setBindGroup(0, p.group);
    // Past 65,535 workgroups the grid folds into y; shaders index wg.x + wg.y·num_workgroups.x.
    const x = Math.min(p.workgroups, 65535);
    pass.dispatchWorkgroups(x, Math.ceil(p.workgroups / x));
    pass.end();
  });
  const staging = device.createBuffer({ size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  enc.copyBufferToBuffer(result, 0, staging, 0, bytes);
  let tsResolve: WebGpuBuffer | undefined;
  let tsRead: WebGpuBuffer | undefined;
  if (querySet) {
    tsResolve = device.createBuffer({ size: 16, usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC });
    tsRead = device.createBuffer({ size: 16, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    enc.resolveQuerySet(querySet, 0, 2, tsResolve, 0);
    enc.copyBufferToBuffer(tsResolve, 0, tsRead, 0, 16);
  }
  device.queue.submit([enc.finish()]);
  // Both maps at once: one wait for the device, not two.
  await Promise.all([staging.mapAsync(MAP_READ), tsRead?.mapAsync(MAP_READ)]);
  const data = new Float32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  staging.destroy();
  let kernelMs: number | null = null;
  if (tsRead && tsResolve && querySet) {
    const t = new BigUint64Array(tsRead.getMappedRange().slice(0));
    tsRead.unmap();
    const ns = Number(t[1] - t[0]);
    kernelMs = ns > 0 ? ns / 1e6 : null;
    tsRead.destroy();
    tsResolve.destroy();
    querySet.destroy();
  }
  return { data, kernelMs };
}

/** Compile WGSL into a compute pipeline; throws with the compiler's messages on an error. */
export async function computePipeline(device: WebGpuDevice, code: string): Promise<{ getBindGroupLayout(i: number): unknown }> {
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code });
  const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const err = await device.popErrorScope();
  if (err) {
    const info = (await module.getCompilationInfo?.())?.messages.map((m) => `${m.type} line ${m.lineNum}: ${m.message}`).join('; ');
    throw new Error(`WGSL pipeline failed: ${err.message}${info ? ` (${info})` : ''}`);
  }
  return pipeline;
}

/** Options of {@link wgslExact}. */
export interface WgslKernelOptions {
  /** Kernel name, e.g. `wgsl/exact@node-webgpu`. */
  name: string;
}

/**
 * `wgsl/exact` on a WebGPU device. `lastTiming` holds the last run's kernel ms (timestamp
 * queries, where supported) and end-to-end ms. `dispose()` destroys the device.
 */
export function wgslExact(dev: WgslDevice, options: WgslKernelOptions): WgslAttentionKernel {
  const { device } = dev;
  const pipelines = new Map<number, Promise<{ getBindGroupLayout(i: number): unknown }>>();
  let lastTiming: KernelTiming | undefined;
  return {
    name: options.name,
    op: 'attention',
    exact: true,
    masks: ['none', 'block-causal'],
    precision: 'float32',
    adapter: dev.adapter,
    get lastTiming() {
      return lastTiming;
    },
    async run(input: AttentionInput): Promise<Matrix> {
      const t0 = performance.now();
      const { q, k, v, scale, mask } = checkAttentionInput(input);
      const Lq = q.rows;
      const d = q.cols;
      const dv = v.cols;
      if (Math.max(d, dv) > WGSL_MAX_HEAD) throw new RangeArgumentError('input', `head size ${Math.max(d, dv)} > ${WGSL_MAX_HEAD} is not compiled`);
      const limits = keyLimits(mask, Lq, k.rows);
      const tiles = queryTiles(limits);
      if (tiles.length / 2 > 65535) throw new RangeArgumentError('input', `${Lq} query rows need more than 65,535 workgroups`);
      const key = headClass(Math.max(d, dv));
      let pp = pipelines.get(key);
      if (!pp) {
        pp = computePipeline(device, wgslExactSource(d, dv));
        pipelines.set(key, pp);
      }
      const pipeline = await pp;
      const params = new ArrayBuffer(32);
      new Uint32Array(params, 0, 4).set([Lq, tiles.length / 2, d, dv]);
      new Float32Array(params, 16, 1)[0] = scale;
      const ub = device.createBuffer({ size: 32, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
      device.queue.writeBuffer(ub, 0, new Uint8Array(params));
      const bufs = [
        storageBuffer(device, Float32Array.from(q.data)),
        storageBuffer(device, Float32Array.from(k.data)),
        storageBuffer(device, Float32Array.from(v.data)),
        storageBuffer(device, Uint32Array.from(limits)),
        storageBuffer(device, tiles),
      ];
      const bytes = Lq * dv * 4;
      const out = device.createBuffer({ size: Math.max(16, bytes), usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC });
      try {
        const group = device.createBindGroup({
          layout: pipeline.getBindGroupLayout(0),
          entries: [ub, ...bufs, out].map((buffer, binding) => ({ binding, resource: { buffer } })),
        });
        const { data, kernelMs } = await dispatchAndRead(dev, [{ pipeline, group, workgroups: tiles.length / 2 }], out, bytes);
        lastTiming = { kernelMs, endToEndMs: performance.now() - t0 };
        return matrix(Lq, dv, data);
      } finally {
        for (const b of [ub, ...bufs, out]) b.destroy();
      }
    },
    dispose(): void {
      device.destroy();
    },
  };
}
