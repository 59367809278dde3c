/**
 * Error propagation (docs/math.md §6): E1 and E2 on random instances, and the composed bound of
 * the fast VAR pipeline (every attention low-rank) against the exact pipeline.
 * @module
 */
import * as fc from 'fast-check';
import {
  attention,
  bicubicLambda,
  bicubicStencil,
  decode,
  decoderLite,
  e1Bound,
  e2Bound,
  featureMap,
  keyLimits,
  logitPerturbation,
  matrix,
  maxAbs,
  maxAbsDiff,
  scalePyramid,
  upInterpolate,
  varGenerate,
  varModel,
  type AttentionFn,
  type AttentionInput,
  type DecoderLite,
  type FeatureMap,
  type Matrix,
  type ScalePyramid,
  type VarModel,
} from '../spec/index.js';
import { certifiedLowRankAttention, declaredLowRankBound, inputBeta, lowRankPolynomial } from '../spec/certificate.js';
import { e1L1Bound, e2L1Bound } from '../spec/bounds.js';
import { tracePipelineBound, traceDecoderBound, type FastAttention } from '../spec/pipeline-bound.js';
import { attentionInputArb, pyramidArb } from './arbitraries.js';
import { law, roundoff, type Law } from './law.js';

/** D̃⁻¹ÃV with Ã = A ∘ (1 + E), E given per entry (|E| ≤ ε), on the allowed keys. */
function perturbedAttention(x: AttentionInput, e: (i: number, j: number) => number): Matrix {
  const limits = keyLimits(x.mask, x.q.rows, x.k.rows);
  const d = x.q.cols;
  const dv = x.v.cols;
  const out = matrix(x.q.rows, dv);
  for (let i = 0; i < x.q.rows; i++) {
    const logits: number[] = [];
    for (let j = 0; j < limits[i]; j++) {
      let dot = 0;
      for (let t = 0; t < d; t++) dot += x.q.data[i * d + t] * x.k.data[j * d + t];
      logits.push(x.scale * dot);
    }
    const mx = Math.max(...logits);
    let den = 0;
    logits.forEach((z, j) => {
      const a = Math.exp(z - mx) * (1 + e(i, j));
      den += a;
      for (let c = 0; c < dv; c++) out.data[i * dv + c] += a * x.v.data[j * dv + c];
    });
    for (let c = 0; c < dv; c++) out.data[i * dv + c] /= den;
  }
  return out;
}

function perturb(m: Matrix, by: readonly number[], size: number): Matrix {
  return { ...m, data: m.data.map((x, k) => x + size * by[k % by.length]) };
}

/** The largest β = s·d·‖Q‖∞‖K‖∞ over the exact pipeline's attention calls. */
function pipelineBeta(model: VarModel): number {
  let beta = 0;
  varGenerate(model, {
    attend: (x) => {
      beta = Math.max(beta, inputBeta(x));
      return attention(x);
    },
  });
  return beta;
}

/**
 * A stylised VAR model (D = 4, 2 layers) whose largest attention β is driven to `target`:
 * logits scale with qkGain², so three fixed-point steps gain ← gain·√(target/β) land within a
 * few percent (the inputs of later scales move with the gain too).
 */
export function modelAtBeta(p: ScalePyramid, seed: number, target: number): { model: VarModel; beta: number } {
  let gain = 1;
  let beta = pipelineBeta(varModel(p, { D: 4, layers: 2, seed }));
  for (let it = 0; it < 3 && beta > 0; it++) {
    gain *= Math.sqrt(target / beta);
    beta = pipelineBeta(varModel(p, { D: 4, layers: 2, seed, qkGain: gain }));
  }
  return { model: varModel(p, { D: 4, layers: 2, seed, qkGain: gain }), beta };
}

/** A decoder-lite (C = 4) whose attention has β = target on the exact f̂ (β scales exactly with gain²). */
export function decoderAtBeta(fhat: FeatureMap, c: number, seed: number, target: number): DecoderLite {
  let beta = 0;
  decode(fhat, decoderLite(c, 4, seed), (x) => {
    beta = inputBeta(x);
    return attention(x);
  });
  return decoderLite(c, 4, seed, beta > 0 ? Math.sqrt(target / beta) : 1);
}

