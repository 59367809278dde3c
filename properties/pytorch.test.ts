/**
 * The spec judged by live PyTorch (float64): fast-check draws inputs from the spec's own
 * arbitraries (properties/arbitraries.ts) and from VAR-shaped pyramids, the oracle
 * (properties/oracle/pytorch.ts → tools/oracle/torch_oracle.py) computes PyTorch's answer, and
 * each law requires ‖spec − torch‖∞ ≤ the op's float64 tolerance below, derived by counting the
 * roundings of both implementations (docs/guide-spec.md, "Judged by live PyTorch"; docs/math.md §8).
 *
 * Without Python or torch every law is skipped with the reason printed (inconclusive, never a
 * silent pass) — unless REQUIRE_PYTORCH_ORACLE=1 (CI), which makes that a failure. A failure
 * prints the first and the shrunk input and a Python snippet that recomputes PyTorch's side.
 * `ORACLE_RUNS` overrides the cases per op (default 1000).
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, it, type TestContext } from 'vitest';
import fc from 'fast-check';
import {
  areaDownsample,
  attentionInput,
  attentionRows,
  conv3x3,
  featureMap,
  layerNorm,
  matrix,
  maxAbs,
  maxAbsDiff,
  mulberry32,
  nearestUpsample,
  NO_MASK,
  phiResidual,
  PRESET_SIDES,
  reconstruct,
  scalePyramid,
  transformerLayer,
  upInterpolate,
  varModel,
  type TransformerLayer,
  type Mask,
  type Matrix,
} from '../spec/index.js';
import { entries, pyramidArb, rectPyramidArb } from './arbitraries.js';
import { OracleError, startOracle, type OracleReply, type PyTorchOracle } from './oracle/pytorch.js';

// ───────────────────────────── tolerances (docs/guide-spec.md) ─────────────────────────────
// u = 2⁻⁵³ is the unit roundoff: every float64 +, −, ×, ÷, √ errs by ≤ u relative, exp by
// ≤ 1 ulp ≤ 2u (V8's fdlibm port and torch's SLEEF u10 are both ≤ 1 ulp). Each bound is the
// first-order worst case of ONE implementation, doubled because spec and torch may err in
// opposite directions; sums are bounded for any summation order (γ_n ≤ n·u), so BLAS blocking,
// FMA contraction and Welford-vs-two-pass do not matter. Subnormal results add ≤ 2⁻¹⁰⁷⁴ per op.

const U = Number.EPSILON / 2;
const TINY = Number.MIN_VALUE;

/** Nearest upsampling copies values: spec and torch must agree bit for bit. */
function nearestTolerance(): number {
  return 0;
}

/**
 * Area (adaptive average pooling): an output averages N ≤ N_h·N_w cells, N_h = ⌈h/h₂⌉ + 1 when
 * h₂ ∤ h. Spec: weights 1/n_h·1/n_w (3 roundings) times x (1), N-term sum (N − 1): (N + 3)u‖x‖∞.
 * Torch: N-term sum, one division: N·u‖x‖∞. Sum: (2N + 3)·u·‖x‖∞.
 */
function areaTolerance(h: number, w: number, h2: number, w2: number, xmax: number): number {
  const win = (s: number, s2: number): number => Math.ceil(s / s2) + (s % s2 === 0 ? 0 : 1);
  const N = win(h, h2) * win(w, w2);
  return (2 * N + 3) * (U * xmax + TINY);
}

/** max |W'| of the Keys kernel on [0, 2] for a ∈ [−1, 0]: the vertex (a+3)²/(3(a+2)) of the inner branch, or |a| at t = 1. */
function bicubicSlope(a: number): number {
  return Math.max((a + 3) ** 2 / (3 * (a + 2)), Math.abs(a));
}

/**
 * Bicubic, align_corners=False, per implementation, for an output reading 4×4 taps:
 * - source coordinate x = (S/S₂)(i + ½) − ½: ≤ 4 roundings of magnitude ≤ S + 1, so t errs by
 *   δt ≤ 4u(S + 1) and each weight by ≤ max|W'|·δt;
 * - each weight is a degree-3 Horner evaluation (γ₆ times Σ|coefficient·tᵏ|): ≤ 6u·(|a+2| + |a+3| + 1)
 *   for the two inner taps (t ≤ 1) and ≤ 6u·|a|(8 + 20 + 16 + 4) for the two outer taps (t ≤ 2);
 * - the 16 products w_r·w_c·x (2 roundings) and the 15 additions: ≤ 17u·Λ²‖x‖∞, Λ = 1 + |a|/2.
 * A weight error Σ|Δw| on one axis costs Λ·Σ|Δw|·‖x‖∞. Doubled for the two implementations.
 */
function bicubicTolerance(S: number, xmax: number, a = -0.75): number {
  const lambda = 1 + Math.abs(a) / 2;
  const horner = 6 * U * 2 * (Math.abs(a + 2) + Math.abs(a + 3) + 1 + Math.abs(a) * 48);
  const coord = 4 * bicubicSlope(a) * 4 * U * (S + 1);
  const perImpl = xmax * (17 * U * lambda * lambda + 2 * lambda * (horner + coord));
  return 2 * perImpl + 2 * 16 * TINY;
}

/**
 * Softmax attention over L_k keys, per implementation (docs/math.md §3, §8): a logit s⟨q, k⟩
 * errs by ≤ (d + 1)u·β₁ with β₁ = s·max_{i,j} Σ_t |q_it k_jt| ≤ s·‖q_i‖₂‖k_j‖₂; the shift z − max
 * doubles that and adds u·2β₁; exp adds 2u. So every weight is off by a factor e^θ,
 * θ ≤ (2d + 4)u·β₁ + 2u, which moves a convex combination of values by ≤ 2θ‖V‖∞. The numerator
 * and denominator sums and the division (or torch's normalise-then-matmul) add ≤ 2L_k·u‖V‖∞.
 * Per implementation ((4d + 8)β₁ + 4 + 2L_k)·u·‖V‖∞, doubled.
 */
function attentionTolerance(d: number, Lk: number, beta1: number, vmax: number): number {
  return 2 * (((4 * d + 8) * beta1 + 4 + 2 * Lk) * U * vmax + 2 * Lk * TINY);
}

/**
 * conv3×3 with padding 1: each output is b + 9·c_in products, so per implementation
 * ≤ (9c_in + 1)u·M with M = max_o(|b_o| + Σ|w_o|·‖x‖∞). Doubled.
 */
function convTolerance(cIn: number, M: number): number {
  return 2 * (9 * cIn + 1) * (U * M + TINY);
}

/** VAR's Φ(x) = ½x + ½conv(x): the halvings are exact, the sum adds one rounding of ½(‖x‖∞ + M). */
function phiTolerance(cIn: number, M: number, xmax: number): number {
  return 0.5 * convTolerance(cIn, M) + 2 * (U * 0.5 * (xmax + M) + TINY);
}

/**
 * Phase 2 reconstruction f = Σ_k Φ(up(z_k → n×n)) (docs/math.md §7), per implementation: the
 * bicubic error e_k (half of {@link bicubicTolerance}) passes through Φ with factor
 * ½(1 + Lip), Lip = max_o Σ|w_o| (docs/math.md §6 E3); Φ's own rounding is half of
 * {@link phiTolerance} at input size Λ²‖z_k‖∞ + e_k; adding the K maps costs K·u·Σ_k ‖Φ_k‖∞ with
 * ‖Φ_k‖∞ ≤ ½(1 + Lip)(Λ²‖z_k‖∞ + e_k) + ½max|b|. Doubled.
 */
