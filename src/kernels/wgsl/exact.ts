/**
 * `wgsl/exact`: exact softmax attention as one hand-written FlashAttention-2-style WGSL compute
 * shader, float32 (docs/math.md §3; float32 rules §8). A workgroup owns a tile of
 * {@link WGSL_QUERY_TILE} consecutive query rows, one row per invocation held in registers
 * (q, the running maximum m, the running sum l and the output accumulator o); it walks the keys
 * in tiles that the workgroup loads cooperatively into workgroup memory (K and V), and per key
 * tile computes the row's scores once, rescales (m, l, o) once, and adds each exp(s − m)·v_j
 * once (online softmax). Block-causal: the workgroup stops at the longest key prefix of its
 * rows, and each row stops at its own limit, so nothing is masked element by element inside a
 * scale. Long key prefixes are split into ranges ({@link splitItems}, split-K) whose partial
 * (m, l, o) a second pass merges, so that a few long tiles still fill the GPU; work items are
 * dispatched longest range first. On a fallback (software) adapter head sizes are compiled in a
 * few classes ({@link WGSL_HEAD_CLASSES}, one cached pipeline pair each); on a hardware adapter
 * each (d, d_v) gets its own pipelines with constant loop lengths and key loops over whole tiles
 * ({@link WgslExactShape}; 3–4× faster on the H100, same outputs bit for bit).
 * @module
 */
import { checkAttentionInput, type AttentionInput } from '../../../spec/attention.js';
import { RangeArgumentError } from '../../../spec/errors.js';
import { keyLimits } from '../../../spec/mask.js';
import { matrix, type Matrix } from '../../../spec/matrix.js';
import type { AttentionKernel, SoftmaxRescales } from '../../../spec/contract.js';
import { BufferUsage, MAP_READ, maxStorageBytes, requireStorageBytes, withErrorScopes, type WebGpuBuffer, type WebGpuDevice, type WgslDevice } from './webgpu.js';

/** Query rows per workgroup (one per invocation). */
export const WGSL_QUERY_TILE = 64;
/** Largest head size (d or d_v) compiled. */
export const WGSL_MAX_HEAD = 256;

