/**
 * The stylised VAR pipeline of docs/math.md §7 with small deterministic random weights:
 * a block-causal transformer, the K-step next-scale recursion (with a KV cache, or
 * recomputing every step), Phase 2 feature-map reconstruction and a Phase 3 decoder-lite.
 *
 * Every attention goes through an {@link AttentionFn}, so the same pipeline runs with the
 * exact spec {@link attention} or with any approximation plugged in.
 * @module
 */
import { attention, attentionInput, type AttentionInput } from './attention.js';
import { RangeArgumentError, requireInteger, ShapeError } from './errors.js';
import { NO_MASK, type Mask } from './mask.js';
import { checkFeatureMap, checkMatrix, featureMap, matmul, matrix, sliceRows, tokens, unflatten, vstack, type FeatureMap, type Matrix } from './matrix.js';
import { areaDownsample, nearestUpsample, upInterpolate } from './interpolation.js';
import { conv3x3, phiResidual, type Conv3x3 } from './conv.js';
import { blockCausalMask } from './mask.js';
import { scalePyramid, type ScalePyramid } from './pyramid.js';
import { mulberry32, uniformMatrix } from './random.js';

/** Any implementation of Att(Q, K, V) on an {@link AttentionInput} (spec, kernel, approximation). */
export type AttentionFn = (input: AttentionInput) => Matrix;

/** Weights of one transformer layer (single head, model width D, MLP width H). */
export interface TransformerLayer {
  /** D×D query, key, value and output projections. */
  wq: Matrix;
  /** Key projection. */
  wk: Matrix;
  /** Value projection. */
  wv: Matrix;
  /** Output projection. */
  wo: Matrix;
  /** D×H first MLP matrix. */
  w1: Matrix;
  /** H×D second MLP matrix. */
  w2: Matrix;
  /** LayerNorm ε (stylised default 1, which keeps LN's ∞-Lipschitz constant ≤ 2 + √D). */
  lnEps: number;
}

/** Row-wise LayerNorm without affine parameters: (x − μ)/√(σ² + ε). */
export function layerNorm(x: Matrix, eps: number): Matrix {
  checkMatrix('x', x);
  if (!(eps > 0) || !Number.isFinite(eps)) throw new RangeArgumentError('eps', `expected a finite ε > 0, got ${eps}`);
  const out = matrix(x.rows, x.cols);
  const D = x.cols;
  for (let i = 0; i < x.rows; i++) {
    let mu = 0;
    for (let j = 0; j < D; j++) mu += x.data[i * D + j];
    mu /= D;
    let v = 0;
    for (let j = 0; j < D; j++) v += (x.data[i * D + j] - mu) ** 2;
    const s = Math.sqrt(v / D + eps);
    for (let j = 0; j < D; j++) out.data[i * D + j] = (x.data[i * D + j] - mu) / s;
  }
  return out;
}

/** Row-wise part g of a layer: Y ↦ LN(Y) + tanh(LN(Y)·W1)·W2 (MLP with residual). */
export function rowwiseBlock(h: Matrix, layer: TransformerLayer): Matrix {
  const y = layerNorm(h, layer.lnEps);
  const a = matmul(y, layer.w1);
  for (let k = 0; k < a.data.length; k++) a.data[k] = Math.tanh(a.data[k]);
  const m = matmul(a, layer.w2);
  for (let k = 0; k < m.data.length; k++) m.data[k] += y.data[k];
  return m;
}

/**
 * One layer: H = X + Att(XW_Q, XW_K, XW_V; mask)·W_O, then the row-wise block g(H)
 * (docs/math.md §7, "Transformer layer"). Scale 1/D (docs/math.md §3).
 */
export function transformerLayer(x: Matrix, layer: TransformerLayer, mask: Mask, attend: AttentionFn = attention): Matrix {
  const att = attend(attentionInput(matmul(x, layer.wq), matmul(x, layer.wk), matmul(x, layer.wv), { mask }));
  const h = matmul(att, layer.wo);
  for (let k = 0; k < h.data.length; k++) h.data[k] += x.data[k];
  return rowwiseBlock(h, layer);
}