function reconstructTolerance(n: number, cIn: number, lip: number, bmax: number, zmax: readonly number[], sides: readonly number[]): number {
  const lambda2 = (1 + 0.75 / 2) ** 2;
  let perImpl = 0;
  let sumPhi = 0;
  zmax.forEach((zm, k) => {
    const e = bicubicTolerance(Math.max(n, sides[k]), zm) / 2;
    const ymax = lambda2 * zm + e;
    const M = bmax + lip * ymax;
    perImpl += 0.5 * (1 + lip) * e + phiTolerance(cIn, M, ymax) / 2;
    sumPhi += 0.5 * (ymax + M);
  });
  perImpl += zmax.length * U * sumPhi;
  return 2 * perImpl + 2 * zmax.length * TINY;
}

/** max_j Σ_i |W_ij|: ‖AW‖∞ ≤ ‖A‖∞·colSum(W) entrywise, and an error ΔA moves AW by ≤ ‖ΔA‖∞·colSum(W). */
function colSum(w: Matrix): number {
  let best = 0;
  for (let j = 0; j < w.cols; j++) {
    let t = 0;
    for (let i = 0; i < w.rows; i++) t += Math.abs(w.data[i * w.cols + j]);
    best = Math.max(best, t);
  }
  return best * (1 + (w.rows + 1) * U);
}

/**
 * The stylised layer (docs/math.md §7) H = X + Att(XW_Q, XW_K, XW_V)W_O, out = LN(H) + tanh(LN(H)W₁)W₂,
 * D = width, s = 1/D, per implementation, forward-propagating ∞-norm errors (c_W = colSum(W)):
 * - Q, K, V: ‖·‖ ≤ ‖X‖c_W, error ≤ D·u·‖X‖c_W (a D-term dot product);
 * - the logits move by ≤ s·D(e_Q‖K‖ + ‖Q‖e_K), which moves attention by 2‖V‖ times that; plus
 *   e_V and attention's own rounding (half of the attention tolerance, β₁ = s·D‖Q‖‖K‖);
 * - ·W_O and + X: c_O·e_att + D·u‖att‖c_O + u(‖att‖c_O + ‖X‖), ‖att‖ ≤ ‖V‖;
 * - LN (s_row ≥ √ε, |x − μ|/s_row ≤ √D, mean|x − μ| ≤ √v): an input error δ moves it by
 *   ≤ δ(2 + 2√D)/√ε; its own rounding ≤ (e_μ + 6u‖H‖)/√ε + √D(ρ + 2u) with e_μ = (D + 1)u‖H‖,
 *   ρ = √D·e_μ/√ε + (3D/2 + 7/2)u (the layer-norm bound above with v-free estimates);
 * - ·W₁ (D terms), tanh (1-Lipschitz, ≤ 2 ulp), ·W₂ (H terms, |tanh| ≤ 1), + LN(H);
 * - gradual underflow: τ = min_subnormal/2 per product or quotient, through the same maps.
 * Doubled.
 */
function transformerLayerTolerance(x: Matrix, layer: TransformerLayer, L: number): number {
  const D = x.cols;
  const H = layer.w1.cols;
  const s = 1 / D;
  const xm = maxAbs(x.data);
  const [cq, ck, cv, co, c1, c2] = [layer.wq, layer.wk, layer.wv, layer.wo, layer.w1, layer.w2].map(colSum);
  const [qm, km, vm] = [cq, ck, cv].map((c) => xm * c);
  const [eQ, eK, eV] = [cq, ck, cv].map((c) => D * U * xm * c);
  const dz = s * D * (eQ * km + qm * eK);
  const eAtt = eV + 2 * vm * dz + attentionTolerance(D, L, s * D * qm * km, vm) / 2;
  const eH = co * eAtt + D * U * vm * co + U * (vm * co + xm);
  const hm = xm + vm * co + eH;
  const s0 = Math.sqrt(layer.lnEps);
  const eMu = (D + 1) * U * hm;
  const rho = (Math.sqrt(D) * eMu) / s0 + (1.5 * D + 3.5) * U;
  const eY = (eH * (2 + 2 * Math.sqrt(D))) / s0 + (eMu + 6 * U * hm) / s0 + Math.sqrt(D) * (rho + 2 * U);
  const ym = Math.sqrt(D) + eY;
  const ea = c1 * eY + D * U * ym * c1;
  const et = ea + 4 * U;
  const em = c2 * et + H * U * c2;
  const eOut = em + eY + U * (c2 + ym);
  // Gradual underflow (as in layerNormTolerance): each product or quotient may also err by
  // τ = min_subnormal/2 absolutely, carried apart in units of min_subnormal through the same maps
  // (LN divides them by √ε, as it does every other error); the variance's D + 2 of them reach ρ as
  // ≤ ½(D + 2)τ/ε.
  const t = 0.5;
  const eQt = D * t;
  const dzt = s * D * (eQt * km + qm * eQt);
  const eHt = co * (eQt + 2 * vm * dzt) + D * t;
  const rhot = (Math.sqrt(D) * t) / s0 + ((D + 2) * t) / (2 * layer.lnEps);
  const eYt = (eHt * (2 + 2 * Math.sqrt(D))) / s0 + t / s0 + Math.sqrt(D) * rhot + 2 * t;
  const eOutt = c2 * (c1 * eYt + D * t + t) + H * t + eYt + t;
  // Doubled; the bound's own float64 evaluation may lose < min_subnormal per underflowing
  // intermediate, amplified at most as an error of H is: 8(D + H) such steps.
  const slack = 8 * (D + H) * (1 + (2 + 2 * Math.sqrt(D)) / s0) * (1 + c1) * (1 + c2);
  return 2 * eOut + (2 * eOutt + slack) * TINY;
}

/**
 * LayerNorm without affine parameters on one row of D values (max |x| = m, mean μ, deviations
 * r = max|x − μ|, variance v), per implementation, in the standard model with gradual underflow
 * (a product or quotient errs by u relatively plus τ = min_subnormal/2 absolutely; sums of
 * subnormals are exact): the mean errs by e_μ ≤ (D + 1)u·m + τ (the division by D, or the
 * product by 1/D); the variance by e_v ≤ 2r(e_μ + u·r) + (D + 2)u·v + (D + 2)τ (D squares, the
 * division); s = √(v + ε) relatively by ρ ≤ ½(e_v + u(v + ε))/(v + ε) + 2u (sqrt, reciprocal;
 * v + ε ≥ ε is normal); the output (x − μ)/s — or torch's x·(1/s) − μ·(1/s) — by
 * ≤ (e_μ + 3u(m + |μ|))/s + (r/s)·(ρ + 2u) + 2τ. The mean's τ is divided by s ≥ √ε: on subnormal
 * rows it is most of the tolerance (x = [−3.5e-323, 0], ε = 0.011: spec and torch differ by 9
 * subnormal steps, which a flat 4·D·min_subnormal did not allow). Doubled; max over rows.
 */