/**
 * The kernel's own certificate per output entry, with the sharp E1 (docs/math.md §6 "Sharp
 * forms"): weights scaled by factors in [1−ε, 1+ε] move p by ‖p̃ − p‖₁ ≤ 2(√a − 1)/(√a + 1),
 * a = (1+ε)/(1−ε), so column c errs by ≤ (√a − 1)/(√a + 1)·(max V_c − min V_c) over the row's
 * allowed keys. ε is the certified relative error of the polynomial the kernel uses
 * (`lowRankPolynomial`); never larger than `declaredLowRankBound(δ)`, which uses 2ε/(1−ε) and
 * the whole of V. (Private until spec/certificate.ts declares the sharp form itself.)
 */
export function sharpLowRankDeclared(delta: number): (x: AttentionInput) => Float64Array {
  return (x) => {
    const eps = lowRankPolynomial(x, delta).relativeError;
    if (!(eps < 1)) return new Float64Array(x.q.rows * x.v.cols).fill(Infinity);
    const sa = Math.sqrt((1 + eps) / (1 - eps));
    const f = (sa - 1) / (sa + 1);
    const limits = keyLimits(x.mask, x.q.rows, x.k.rows);
    const dv = x.v.cols;
    const out = new Float64Array(x.q.rows * dv);
    // Column ranges over key prefixes (block-causal rows attend to a prefix of the keys).
    const lo = new Float64Array(dv).fill(Infinity);
    const hi = new Float64Array(dv).fill(-Infinity);
    const order = Array.from({ length: x.q.rows }, (_, i) => i).sort((a, b) => limits[a] - limits[b]);
    let j = 0;
    for (const i of order) {
      for (; j < limits[i]; j++) {
        for (let c = 0; c < dv; c++) {
          lo[c] = Math.min(lo[c], x.v.data[j * dv + c]);
          hi[c] = Math.max(hi[c], x.v.data[j * dv + c]);
        }
      }
      for (let c = 0; c < dv; c++) out[i * dv + c] = f * (hi[c] - lo[c]);
    }
    return out;
  };
}

/** The certified low-rank attention for δ declaring `declaredLowRankBound(δ)` (one number per call, as spec/certificate.ts does today). */
export function certificateLowRankFast(delta: number): FastAttention {
  return { attend: (x) => certifiedLowRankAttention(x, delta), declared: declaredLowRankBound(delta) };
}

/** The certified low-rank attention for δ, declaring its own certificate (sharp E1, per entry) on every call. */
export function lowRankFast(delta: number): FastAttention {
  const declared = sharpLowRankDeclared(delta);
  return { attend: (x) => certifiedLowRankAttention(x, delta), declared: (x) => declared(x) };
}

/** Pyramids of 2–4 scales with sides ≤ maxSide: every call after the first scale attends to ≥ 2 keys. */
function multiScalePyramidArb(maxSide: number): fc.Arbitrary<ScalePyramid> {
  return fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 3 }).map((steps) => {
    const sides = [1];
    for (const s of steps) sides.push(Math.min(maxSide, sides[sides.length - 1] + s));
    return scalePyramid({ sides });
  });
}

/** One case of the composition law: a pyramid, a weight seed, δ and the β the weights are driven to. */
export type CompositionCase = [ScalePyramid, number, number, number];

/** Inputs of the composition law (sides ≤ 3 keep a case near 30 ms; the report samples sides ≤ 4). */
export function compositionCaseArb(maxSide = 3): fc.Arbitrary<CompositionCase> {
  return fc.tuple(multiScalePyramidArb(maxSide), fc.integer({ min: 1, max: 100_000 }), fc.constantFrom(1e-2, 1e-3, 1e-5), fc.double({ min: 1, max: 4, noNaN: true }));
}

