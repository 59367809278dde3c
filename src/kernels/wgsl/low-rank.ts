/**
 * `wgsl/low-rank`: the polynomial method (docs/math.md §5) as hand-written WGSL, float32, in one
 * submission of five passes: features U1 = φ(Q) and U2 = φ(K) (one invocation per (row,
 * monomial), the same float32 operation order as the naive reference); per chunk of key rows
 * (chunks never straddle a scale block) the sums of U2ᵀ[V | 1]; block prefix sums S_b by a
 * parallel (Hillis–Steele) scan over the chunks in workgroup memory; each output row
 * U1·S_{block(row)} divided by its last column. It declares the certified polynomial's bound
 * (spec/certificate.ts) for its own arithmetic: float32 with chunked key sums
 * ({@link wgslLowRankProfile}), whose rounding constant is min(n, chunk) + ⌈log₂ lanes⌉ instead
 * of the n + blocks of `gpujs/low-rank`'s sequential prefix sums.
 * @module
 */
import { checkAttentionInput, type AttentionInput } from '../../../spec/attention.js';
import { RangeArgumentError } from '../../../spec/errors.js';
import { defaultForm, featureWeights, multiIndices } from '../../../spec/low-rank.js';
import { matrix, type Matrix } from '../../../spec/matrix.js';
import { levels } from '../../../spec/pyramid.js';
import { chunkedFloat32Profile, clampToValueRange, declaredLowRankBound, lowRankPolynomial, requireDelta, type RoundingProfile } from '../../../spec/certificate.js';
import { exponentTable, lowRankFormulaReference } from '../gpujs/low-rank.js';
import { blockChunks, type KeyChunks } from '../chunks.js';
import { bindGroup, computePipeline, dispatchAndRead, storageBuffer, uniformBuffer, type KernelTiming, type WgslAttentionKernel } from './exact.js';
import { BufferUsage, type WebGpuBuffer, type WgslDevice } from './webgpu.js';

/** Invocations per workgroup of the element-wise passes, and the most chunks one scan handles. */
const WG = 256;

const HEADER = /* wgsl */ `
struct Params { a: u32, b: u32, c: u32, e: u32, f: u32, g: u32, x: f32, pad: f32 };
@group(0) @binding(0) var<uniform> P: Params;
`;

/** U[i·r + m] = weight_m · Π_t (xs·x_it)^α_mt, rounded as the naive float32 reference does. a = rows, b = d, c = r. */
const FEATURES =
  HEADER +
  /* wgsl */ `
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> alpha: array<u32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read_write> U: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wg.x + wg.y * nw.x) * ${WG}u + lid;
  if (idx >= P.a * P.c) { return; }
  let i = idx / P.c;
  let m = idx - i * P.c;
  var p = weight[m];
  for (var t: u32 = 0u; t < P.b; t++) {
    let y = P.x * X[i * P.b + t];
    let e = alpha[m * P.b + t];
    for (var n: u32 = 0u; n < e; n++) { p = p * y; }
  }
  U[idx] = p;
}
`;

/** sums[chunk·W + cell] = Σ_{j ∈ chunk} U2[j, m]·[V | 1][j, c], cell = m·w + c. a = W, b = r, c = dv, e = chunks. */
const CHUNK_SUMS =
  HEADER +
  /* wgsl */ `
@group(0) @binding(1) var<storage, read> U2: array<f32>;
@group(0) @binding(2) var<storage, read> V: array<f32>;
@group(0) @binding(3) var<storage, read> chunks: array<vec2<u32>>;
@group(0) @binding(4) var<storage, read_write> sums: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wg.x + wg.y * nw.x) * ${WG}u + lid;
  if (idx >= P.a * P.e) { return; }
  let ch = idx / P.a;
  let cell = idx - ch * P.a;
  let w = P.c + 1u;
  let m = cell / w;
  let c = cell - m * w;
  let span = chunks[ch];
  var acc: f32 = 0.0;
  for (var j: u32 = span.x; j < span.y; j++) {
    var vv: f32 = 1.0;
    if (c < P.c) { vv = V[j * P.c + c]; }
    acc = acc + U2[j * P.b + m] * vv;
  }
  sums[idx] = acc;
}
`;

/**
 * One workgroup of `n` (a power of two ≥ the chunk count) invocations per cell: inclusive
 * scan of its chunk sums, S[b·W + cell] = scan[last chunk of block b]. a = W, e = chunks, f = blocks.
 */
