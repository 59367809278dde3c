/**
 * `gpujs/low-rank`: the polynomial method (docs/math.md §5) as gpu.js kernels, float32:
 * features U = weight·(xs·x)^α per (row, monomial) cell; sums of U2ᵀ[V | 1] over chunks of at
 * most {@link GPUJS_KEY_CHUNK} keys that never straddle a scale block; their prefix sums over the
 * chunks; then each output row U1·S (S at its block's last chunk) divided by the last column,
 * clamped on the host to [min V, max V]. O(L·r·d_v) work. The polynomial and the declared bound
 * come from `certifyLowRank` with {@link GPUJS_LOW_RANK_PROFILE} (what this kernel's arithmetic
 * does: docs/floating-point.md §2); inputs whose certified total exceeds δ are declined.
 * On device backends the passes are pipeline kernels: intermediate results stay on the device
 * and only the output is read back.
 * @module
 */
import { checkAttentionInput, type AttentionInput } from '../../../spec/attention.js';
import { DeclinedInputError } from '../../../spec/errors.js';
import { defaultForm, featureWeights, lowRankAttention, multiIndices, type MultiIndexSet } from '../../../spec/low-rank.js';
import { matrix, type Matrix } from '../../../spec/matrix.js';
import type { ExpPolynomial } from '../../../spec/polynomial.js';
import type { AttentionKernel, FormulaReference } from '../../../spec/contract.js';
import { chunkedFloat32Profile, clampToValueRange, declaredLowRankBound, lowRankCost, lowRankPolynomial, requireDelta, type RoundingProfile } from '../../../spec/certificate.js';
import { blockChunks } from '../chunks.js';
import { createGpu, loopLimit, maxTextureSide, MAX_INDEXED_CELLS, padded, requireIndexedCells, sizeBucket, type GpuBackend } from './backend.js';
import { chain, readResult } from './exact.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- gpu.js kernel bodies are untyped */
type K = ((...args: any[]) => any) & { setOutput(o: number[]): void };

const f = Math.fround;

/** Exponent table α (r×d, row-major) of a multi-index set. */
export function exponentTable(set: MultiIndexSet): Float32Array {
  const alpha = new Float32Array(set.size * set.d);
  for (let m = 1; m < set.size; m++) {
    alpha.set(alpha.subarray(set.parent[m] * set.d, (set.parent[m] + 1) * set.d), m * set.d);
    alpha[m * set.d + set.coord[m]] += 1;
  }
  return alpha;
}

/**
 * The naive float32 evaluation of the low-rank formula (every operation rounded with
 * Math.fround): the float32 reference of the FlashAttention tolerance rule for this kernel.
 */
export function naiveFloat32LowRank(input: AttentionInput, poly: ExpPolynomial): Matrix {
  const { q, k, v, scale, mask } = input;
  const set = multiIndices(q.cols, poly.degree);
  const form = defaultForm(poly);
  const alpha = exponentTable(set);
  const feat = (x: Matrix, side: 'query' | 'key'): Float32Array => {
    const { weight, xs } = featureWeights(set, poly.coefficients, scale, side, form);
    const U = new Float32Array(x.rows * set.size);
    for (let i = 0; i < x.rows; i++) for (let m = 0; m < set.size; m++) {
      let p = f(weight[m]);
      for (let t = 0; t < set.d; t++) for (let e = 0; e < alpha[m * set.d + t]; e++) p = f(p * f(f(xs) * f(x.data[i * set.d + t])));
      U[i * set.size + m] = p;
    }
    return U;
  };
  const u1 = feat(q, 'query');
  const u2 = feat(k, 'key');
  const r = set.size;
  const dv = v.cols;
  const w = dv + 1;
  const blocks = mask.kind === 'block-causal' ? mask.blocks : [k.rows];
  const S = new Float32Array(r * w);
  const out = matrix(q.rows, dv);
  let j = 0;
  let i = 0;
  for (const b of blocks) {
    for (const end = j + b; j < end; j++) for (let m = 0; m < r; m++) {
      for (let c = 0; c < dv; c++) S[m * w + c] = f(S[m * w + c] + f(u2[j * r + m] * f(v.data[j * dv + c])));
      S[m * w + dv] = f(S[m * w + dv] + u2[j * r + m]);
    }
    const qEnd = mask.kind === 'block-causal' ? i + b : q.rows;
    for (; i < qEnd; i++) {
      let den = 0;
      for (let m = 0; m < r; m++) den = f(den + f(u1[i * r + m] * S[m * w + dv]));
      for (let c = 0; c < dv; c++) {
        let num = 0;
        for (let m = 0; m < r; m++) num = f(num + f(u1[i * r + m] * S[m * w + c]));
        out.data[i * dv + c] = f(num / den);
      }
    }
  }
  return out;
}