/** TF = g_m ∘ Attn_m ∘ … ∘ g_1 ∘ Attn_1 with one mask for every layer (docs/math.md §7). */
export function transformer(x: Matrix, layers: readonly TransformerLayer[], mask: Mask, attend: AttentionFn = attention): Matrix {
  if (layers.length === 0) throw new RangeArgumentError('layers', 'expected at least one layer');
  checkMatrix('x', x, { cols: layers[0].wq.rows });
  return layers.reduce((h, layer) => transformerLayer(h, layer, mask, attend), x);
}

/**
 * KV-cached block-causal inference: feed the tokens of one scale at a time; each layer
 * caches its keys and values, and the new queries attend to every cached token (all of
 * scales ≤ the current one). By docs/math.md §7 "Consistency", the rows returned for scale k
 * equal rows L_{k−1}..L_k−1 of one block-causal pass over all scales so far.
 */
export class KvCache {
  private readonly keys: Matrix[][];
  private readonly values: Matrix[][];
  /** Tokens seen so far. */
  length = 0;
  /** The layers whose keys and values are cached. */
  readonly layers: readonly TransformerLayer[];
  /** The attention used for each new scale's queries. */
  readonly attend: AttentionFn;
  constructor(layers: readonly TransformerLayer[], attend: AttentionFn = attention) {
    this.layers = layers;
    this.attend = attend;
    this.keys = layers.map(() => []);
    this.values = layers.map(() => []);
  }
  /** Append one scale's input tokens (b×D) and return its output rows (b×D). */
  step(xBlock: Matrix): Matrix {
    checkMatrix('xBlock', xBlock, { cols: this.layers[0].wq.rows });
    let h = xBlock;
    this.layers.forEach((layer, l) => {
      this.keys[l].push(matmul(h, layer.wk));
      this.values[l].push(matmul(h, layer.wv));
      const att = this.attend(attentionInput(matmul(h, layer.wq), vstack(this.keys[l]), vstack(this.values[l]), { mask: NO_MASK }));
      const r = matmul(att, layer.wo);
      for (let k = 0; k < r.data.length; k++) r.data[k] += h.data[k];
      h = rowwiseBlock(r, layer);
    });
    this.length += xBlock.rows;
    return h;
  }
}

/** A stylised VAR generator: transformer, heads and the φ residual, all seeded. */
export interface VarModel {
  /** The scale pyramid it generates. */
  pyramid: ScalePyramid;
  /** Model width D. */
  D: number;
  /** Channels c of the token maps z_k and of f̂. */
  c: number;
  /** Transformer layers. */
  layers: TransformerLayer[];
  /** The start token (1×D), the class embedding s of VAR. */
  start: Matrix;
  /** D×c head: token rows → token-map channels (stands in for the VQ lookup). */
  head: Matrix;
  /** c×D embedding of the next scale's input tokens. */
  embed: Matrix;
  /** The φ residual conv (c → c). */
  phi: Conv3x3;
}

/** Options of {@link varModel}. */
export interface VarModelOptions {
  /** Model width D. @defaultValue 8 */
  D?: number;
  /** MLP width H. @defaultValue 2·D */
  H?: number;
  /** Token-map channels c. @defaultValue 3 */
  c?: number;
  /** Number of transformer layers m. @defaultValue 2 */
  layers?: number;
  /** LayerNorm ε. @defaultValue 1 */
  lnEps?: number;
  /** PRNG seed of every weight. @defaultValue 1 */
  seed?: number;
  /**
   * Gain on W_Q and W_K (applied after drawing, so the other weights do not change): logits
   * scale by qkGain², which is how the laws drive β = s·d·‖Q‖∞‖K‖∞ into [1, 4]. @defaultValue 1
   */
  qkGain?: number;
}

