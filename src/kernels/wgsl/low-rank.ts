/**
 * `wgsl/low-rank`: the polynomial method (docs/math.md §5) as hand-written WGSL, float32, in one
 * submission of three to five passes: with `features: 'stored'`, features U1 = φ(Q) and U2 = φ(K)
 * (one invocation per (row, monomial), the same float32 operation order as the naive reference;
 * with `'fused'` these two passes go and each consumer evaluates the features it needs); per chunk
 * of key rows (chunks never straddle a scale block) the sums of U2ᵀ[V | 1], each chunk cut into
 * slices added by a tree ({@link KeySums}); block prefix sums S_b by a parallel (Hillis–Steele)
 * scan over the chunks in workgroup memory; each output row U1·S_{block(row)} divided by its last
 * column, the r terms again in slices and a tree. It declares the certified polynomial's bound
 * (spec/certificate.ts) for its own arithmetic: float32 with chunked key sums
 * ({@link wgslLowRankProfile}), whose rounding constant is min(n, chunk) + ⌈log₂ lanes⌉ instead
 * of the n + blocks of `gpujs/low-rank`'s sequential prefix sums. On a hardware adapter the
 * defaults are the shapes measured fastest on the H100 (fused features, sliced sums, sizes
 * compiled as constants: bench/results/h100.md); on a fallback one those that compile and run
 * fastest on the CPU.
 * @module
 */
import { checkAttentionInput, type AttentionInput } from '../../../spec/attention.js';
import { RangeArgumentError } from '../../../spec/errors.js';
import { defaultForm, featureWeights, multiIndices } from '../../../spec/low-rank.js';
import { matrix, type Matrix } from '../../../spec/matrix.js';
import { levels } from '../../../spec/pyramid.js';
import { chunkedFloat32Profile, clampToValueRange, declaredLowRankBound, lowRankCost, lowRankPolynomial, requireDelta, type RoundingProfile } from '../../../spec/certificate.js';
import { exponentTable, lowRankFormulaReference } from '../gpujs/low-rank.js';
import { blockChunks, type KeyChunks } from '../chunks.js';
import { bindGroup, computePipeline, dispatchAndRead, storageBuffer, uniformBuffer, type KernelTiming, type WgslAttentionKernel } from './exact.js';
import { BufferUsage, requireStorageBytes, withErrorScopes, type WebGpuBuffer, type WgslDevice } from './webgpu.js';

/** Invocations per workgroup of the element-wise passes, and the most chunks one scan handles. */
const WG = 256;

const HEADER = /* wgsl */ `
struct Params { a: u32, b: u32, c: u32, e: u32, f: u32, g: u32, x: f32, pad: f32 };
@group(0) @binding(0) var<uniform> P: Params;
`;

/** Where the features φ(Q) and φ(K) live: computed once into buffers by their own passes, or evaluated where they are used. */
export type FeatureMode = 'stored' | 'fused';

/**
 * The sizes a pipeline is compiled for: with `specialize`, d, d_v, the rank r and the degree g
 * are constants in the WGSL (loops of constant length; one pipeline per (d, d_v, g)); without,
 * one pipeline serves every size, read from the uniforms. Both run the same float32 operations
 * in the same order.
 */
interface Shape {
  mode: FeatureMode;
  /** Slices per item of the sliced passes (a power of two from 2 to 64). */
  slices: number;
  sizes?: { d: number; dv: number; r: number; g: number };
}

/** WGSL expressions for d, d_v and r: constants of `shape`, or the uniforms named. */
function sizeExprs(shape: Shape, uniforms: { d: string; dv?: string; r?: string }): { D: string; DV: string; R: string } {
  const z = shape.sizes;
  return z ? { D: `${z.d}u`, DV: `${z.dv}u`, R: `${z.r}u` } : { D: uniforms.d, DV: uniforms.dv ?? 'P.c', R: uniforms.r ?? 'P.b' };
}

/**
 * The feature φ_m(X_i) = weight_m · Π_t (xs·X_it)^α_mt of row `i` of the d-column X, rounded as
 * the naive float32 reference does: the same float32 products in the same order in every shape
 * (specialized, the exponent loop runs to the degree g and multiplies while n < α_mt).
 */