function kernels(gpu: any, loopMax: number, pipeline: boolean) {
  const common = { loopMaxIterations: loopMax, precision: 'single', tactic: 'precision', dynamicArguments: true, dynamicOutput: true, pipeline };
  const featureSource =
    function (this: any, x: number[], alpha: number[], weight: number[], xs: number, d: number, r: number, rows: number) {
      const m = this.thread.x;
      const i = this.thread.y;
      if (i >= rows) return 0;
      let p = weight[m];
      for (let t = 0; t < d; t++) {
        const e = alpha[m * d + t];
        for (let n = 0; n < this.constants.gMax; n++) {
          if (n >= e) break;
          p = p * (xs * x[i * d + t]);
        }
      }
      return p;
    } as any;
  // Two instances: a pipeline kernel's next call reuses its output buffer, and U1 must outlive U2's pass.
  const featuresQ = gpu.createKernel(featureSource, { ...common, output: [1, 1], constants: { gMax: 64 } }) as K;
  const featuresK = gpu.createKernel(featureSource, { ...common, output: [1, 1], constants: { gMax: 64 } }) as K;
  // Sum of U2ᵀ[V | 1] over one chunk of keys: cell (m·w + c, chunk b).
  const blockSums = gpu.createKernel(
    function (this: any, u2: number[], v: number[], starts: number[], ends: number[], r: number, dv: number, maxBlock: number) {
      const w = dv + 1;
      // ⌊x/w⌋ from a float32 quotient, corrected with exact integer products (GPU division is not
      // correctly rounded; the 0.5 keeps the quotient away from integers, the correction makes it exact).
      let m = Math.floor((this.thread.x + 0.5) / w);
      if (m * w > this.thread.x) m = m - 1;
      if ((m + 1) * w <= this.thread.x) m = m + 1;
      const c = this.thread.x - m * w;
      const b = this.thread.y;
      let acc = 0;
      for (let n = 0; n < maxBlock; n++) {
        const j = starts[b] + n;
        if (j >= ends[b]) break;
        let vv = 1;
        if (c < dv) vv = v[j * dv + c];
        acc += u2[j * r + m] * vv;
      }
      return acc;
    } as any,
    { ...common, output: [1, 1] },
  ) as K;
  const prefix = gpu.createKernel(
    function (this: any, sums: number[], width: number) {
      let acc = 0;
      for (let b = 0; b < this.thread.y + 1; b++) acc += sums[b * width + this.thread.x];
      return acc;
    } as any,
    { ...common, output: [1, 1] },
  ) as K;
  const out = gpu.createKernel(
    function (this: any, u1: number[], S: number[], level: number[], r: number, dv: number) {
      const i = this.thread.y;
      const c = this.thread.x;
      const w = dv + 1;
      const base = level[i] * r * w;
      let num = 0;
      let den = 0;
      for (let m = 0; m < r; m++) {
        num += u1[i * r + m] * S[base + m * w + c];
        den += u1[i * r + m] * S[base + m * w + dv];
      }
      return num / den;
    } as any,
    { ...common, output: [1, 1] },
  ) as K;
  return { featuresQ, featuresK, blockSums, prefix, out };
}

/** Options of {@link gpujsLowRank}. */
export interface GpujsLowRankOptions {
  /** The gpu.js backend. */
  backend: GpuBackend;
  /** Target additive error δ. @defaultValue 1e-3 */
  delta?: number;
  /** Override the name (default `gpujs/low-rank@<backend>`). */
  name?: string;
}

/**
 * The `formulaReference` of a float32 low-rank kernel for target δ: naive float32 and float64
 * evaluations of the low-rank formula with the polynomial the kernel chooses for the input
 * (certified for the kernel's arithmetic `profile`, e.g. {@link GPUJS_LOW_RANK_PROFILE}).
 */
