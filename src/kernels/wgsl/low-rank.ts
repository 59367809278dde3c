/**
 * `wgsl/low-rank`: the polynomial method (docs/math.md §5) as hand-written WGSL, float32, in one
 * submission of up to five passes: features U1 = φ(Q) and U2 = φ(K) (one invocation per (row,
 * monomial), the same float32 operation order as the naive reference; with `features: 'fused'`
 * these two passes go and each consumer evaluates the features it needs); per chunk of key rows
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

/** Where the features φ(Q) and φ(K) live: computed once into buffers by their own passes, or evaluated where they are used. */
export type FeatureMode = 'stored' | 'fused';

/**
 * The feature φ_m(X_i) = weight_m · Π_t (xs·X_it)^α_mt of row `i` of the d-column X, rounded as
 * the naive float32 reference does: the same float32 products in the same order in both modes.
 */
const FEATURE_FN = /* wgsl */ `
fn feature(i: u32, m: u32, d: u32, xs: f32) -> f32 {
  var p = weight[m];
  for (var t: u32 = 0u; t < d; t++) {
    let y = xs * X[i * d + t];
    let e = alpha[m * d + t];
    for (var n: u32 = 0u; n < e; n++) { p = p * y; }
  }
  return p;
}
`;

/** The bindings that give a pass its features from binding 1 on, and the expression of φ_m of row `row`. */
function featureSource(mode: FeatureMode, buffer: string, row: string, d: string): { bindings: string; term: string; next: number } {
  if (mode === 'stored') return { bindings: `@group(0) @binding(1) var<storage, read> ${buffer}: array<f32>;\n`, term: `${buffer}[${row} * P.b + m]`, next: 2 };
  return {
    bindings: `@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> alpha: array<u32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
${FEATURE_FN}`,
    term: `feature(${row}, m, ${d}, P.x)`,
    next: 4,
  };
}

/** U[i·r + m] = φ_m(X_i) (stored mode). a = rows, b = r, d = e, x = scale. */
const FEATURES =
  HEADER +
  featureSource('fused', '', 'i', 'P.e').bindings +
  /* wgsl */ `
@group(0) @binding(4) var<storage, read_write> U: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wg.x + wg.y * nw.x) * ${WG}u + lid;
  if (idx >= P.a * P.b) { return; }
  let i = idx / P.b;
  let m = idx - i * P.b;
  U[idx] = feature(i, m, P.e, P.x);
}
`;

/** sums[chunk·W + cell] = Σ_{j ∈ chunk} φ_m(K_j)·[V | 1][j, c], cell = m·w + c. a = W, b = r, c = dv, e = chunks, f = d, x = key scale. */
const CHUNK_SUMS = (mode: FeatureMode): string => {
  const f = featureSource(mode, 'U2', 'j', 'P.f');
  return (
    HEADER +
    f.bindings +
    /* wgsl */ `
@group(0) @binding(${f.next}) var<storage, read> V: array<f32>;
@group(0) @binding(${f.next + 1}) var<storage, read> chunks: array<vec2<u32>>;
@group(0) @binding(${f.next + 2}) var<storage, read_write> sums: array<f32>;
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
    acc = acc + ${f.term} * vv;
  }
  sums[idx] = acc;
}
`
  );
};

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

/** out[i·dv + c] = Σ_m φ_m(Q_i)·S[level_i, m, c] / Σ_m φ_m(Q_i)·S[level_i, m, dv]. a = rows, b = r, c = dv, e = d, x = query scale. */
const OUTPUT = (mode: FeatureMode): string => {
  const f = featureSource(mode, 'U1', 'i', 'P.e');
  return (
    HEADER +
    f.bindings +
    /* wgsl */ `
@group(0) @binding(${f.next}) var<storage, read> S: array<f32>;
@group(0) @binding(${f.next + 1}) var<storage, read> level: array<u32>;
@group(0) @binding(${f.next + 2}) var<storage, read_write> O: array<f32>;
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
    let u = ${f.term};
    num = num + u * S[base + m * w + c];
    den = den + u * S[base + m * w + P.c];
  }
  O[idx] = num / den;
}
`
  );
};