const SCAN = (n: number): string =>
  HEADER +
  /* wgsl */ `
@group(0) @binding(1) var<storage, read> sums: array<f32>;
@group(0) @binding(2) var<storage, read> lastChunk: array<u32>;
@group(0) @binding(3) var<storage, read_write> S: array<f32>;
var<workgroup> buf: array<f32, ${n}>;
@compute @workgroup_size(${n})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let cell = wg.x + wg.y * nw.x;
  let live = cell < P.a;
  var x: f32 = 0.0;
  if (live && lid < P.e) { x = sums[lid * P.a + cell]; }
  buf[lid] = x;
  workgroupBarrier();
  for (var off: u32 = 1u; off < ${n}u; off = off * 2u) {
    var y: f32 = buf[lid];
    if (lid >= off) { y = y + buf[lid - off]; }
    workgroupBarrier();
    buf[lid] = y;
    workgroupBarrier();
  }
  if (live && lid < P.f) { S[lid * P.a + cell] = buf[lastChunk[lid]]; }
}
`;

/** out[i·dv + c] = Σ_m U1[i, m]·S[level_i, m, c] / Σ_m U1[i, m]·S[level_i, m, dv]. a = rows, b = r, c = dv. */
const OUTPUT =
  HEADER +
  /* wgsl */ `
@group(0) @binding(1) var<storage, read> U1: array<f32>;
@group(0) @binding(2) var<storage, read> S: array<f32>;
@group(0) @binding(3) var<storage, read> level: array<u32>;
@group(0) @binding(4) var<storage, read_write> O: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wg.x + wg.y * nw.x) * ${WG}u + lid;
  if (idx >= P.a * P.c) { return; }
  let i = idx / P.c;
  let c = idx - i * P.c;
  let w = P.c + 1u;
  let base = level[i] * P.b * w;
  var num: f32 = 0.0;
  var den: f32 = 0.0;
  for (var m: u32 = 0u; m < P.b; m++) {
    let u = U1[i * P.b + m];
    num = num + u * S[base + m * w + c];
    den = den + u * S[base + m * w + P.c];
  }
  O[idx] = num / den;
}
`;

/** How `wgsl/low-rank` cuts the keys of an input: chunk size (doubled until ≤ 256 chunks), the chunks, and the scan's lanes. */
export interface KeyChunking {
  /** Most keys in one chunk. */
  size: number;
  /** Chunk spans and each block's last chunk ({@link blockChunks}). */
  cut: KeyChunks;
  /** Invocations of the scan: a power of two ≥ 4, the chunk count and the block count. */
  lanes: number;
}

/** The key chunking of blocks `blocks` (sizes of the scale blocks, or [L_k] unmasked): what the kernel runs and what it certifies. */
export function keyChunking(blocks: readonly number[]): KeyChunking {
  let size = WG;
  let cut = blockChunks(blocks, size);
  while (cut.chunks.length / 2 > WG) cut = blockChunks(blocks, (size *= 2));
  if (cut.lastChunk.length > WG) throw new RangeArgumentError('input', `${blocks.length} scale blocks > ${WG}`);
  let lanes = 4;
  while (lanes < Math.max(cut.chunks.length / 2, blocks.length)) lanes *= 2;
  return { size, cut, lanes };
}

function keyBlocks(input: AttentionInput): number[] {
  return input.mask.kind === 'block-causal' ? [...input.mask.blocks] : [input.k.rows];
}

/** The rounding profile `wgsl/low-rank` computes in on `input`: float32 with its chunked key sums ({@link chunkedFloat32Profile}). */
export function wgslLowRankProfile(input: AttentionInput): RoundingProfile {
  const { size, lanes } = keyChunking(keyBlocks(checkAttentionInput(input)));
  return chunkedFloat32Profile(size, lanes);
}

/** What `wgsl/low-rank` for target δ declares (and where it declines): the certificate for {@link wgslLowRankProfile}. */
export function wgslLowRankBound(delta: number): (input: AttentionInput) => number {
  requireDelta(delta);
  return (input) => declaredLowRankBound(delta, wgslLowRankProfile(input))(input);
}

/** Options of {@link wgslLowRank}. */
export interface WgslLowRankOptions {
  /** Kernel name, e.g. `wgsl/low-rank@node-webgpu`. */
  name: string;
  /** Target additive error δ. @defaultValue 1e-3 */
  delta?: number;
}