/** What one composition case measured. */
export interface CompositionMeasurement {
  /** β actually reached by the transformer's calls. */
  beta: number;
  /** ‖f̂_fast − f̂‖∞ and its a-posteriori bound. */
  fhat: { error: number; bound: number };
  /** ‖image_fast − image‖∞ and its bound. */
  image: { error: number; bound: number };
  /** The worst entry over f̂, the transformer outputs and the image, by |Δ|/(bound + slack). */
  pipeline: { error: number; bound: number; detail: string };
  /** The worse of {@link CompositionMeasurement.pipeline} and the per-call declaration check. */
  worst: { error: number; bound: number; detail: string };
  /**
   * The largest declared bound of any call, the largest measured ‖attend(x) − Att(x)‖∞, and the
   * worst entry of a call by |attend − Att|/(declared + slack).
   */
  kernel: { declared: number; actual: number; worst: { error: number; bound: number; detail: string } };
}

/** Run one composition case with `fast` (a law kernel, a mutant or a witness) against the exact pipeline. */
export function measureComposition([p, seed, delta, target]: CompositionCase, fast: (delta: number) => FastAttention = lowRankFast): CompositionMeasurement {
  const { model, beta } = modelAtBeta(p, seed, target);
  const inner = fast(delta);
  const kernel = { declared: 0, actual: 0, worst: { error: 0, bound: 1, detail: '' } };
  let last: { x: AttentionInput; diff: Float64Array } | undefined;
  const f: FastAttention = {
    attend: (x) => {
      const out = inner.attend(x);
      const ex = attention(x);
      last = { x, diff: out.data.map((u, e) => Math.abs(u - ex.data[e])) as Float64Array };
      kernel.actual = Math.max(kernel.actual, maxAbs(last.diff));
      return out;
    },
    declared: (x, site) => {
      const d = inner.declared(x, site);
      kernel.declared = Math.max(kernel.declared, typeof d === 'number' ? d : maxAbs(d));
      // The trace asks right after attending on the same input: check the declaration per entry.
      if (last?.x === x) {
        const dv = x.v.cols;
        const sl = roundoff(64 * (x.k.rows + 16), maxAbs(x.v.data));
        last.diff.forEach((err, e) => {
          const b = (typeof d === 'number' ? d : d.length === x.q.rows ? d[Math.floor(e / dv)] : d[e]) + sl;
          if (!(err / b <= kernel.worst.error / kernel.worst.bound))
            kernel.worst = { error: err, bound: b, detail: `kernel exceeds its declared bound at ${site.stage} scale ${site.scale} layer ${site.layer}, entry ${e}` };
        });
      }
      return d;
    },
  };
  const exact = varGenerate(model);
  const trace = tracePipelineBound(model, f);
  const dec = decoderAtBeta(exact.fhat, model.c, seed + 1, target);
  const imgExact = decode(exact.fhat, dec);
  const dt = traceDecoderBound(trace.run.fhat, trace.fhatError, dec, f);
  // The bound is exact arithmetic on the computed trajectory; the float64 exact run adds its
  // own rounding (a few hundred operations per entry, on values of this size).
  const slack = roundoff(1e4, maxAbs(exact.fhat.data) + maxAbs(imgExact.data) + maxAbs(exact.outputs.data));
  let worst = { error: 0, bound: slack, detail: '' };
  const scan = (what: string, got: ArrayLike<number>, want: ArrayLike<number>, bound: ArrayLike<number>): void => {
    for (let e = 0; e < got.length; e++) {
      const err = Math.abs(got[e] - want[e]);
      const b = bound[e] + slack;
      if (!(err / b <= worst.error / worst.bound)) worst = { error: err, bound: b, detail: `${what}[${e}], β = ${beta.toFixed(2)}, δ = ${delta}` };
    }
  };
  scan('f̂', trace.run.fhat.data, exact.fhat.data, trace.fhatError.data);
  scan('outputs', trace.run.outputs.data, exact.outputs.data, trace.outputsError.data);
  scan('image', dt.image.data, imgExact.data, dt.imageError.data);
  const pipeline = worst;
  if (!(kernel.worst.error / kernel.worst.bound <= worst.error / worst.bound)) worst = kernel.worst;
  return {
    beta,
    fhat: { error: maxAbsDiff(trace.run.fhat.data, exact.fhat.data), bound: trace.fhat },
    image: { error: maxAbsDiff(dt.image.data, imgExact.data), bound: dt.bound },
    pipeline,
    worst,
    kernel,
  };
}