function featureFn(shape: Shape, D: string): string {
  const power = shape.sizes ? `for (var n: u32 = 0u; n < ${shape.sizes.g}u; n++) { if (n < e) { p = p * y; } }` : `for (var n: u32 = 0u; n < e; n++) { p = p * y; }`;
  return /* wgsl */ `
fn feature(i: u32, m: u32, xs: f32) -> f32 {
  var p = weight[m];
  for (var t: u32 = 0u; t < ${D}; t++) {
    let y = xs * X[i * ${D} + t];
    let e = alpha[m * ${D} + t];
    ${power}
  }
  return p;
}
`;
}

/** The bindings that give a pass its features from binding 1 on, and the expression of φ_m of row `row`. */
function featureSource(shape: Shape, buffer: string, row: string, D: string, R: string): { bindings: string; term: string; next: number } {
  if (shape.mode === 'stored') return { bindings: `@group(0) @binding(1) var<storage, read> ${buffer}: array<f32>;\n`, term: `${buffer}[${row} * ${R} + m]`, next: 2 };
  return {
    bindings: `@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> alpha: array<u32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
${featureFn(shape, D)}`,
    term: `feature(${row}, m, P.x)`,
    next: 4,
  };
}

/** U[i·r + m] = φ_m(X_i) (stored mode). a = rows, b = r, e = d, x = scale. */
const FEATURES = (shape: Shape): string => {
  const { D, R } = sizeExprs(shape, { d: 'P.e' });
  return (
    HEADER +
    featureSource({ ...shape, mode: 'fused' }, '', 'i', D, R).bindings +
    /* wgsl */ `
@group(0) @binding(4) var<storage, read_write> U: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wg.x + wg.y * nw.x) * ${WG}u + lid;
  if (idx >= P.a * ${R}) { return; }
  let i = idx / ${R};
  let m = idx - i * ${R};
  U[idx] = feature(i, m, P.x);
}
`
  );
};

/** The slices a sliced pass cuts its sums into, by default ({@link WgslLowRankOptions.slices}); a workgroup then holds {@link WG}/slices items. */
export const SLICES = 8;

/** Items per workgroup of the sliced passes: {@link WG} invocations, `slices` per item. */
const cellsOf = (shape: Shape): number => WG / shape.slices;

/**
 * The pairwise tree over the slices of the workgroup arrays `bufs` (slice s at lid = s·cells + k):
 * offsets slices/2, …, 2, 1, so a value passes through at most ⌈log₂ k⌉ additions (k non-empty
 * slices). Starts with the barrier after the slices' own sums are stored.
 */
const SLICE_TREE = (shape: Shape, ...bufs: string[]): string => /* wgsl */ `
  workgroupBarrier();
  for (var off: u32 = ${shape.slices / 2}u; off > 0u; off = off / 2u) {
    if (slice < off) {
${bufs.map((b) => `      ${b}[lid] = ${b}[lid] + ${b}[lid + off * ${cellsOf(shape)}u];`).join('\n')}
    }
    workgroupBarrier();
  }`;

/**
 * What both chunk-sum passes start with: the uniforms, the key features (stored or evaluated),
 * V, the chunk spans and the output `sums`; and the WGSL size expressions and feature term.
 */
function chunkSumsPrologue(shape: Shape): { code: string; DV: string; R: string; term: string } {
  const { D, DV, R } = sizeExprs(shape, { d: 'P.f' });
  const f = featureSource(shape, 'U2', 'j', D, R);
  const code =
    HEADER +
    f.bindings +
    /* wgsl */ `
@group(0) @binding(${f.next}) var<storage, read> V: array<f32>;
@group(0) @binding(${f.next + 1}) var<storage, read> chunks: array<vec2<u32>>;
@group(0) @binding(${f.next + 2}) var<storage, read_write> sums: array<f32>;
`;
  return { code, DV, R, term: f.term };
}