function layerNormTolerance(x: Matrix, eps: number): number {
  const D = x.cols;
  let worst = 0;
  for (let i = 0; i < x.rows; i++) {
    const row = x.data.subarray(i * D, (i + 1) * D);
    let m = 0;
    let mu = 0;
    for (const t of row) {
      m = Math.max(m, Math.abs(t));
      mu += t;
    }
    mu /= D;
    let r = 0;
    let v = 0;
    for (const t of row) {
      r = Math.max(r, Math.abs(t - mu));
      v += (t - mu) ** 2;
    }
    v /= D;
    // The τ terms are carried apart, in units of min_subnormal (τ = ½): computed among the others
    // they would underflow to 0 (min_subnormal/2 rounds to 0 in float64).
    const eMu = (D + 1) * U * m;
    const eV = 2 * r * (eMu + U * r) + (D + 2) * U * v;
    const rho = (0.5 * (eV + U * (v + eps))) / (v + eps) + 2 * U;
    const s = Math.sqrt(v + eps);
    const normal = (eMu + 3 * U * (m + Math.abs(mu))) / s + (r / s) * (rho + 2 * U);
    // τ/s from the mean, 2τ from the output, and (r/s)·½τ(2r + D + 2)/(v + ε) through ρ.
    const subnormal = 0.5 / s + 1 + ((r / s) * 0.25 * (2 * r + D + 2)) / (v + eps);
    // Doubled; the bound's own float64 evaluation: 1e-12 relatively, and (8/s + 8) steps for its
    // intermediates that underflow (each loses < min_subnormal, then divided by s at most).
    worst = Math.max(worst, 2 * normal * (1 + 1e-12) + (2 * subnormal + 8 / s + 8) * TINY);
  }
  return worst;
}

// ───────────────────────────── inputs ─────────────────────────────

/** Values: drawn by fast-check (small cases, shrinkable), or filled from a mulberry32 seed on [−B, B] (large cases). */
type Data = { values: number[] } | { seed: number; B: number; n: number };

function materialize(d: Data): Float64Array {
  if ('values' in d) return Float64Array.from(d.values);
  const rand = mulberry32(d.seed);
  const out = new Float64Array(d.n);
  for (let k = 0; k < d.n; k++) out[k] = (2 * rand() - 1) * d.B;
  return out;
}

const small = (n: number, B: number): fc.Arbitrary<Data> => entries(n, B).map((values) => ({ values }));
const seeded = (n: number, B: number): fc.Arbitrary<Data> => fc.integer({ min: 0, max: 2 ** 31 - 1 }).map((seed) => ({ seed, B, n }));

const VAR_256 = PRESET_SIDES['var-256'];
const VAR_1024 = PRESET_SIDES['var-1024'];
const varSide = fc.oneof(fc.constantFrom(...VAR_256), fc.constantFrom(...VAR_1024));
const channels = fc.integer({ min: 1, max: 16 });

interface ResizeCase {
  h: number;
  w: number;
  c: number;
  h2: number;
  w2: number;
  x: Data;
}

/**
 * Resize inputs: 85% small maps drawn by fast-check (1×1 sources, non-square, non-divisible,
 * up and down, 1–16 channels), 15% VAR-256/VAR-1024 shapes (a scale s_k ↔ the final n×n,
 * both directions) with seeded values.
 */
const resizeArb: fc.Arbitrary<ResizeCase> = fc.oneof(
  {
    weight: 85,
    arbitrary: fc
      .record({ h: fc.integer({ min: 1, max: 12 }), w: fc.integer({ min: 1, max: 12 }), c: channels, h2: fc.integer({ min: 1, max: 24 }), w2: fc.integer({ min: 1, max: 24 }) })
      .filter(({ h, w, c }) => h * w * c <= 1024)
      .chain((s) => small(s.h * s.w * s.c, 4).map((x) => ({ ...s, x }))),
  },
  {
    weight: 15,
    arbitrary: fc.record({ preset: fc.constantFrom(VAR_256, VAR_1024), k: fc.nat(), up: fc.boolean(), c: channels }).chain(({ preset, k, up, c }) => {
      const s = preset[k % preset.length];
      const n = preset[preset.length - 1];
      const [h, w, h2, w2] = up ? [s, s, n, n] : [n, n, s, s];
      return seeded(h * w * c, 4).map((x) => ({ h, w, c, h2, w2, x }));
    }),
  },
);

interface NearestCase {
  h: number;
  w: number;
  c: number;
  factor: number;
  x: Data;
}
const nearestArb: fc.Arbitrary<NearestCase> = fc
  .record({ h: fc.oneof(fc.integer({ min: 1, max: 12 }), varSide), w: fc.oneof(fc.integer({ min: 1, max: 12 }), varSide), c: channels, factor: fc.integer({ min: 1, max: 4 }) })
  .chain((s) => (s.h * s.w * s.c <= 1024 ? small(s.h * s.w * s.c, 4) : seeded(s.h * s.w * s.c, 4)).map((x) => ({ ...s, x })));

/** How the mask travels to torch: none, VAR's additive −∞ bias built from `blocks`, or an explicit boolean matrix. */
type MaskCase = { kind: 'none' } | { kind: 'block-causal'; blocks: number[]; transport: 'bias' | 'bool' };

interface AttentionCase {
  lq: number;
  lk: number;
  d: number;
  dv: number;
  /** β = s·d·B² (docs/math.md §3), ≤ 30. */
  beta: number;
  /** `default`: the spec's default scale, judged against 1/d (docs/math.md §3); else explicit. */
  scale: 'default' | number;
  mask: MaskCase;
  q: Data;
  k: Data;
  v: Data;
  /** Query rows compared (all when absent). */
  rows?: number[];
}

const scaleArb = fc.oneof({ weight: 3, arbitrary: fc.constant('default' as const) }, { weight: 1, arbitrary: fc.double({ min: 1e-3, max: 2, noNaN: true }) });
const betaArb = fc.double({ min: 1 / 64, max: 30, noNaN: true });

function entryBound(beta: number, scale: number, d: number): number {
  return Math.sqrt(beta / (scale * d));
}

function maskCase(blocks: readonly number[] | undefined, transport: boolean): MaskCase {
  return blocks ? { kind: 'block-causal', blocks: [...blocks], transport: transport ? 'bool' : 'bias' } : { kind: 'none' };
}

/** Rows 0, L−1, the first and last of every block, and a few drawn ones. */
function sampleRows(L: number, blocks: readonly number[] | undefined, seed: number, extra = 24): number[] {
  const rows = new Set<number>([0, L - 1]);
  let end = 0;
  for (const b of blocks ?? []) {
    rows.add(end);
    end += b;
    rows.add(end - 1);
  }
  const rand = mulberry32(seed);
  for (let t = 0; t < extra; t++) rows.add(Math.floor(rand() * L));
  return [...rows].filter((r) => r < L).sort((a, b) => a - b);
}

/** The first K scales of a preset whose token count stays ≤ maxL. */
function prefixBlocks(sides: readonly number[], K: number, maxL: number): number[] {
  const blocks: number[] = [];
  let L = 0;
  for (const s of sides.slice(0, Math.max(1, K))) {
    if (L + s * s > maxL) break;
    blocks.push(s * s);
    L += s * s;
  }
  return blocks;
}