/**
 * The composition law: the fast VAR pipeline (every attention `fast`, weights driven to
 * β ∈ [1, 4]) stays, entry by entry, within the a-posteriori bound of the exact pipeline on
 * the transformer outputs, f̂ (Phase 2) and the decoded image (Phase 3). Parameterised by the
 * fast attention so the meta-tests can plug in mutants.
 */
export function compositionLaw(fast: (delta: number) => FastAttention = lowRankFast, label = 'all attention low-rank'): Law<CompositionCase> {
  return law({
    id: `bounds.composition-${label.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`,
    name: `composition: fast VAR pipeline (${label}, β ∈ [1, 4]) within its a-posteriori bound, entrywise, Phase 1–3`,
    cites: 'docs/math.md §6 (composition), §7',
    arbitrary: compositionCaseArb(),
    check: (c) => measureComposition(c, fast).worst,
    numRuns: 100,
  });
}

/** Laws of docs/math.md §6. */
export const boundLaws: Law<unknown>[] = [
  law({
    id: 'bounds.e1-a-a-le-a-d',
    name: 'E1: |Ã − A| ≤ εA ⇒ ‖D̃⁻¹ÃV − D⁻¹AV‖∞ ≤ 2(√a−1)/(√a+1)·‖V‖∞, a = (1+ε)/(1−ε) (sharp)',
    cites: 'docs/math.md §6 E1',
    arbitrary: fc.tuple(attentionInputArb(), fc.double({ min: 0, max: 0.9, noNaN: true }), fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 1, maxLength: 97 })),
    check: ([x, eps, signs]) => {
      const got = perturbedAttention(x, (i, j) => eps * signs[(i * 31 + j) % signs.length]);
      const vInf = maxAbs(x.v.data);
      return { error: maxAbsDiff(got.data, attention(x).data), bound: e1Bound(eps, vInf) + roundoff(16 * (x.k.rows + 4), vInf) };
    },
  }),
  law({
    id: 'bounds.e2-logits-moved-by-le-att',
    name: 'E2: logits moved by ≤ η ⇒ ‖Att′ − Att‖∞ ≤ 2tanh(η/2)‖V‖∞ + ‖V′ − V‖∞ (sharp)',
    cites: 'docs/math.md §6 E2',
    arbitrary: fc.tuple(
      attentionInputArb(),
      fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 1, maxLength: 61 }),
      fc.double({ min: 0, max: 0.5, noNaN: true }),
      fc.double({ min: 0, max: 0.5, noNaN: true }),
      fc.double({ min: 0, max: 0.5, noNaN: true }),
    ),
    check: ([x, dir, sq, sk, sv]) => {
      const q2 = perturb(x.q, dir, sq);
      const k2 = perturb(x.k, dir.slice().reverse(), sk);
      const v2 = perturb(x.v, dir, sv);
      const y = { ...x, q: q2, k: k2, v: v2 };
      const eta = logitPerturbation(x.scale, x.q.cols, maxAbsDiff(q2.data, x.q.data), maxAbs(x.k.data), maxAbs(q2.data), maxAbsDiff(k2.data, x.k.data));
      const vInf = maxAbs(x.v.data);
      return { error: maxAbsDiff(attention(y).data, attention(x).data), bound: e2Bound(eta, vInf, maxAbsDiff(v2.data, x.v.data)) + roundoff(32 * (x.k.rows + 4), vInf + sv) };
    },
  }),
  law({
    id: 'bounds.e1-is-attained-weights-1-on',
    name: 'E1 is attained: weights ×(1+ε) on a key of mass 1/(1+√a), ×(1−ε) on the other, reach ≥ 1/4 of the sharp bound and never exceed it',
    cites: 'docs/math.md §6 (sharp forms)',
    arbitrary: fc.tuple(fc.double({ min: 1e-6, max: 0.95, noNaN: true }), fc.double({ min: 0.1, max: 10, noNaN: true })),
    check: ([eps, span]) => {
      const a = (1 + eps) / (1 - eps);
      const m = 1 / (1 + Math.sqrt(a));
      // Two keys with softmax masses m and 1 − m; values 0 and `span`.
      const x = { q: matrix(1, 1, [1]), k: matrix(2, 1, [Math.log(m / (1 - m)), 0]), v: matrix(2, 1, [span, 0]), scale: 1, mask: { kind: 'none' as const } };
      const err = maxAbsDiff(perturbedAttention(x, (_, j) => (j === 0 ? eps : -eps)).data, attention(x).data);
      const bound = 0.5 * e1L1Bound(eps) * span;
      // Two-sided: the extreme never exceeds the bound (it is the sup), and reaches ≥ 1/4 of it.
      if (!(err <= bound + roundoff(16, span))) return { error: err, bound: bound + roundoff(16, span), detail: `ε = ${eps}: the extreme exceeds the bound` };
      return { error: bound, bound: 4 * err, detail: `ε = ${eps}: bound ${bound}, attained ${err}` };
    },
  }),
  law({
    id: 'bounds.e2-is-attained-logits-on-a',
    name: 'E2 is attained: logits +η on a key of mass 1/(1+e^η), −η on the other, reach ≥ 1/4 of 2tanh(η/2)‖V‖∞ and never exceed it',
    cites: 'docs/math.md §6 (sharp forms)',
    arbitrary: fc.tuple(fc.double({ min: 1e-6, max: 20, noNaN: true }), fc.double({ min: 0.1, max: 10, noNaN: true })),
    check: ([eta, vInf]) => {
      const m = 1 / (1 + Math.exp(eta));
      const z = Math.log(m / (1 - m));
      const x = { q: matrix(1, 1, [1]), k: matrix(2, 1, [z, 0]), v: matrix(2, 1, [vInf, -vInf]), scale: 1, mask: { kind: 'none' as const } };
      const y = { ...x, k: matrix(2, 1, [z + eta, -eta]) };
      const err = maxAbsDiff(attention(y).data, attention(x).data);
      const bound = e2Bound(eta, vInf, 0);
      if (!(err <= bound + roundoff(32, vInf))) return { error: err, bound: bound + roundoff(32, vInf), detail: `η = ${eta}: the extreme exceeds the bound` };
      return { error: bound, bound: 4 * err, detail: `η = ${eta}: bound ${bound} (ℓ1 ${e2L1Bound(eta)}), attained ${err}` };
    },
  }),
  compositionLaw(),
];