export function lowRankFormulaReference(delta: number, profile: (input: AttentionInput) => RoundingProfile): (input: AttentionInput) => FormulaReference {
  return (input) => {
    const poly = lowRankPolynomial(input, delta, profile(input));
    return { float32: naiveFloat32LowRank(input, poly), float64: lowRankAttention(input, poly) };
  };
}

/** The largest polynomial degree the gpu.js low-rank shaders are compiled for; above it the kernel declines. */
export const GPUJS_MAX_DEGREE = 64;

/** Most keys in one chunk of `gpujs/low-rank`'s key sums (then a sequential prefix over the chunks). */
export const GPUJS_KEY_CHUNK = 128;

/** The arithmetic `gpujs/low-rank` certifies: float32, key sums in chunks of {@link GPUJS_KEY_CHUNK} and a sequential prefix over them. */
export const GPUJS_LOW_RANK_PROFILE: RoundingProfile = chunkedFloat32Profile(GPUJS_KEY_CHUNK);

/**
 * The buffers of one `gpujs/low-rank` call on `input` with rank r: the padded inputs and the
 * exponent table (cells), and the 2-D outputs (width × height) — features U1 (r × rows) and U2,
 * key sums and their prefix sums (r·(d_v + 1) × chunks), and the output.
 */
function callBuffers(input: AttentionInput, r: number): { inputs: [string, number][]; outputs: [string, number, number][] } {
  const { q, k, v, mask } = input;
  const chunks = blockChunks(mask.kind === 'block-causal' ? [...mask.blocks] : [k.rows], GPUJS_KEY_CHUNK).chunks.length / 2;
  return {
    inputs: [
      ['Q', sizeBucket(q.rows * q.cols)],
      ['K', sizeBucket(k.rows * k.cols)],
      ['V', sizeBucket(k.rows * v.cols)],
      ['exponent table', r * q.cols],
    ],
    outputs: [
      ['query features', r, sizeBucket(q.rows)],
      ['key features', r, sizeBucket(k.rows)],
      ['key sums', r * (v.cols + 1), chunks],
      ['output', v.cols, sizeBucket(q.rows)],
    ],
  };
}

/**
 * What `gpujs/low-rank` for target δ declares, and where it declines: above {@link GPUJS_MAX_DEGREE},
 * where an output texture would be wider than `maxSide` (the backend's {@link maxTextureSide};
 * e.g. d = 17 certifies degree 5, rank C(22, 5) = 26,334 > 16,384 on llvmpipe), and where a buffer
 * would have more cells than gpu.js indexes exactly ({@link MAX_INDEXED_CELLS}).
 */
export function gpujsLowRankBound(delta: number, maxSide = Infinity): (input: AttentionInput) => number {
  const declared = declaredLowRankBound(delta, GPUJS_LOW_RANK_PROFILE);
  return (input) => {
    const bound = declared(input);
    const { degree } = lowRankPolynomial(input, delta, GPUJS_LOW_RANK_PROFILE);
    if (degree > GPUJS_MAX_DEGREE) throw new DeclinedInputError('input', `gpujs/low-rank declines: certified degree ${degree} > ${GPUJS_MAX_DEGREE}, the largest its shaders are compiled for`);
    requireSizes(input, multiIndices(input.q.cols, degree).size, maxSide);
    return bound;
  };
}

/** Decline (typed) where an output texture of rank `r` on `input` would exceed `maxSide`, or a buffer {@link MAX_INDEXED_CELLS}. */
function requireSizes(input: AttentionInput, r: number, maxSide: number): void {
  const { inputs, outputs } = callBuffers(input, r);
  // On a GL backend each 2-D output is a texture of that size.
  const side = Math.max(...outputs.flatMap(([, w, h]) => [w, h]));
  if (side > maxSide)
    throw new DeclinedInputError('input', `gpujs/low-rank declines: an output texture side of ${side} (rank ${r}, ${input.q.rows} × ${input.k.rows} tokens) exceeds this backend's ${maxSide}`);
  requireIndexedCells('gpujs/low-rank', [...inputs, ...outputs.map(([name, w, h]) => [name, w * h] as const)], true);
}

/** A `gpujs/low-rank` kernel, with the texture limit its declines use. */
export interface GpujsLowRankKernel extends AttentionKernel {
  /** The backend's largest texture side ({@link maxTextureSide}; +∞ on webasm and cpu). */
  readonly maxTextureSide: number;
}