/**
 * Attention inputs: 85% small (fast-check entries, d up to 128, block-causal over the spec's
 * square and rectangular pyramid arbitraries or unmasked with L_q ≠ L_k), 11% VAR-256 prefix
 * pyramids (L ≤ 680) with seeded values, 4% large (VAR-1024 prefixes up to L = 3,051 or
 * unmasked L up to 4,096, d up to 128) compared on ~40 sampled rows. β ≤ 30 throughout.
 */
const attentionArb: fc.Arbitrary<AttentionCase> = fc.oneof(
  {
    weight: 85,
    arbitrary: fc
      .record({
        masked: fc.boolean(),
        bool: fc.boolean(),
        lq: fc.integer({ min: 1, max: 16 }),
        lk: fc.integer({ min: 1, max: 16 }),
        d: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 16 }) }, { weight: 1, arbitrary: fc.integer({ min: 17, max: 128 }) }),
        dv: fc.integer({ min: 1, max: 8 }),
        pyr: fc.oneof(pyramidArb(4, 3), rectPyramidArb(4, 3)),
        beta: betaArb,
        scale: scaleArb,
      })
      .chain(({ masked, bool, lq, lk, d, dv, pyr, beta, scale }) => {
        const [rq, rk] = masked ? [pyr.L, pyr.L] : [lq, lk];
        const B = entryBound(beta, scale === 'default' ? 1 / d : scale, d);
        return fc.tuple(small(rq * d, B), small(rk * d, B), small(rk * dv, 2)).map(([q, k, v]): AttentionCase => ({
          lq: rq,
          lk: rk,
          d,
          dv,
          beta,
          scale,
          mask: maskCase(masked ? pyr.blocks : undefined, bool),
          q,
          k,
          v,
        }));
      }),
  },
  {
    weight: 11,
    arbitrary: fc
      .record({ K: fc.integer({ min: 1, max: 10 }), bool: fc.boolean(), d: fc.constantFrom(8, 16, 32, 64), dv: fc.integer({ min: 1, max: 16 }), beta: betaArb, scale: scaleArb, seed: fc.nat() })
      .map(({ K, bool, d, dv, beta, scale, seed }): AttentionCase => {
        const blocks = prefixBlocks(VAR_256, K, 680);
        const L = blocks.reduce((a, b) => a + b, 0);
        const B = entryBound(beta, scale === 'default' ? 1 / d : scale, d);
        return {
          lq: L,
          lk: L,
          d,
          dv,
          beta,
          scale,
          mask: maskCase(blocks, bool),
          q: { seed, B, n: L * d },
          k: { seed: seed + 1, B, n: L * d },
          v: { seed: seed + 2, B: 2, n: L * dv },
          rows: L > 128 ? sampleRows(L, blocks, seed) : undefined,
        };
      }),
  },
  {
    weight: 4,
    arbitrary: fc
      .record({
        masked: fc.boolean(),
        K: fc.integer({ min: 10, max: 14 }),
        L: fc.integer({ min: 1024, max: 4096 }),
        d: fc.integer({ min: 64, max: 128 }),
        dv: fc.integer({ min: 1, max: 128 }),
        beta: betaArb,
        scale: scaleArb,
        seed: fc.nat(),
      })
      .map(({ masked, K, L: Lfree, d, dv, beta, scale, seed }): AttentionCase => {
        const blocks = masked ? prefixBlocks(VAR_1024, K, 4096) : undefined;
        const L = blocks ? blocks.reduce((a, b) => a + b, 0) : Lfree;
        const B = entryBound(beta, scale === 'default' ? 1 / d : scale, d);
        return {
          lq: L,
          lk: L,
          d,
          dv,
          beta,
          scale,
          mask: maskCase(blocks, false),
          q: { seed, B, n: L * d },
          k: { seed: seed + 1, B, n: L * d },
          v: { seed: seed + 2, B: 2, n: L * dv },
          rows: sampleRows(L, blocks, seed),
        };
      }),
  },
);

interface ConvCase {
  h: number;
  w: number;
  cIn: number;
  cOut: number;
  x: Data;
  weight: Data;
  bias?: Data;
}

/** conv3×3 / Φ inputs: small maps (1×1 included, non-square), 1–16 channels, optional bias; 10% VAR-sized n×n maps. */
function convArb(phi: boolean): fc.Arbitrary<ConvCase> {
  const shape = fc.oneof(
    { weight: 9, arbitrary: fc.record({ h: fc.integer({ min: 1, max: 10 }), w: fc.integer({ min: 1, max: 10 }) }) },
    { weight: 1, arbitrary: fc.constantFrom(16, 32, 64).map((n) => ({ h: n, w: n })) },
  );
  return fc.record({ shape, cIn: channels, cOut: channels, withBias: fc.boolean() }).chain(({ shape: { h, w }, cIn, cOut: co, withBias }) => {
    const cOut = phi ? cIn : co;
    const big = h * w * cIn > 1024;
    const wB = 1 / (3 * Math.sqrt(cIn));
    return fc
      .record({
        x: big ? seeded(h * w * cIn, 4) : small(h * w * cIn, 4),
        weight: small(cOut * cIn * 9, wB),
        bias: withBias ? small(cOut, 1).map((b) => b as Data | undefined) : fc.constant(undefined),
      })
      .map(({ x, weight, bias }) => ({ h, w, cIn, cOut, x, weight, bias }));
  });
}

interface ReconstructCase {
  heights: number[];
  widths: number[];
  n: number;
  c: number;
  z: Data[];
  weight: Data;
  bias?: Data;
}

/**
 * Phase 2 inputs: the spec's pyramid arbitraries (square and rectangular, n = the last side or
 * any 1–12) with fast-check token maps, or the full VAR-256 pyramid (n = 16) and VAR-1024
 * prefixes (n = 64) with seeded token maps; c = 1–4 channels, Φ weights on ±1/(3√c) as in
 * varModel, optional bias.
 */
const reconstructArb: fc.Arbitrary<ReconstructCase> = fc
  .record({
    kind: fc.oneof({ weight: 9, arbitrary: fc.constant('small' as const) }, { weight: 1, arbitrary: fc.constantFrom('var-256' as const, 'var-1024' as const) }),
    pyr: fc.oneof(pyramidArb(4, 4), rectPyramidArb(4, 4)),
    nFree: fc.option(fc.integer({ min: 1, max: 12 })),
    K: fc.integer({ min: 4, max: 14 }),
    c: fc.integer({ min: 1, max: 4 }),
    withBias: fc.boolean(),
    seed: fc.nat(),
  })
  .chain(({ kind, pyr, nFree, K, c, withBias, seed }) => {
    const [heights, widths] = kind === 'small' ? [[...pyr.heights], [...pyr.widths]] : kind === 'var-256' ? [[...VAR_256], [...VAR_256]] : [VAR_1024.slice(0, K), VAR_1024.slice(0, K)];
    const n = kind === 'small' ? (nFree ?? Math.max(heights[heights.length - 1], widths[widths.length - 1])) : kind === 'var-256' ? 16 : 64;
    const z = heights.map((hk, k) => (kind === 'small' ? small(hk * widths[k] * c, 4) : fc.constant<Data>({ seed: seed + k, B: 4, n: hk * widths[k] * c })));
    return fc
      .record({ z: fc.tuple(...z), weight: small(c * c * 9, 1 / (3 * Math.sqrt(c))), bias: withBias ? small(c, 1).map((b) => b as Data | undefined) : fc.constant(undefined) })
      .map(({ z: zs, weight, bias }): ReconstructCase => ({ heights, widths, n, c, z: zs, weight, bias }));
  });