/** Timings of a kernel's last run. */
export interface KernelTiming {
  /** GPU time of the compute passes from 'timestamp-query' (first pass's start to last pass's end), or null where the adapter lacks it. */
  kernelMs: number | null;
  /** Each pass's own GPU time, in dispatch order (null without 'timestamp-query'). */
  passMs?: number[] | null;
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

/**
 * How many keys a workgroup-memory tile holds: `wide` — as many as fit 16 KiB for K and V together
 * (2,048 / head class, between 8 and 64: fewer barriers, for hardware GPUs); `compact` — 8 in every
 * class (the fewest any class uses). A pipeline's compile time on SwiftShader grows with the tile
 * times the head class (its loops are unrolled): class 64 compiles in about 1.1 s compact and
 * 4.1 s wide (Chromium 156, 2-core VM), so software adapters get compact tiles by default.
 */
export type WgslKeyTiles = 'wide' | 'compact';

/** Keys per workgroup-memory tile for head class `cap` ({@link WgslKeyTiles}). */
export function keyTile(cap: number, tiles: WgslKeyTiles = 'wide'): number {
  return tiles === 'compact' ? 8 : Math.max(8, Math.min(64, Math.floor(2048 / cap)));
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
 * The online-softmax structure `wgsl/exact` declares (docs/math.md §8): one rescale per key tile
 * (at least 8 keys in every head class, wide or compact) and one more where split ranges merge.
 */
export const WGSL_EXACT_RESCALES: SoftmaxRescales = { keysPerRescale: Math.min(keyTile(WGSL_MAX_HEAD), keyTile(WGSL_MAX_HEAD, 'compact')), extra: 1 };

/**
 * Code shape of a `wgsl/exact` pipeline (all shapes compute the same float32 operations in the
 * same order, so their outputs are identical): `specialize` compiles d, d_v as constants (one
 * pipeline per (d, d_v), loops of constant length with nothing to skip) instead of uniforms (one
 * pipeline per head class); `fullTiles` runs every key loop over the whole tile (constant length,
 * so it unrolls and the tile's scores stay in registers), keys past a row's limit contributing
 * exactly nothing.
 */
export interface WgslExactShape {
  /** @defaultValue false */
  specialize?: boolean;
  /** @defaultValue false */
  fullTiles?: boolean;
}

/** Where a work item writes: its tile's only item writes the normalised output itself. */
const DIRECT = 0xffffffff;

/**
 * The WGSL source of `wgsl/exact` for head sizes d, d_v up to DC = DVC = headClass(max(d, d_v)):
 * register arrays and loops have that constant length (unrolled); the actual d and d_v are
 * uniforms, guarded by uniform branches. One pipeline serves a whole class.
 *
 * A workgroup runs one work item (first row, first key, key end, slot) of {@link splitItems}: its
 * tile's rows against one key range (split-K, as FlashDecoding does, so that long block-causal
 * rows fill the GPU). K and V rows sit in workgroup memory as vec4s (one 16-byte load per four
 * multiply-adds). An item that covers its tile's whole key range writes o/l; the others write
 * their (m, l, o) to the partial buffer for {@link wgslCombineSource}.
 */
export function wgslExactSource(d: number, dv: number, tiles: WgslKeyTiles = 'wide', shape: WgslExactShape = {}): string {
  const DC = headClass(Math.max(d, dv));
  const specialize = shape.specialize ?? false;
  const full = shape.fullTiles ?? false;
  // Without fullTiles a key loop stops at the row's last key; with it, it runs the whole tile
  // (constant length) and keys past the row's limit get the score −3e38, so exp gives 0 and adds
  // nothing (l + 0 = l, o + 0·v = o): the same values.
  const stop = full ? '' : 'if (jj >= n) { break; }';
  const C4 = DC / 4;
  const BK = keyTile(DC, tiles);
  const BQ = WGSL_QUERY_TILE;
  return /* wgsl */ `
struct Params { lq: u32, items: u32, d: u32, dv: u32, scale: f32, d4: u32, dv4: u32, pad: u32 };
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> K: array<f32>;
@group(0) @binding(3) var<storage, read> V: array<f32>;
@group(0) @binding(4) var<storage, read> lim: array<u32>;
@group(0) @binding(5) var<storage, read> items: array<vec4<u32>>;
@group(0) @binding(6) var<storage, read_write> O: array<f32>;
@group(0) @binding(7) var<storage, read_write> Part: array<f32>;
const C4: u32 = ${C4}u;
${specialize ? `const D: u32 = ${d}u;\nconst DV: u32 = ${dv}u;\nconst D4: u32 = ${Math.ceil(d / 4)}u;\nconst DV4: u32 = ${Math.ceil(dv / 4)}u;` : ''}
const BQ: u32 = ${BQ}u;
const BK: u32 = ${BK}u;
var<workgroup> Ks: array<vec4<f32>, ${BK * C4}>;
var<workgroup> Vs: array<vec4<f32>, ${BK * C4}>;

fn load4(src: u32, base: u32, c: u32, n: u32) -> vec4<f32> {
  // Four consecutive entries of row-major K (src 0) or V (src 1) from column c, zero past n.
  var x = vec4<f32>(0.0);
  for (var t: u32 = 0u; t < 4u; t++) {
    if (c + t < n) {
      if (src == 0u) { x[t] = K[base + t]; } else { x[t] = V[base + t]; }
    }
  }
  return x;
}

@compute @workgroup_size(${BQ})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let w = wg.x + wg.y * nwg.x;
  if (w >= P.items) { return; }
  let it = items[w];
  let keyEnd = it.z;
  let i = it.x + lid;
${
  specialize
    ? ''
    : `  let D = P.d;
  let DV = P.dv;
  let D4 = P.d4;
  let DV4 = P.dv4;
`
}  let rowOk = i < P.lq;
  var li: u32 = 0u;
  var q: array<vec4<f32>, C4>;
  var o: array<vec4<f32>, C4>;
  var s: array<f32, BK>;
  for (var c: u32 = 0u; c < C4; c++) {
    q[c] = vec4<f32>(0.0);
    o[c] = vec4<f32>(0.0);
    if (rowOk && c < D4) {
      for (var t: u32 = 0u; t < 4u; t++) {
        if (4u * c + t < D) { q[c][t] = Q[i * D + 4u * c + t]; }
      }
    }
  }
  if (rowOk) { li = lim[i]; }
  var m: f32 = -3.0e38;
  var l: f32 = 0.0;
  for (var j0: u32 = it.y; j0 < keyEnd; j0 += BK) {
    let nk = min(BK, keyEnd - j0);
    for (var e: u32 = lid; e < nk * D4; e += BQ) {
      let r = e / D4;
      let c = 4u * (e - r * D4);
      Ks[e] = load4(0u, (j0 + r) * D + c, c, D);
    }
    for (var e: u32 = lid; e < nk * DV4; e += BQ) {
      let r = e / DV4;
      let c = 4u * (e - r * DV4);
      Vs[e] = load4(1u, (j0 + r) * DV + c, c, DV);
    }
    workgroupBarrier();
    var n: u32 = 0u;
    if (li > j0) { n = min(nk, li - j0); }
    if (n > 0u) {
      var mt = m;
      for (var jj: u32 = 0u; jj < BK; jj++) {
        ${stop}
        var acc: f32 = 0.0;
        for (var c: u32 = 0u; c < C4; c++) {
          if (c >= D4) { break; }
          let kk = Ks[jj * D4 + c];
          acc = fma(q[c].x, kk.x, acc);
          acc = fma(q[c].y, kk.y, acc);
          acc = fma(q[c].z, kk.z, acc);
          acc = fma(q[c].w, kk.w, acc);
        }
        let z = ${full ? 'select(-3.0e38, acc * P.scale, jj < n)' : 'acc * P.scale'};
        s[jj] = z;
        mt = max(mt, z);
      }
      let alpha = exp(m - mt);
      l = l * alpha;
      for (var c: u32 = 0u; c < C4; c++) {
        if (c >= DV4) { break; }
        o[c] = o[c] * alpha;
      }
      for (var jj: u32 = 0u; jj < BK; jj++) {
        ${stop}
        let p = exp(s[jj] - mt);
        l = l + p;
        for (var c: u32 = 0u; c < C4; c++) {
          if (c >= DV4) { break; }
          o[c] = fma(vec4<f32>(p), Vs[jj * DV4 + c], o[c]);
        }
      }
      m = mt;
    }
    workgroupBarrier();
  }
  if (!rowOk) { return; }
  if (it.w == ${DIRECT}u) {
    for (var c: u32 = 0u; c < C4; c++) {
      for (var t: u32 = 0u; t < 4u; t++) {
        if (4u * c + t < DV) { O[i * DV + 4u * c + t] = o[c][t] / l; }
      }
    }
  } else {
    // (m, l, o) of this row over this key range, for the combine pass.
    let b = (it.w * BQ + lid) * (DV + 2u);
    Part[b] = m;
    Part[b + 1u] = l;
    for (var c: u32 = 0u; c < C4; c++) {
      for (var t: u32 = 0u; t < 4u; t++) {
        if (4u * c + t < DV) { Part[b + 2u + 4u * c + t] = o[c][t]; }
      }
    }
  }
}
`;
}

/**
 * The combine pass of `wgsl/exact` (head class of d, d_v): one invocation per query row of a
 * split tile (first row, first slot, slot count) merges its items' (m_s, l_s, o_s) as
 * o = Σ_s e^{m_s − m}·o_s / Σ_s e^{m_s − m}·l_s with m = max_s m_s (docs/math.md §8: one more
 * rescale per item).
 */
export function wgslCombineSource(d: number, dv: number, specialize = false): string {
  // Specialized: d_v is a constant, the loops over it have constant length (the accumulator stays in registers).
  const C = specialize ? dv : headClass(Math.max(d, dv));
  const BQ = WGSL_QUERY_TILE;
  return /* wgsl */ `
struct Params { lq: u32, tiles: u32, dv: u32, pad: u32 };
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> split: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> Part: array<f32>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;
const BQ: u32 = ${BQ}u;

@compute @workgroup_size(${BQ})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let w = wg.x + wg.y * nwg.x;
  if (w >= P.tiles) { return; }
  let t = split[w];
  let i = t.x + lid;
  if (i >= P.lq) { return; }
  let DV = ${specialize ? `${dv}u` : 'P.dv'};
  let stride = DV + 2u;
  var m: f32 = -3.0e38;
  for (var s: u32 = 0u; s < t.z; s++) { m = max(m, Part[((t.y + s) * BQ + lid) * stride]); }
  var l: f32 = 0.0;
  var o: array<f32, ${C}>;
  for (var c: u32 = 0u; c < ${C}u; c++) { o[c] = 0.0; }
  for (var s: u32 = 0u; s < t.z; s++) {
    let b = ((t.y + s) * BQ + lid) * stride;
    let a = exp(Part[b] - m);
    l = fma(a, Part[b + 1u], l);
    for (var c: u32 = 0u; c < ${C}u; c++) {
      if (c >= DV) { break; }
      o[c] = fma(a, Part[b + 2u + c], o[c]);
    }
  }
  for (var c: u32 = 0u; c < ${C}u; c++) {
    if (c >= DV) { break; }
    O[i * DV + c] = o[c] / l;
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

/** Work items of one `wgsl/exact` call ({@link splitItems}). */
export interface SplitPlan {
  /** Keys per split (a multiple of the key tile), or Infinity when nothing is split. */
  chunk: number;
  /** Per work item (first row, first key, key end, slot — 0xffffffff where its tile is not split), longest key range first. */
  items: Uint32Array;
  /** Per split tile (first row, first slot, slot count, 0). */
  split: Uint32Array;
  /** Partial-result slots (one per item of a split tile). */
  slots: number;
}

/**
 * Split each query tile's key prefix (from `queryTiles`) into ranges of `chunk` keys so that
 * about `target` work items fill the device: chunk = the multiple of `keyTile` nearest above
 * Σ prefixes / target, at least `minChunk`; then doubled until the partial results
 * (slots · tile · (d_v + 2) floats) fit `maxPartialBytes`. A tile with one range is not split.
 */
export function splitItems(tiles: Uint32Array, keyTile: number, options: { target: number; minChunk: number; dv: number; maxPartialBytes: number }): SplitPlan {
  const n = tiles.length / 2;
  let total = 0;
  for (let t = 0; t < n; t++) total += tiles[2 * t + 1];
  let chunk = Math.max(options.minChunk, Math.ceil(total / Math.max(1, options.target) / keyTile) * keyTile);
  const slotsFor = (c: number): number => {
    let slots = 0;
    for (let t = 0; t < n; t++) {
      const parts = Math.ceil(tiles[2 * t + 1] / c);
      if (parts > 1) slots += parts;
    }
    return slots;
  };
  while (slotsFor(chunk) * WGSL_QUERY_TILE * (options.dv + 2) * 4 > options.maxPartialBytes) chunk *= 2;
  const items: number[][] = [];
  const split: number[] = [];
  let slot = 0;
  for (let t = 0; t < n; t++) {
    const [row, end] = [tiles[2 * t], tiles[2 * t + 1]];
    const parts = Math.max(1, Math.ceil(end / chunk));
    if (parts === 1) {
      items.push([row, 0, end, DIRECT]);
      continue;
    }
    split.push(row, slot, parts, 0);
    for (let p = 0; p < parts; p++) items.push([row, p * chunk, Math.min(end, (p + 1) * chunk), slot++]);
  }
  items.sort((a, b) => b[2] - b[1] - (a[2] - a[1]) || a[0] - b[0] || a[1] - b[1]);
  return { chunk: split.length ? chunk : Infinity, items: Uint32Array.from(items.flat()), split: Uint32Array.from(split), slots: slot };
}

/** A 32-byte uniform buffer: up to eight u32 words, then optionally one f32 written at byte offset `f32[0]`. */
export function uniformBuffer(device: WebGpuDevice, u32: readonly number[], f32?: readonly [number, number]): WebGpuBuffer {
  const params = new ArrayBuffer(32);
  new Uint32Array(params).set(u32);
  if (f32) new Float32Array(params, f32[0], 1)[0] = f32[1];
  const b = device.createBuffer({ size: 32, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
  device.queue.writeBuffer(b, 0, new Uint8Array(params));
  return b;
}

/** A bind group of `buffers` at bindings 0, 1, … of `pipeline`'s group 0. */
export function bindGroup(device: WebGpuDevice, pipeline: { getBindGroupLayout(i: number): unknown }, buffers: readonly WebGpuBuffer[]): unknown {
  return device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })) });
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
 * Resolves to the bytes, the GPU milliseconds from the first pass's start to the last one's end,
 * and each pass's own (null without timestamps).
 */
export async function dispatchAndRead(
  dev: WgslDevice,
  passes: readonly { pipeline: unknown; group: unknown; workgroups: number }[],
  result: WebGpuBuffer,
  bytes: number,
): Promise<{ data: Float32Array; kernelMs: number | null; passMs: number[] | null }> {
  const { device } = dev;
  const enc = device.createCommandEncoder();
  const stamps = 2 * passes.length;
  const querySet = dev.timestamps ? device.createQuerySet({ type: 'timestamp', count: stamps }) : undefined;
  passes.forEach((p, n) => {
    const ts = querySet ? { timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * n, endOfPassWriteIndex: 2 * n + 1 } } : undefined;
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
    tsResolve = device.createBuffer({ size: 8 * stamps, usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC });
    tsRead = device.createBuffer({ size: 8 * stamps, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    enc.resolveQuerySet(querySet, 0, stamps, tsResolve, 0);
    enc.copyBufferToBuffer(tsResolve, 0, tsRead, 0, 8 * stamps);
  }
  device.queue.submit([enc.finish()]);
  // Both maps at once: one wait for the device, not two.
  await Promise.all([staging.mapAsync(MAP_READ), tsRead?.mapAsync(MAP_READ)]);
  const data = new Float32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  staging.destroy();
  let kernelMs: number | null = null;
  let passMs: number[] | null = null;
  if (tsRead && tsResolve && querySet) {
    const t = new BigUint64Array(tsRead.getMappedRange().slice(0));
    tsRead.unmap();
    const ns = Number(t[stamps - 1] - t[0]);
    kernelMs = ns > 0 ? ns / 1e6 : null;
    passMs = passes.map((_, n) => Number(t[2 * n + 1] - t[2 * n]) / 1e6);
    tsRead.destroy();
    tsResolve.destroy();
    querySet.destroy();
  }
  return { data, kernelMs, passMs };
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
  /**
   * Work items to aim for when splitting long key ranges ({@link splitItems}); 1 splits nothing.
   * Default {@link WGSL_SPLIT_TARGET}.
   */
  splitTarget?: number;
  /** Key tile shape ({@link WgslKeyTiles}). Default: `compact` on a fallback (software) adapter, else `wide`. */
  keyTiles?: WgslKeyTiles;
  /**
   * Compile d, d_v as constants, one pipeline per (d, d_v) ({@link WgslExactShape}). Default: on a
   * hardware adapter (a compile costs milliseconds there), not on a fallback one (seconds).
   */
  specialize?: boolean;
  /** Key loops over whole tiles ({@link WgslExactShape}). Default: on a hardware adapter, not on a fallback one. */
  fullTiles?: boolean;
}

/**
 * Default work-item target of `wgsl/exact`: enough workgroups of 64 rows to fill a large GPU
 * (an H100 has 132 SMs, 2,048 resident invocations each) when block-causal tiles are few but
 * long. On the H100 (`bench/gpu.ts --sweep`, 2026-11-27) 2,048 and 4,096 timed best among
 * 2,048–16,384 at L = 21,845 and 9,451 (d = 64 and 4) when the GPU was warm.
 */
export const WGSL_SPLIT_TARGET = 2048;

/**
 * `wgsl/exact` on a WebGPU device. `lastTiming` holds the last run's kernel ms (timestamp
 * queries, where supported) and end-to-end ms. `dispose()` destroys the device.
 */
export function wgslExact(dev: WgslDevice, options: WgslKernelOptions): WgslAttentionKernel {
  const { device } = dev;
  const target = options.splitTarget ?? WGSL_SPLIT_TARGET;
  if (!(Number.isInteger(target) && target >= 1)) throw new RangeArgumentError('options.splitTarget', `expected an integer ≥ 1, got ${target}`);
  const tiles = options.keyTiles ?? (dev.fallback ? 'compact' : 'wide');
  if (tiles !== 'wide' && tiles !== 'compact') throw new RangeArgumentError('options.keyTiles', `expected 'wide' or 'compact', got ${String(tiles)}`);
  const shape: WgslExactShape = { specialize: options.specialize ?? !dev.fallback, fullTiles: options.fullTiles ?? !dev.fallback };
  type Pipeline = { getBindGroupLayout(i: number): unknown };
  const pipelines = new Map<string, Promise<Pipeline>>();
  const pipelineFor = (kind: 'main' | 'combine', d: number, dv: number): Promise<Pipeline> => {
    const key = shape.specialize ? `${kind}:${d}:${dv}` : `${kind}:${headClass(Math.max(d, dv))}`;
    let pp = pipelines.get(key);
    if (!pp) {
      pp = computePipeline(device, kind === 'main' ? wgslExactSource(d, dv, tiles, shape) : wgslCombineSource(d, dv, shape.specialize));
      pipelines.set(key, pp);
    }
    return pp;
  };
  const maxPartialBytes = maxStorageBytes(device);
  let lastTiming: KernelTiming | undefined;
  return {
    name: options.name,
    op: 'attention',
    exact: true,
    masks: ['none', 'block-causal'],
    precision: 'float32',
    rescales: WGSL_EXACT_RESCALES,
    // Its shaders are compiled for head sizes up to WGSL_MAX_HEAD (run throws past it).
    maxHeadSize: WGSL_MAX_HEAD,
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
      const bk = keyTile(headClass(Math.max(d, dv)), tiles);
      const plan = splitItems(queryTiles(limits), bk, { target, minChunk: 4 * bk, dv, maxPartialBytes });
      const nItems = plan.items.length / 4;
      const nSplit = plan.split.length / 4;
      if (nItems > 65535 * 65535) throw new RangeArgumentError('input', `${Lq} query rows need more than 65,535² workgroups`);
      const bytes = Lq * dv * 4;
      requireStorageBytes(options.name, device, [
        ['Q', 4 * Lq * d],
        ['K', 4 * k.rows * d],
        ['V', 4 * k.rows * dv],
        ['the output', bytes],
      ]);
      const main = await pipelineFor('main', d, dv);
      const combine = nSplit > 0 ? await pipelineFor('combine', d, dv) : undefined;
      const owned: WebGpuBuffer[] = [];
      const keep = (b: WebGpuBuffer): WebGpuBuffer => (owned.push(b), b);
      try {
        const { data, kernelMs, passMs } = await withErrorScopes(device, options.name, () => {
          // Params { lq, items, d, dv, scale, d4, dv4 } and { lq, tiles, dv }.
          const ub = keep(uniformBuffer(device, [Lq, nItems, d, dv, 0, Math.ceil(d / 4), Math.ceil(dv / 4), 0], [16, scale]));
          const cb = keep(uniformBuffer(device, [Lq, nSplit, dv, 0]));
          const out = keep(device.createBuffer({ size: Math.max(16, bytes), usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC }));
          const part = keep(device.createBuffer({ size: Math.max(16, plan.slots * WGSL_QUERY_TILE * (dv + 2) * 4), usage: BufferUsage.STORAGE }));
          const bufs = [
            storageBuffer(device, Float32Array.from(q.data)),
            storageBuffer(device, Float32Array.from(k.data)),
            storageBuffer(device, Float32Array.from(v.data)),
            storageBuffer(device, Uint32Array.from(limits)),
            storageBuffer(device, plan.items),
          ].map(keep);
          const splitB = keep(storageBuffer(device, plan.split));
          const passes = [{ pipeline: main, group: bindGroup(device, main, [ub, ...bufs, out, part]), workgroups: nItems }];
          if (combine) passes.push({ pipeline: combine, group: bindGroup(device, combine, [cb, splitB, part, out]), workgroups: nSplit });
          return dispatchAndRead(dev, passes, out, bytes);
        });
        lastTiming = { kernelMs, passMs, endToEndMs: performance.now() - t0 };
        return matrix(Lq, dv, data);
      } finally {
        for (const b of owned) b.destroy();
      }
    },
    dispose(): void {
      device.destroy();
    },
  };
}