/** How `wgsl/low-rank` cuts the keys of an input: chunk size (256, doubled until ≤ 256 chunks), the chunks, and the scan's lanes. */
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
  /**
   * Where the features live ({@link FeatureMode}): `stored` runs two feature passes and keeps
   * φ(Q), φ(K) in buffers; `fused` evaluates each feature where it is used (no feature passes or
   * buffers, (d_v + 1)× the feature arithmetic). Same outputs bit for bit. `bench/gpu.ts --sweep`
   * times both. @defaultValue 'stored'
   */
  features?: FeatureMode;
}

/** `wgsl/low-rank` on a WebGPU device; `dispose()` destroys the device. */
export function wgslLowRank(dev: WgslDevice, options: WgslLowRankOptions): WgslAttentionKernel {
  const delta = requireDelta(options.delta ?? 1e-3);
  const mode = options.features ?? 'stored';
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
      const biggest = 4 * Math.max(k.rows * d, q.rows * d, k.rows * dv, nChunks * W, mode === 'stored' ? Math.max(k.rows, q.rows) * r : 0);
      if (biggest > maxBytes) throw new RangeArgumentError('input', `rank ${r}, d = ${d}, d_v = ${dv} at L = ${k.rows} needs ${biggest} bytes in one buffer; this device allows ${maxBytes}`);
      pipes ??= Promise.all([CHUNK_SUMS(mode), OUTPUT(mode), ...(mode === 'stored' ? [FEATURES] : [])].map((code) => computePipeline(device, code)));
      const [pc, po, pf] = await pipes;
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
        const sums = scratch(nChunks * W);
        const S = scratch(blocks.length * W);
        const out = scratch(q.rows * dv, BufferUsage.COPY_SRC);
        const qB = keep(storageBuffer(device, Float32Array.from(q.data)));
        const kB = keep(storageBuffer(device, Float32Array.from(k.data)));
        const wqB = keep(storageBuffer(device, Float32Array.from(wq.weight)));
        const wkB = keep(storageBuffer(device, Float32Array.from(wk.weight)));
        // Stored: φ(Q), φ(K) by their own passes; fused: each consumer reads X, α and the weights.
        let featurePasses: { pipeline: unknown; group: unknown; workgroups: number }[] = [];
        let keyFeatures = [kB, alphaB, wkB];
        let queryFeatures = [qB, alphaB, wqB];
        if (mode === 'stored') {
          const u1 = scratch(q.rows * r);
          const u2 = scratch(k.rows * r);
          featurePasses = [
            { pipeline: pf, group: group(pf, [uniform([q.rows, r, 0, d], Math.fround(wq.xs)), qB, alphaB, wqB, u1]), workgroups: Math.ceil((q.rows * r) / WG) },
            { pipeline: pf, group: group(pf, [uniform([k.rows, r, 0, d], Math.fround(wk.xs)), kB, alphaB, wkB, u2]), workgroups: Math.ceil((k.rows * r) / WG) },
          ];
          keyFeatures = [u2];
          queryFeatures = [u1];
        }
        const passes = [
          ...featurePasses,
          {
            pipeline: pc,
            group: group(pc, [
              uniform([W, r, dv, nChunks, d], Math.fround(wk.xs)),
              ...keyFeatures,
              keep(storageBuffer(device, Float32Array.from(v.data))),
              keep(storageBuffer(device, cut.chunks)),
              sums,
            ]),
            workgroups: Math.ceil((nChunks * W) / WG),
          },
          { pipeline: ps, group: group(ps, [uniform([W, 0, 0, nChunks, blocks.length], 0), sums, keep(storageBuffer(device, cut.lastChunk)), S]), workgroups: W },
          {
            pipeline: po,
            group: group(po, [uniform([q.rows, r, dv, d], Math.fround(wq.xs)), ...queryFeatures, S, keep(storageBuffer(device, level)), out]),
            workgroups: Math.ceil((q.rows * dv) / WG),
          },
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