interface TransformerCase {
  heights: number[];
  widths: number[];
  masked: boolean;
  D: number;
  lnEps: number;
  seed: number;
  x: Data;
}

/**
 * One stylised layer (varModel weights, H = 2D) on the spec's square and rectangular pyramids
 * or VAR-256 prefixes up to L = 91, block-causal or unmasked, D = 1–16, ε = 1 (stylised) or 1e-5.
 */
const transformerArb: fc.Arbitrary<TransformerCase> = fc
  .record({
    pyr: fc.oneof(
      { weight: 4, arbitrary: fc.oneof(pyramidArb(4, 3), rectPyramidArb(4, 3)).map((p) => [[...p.heights], [...p.widths]]) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 6 }).map((K) => [VAR_256.slice(0, K), VAR_256.slice(0, K)]) },
    ),
    masked: fc.boolean(),
    D: fc.integer({ min: 1, max: 16 }),
    lnEps: fc.constantFrom(1, 1e-5),
    seed: fc.nat(),
    B: fc.constantFrom(0.5, 2),
  })
  .chain(({ pyr: [heights, widths], masked, D, lnEps, seed, B }) => {
    const L = heights.reduce((a, h, k) => a + h * widths[k], 0);
    return (L * D <= 256 ? small(L * D, B) : seeded(L * D, B)).map((x) => ({ heights, widths, masked, D, lnEps, seed, x }));
  });

interface LayerNormCase {
  rows: number;
  cols: number;
  eps: number;
  x: Data;
}

/** LayerNorm rows: D up to 128, ε from the stylised 1 down to PyTorch's 1e-5 and below. */
const layerNormArb: fc.Arbitrary<LayerNormCase> = fc
  .record({
    rows: fc.integer({ min: 1, max: 8 }),
    cols: fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 17, max: 128 })),
    eps: fc.oneof(fc.constantFrom(1, 1e-5, 1e-6), fc.double({ min: 1e-6, max: 1, noNaN: true })),
    B: fc.constantFrom(1, 4, 100),
  })
  .chain(({ rows, cols, eps, B }) => small(rows * cols, B).map((x) => ({ rows, cols, eps, x })));

// ───────────────────────────── Python snippets ─────────────────────────────

const PY_IMPORTS = `import torch
import torch.nn.functional as F
torch.set_default_dtype(torch.float64)
`;

const PY_PRNG = `
def mulberry32(seed, n, B):  # the spec's PRNG (spec/random.ts), values (2r - 1)·B
    a, out = seed & 0xFFFFFFFF, []
    for _ in range(n):
        a = (a + 0x6D2B79F5) & 0xFFFFFFFF
        t = ((a ^ (a >> 15)) * (a | 1)) & 0xFFFFFFFF
        t ^= (t + ((t ^ (t >> 7)) * (t | 61))) & 0xFFFFFFFF
        out.append((2 * (((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296) - 1) * B)
    return torch.tensor(out)
`;

/** The imports, plus the PRNG when the snippet regenerates seeded values. */
function py(lines: readonly string[]): string {
  const body = lines.join('\n');
  return `${PY_IMPORTS}${body.includes('mulberry32(') ? PY_PRNG : ''}${body}\n`;
}

function pyNum(v: number): string {
  return Object.is(v, -0) ? '-0.0' : String(v);
}

function pyData(d: Data | undefined): string {
  if (d === undefined) return 'None';
  if ('values' in d) return `torch.tensor([${d.values.map(pyNum).join(', ')}], dtype=torch.float64)`;
  return `mulberry32(${d.seed}, ${d.n}, ${pyNum(d.B)})`;
}

function pyMap(name: string, d: Data, h: number, w: number, c: number): string {
  return `${name} = ${pyData(d)}.reshape(${h}, ${w}, ${c}).permute(2, 0, 1).unsqueeze(0)  # HWC -> NCHW`;
}

const PY_HWC = 'y = y.squeeze(0).permute(1, 2, 0)  # NCHW -> HWC, the layout of spec FeatureMaps\nprint(y.reshape(-1).tolist())';

function pyResize(mode: 'bicubic' | 'area', r: ResizeCase): string {
  const extra = mode === 'bicubic' ? ', align_corners=False' : '';
  return py([pyMap('x', r.x, r.h, r.w, r.c), `y = F.interpolate(x, size=(${r.h2}, ${r.w2}), mode='${mode}'${extra})`, PY_HWC]);
}

function pyNearest(r: NearestCase): string {
  return py([pyMap('x', r.x, r.h, r.w, r.c), `y = F.interpolate(x, scale_factor=${r.factor}.0, mode='nearest')`, PY_HWC]);
}

function pyAttention(a: AttentionCase): string {
  const scale = a.scale === 'default' ? `1.0 / ${a.d}  # the spec's default scale s = 1/d (docs/math.md §3)` : pyNum(a.scale);
  const lines = [
    `q = ${pyData(a.q)}.reshape(${a.lq}, ${a.d})`,
    `k = ${pyData(a.k)}.reshape(${a.lk}, ${a.d})`,
    `v = ${pyData(a.v)}.reshape(${a.lk}, ${a.dv})`,
    `scale = ${scale}`,
    'logits = scale * (q @ k.T)',
  ];
  if (a.mask.kind === 'block-causal') {
    lines.push(
      `level = torch.repeat_interleave(torch.arange(${a.mask.blocks.length}), torch.tensor([${a.mask.blocks.join(', ')}]))`,
      a.mask.transport === 'bias'
        ? "logits = logits + torch.zeros_like(logits).masked_fill(level[:, None] < level[None, :], float('-inf'))"
        : "logits = logits.masked_fill(~(level[:, None] >= level[None, :]), float('-inf'))",
    );
  }
  lines.push('y = torch.softmax(logits, dim=-1) @ v');
  if (a.rows) lines.push(`y = y[[${a.rows.join(', ')}]]  # the compared query rows`);
  lines.push('print(y.reshape(-1).tolist())');
  return py(lines);
}

function pyConv(c: ConvCase, phi: boolean): string {
  const lines = [pyMap('x', c.x, c.h, c.w, c.cIn), `weight = ${pyData(c.weight)}.reshape(${c.cOut}, ${c.cIn}, 3, 3)`, `bias = ${pyData(c.bias)}`, 'y = F.conv2d(x, weight, bias, padding=1)'];
  if (phi) lines.push("y = 0.5 * x + 0.5 * y  # VAR's Phi");
  lines.push(PY_HWC);
  return py(lines);
}

function pyReconstruct(r: ReconstructCase): string {
  const lines = [`weight = ${pyData(r.weight)}.reshape(${r.c}, ${r.c}, 3, 3)`, `bias = ${pyData(r.bias)}`, `f = torch.zeros(1, ${r.c}, ${r.n}, ${r.n})`];
  r.z.forEach((d, k) => {
    lines.push(
      pyMap(`z${k}`, d, r.heights[k], r.widths[k], r.c),
      `up = F.interpolate(z${k}, size=(${r.n}, ${r.n}), mode='bicubic', align_corners=False)`,
      "f = f + (0.5 * up + 0.5 * F.conv2d(up, weight, bias, padding=1))  # VAR's Phi",
    );
  });
  lines.push('y = f', PY_HWC);
  return py(lines);
}