/** Exact attention plus a fixed perturbation of chosen output entries, calls numbered in KV-cache order. */
function perturbedCalls(perturb: ReadonlyMap<number, Float64Array>): AttentionFn {
  let call = 0;
  return (x) => {
    const out = attention(x);
    const p = perturb.get(call++);
    if (p) for (let e = 0; e < p.length; e++) out.data[e] += p[e];
    return out;
  };
}

/**
 * Tightness witnesses (docs/math.md §6–7): inputs that reach a stated fraction of a composed
 * bound, so that a bound that is merely "finite" cannot pass.
 */
export const compositionWitnessLaws: Law<unknown>[] = [
  law({
    id: 'bounds.composition-witness-a-kernel-erring-by',
    name: 'composition witness: a kernel erring by its declared τ with the worst signs reaches ≥ 1/100 of the layer-stack and the pipeline bound (and never exceeds either)',
    cites: 'docs/math.md §6 (composition), §7',
    arbitrary: fc.tuple(multiScalePyramidArb(2), fc.integer({ min: 1, max: 100_000 }), fc.double({ min: 1, max: 4, noNaN: true }), fc.constantFrom(1e-7, 1e-5)),
    check: ([p, seed, target, tau]) => {
      const { model } = modelAtBeta(p, seed, target);
      // The bound for a kernel that declares τ on every call, traced along the exact run.
      const trace = tracePipelineBound(model, { attend: attention, declared: () => tau });
      const argmax = (xs: ArrayLike<number>): number => {
        let o = 0;
        for (let e = 1; e < xs.length; e++) if (xs[e] > xs[o]) o = e;
        return o;
      };
      // Two targets: the largest f̂ bound (the pipeline) and the largest transformer-output bound
      // (the layer stack of one scale, fed by the earlier scales).
      const targets = [
        { what: 'f̂', bound: trace.fhatError.data, read: (r: ReturnType<typeof varGenerate>) => r.fhat.data },
        { what: 'outputs', bound: trace.outputsError.data, read: (r: ReturnType<typeof varGenerate>) => r.outputs.data },
      ].map((t) => ({ ...t, o: argmax(t.bound) }));
      const base = varGenerate(model);
      // Signs by finite differences: nudge one entry of one call by +τ, watch each target.
      const perturb = targets.map(() => new Map<number, Float64Array>());
      trace.calls.forEach((call, c) => {
        const size = p.blocks[call.site.scale] * model.D;
        const signs = targets.map(() => new Float64Array(size));
        for (let e = 0; e < size; e++) {
          const one = new Float64Array(size);
          one[e] = tau;
          const run = varGenerate(model, { attend: perturbedCalls(new Map([[c, one]])) });
          targets.forEach((t, k) => {
            signs[k][e] = (t.read(run)[t.o] >= t.read(base)[t.o] ? 1 : -1) * tau;
          });
        }
        perturb.forEach((m, k) => m.set(c, signs[k]));
      });
      let worst = { error: 0, bound: 1, detail: '' };
      for (const [k, t] of targets.entries()) {
        const witness = t.read(varGenerate(model, { attend: perturbedCalls(perturb[k]) }));
        const b0 = t.read(base);
        const slack = roundoff(1e4, maxAbs(b0));
        // The bound must hold everywhere, and at o the witness must reach 1/100 of it.
        for (let e = 0; e < b0.length; e++) {
          const err = Math.abs(witness[e] - b0[e]);
          if (!(err <= t.bound[e] + slack)) return { error: err, bound: t.bound[e] + slack, detail: `witness exceeds the bound at ${t.what}[${e}]` };
        }
        const reached = Math.abs(witness[t.o] - b0[t.o]);
        const o = { error: t.bound[t.o] / 100, bound: reached, detail: `witness reaches ${reached} of the bound ${t.bound[t.o]} at ${t.what}[${t.o}] (ratio ${(reached / t.bound[t.o]).toFixed(3)})` };
        if (!(o.error / o.bound <= worst.error / worst.bound)) worst = o;
      }
      return worst;
    },
    numRuns: 100,
  }),
  law({
    id: 'bounds.bicubic-witness-at-t-eq-1',
    name: 'bicubic witness: at t = ½ (6 → 9, output 4) the sign pattern of the weights reaches Λ_a² exactly',
    cites: 'docs/math.md §6 E3, §7',
    arbitrary: fc.double({ min: -1, max: 0, noNaN: true }),
    check: (a) => {
      // x = (6/9)(4 + ½) − ½ = 2.5: t = ½, taps on rows 1..4 (no clamping); Σ|w| = Λ_a per axis.
      const st = bicubicStencil(6, 9, 4, a);
      const x = featureMap(6, 6, 1);
      st.index.forEach((r, p) =>
        st.index.forEach((c, q) => {
          x.data[r * 6 + c] = Math.sign(st.weight[p] * st.weight[q]);
        }),
      );
      const reached = Math.abs(upInterpolate(x, 9, 9, { a }).data[4 * 9 + 4]);
      const lam2 = bicubicLambda(a) ** 2;
      // Reaches Λ_a² up to rounding (16 taps), and the stencil really is the t = ½ one.
      const tHalf = Math.abs(st.weight[1] - (4 - a) / 8) + Math.abs(st.weight[0] - a / 8);
      return { error: Math.abs(reached - lam2) + tHalf, bound: 64 * Number.EPSILON * lam2 };
    },
  }),
];