/**
 * sums[chunk·W + cell] = Σ_{j ∈ chunk} φ_m(K_j)·[V | 1][j, c], cell = m·w + c. One workgroup per
 * (chunk, 256/s items) for s slices ({@link SLICES} by default), an item being a monomial m and four consecutive columns c of V,
 * the first item of each monomial also summing the ones column (so φ_m(K_j) is evaluated once per
 * key for up to five cells, ⌈d_v/4⌉ items per monomial; items of four columns of [V | 1] evaluated
 * it twice at d_v = 4, for a group holding the ones column alone): each of the s slices of
 * ⌈n_c/s⌉ consecutive keys is summed sequentially by one invocation, then a pairwise tree adds the
 * slices, so a term passes through at most ⌈n_c/s⌉ − 1 + ⌈log₂ k⌉ ≤ n_c − 1 additions (k non-empty
 * slices; docs/floating-point.md "Chunked key sums"). a = W, b = r, c = dv, e = chunks, f = d,
 * g = item tiles, x = key scale.
 */
const CHUNK_SUMS_SLICED = (shape: Shape): string => {
  const { code, DV, R, term } = chunkSumsPrologue(shape);
  return (
    code +
    /* wgsl */ `var<workgroup> part: array<vec4<f32>, ${WG}>;
var<workgroup> ones: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = wg.x + wg.y * nw.x;
  if (t >= P.e * P.g) { return; }
  let ch = t / P.g;
  let item = (t - ch * P.g) * ${cellsOf(shape)}u + lid % ${cellsOf(shape)}u;
  let slice = lid / ${cellsOf(shape)}u;
  let w = ${DV} + 1u;
  let groups = (${DV} + 3u) / 4u;
  let m = item / groups;
  let c0 = 4u * (item - m * groups);
  let live = m < ${R};
  let span = chunks[ch];
  let len = (span.y - span.x + ${shape.slices - 1}u) / ${shape.slices}u;
  let j0 = min(span.y, span.x + slice * len);
  let j1 = min(span.y, j0 + len);
  var acc = vec4<f32>(0.0);
  var one: f32 = 0.0;
  if (live) {
    for (var j: u32 = j0; j < j1; j++) {
      let u = ${term};
      for (var t4: u32 = 0u; t4 < 4u; t4++) {
        let c = c0 + t4;
        if (c < ${DV}) { acc[t4] = acc[t4] + u * V[j * ${DV} + c]; }
      }
      if (c0 == 0u) { one = one + u; }
    }
  }
  part[lid] = acc;
  ones[lid] = one;${SLICE_TREE(shape, 'part', 'ones')}
  if (slice == 0u && live) {
    for (var t4: u32 = 0u; t4 < 4u; t4++) {
      if (c0 + t4 < ${DV}) { sums[ch * P.a + m * w + c0 + t4] = part[lid][t4]; }
    }
    if (c0 == 0u) { sums[ch * P.a + m * w + ${DV}] = ones[lid]; }
  }
}
`
  );
};

/**
 * The sequential variant of the chunk-sum pass: one invocation per (chunk, cell) sums its chunk's
 * keys in order (n_c − 1 additions per term). No workgroup barriers, so it is the faster one on a
 * software adapter; a GPU has too few such invocations to hide its memory latency. Same bindings
 * and parameters as {@link CHUNK_SUMS_SLICED}.
 */
const CHUNK_SUMS_SEQUENTIAL = (shape: Shape): string => {
  const { code, DV, term } = chunkSumsPrologue(shape);
  return (
    code +
    /* wgsl */ `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wg.x + wg.y * nw.x) * ${WG}u + lid;
  if (idx >= P.a * P.e) { return; }
  let ch = idx / P.a;
  let cell = idx - ch * P.a;
  let w = ${DV} + 1u;
  let m = cell / w;
  let c = cell - m * w;
  let span = chunks[ch];
  var acc: f32 = 0.0;
  for (var j: u32 = span.x; j < span.y; j++) {
    var vv: f32 = 1.0;
    if (c < ${DV}) { vv = V[j * ${DV} + c]; }
    acc = acc + ${term} * vv;
  }
  sums[idx] = acc;
}
`
  );
};