/** A {@link VarModel} with weights uniform on ±1/√fan-in from a seed. */
export function varModel(pyramid: ScalePyramid, options: VarModelOptions = {}): VarModel {
  const D = options.D ?? 8;
  const H = options.H ?? 2 * D;
  const c = options.c ?? 3;
  const m = options.layers ?? 1 * 2;
  requireInteger('options.D', D, 1);
  requireInteger('options.H', H, 1);
  requireInteger('options.c', c, 1);
  requireInteger('options.layers', m, 1);
  const gain = options.qkGain ?? 1;
  if (!(gain > 0) || !Number.isFinite(gain)) throw new RangeArgumentError('options.qkGain', `expected a finite gain > 0, got ${gain}`);
  const rand = mulberry32(options.seed ?? 1);
  const u = (r: number, k: number): Matrix => uniformMatrix(rand, r, k, 1 / Math.sqrt(r));
  const layers = Array.from({ length: m }, () => ({
    wq: scaled(u(D, D), gain),
    wk: scaled(u(D, D), gain),
    wv: u(D, D),
    wo: u(D, D),
    w1: u(D, H),
    w2: u(H, D),
    lnEps: options.lnEps ?? 1,
  }));
  const phiW = uniformMatrix(rand, 1, c * c * 9, 1 / (3 * Math.sqrt(c)));
  return {
    pyramid,
    D,
    c,
    layers,
    start: uniformMatrix(rand, 1, D, 1),
    head: u(D, c),
    embed: u(c, D),
    phi: { cIn: c, cOut: c, weight: phiW.data as Float64Array },
  };
}

/** What one generation produced. */
export interface VarRun {
  /** Token maps z_1..z_K (h_k × w_k × c). */
  tokenMaps: FeatureMap[];
  /** Every transformer input row, scales concatenated (L × D). */
  inputs: Matrix;
  /** Every transformer output row (L × D). */
  outputs: Matrix;
  /** The accumulated n×n×c feature map f̂. */
  fhat: FeatureMap;
}

/**
 * The K-step next-scale recursion of docs/math.md §7: at step k run the transformer on scale k's
 * tokens, z_k = rows·head, f̂ ← f̂ + φ(bicubic(z_k → n×n)), and the next input is
 * area(f̂ → h_{k+1}×w_{k+1})·embed. `mode: 'kv-cache'` feeds one scale at a time through a
 * {@link KvCache} (Σ h_k w_k L_k pairs); `'recompute'` reruns one block-causal pass over all
 * tokens so far at every step (Σ L_k² pairs). Both compute the same function.
 */
export function varGenerate(model: VarModel, options: { mode?: 'kv-cache' | 'recompute'; attend?: AttentionFn } = {}): VarRun {
  const { pyramid: p, c } = model;
  const attend = options.attend ?? attention;
  const cache = new KvCache(model.layers, attend);
  const inputs: Matrix[] = [];
  const outputs: Matrix[] = [];
  const tokenMaps: FeatureMap[] = [];
  let fhat = featureMap(p.n, p.n, c);
  let x = model.start;
  for (let k = 0; k < p.blocks.length; k++) {
    inputs.push(x);
    let out: Matrix;
    if ((options.mode ?? 'kv-cache') === 'kv-cache') {
      out = cache.step(x);
    } else {
      const all = vstack(inputs);
      const mask = blockCausalMask(scalePyramid({ heights: p.heights.slice(0, k + 1), widths: p.widths.slice(0, k + 1) }));
      const y = transformer(all, model.layers, mask, attend);
      out = sliceRows(y, all.rows - x.rows, all.rows);
    }
    outputs.push(out);
    const z = unflatten(matmul(out, model.head), p.heights[k], p.widths[k]);
    tokenMaps.push(z);
    const up = phiResidual(upInterpolate(z, p.n, p.n), model.phi);
    fhat = { ...fhat, data: fhat.data.map((v, i) => v + up.data[i]) };
    if (k + 1 < p.blocks.length) {
      x = matmul(tokens(areaDownsample(fhat, p.heights[k + 1], p.widths[k + 1])), model.embed);
    }
  }
  return { tokenMaps, inputs: vstack(inputs), outputs: vstack(outputs), fhat };
}