function pyTransformer(t: TransformerCase, layer: TransformerLayer): string {
  const mat = (m: Matrix): string => `torch.tensor([${Array.from(m.data, pyNum).join(', ')}], dtype=torch.float64).reshape(${m.rows}, ${m.cols})`;
  const L = t.heights.reduce((a, h, k) => a + h * t.widths[k], 0);
  const lines = [
    `# weights: varModel(pyramid, { D: ${t.D}, lnEps: ${t.lnEps}, seed: ${t.seed} }).layers[0]`,
    `x = ${pyData(t.x)}.reshape(${L}, ${t.D})`,
    ...(['wq', 'wk', 'wv', 'wo', 'w1', 'w2'] as const).map((n) => `${n} = ${mat(layer[n])}`),
    `logits = (1.0 / ${t.D}) * ((x @ wq) @ (x @ wk).T)  # s = 1/D (docs/math.md §3)`,
  ];
  if (t.masked) {
    lines.push(
      `level = torch.repeat_interleave(torch.arange(${t.heights.length}), torch.tensor([${t.heights.map((h, k) => h * t.widths[k]).join(', ')}]))`,
      "logits = logits + torch.zeros_like(logits).masked_fill(level[:, None] < level[None, :], float('-inf'))",
    );
  }
  lines.push('h = x + (torch.softmax(logits, dim=-1) @ (x @ wv)) @ wo', `y = F.layer_norm(h, (${t.D},), eps=${pyNum(t.lnEps)})`, 'y = y + torch.tanh(y @ w1) @ w2', 'print(y.reshape(-1).tolist())');
  return py(lines);
}

function pyLayerNorm(c: LayerNormCase): string {
  return py([`x = ${pyData(c.x)}.reshape(${c.rows}, ${c.cols})`, `y = F.layer_norm(x, (${c.cols},), eps=${pyNum(c.eps)})`, 'print(y.reshape(-1).tolist())']);
}

// ───────────────────────────── the runner ─────────────────────────────

const RUNS = Number(process.env.ORACLE_RUNS ?? 1000);

let oracle: PyTorchOracle | undefined;
let unavailable: string | undefined;

beforeAll(async () => {
  try {
    oracle = await startOracle();
    console.log(`[pytorch] oracle: torch ${oracle.info.torch} on Python ${oracle.info.pythonVersion} (${oracle.info.python}), ${oracle.info.threads} thread(s)`);
  } catch (e) {
    // CI installs python3-torch and sets REQUIRE_PYTORCH_ORACLE=1: there a missing oracle is a failure.
    if (e instanceof OracleError && e.unavailable && process.env.REQUIRE_PYTORCH_ORACLE !== '1') unavailable = e.message;
    else throw e;
  }
});

afterAll(() => oracle?.close());

/** What one case compared. */
interface Compared {
  /** spec's output. */
  got: ArrayLike<number>;
  /** torch's output. */
  want: OracleReply;
  /** The op's tolerance on this case. */
  tol: number;
  /** Expected output shape. */
  shape: number[];
}

interface OracleLaw<T> {
  op: string;
  arbitrary: fc.Arbitrary<T>;
  compare(o: PyTorchOracle, value: T): Promise<Compared>;
  python(value: T): string;
  /** A size class for the printed case mix (e.g. how many L ≥ 1024 attentions ran). */
  category(value: T): string;
}

function clip(s: string, n = 4000): string {
  return s.length <= n ? s : `${s.slice(0, n)} … (${s.length - n} more characters)`;
}