/**
 * How the chunk-sum pass adds a chunk's keys: `sliced` — 8 invocations per cell each
 * sum a slice of consecutive keys and a tree adds the slices (for hardware GPUs); `sequential` —
 * one invocation per cell sums the chunk in order (for software adapters). Both stay within the
 * same certificate (at most n_c − 1 additions per term).
 */
export type KeySums = 'sliced' | 'sequential';

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

/**
 * out[i·dv + c] = Σ_m φ_m(Q_i)·S[level_i, m, c] / Σ_m φ_m(Q_i)·S[level_i, m, dv]. One workgroup per
 * 256/s (row, group of four columns) items × s slices of ⌈r/s⌉ consecutive monomials (s as for the key sums):
 * each invocation sums its slice in order (φ_m(Q_i) once per m for the group's numerators and the
 * denominator), then the pairwise tree adds the slices — at most ⌈r/s⌉ − 1 + ⌈log₂ k⌉ ≤ r − 1
 * additions per term, as for the key sums. a = rows, b = r, c = dv, e = d, f = column groups,
 * x = query scale.
 */
const OUTPUT = (shape: Shape): string => {
  const { D, DV, R } = sizeExprs(shape, { d: 'P.e' });
  const f = featureSource(shape, 'U1', 'i', D, R);
  return (
    HEADER +
    f.bindings +
    /* wgsl */ `
@group(0) @binding(${f.next}) var<storage, read> S: array<f32>;
@group(0) @binding(${f.next + 1}) var<storage, read> level: array<u32>;
@group(0) @binding(${f.next + 2}) var<storage, read_write> O: array<f32>;
var<workgroup> nums: array<vec4<f32>, ${WG}>;
var<workgroup> dens: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wg.x + wg.y * nw.x) * ${cellsOf(shape)}u + lid % ${cellsOf(shape)}u;
  let slice = lid / ${cellsOf(shape)}u;
  let live = idx < P.a * P.f;
  let i = idx / P.f;
  let c0 = 4u * (idx - i * P.f);
  let w = ${DV} + 1u;
  let len = (${R} + ${shape.slices - 1}u) / ${shape.slices}u;
  let m0 = min(${R}, slice * len);
  let m1 = min(${R}, m0 + len);
  var num = vec4<f32>(0.0);
  var den: f32 = 0.0;
  if (live) {
    let nc = min(4u, ${DV} - c0);
    let base = level[i] * ${R} * w;
    for (var m: u32 = m0; m < m1; m++) {
      let u = ${f.term};
      let row = base + m * w;
      for (var t: u32 = 0u; t < 4u; t++) {
        if (t < nc) { num[t] = num[t] + u * S[row + c0 + t]; }
      }
      den = den + u * S[row + ${DV}];
    }
  }
  nums[lid] = num;
  dens[lid] = den;${SLICE_TREE(shape, 'nums', 'dens')}
  if (live && slice == 0u) {
    let nc = min(4u, ${DV} - c0);
    for (var t: u32 = 0u; t < nc; t++) { O[i * ${DV} + c0 + t] = nums[lid][t] / dens[lid]; }
  }
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
   * times both. Default: `fused` on a hardware adapter (faster on the H100: bench/results/h100.md),
   * `stored` on a fallback one (where the extra arithmetic costs 2–3×).
   */
  features?: FeatureMode;
  /** How chunks of keys are summed ({@link KeySums}). Default: `sequential` on a fallback (software) adapter, else `sliced`. */
  keySums?: KeySums;
  /**
   * Compile d, d_v, the rank and the degree as constants (one set of pipelines per (d, d_v, degree))
   * instead of reading them from uniforms: same operations in the same order, loops of constant
   * length. Default: on a hardware adapter, not on a fallback one (where each compile costs seconds).
   */
  specialize?: boolean;
  /**
   * Slices per item of the sliced passes — the key sums (`keySums: 'sliced'`) and the output — a
   * power of two from 2 to 64 (default 8): each invocation sums ⌈n/slices⌉ terms in
   * order and a tree adds the slices, so more slices mean shorter serial sums and more, smaller
   * workgroups' worth of items. Any slicing stays within the certificate (at most n − 1 additions
   * per term); `bench/gpu.ts --sweep` times 16 and 32.
   */
  slices?: number;
}

/** `wgsl/low-rank` on a WebGPU device; `dispose()` destroys the device. */
export function wgslLowRank(dev: WgslDevice, options: WgslLowRankOptions): WgslAttentionKernel {
  const delta = requireDelta(options.delta ?? 1e-3);
  const mode = options.features ?? (dev.fallback ? 'stored' : 'fused');
  const keySums: KeySums = options.keySums ?? (dev.fallback ? 'sequential' : 'sliced');
  if (keySums !== 'sliced' && keySums !== 'sequential') throw new RangeArgumentError('options.keySums', `expected 'sliced' or 'sequential', got ${String(keySums)}`);
  if (mode !== 'stored' && mode !== 'fused') throw new RangeArgumentError('options.features', `expected 'stored' or 'fused', got ${String(mode)}`);
  const specialize = options.specialize ?? !dev.fallback;
  const slices = options.slices ?? SLICES;
  if (![2, 4, 8, 16, 32, 64].includes(slices)) throw new RangeArgumentError('options.slices', `expected a power of two from 2 to 64, got ${String(slices)}`);
  const { device } = dev;
  type Pipeline = { getBindGroupLayout(i: number): unknown };
  const pipes = new Map<string, Promise<Pipeline[]>>();
  const scans = new Map<number, Promise<Pipeline>>();
  let lastTiming: KernelTiming | undefined;
  return {
    name: options.name,
    op: 'attention',
    exact: false,
    masks: ['none', 'block-causal'],
    precision: 'float32',
    adapter: dev.adapter,
    errorBound: wgslLowRankBound(delta),
    cost: lowRankCost(delta, wgslLowRankProfile),
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
      const cellTiles = Math.ceil((r * Math.ceil(dv / 4)) / (WG / slices));
      const groups = Math.ceil(dv / 4);
      requireStorageBytes(options.name, device, [
        ['Q', 4 * q.rows * d],
        ['K', 4 * k.rows * d],
        ['V', 4 * k.rows * dv],
        [`the key sums (rank ${r})`, 4 * nChunks * W],
        ['the output', 4 * q.rows * dv],
        ...(mode === 'stored' ? ([[`the features (rank ${r})`, 4 * Math.max(k.rows, q.rows) * r]] as const) : []),
      ]);
      const shape: Shape = { mode, slices, sizes: specialize ? { d, dv, r, g: poly.degree } : undefined };
      const key = shape.sizes ? `${d}:${dv}:${poly.degree}` : '';
      let pp = pipes.get(key);
      if (!pp) {
        pp = Promise.all(
          [(keySums === 'sliced' ? CHUNK_SUMS_SLICED : CHUNK_SUMS_SEQUENTIAL)(shape), OUTPUT(shape), ...(mode === 'stored' ? [FEATURES(shape)] : [])].map((code) => computePipeline(device, code)),
        );
        pipes.set(key, pp);
      }
      const [pc, po, pf] = await pp;
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
        const { data, kernelMs, passMs } = await withErrorScopes(device, options.name, () => {
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
                uniform([W, r, dv, nChunks, d, keySums === 'sliced' ? cellTiles : 0], Math.fround(wk.xs)),
                ...keyFeatures,
                keep(storageBuffer(device, Float32Array.from(v.data))),
                keep(storageBuffer(device, cut.chunks)),
                sums,
              ]),
              workgroups: keySums === 'sliced' ? nChunks * cellTiles : Math.ceil((nChunks * W) / WG),
            },
            { pipeline: ps, group: group(ps, [uniform([W, 0, 0, nChunks, blocks.length], 0), sums, keep(storageBuffer(device, cut.lastChunk)), S]), workgroups: W },
            {
              pipeline: po,
              group: group(po, [uniform([q.rows, r, dv, d, groups], Math.fround(wq.xs)), ...queryFeatures, S, keep(storageBuffer(device, level)), out]),
              workgroups: Math.ceil((q.rows * groups) / (WG / slices)),
            },
          ];
          return dispatchAndRead(dev, passes, out, q.rows * dv * 4);
        });
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