/**
 * Phase 2, feature-map reconstruction (docs/math.md §7): f̂ = Σ_k φ(up(z_k → n×n)). No attention.
 */
export function reconstruct(tokenMaps: readonly FeatureMap[], n: number, phi: Conv3x3): FeatureMap {
  requireInteger('n', n, 1);
  if (tokenMaps.length === 0) throw new ShapeError('tokenMaps', 'expected at least one token map');
  tokenMaps.forEach((z, k) => checkFeatureMap(`tokenMaps[${k}]`, z, { c: tokenMaps[0].c }));
  const f = featureMap(n, n, tokenMaps[0].c);
  for (const z of tokenMaps) {
    const u = phiResidual(upInterpolate(z, n, n), phi);
    for (let k = 0; k < f.data.length; k++) f.data[k] += u.data[k];
  }
  return f;
}

/** Weights of the Phase 3 decoder-lite. */
export interface DecoderLite {
  /** c → C input conv. */
  convIn: Conv3x3;
  /** C×C query, key, value, output projections of the single-head attention block. */
  wq: Matrix;
  /** Key projection. */
  wk: Matrix;
  /** Value projection. */
  wv: Matrix;
  /** Output projection. */
  wo: Matrix;
  /** C → 3 output conv (after nearest ×2). */
  convOut: Conv3x3;
}

/** Multiply every entry by `gain` (in place) and return the matrix. */
function scaled(m: Matrix, gain: number): Matrix {
  if (gain !== 1) for (let k = 0; k < m.data.length; k++) m.data[k] *= gain;
  return m;
}

/**
 * A seeded {@link DecoderLite} for c input channels and width C; `qkGain` multiplies W_Q and
 * W_K after drawing (logits scale by qkGain²).
 */
export function decoderLite(c: number, C = 8, seed = 2, qkGain = 1): DecoderLite {
  requireInteger('c', c, 1);
  requireInteger('C', C, 1);
  if (!(qkGain > 0) || !Number.isFinite(qkGain)) throw new RangeArgumentError('qkGain', `expected a finite gain > 0, got ${qkGain}`);
  const rand = mulberry32(seed);
  const u = (r: number, k: number): Matrix => uniformMatrix(rand, r, k, 1 / Math.sqrt(r));
  const conv = (cIn: number, cOut: number): Conv3x3 => ({ cIn, cOut, weight: uniformMatrix(rand, 1, cOut * cIn * 9, 1 / (3 * Math.sqrt(cIn))).data as Float64Array });
  return { convIn: conv(c, C), wq: scaled(u(C, C), qkGain), wk: scaled(u(C, C), qkGain), wv: u(C, C), wo: u(C, C), convOut: conv(C, 3) };
}

/**
 * Phase 3, a VQ-VAE decoder-lite (docs/math.md §7): conv3×3 (c→C), one single-head self-attention
 * block with residual over all n² tokens (no mask — Θ(n⁴) exactly), nearest ×2, conv3×3 (C→3).
 */
export function decode(fhat: FeatureMap, dec: DecoderLite, attend: AttentionFn = attention): FeatureMap {
  const h = conv3x3(fhat, dec.convIn);
  const x = tokens(h);
  checkMatrix('decoder tokens', x);
  const att = attend(attentionInput(matmul(x, dec.wq), matmul(x, dec.wk), matmul(x, dec.wv)));
  const r = matmul(att, dec.wo);
  for (let k = 0; k < r.data.length; k++) r.data[k] += x.data[k];
  return conv3x3(nearestUpsample(unflatten(r, h.h, h.w), 2), dec.convOut);
}