/** Run one op's law, print cases / wall time / worst relative difference, and fail with a reproducer. */
async function runOracleLaw<T>(l: OracleLaw<T>, ctx: TestContext): Promise<void> {
  if (!oracle) {
    console.log(`[pytorch] ${l.op}: INCONCLUSIVE, not run: ${unavailable ?? 'the oracle did not start'}`);
    ctx.skip(`inconclusive: ${unavailable ?? 'no oracle'}`);
    return;
  }
  const o = oracle;
  const seed = fc.readConfigureGlobal().seed ?? 0;
  const t0 = performance.now();
  let firstFailureMs: number | undefined;
  let firstFailure = '';
  let worstRel = 0;
  let worstRatio = 0;
  let last = '';
  const note = (m: string): void => {
    last = m;
    if (firstFailureMs === undefined) {
      firstFailureMs = performance.now() - t0;
      firstFailure = m;
    }
  };
  const mix = new Map<string, number>();
  const property = fc.asyncProperty(l.arbitrary, async (value) => {
    const cat = l.category(value);
    mix.set(cat, (mix.get(cat) ?? 0) + 1);
    let r: Compared;
    try {
      r = await l.compare(o, value);
    } catch (e) {
      note(`threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      throw e;
    }
    const shapeOk = r.want.shape.length === r.shape.length && r.want.shape.every((s, i) => s === r.shape[i]) && r.got.length === r.want.data.length;
    const diff = shapeOk ? maxAbsDiff(r.got, r.want.data) : Infinity;
    const ok = diff <= r.tol;
    if (!ok) {
      note(
        shapeOk
          ? `‖spec − torch‖∞ = ${diff} > tolerance ${r.tol} (${(diff / r.tol).toExponential(2)}× the tolerance, ‖torch‖∞ = ${maxAbs(r.want.data)})`
          : `shape: spec ${r.shape.join('×')} (${r.got.length} values), torch ${r.want.shape.join('×')}`,
      );
      throw new Error(last);
    }
    worstRel = Math.max(worstRel, diff / Math.max(1, maxAbs(r.want.data)));
    if (r.tol > 0) worstRatio = Math.max(worstRatio, diff / r.tol);
  });
  const details = await fc.check(property, { seed, numRuns: RUNS });
  const wall = (performance.now() - t0) / 1000;
  if (!details.failed) {
    console.log(
      `[pytorch] ${l.op}: ${details.numRuns} cases in ${wall.toFixed(1)} s, max ‖spec − torch‖∞/max(1, ‖torch‖∞) = ${worstRel.toExponential(2)}, ` +
        `max diff/tolerance = ${worstRatio.toExponential(2)} (seed ${seed}); case mix ${[...mix].map(([k, n]) => `${k}: ${n}`).join(', ')}`,
    );
    return;
  }
  const value = details.counterexample?.[0] as T | undefined;
  const msg = [
    `[pytorch] ${l.op}: spec ≠ PyTorch — first failure at case ${details.numRuns + 1} after ${((firstFailureMs ?? 0) / 1000).toFixed(2)} s, ` +
      `shrunk in ${details.numShrinks} steps (${wall.toFixed(1)} s in all)`,
    `  first failing case: ${firstFailure || String(details.errorInstance)}`,
    `  shrunk case: ${value !== undefined ? last : String(details.errorInstance)}`,
    `  replay: VARCHECK_SEED=${seed} (fast-check { seed: ${seed}, path: ${JSON.stringify(details.counterexamplePath ?? '')} })`,
    `  shrunk input: ${clip(fc.stringify(value))}`,
    '  PyTorch side (python3):',
    value !== undefined ? clip(l.python(value), 20000) : '(no counterexample)',
  ].join('\n');
  console.error(msg);
  throw new Error(msg);
}

const resizeLaw = (mode: 'bicubic' | 'area'): OracleLaw<ResizeCase> => ({
  op: mode,
  arbitrary: resizeArb,
  python: (r) => pyResize(mode, r),
  category: (r) => ('seed' in r.x ? (Math.max(r.h, r.h2) === 64 ? 'VAR-1024 shapes' : 'VAR-256 shapes') : 'small'),
  compare: async (o, r) => {
    const x = featureMap(r.h, r.w, r.c, materialize(r.x));
    const got = mode === 'bicubic' ? upInterpolate(x, r.h2, r.w2) : areaDownsample(x, r.h2, r.w2);
    const want = mode === 'bicubic' ? await o.bicubic(x, r.h2, r.w2) : await o.area(x, r.h2, r.w2);
    const xmax = maxAbs(x.data);
    const tol = mode === 'bicubic' ? bicubicTolerance(Math.max(r.h, r.w, r.h2, r.w2), xmax) : areaTolerance(r.h, r.w, r.h2, r.w2, xmax);
    return { got: got.data, want, tol, shape: [r.h2, r.w2, r.c] };
  },
});

/** allowed(i, j) ⇔ level(i) ≥ level(j) (docs/math.md §2), written out here rather than taken from spec/mask.ts. */
function boolMask(blocks: readonly number[]): Float64Array {
  const level: number[] = [];
  blocks.forEach((b, k) => {
    for (let t = 0; t < b; t++) level.push(k);
  });
  const L = level.length;
  const m = new Float64Array(L * L);
  for (let i = 0; i < L; i++) for (let j = 0; j < L; j++) m[i * L + j] = level[i] >= level[j] ? 1 : 0;
  return m;
}

/** β₁ ≥ s·max_{i,j} Σ_t |q_it k_jt| by Cauchy–Schwarz: s·max_i ‖q_i‖₂·max_j ‖k_j‖₂. */
function beta1(q: Matrix, k: Matrix, s: number, rows?: readonly number[]): number {
  const norm = (m: Matrix, i: number): number => {
    let t = 0;
    for (let c = 0; c < m.cols; c++) t += m.data[i * m.cols + c] ** 2;
    return Math.sqrt(t);
  };
  let qn = 0;
  for (const i of rows ?? Array.from({ length: q.rows }, (_, i) => i)) qn = Math.max(qn, norm(q, i));
  let kn = 0;
  for (let j = 0; j < k.rows; j++) kn = Math.max(kn, norm(k, j));
  // The √ and sums of the norms are themselves rounded; (1 + 2(d + 2)u) covers them.
  return s * qn * kn * (1 + 2 * (q.cols + 2) * U);
}

const attentionLaw: OracleLaw<AttentionCase> = {
  op: 'attention',
  arbitrary: attentionArb,
  python: pyAttention,
  category: (a) => `${a.lq >= 1024 ? 'L ≥ 1024' : a.lq > 128 ? '128 < L < 1024' : 'L ≤ 128'}${a.d >= 64 ? ', d ≥ 64' : ''}`,
  compare: async (o, a) => {
    const q = matrix(a.lq, a.d, materialize(a.q));
    const k = matrix(a.lk, a.d, materialize(a.k));
    const v = matrix(a.lk, a.dv, materialize(a.v));
    const specMask: Mask = a.mask.kind === 'none' ? NO_MASK : { kind: 'block-causal', blocks: a.mask.blocks };
    const input = a.scale === 'default' ? attentionInput(q, k, v, { mask: specMask }) : attentionInput(q, k, v, { scale: a.scale, mask: specMask });
    const rows = a.rows ?? Array.from({ length: a.lq }, (_, i) => i);
    const got = attentionRows(input, rows);
    // The oracle's scale is docs/math.md §3's s = 1/d, not whatever the spec's default became.
    const s = a.scale === 'default' ? 1 / a.d : a.scale;
    const m =
      a.mask.kind === 'none'
        ? { kind: 'none' as const }
        : a.mask.transport === 'bias'
          ? { kind: 'block-causal' as const, blocks: a.mask.blocks }
          : { kind: 'bool' as const, allowed: boolMask(a.mask.blocks) };
    const want = await o.attention(q, k, v, s, m, a.rows);
    return { got: got.data, want, tol: attentionTolerance(a.d, a.lk, beta1(q, k, s, a.rows), maxAbs(v.data)), shape: [rows.length, a.dv] };
  },
};

const nearestLaw: OracleLaw<NearestCase> = {
  op: 'nearest',
  arbitrary: nearestArb,
  python: pyNearest,
  category: (r) => ('seed' in r.x ? 'large (> 1024 values)' : 'small'),
  compare: async (o, r) => {
    const x = featureMap(r.h, r.w, r.c, materialize(r.x));
    return { got: nearestUpsample(x, r.factor).data, want: await o.nearest(x, r.factor), tol: nearestTolerance(), shape: [r.h * r.factor, r.w * r.factor, r.c] };
  },
};

const convLaw = (phi: boolean): OracleLaw<ConvCase> => ({
  op: phi ? 'phi (VAR Φ = ½x + ½conv3×3)' : 'conv3x3',
  arbitrary: convArb(phi),
  python: (c) => pyConv(c, phi),
  category: (c) => (c.h >= 16 ? `${c.h}×${c.w}` : 'small'),
  compare: async (o, c) => {
    const x = featureMap(c.h, c.w, c.cIn, materialize(c.x));
    const conv = { cIn: c.cIn, cOut: c.cOut, weight: materialize(c.weight), bias: c.bias ? materialize(c.bias) : undefined };
    const got = phi ? phiResidual(x, conv) : conv3x3(x, conv);
    const want = await o.conv3x3(x, conv, phi);
    const xmax = maxAbs(x.data);
    let M = 0;
    for (let oc = 0; oc < c.cOut; oc++) {
      let s = 0;
      for (let t = 0; t < c.cIn * 9; t++) s += Math.abs(conv.weight[oc * c.cIn * 9 + t]);
      M = Math.max(M, (conv.bias ? Math.abs(conv.bias[oc]) : 0) + s * xmax);
    }
    M *= 1 + (9 * c.cIn + 2) * U; // M's own rounding
    return { got: got.data, want, tol: phi ? phiTolerance(c.cIn, M, xmax) : convTolerance(c.cIn, M), shape: [c.h, c.w, c.cOut] };
  },
});

const reconstructLaw: OracleLaw<ReconstructCase> = {
  op: 'reconstruct (Phase 2, Σ Φ(bicubic(z_k)))',
  arbitrary: reconstructArb,
  python: pyReconstruct,
  category: (r) => (r.n === 64 && 'seed' in r.z[0] ? 'VAR-1024 prefix' : r.n === 16 && 'seed' in r.z[0] ? 'VAR-256' : 'small'),
  compare: async (o, r) => {
    const maps = r.z.map((d, k) => featureMap(r.heights[k], r.widths[k], r.c, materialize(d)));
    const conv = { cIn: r.c, cOut: r.c, weight: materialize(r.weight), bias: r.bias ? materialize(r.bias) : undefined };
    const got = reconstruct(maps, r.n, conv);
    const want = await o.reconstruct(maps, r.n, conv);
    let lip = 0;
    for (let oc = 0; oc < r.c; oc++) {
      let s = 0;
      for (let t = 0; t < r.c * 9; t++) s += Math.abs(conv.weight[oc * r.c * 9 + t]);
      lip = Math.max(lip, s);
    }
    lip *= 1 + (9 * r.c + 2) * U; // its own rounding
    const bmax = conv.bias ? maxAbs(conv.bias) : 0;
    const tol = reconstructTolerance(
      r.n,
      r.c,
      lip,
      bmax,
      maps.map((z) => maxAbs(z.data)),
      r.heights.map((hk, k) => Math.max(hk, r.widths[k])),
    );
    return { got: got.data, want, tol, shape: [r.n, r.n, r.c] };
  },
};

function transformerInputs(t: TransformerCase): { x: Matrix; layer: TransformerLayer; blocks: number[] } {
  const pyramid = scalePyramid({ heights: t.heights, widths: t.widths });
  const layer = varModel(pyramid, { D: t.D, lnEps: t.lnEps, seed: t.seed, layers: 1 }).layers[0];
  return { x: matrix(pyramid.L, t.D, materialize(t.x)), layer, blocks: [...pyramid.blocks] };
}

const transformerLaw: OracleLaw<TransformerCase> = {
  op: 'transformer layer (stylised, single head)',
  arbitrary: transformerArb,
  python: (t) => pyTransformer(t, transformerInputs(t).layer),
  category: (t) => `${t.masked ? 'block-causal' : 'no mask'}${t.heights.length > 4 ? ', VAR-256 prefix' : ''}, ε = ${t.lnEps}`,
  compare: async (o, t) => {
    const { x, layer, blocks } = transformerInputs(t);
    const got = transformerLayer(x, layer, t.masked ? { kind: 'block-causal', blocks } : NO_MASK);
    const want = await o.transformerLayer(x, layer, 1 / t.D, t.masked ? blocks : undefined);
    return { got: got.data, want, tol: transformerLayerTolerance(x, layer, x.rows), shape: [x.rows, t.D] };
  },
};

const layerNormLaw: OracleLaw<LayerNormCase> = {
  op: 'layernorm',
  arbitrary: layerNormArb,
  python: pyLayerNorm,
  category: (c) => (c.cols > 16 ? 'D > 16' : 'D ≤ 16'),
  compare: async (o, c) => {
    const x = matrix(c.rows, c.cols, materialize(c.x));
    return { got: layerNorm(x, c.eps).data, want: await o.layerNorm(x, c.eps), tol: layerNormTolerance(x, c.eps), shape: [c.rows, c.cols] };
  },
};

/** Run a law's Python snippet on `value` (in one python3 process with the others) and compare it with the oracle's reply. */
interface SnippetCheck {
  op: string;
  source: string;
  want: OracleReply;
  tol: number;
}

async function snippetCheck<T>(l: OracleLaw<T>, o: PyTorchOracle, value: T): Promise<SnippetCheck> {
  const r = await l.compare(o, value);
  return { op: l.op, source: l.python(value), want: r.want, tol: r.tol };
}

const RUN_SNIPPETS = `
import ast, contextlib, io, json, sys
for src in json.load(sys.stdin):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(src, "snippet", "exec"), {})
    print(json.dumps(ast.literal_eval(out.getvalue().strip())))
`;

describe('spec ≡ PyTorch (live float64 oracle)', () => {
  const judge = <T>(l: OracleLaw<T>): void => {
    it(`${l.op}: spec = torch within its float64 tolerance (${RUNS} cases)`, async (ctx) => runOracleLaw(l, ctx));
  };
  judge(resizeLaw('bicubic'));
  judge(resizeLaw('area'));
  judge(nearestLaw);
  judge(attentionLaw);
  judge(convLaw(false));
  judge(convLaw(true));
  judge(layerNormLaw);
  judge(reconstructLaw);
  judge(transformerLaw);

  it("the Python snippet printed with a failure recomputes PyTorch's side", async (ctx) => {
    if (!oracle) {
      console.log(`[pytorch] snippets: INCONCLUSIVE, not run: ${unavailable ?? 'the oracle did not start'}`);
      ctx.skip(`inconclusive: ${unavailable ?? 'no oracle'}`);
      return;
    }
    const o = oracle;
    const seed = fc.readConfigureGlobal().seed ?? 0;
    const one = <T>(arb: fc.Arbitrary<T>, pick: (v: T) => boolean = () => true, numRuns = 100): T => {
      const found = fc.sample(arb, { seed, numRuns }).find(pick);
      if (found === undefined) throw new Error('no sample matched');
      return found;
    };
    const seededRows = (a: AttentionCase): boolean => 'seed' in a.q && a.rows !== undefined && a.lq <= 680;
    const checks = [
      await snippetCheck(
        resizeLaw('bicubic'),
        o,
        one(resizeArb, (r) => 'values' in r.x),
      ),
      // Integer-valued entries must still reach torch as float64 (torch.tensor([0, 4]) is int64).
      await snippetCheck(resizeLaw('bicubic'), o, { h: 1, w: 3, c: 1, h2: 2, w2: 5, x: { values: [0, 4, -4] } }),
      await snippetCheck(
        resizeLaw('area'),
        o,
        one(resizeArb, (r) => 'seed' in r.x),
      ),
      await snippetCheck(nearestLaw, o, one(nearestArb)),
      await snippetCheck(
        attentionLaw,
        o,
        one(attentionArb, (a) => a.mask.kind === 'block-causal' && a.mask.transport === 'bool' && 'values' in a.q),
      ),
      await snippetCheck(attentionLaw, o, one(attentionArb, seededRows, 400)),
      await snippetCheck(
        convLaw(false),
        o,
        one(convArb(false), (c) => c.bias !== undefined),
      ),
      await snippetCheck(convLaw(true), o, one(convArb(true))),
      await snippetCheck(layerNormLaw, o, one(layerNormArb)),
      await snippetCheck(
        transformerLaw,
        o,
        one(transformerArb, (t) => t.masked),
      ),
      await snippetCheck(
        reconstructLaw,
        o,
        one(reconstructArb, (r) => r.bias !== undefined && r.z.length > 1),
      ),
    ];
    const t1 = performance.now();
    const run = spawnSync(o.info.python, ['-c', RUN_SNIPPETS], { input: JSON.stringify(checks.map((c) => c.source)), encoding: 'utf8', maxBuffer: 1 << 28 });
    console.log(`[pytorch] snippets: ${checks.length} run in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
    if (run.status !== 0) throw new Error(`the snippets failed in ${o.info.python}: ${run.stderr}`);
    const outputs = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as number[]);
    checks.forEach((c, i) => {
      const diff = outputs[i].length === c.want.data.length ? maxAbsDiff(outputs[i], c.want.data) : Infinity;
      if (!(diff <= c.tol)) throw new Error(`${c.op}: the snippet printed ${outputs[i].length} values differing by ${diff} from the oracle's ${c.want.data.length} (tolerance ${c.tol}):\n${c.source}`);
    });
  });
});