/** `wgsl/low-rank` on a WebGPU device; `dispose()` destroys the device. */
export function wgslLowRank(dev: WgslDevice, options: WgslLowRankOptions): WgslAttentionKernel {
  const delta = requireDelta(options.delta ?? 1e-3);
  const { device } = dev;
  type Pipeline = { getBindGroupLayout(i: number): unknown };
  let pipes: Promise<Pipeline[]> | undefined;
  const scans = new Map<number, Promise<Pipeline>>();
  let lastTiming: KernelTiming | undefined;
  const maxBytes = Math.min(device.limits.maxStorageBufferBindingSize ?? 1 << 27, device.limits.maxBufferSize ?? 1 << 28);
  return {
    name: options.name,
    op: 'attention',
    exact: false,
    masks: ['none', 'block-causal'],
    precision: 'float32',
    adapter: dev.adapter,
    errorBound: wgslLowRankBound(delta),
    formulaReference: lowRankFormulaReference(delta, wgslLowRankProfile),
    get lastTiming() {
      return lastTiming;
    },
    async run(input: AttentionInput): Promise<Matrix> {
      const t0 = performance.now();
      const { q, k, v, scale, mask } = checkAttentionInput(input);
      const blocks = keyBlocks(input);
      const { size, cut, lanes } = keyChunking(blocks);
      const poly = lowRankPolynomial(input, delta, chunkedFloat32Profile(size, lanes));
      const set = multiIndices(q.cols, poly.degree);
      const form = defaultForm(poly);
      const r = set.size;
      const d = q.cols;
      const dv = v.cols;
      const W = r * (dv + 1);
      const nChunks = cut.chunks.length / 2;
      const biggest = 4 * Math.max(k.rows * r, q.rows * r, nChunks * W);
      if (biggest > maxBytes) throw new RangeArgumentError('input', `rank ${r} at L = ${k.rows} needs ${biggest} bytes in one buffer; this device allows ${maxBytes}`);
      pipes ??= Promise.all([FEATURES, CHUNK_SUMS, OUTPUT].map((code) => computePipeline(device, code)));
      const [pf, pc, po] = await pipes;
      let scan = scans.get(lanes);
      if (!scan) {
        scan = computePipeline(device, SCAN(lanes));
        scans.set(lanes, scan);
      }
      const ps = await scan;
      const alpha = Uint32Array.from(exponentTable(set));
      const wq = featureWeights(set, poly.coefficients, scale, 'query', form);
      const wk = featureWeights(set, poly.coefficients, scale, 'key', form);
      const level = mask.kind === 'block-causal' ? Uint32Array.from(levels(mask.blocks)) : new Uint32Array(q.rows);
      const owned: WebGpuBuffer[] = [];
      const keep = <B extends WebGpuBuffer>(b: B): B => (owned.push(b), b);
      // Params { a, b, c, e, f, g: u32, x: f32 } (HEADER): six words, x at byte 24.
      const uniform = (u: number[], x: number): WebGpuBuffer => keep(uniformBuffer(device, u.slice(0, 6), [24, x]));
      const scratch = (floats: number, extra = 0): WebGpuBuffer => keep(device.createBuffer({ size: Math.max(16, floats * 4), usage: BufferUsage.STORAGE | extra }));
      const group = (pipeline: { getBindGroupLayout(i: number): unknown }, buffers: WebGpuBuffer[]): unknown => bindGroup(device, pipeline, buffers);
      try {
        const alphaB = keep(storageBuffer(device, alpha));
        const u1 = scratch(q.rows * r);
        const u2 = scratch(k.rows * r);
        const sums = scratch(nChunks * W);
        const S = scratch(blocks.length * W);
        const out = scratch(q.rows * dv, BufferUsage.COPY_SRC);
        const passes = [
          {
            pipeline: pf,
            group: group(pf, [
              uniform([q.rows, d, r], Math.fround(wq.xs)),
              keep(storageBuffer(device, Float32Array.from(q.data))),
              alphaB,
              keep(storageBuffer(device, Float32Array.from(wq.weight))),
              u1,
            ]),
            workgroups: Math.ceil((q.rows * r) / WG),
          },
          {
            pipeline: pf,
            group: group(pf, [
              uniform([k.rows, d, r], Math.fround(wk.xs)),
              keep(storageBuffer(device, Float32Array.from(k.data))),
              alphaB,
              keep(storageBuffer(device, Float32Array.from(wk.weight))),
              u2,
            ]),
            workgroups: Math.ceil((k.rows * r) / WG),
          },
          {
            pipeline: pc,
            group: group(pc, [uniform([W, r, dv, nChunks], 0), u2, keep(storageBuffer(device, Float32Array.from(v.data))), keep(storageBuffer(device, cut.chunks)), sums]),
            workgroups: Math.ceil((nChunks * W) / WG),
          },
          { pipeline: ps, group: group(ps, [uniform([W, 0, 0, nChunks, blocks.length], 0), sums, keep(storageBuffer(device, cut.lastChunk)), S]), workgroups: W },
          { pipeline: po, group: group(po, [uniform([q.rows, r, dv], 0), u1, S, keep(storageBuffer(device, level)), out]), workgroups: Math.ceil((q.rows * dv) / WG) },
        ];
        const { data, kernelMs, passMs } = await dispatchAndRead(dev, passes, out, q.rows * dv * 4);
        lastTiming = { kernelMs, passMs, endToEndMs: performance.now() - t0 };
        return clampToValueRange(matrix(q.rows, dv, data), v);
      } finally {
        for (const b of owned) b.destroy();
      }
    },
    dispose(): void {
      device.destroy();
    },
  };
}