/** A `gpujs/low-rank` kernel on one backend. */
export async function gpujsLowRank(options: GpujsLowRankOptions): Promise<GpujsLowRankKernel> {
  const delta = requireDelta(options.delta ?? 1e-3);
  const gpu = await createGpu(options.backend);
  const maxSide = maxTextureSide(gpu);
  const cache = new Map<number, ReturnType<typeof kernels>>();
  return {
    name: options.name ?? `gpujs/low-rank@${options.backend}`,
    op: 'attention',
    exact: false,
    masks: ['none', 'block-causal'],
    precision: 'float32',
    ...(Number.isFinite(maxSide) ? { maxTokens: maxSide } : {}),
    maxTextureSide: maxSide,
    errorBound: gpujsLowRankBound(delta, maxSide),
    cost: lowRankCost(delta, GPUJS_LOW_RANK_PROFILE),
    formulaReference: lowRankFormulaReference(delta, () => GPUJS_LOW_RANK_PROFILE),
    async run(input: AttentionInput): Promise<Matrix> {
      const { q, k, v, scale, mask } = checkAttentionInput(input);
      const poly = lowRankPolynomial(input, delta, GPUJS_LOW_RANK_PROFILE);
      if (poly.degree > GPUJS_MAX_DEGREE) throw new DeclinedInputError('input', `degree ${poly.degree} > ${GPUJS_MAX_DEGREE} is not compiled for the GPU`);
      const set = multiIndices(q.cols, poly.degree);
      const form = defaultForm(poly);
      const r = set.size;
      requireSizes(input, r, maxSide);
      const dv = v.cols;
      const w = dv + 1;
      const alpha = exponentTable(set);
      const wq = featureWeights(set, poly.coefficients, scale, 'query', form);
      const wk = featureWeights(set, poly.coefficients, scale, 'key', form);
      const blocks = mask.kind === 'block-causal' ? [...mask.blocks] : [k.rows];
      const { chunks, lastChunk } = blockChunks(blocks, GPUJS_KEY_CHUNK);
      const nChunks = chunks.length / 2;
      const starts = new Float32Array(nChunks);
      const ends = new Float32Array(nChunks);
      for (let b = 0; b < nChunks; b++) [starts[b], ends[b]] = [chunks[2 * b], chunks[2 * b + 1]];
      const maxChunk = Math.min(GPUJS_KEY_CHUNK, Math.max(...blocks));
      // Row i reads S at the last chunk of its scale block (every chunk unmasked).
      const level = new Float32Array(q.rows);
      if (mask.kind === 'block-causal') {
        let i = 0;
        mask.blocks.forEach((b, n) => level.fill(lastChunk[n], i, (i += b)));
      } else level.fill(nChunks - 1);
      const loopMax = loopLimit(Math.max(maxChunk, r, nChunks));
      let ks = cache.get(loopMax);
      if (!ks) {
        ks = kernels(gpu, loopMax, options.backend !== 'cpu');
        cache.set(loopMax, ks);
      }
      // Pipeline passes: each result stays on the device (a texture / storage buffer) and feeds the next; only the output is read back.
      // Rows and inputs sized by sizeBucket (few distinct sizes, so few per-size builds; padded rows are dropped).
      ks.featuresQ.setOutput([r, sizeBucket(q.rows)]);
      const u1 = await chain(ks.featuresQ(padded(q.data), alpha, Float32Array.from(wq.weight), f(wq.xs), q.cols, r, q.rows));
      ks.featuresK.setOutput([r, sizeBucket(k.rows)]);
      const u2 = await chain(ks.featuresK(padded(k.data), alpha, Float32Array.from(wk.weight), f(wk.xs), k.cols, r, k.rows));
      ks.blockSums.setOutput([r * w, nChunks]);
      const sums = await chain(ks.blockSums(u2, padded(v.data), starts, ends, r, dv, maxChunk));
      ks.prefix.setOutput([r * w, nChunks]);
      const S = await chain(ks.prefix(sums, r * w));
      ks.out.setOutput([dv, sizeBucket(q.rows)]);
      const o = await readResult(ks.out(u1, S, padded(level), r, dv));
      return clampToValueRange(matrix(q.rows, dv, o.subarray(0, q.rows * dv)), v);
    },
    dispose: () => gpu.destroy(),
  };
}
