/**
 * Adversarial inputs for the low-rank certificates (docs/math.md §8): the row structure that
 * maximises the rounding of the feature dot product — a query at +b, keys at about −b (every
 * logit ≈ −β), values of alternating sign — and random inputs with the same logit bound β.
 * The same rows, with the keys spread further below −β and two-point values (`jitter`,
 * `twoPoint`), are where a polynomial's relative error takes both signs at nearly its certified
 * size: the E1 two-point extreme of docs/math.md §6 "Sharp forms" (`varcheck fuzz` climbs from them).
 * A pure function of a seeded generator, shared by the properties, `bench/bounds.bench.ts` and the
 * guided search of `varcheck fuzz`.
 * @module
 */
import * as fc from 'fast-check';
import { attentionInput, blockCausalMask, featurePair, matrix, mulberry32, NO_MASK, scalePyramid, type AttentionInput, type ExpPolynomial, type Matrix } from '../spec/index.js';

/** Settings of {@link adversarialInput}. */
export interface AdversarialSettings {
  /** Largest logit bound β = s·d·B² drawn. @defaultValue 36 */
  maxBeta?: number;
  /** Largest key count. @defaultValue 24 */
  maxL?: number;
  /** Share of adversarial-row inputs (the rest is random structure). @defaultValue 0.6 */
  rowShare?: number;
  /** Use exactly this β instead of drawing it from [0, maxBeta). */
  beta?: number;
  /** Keys of a row input are −b·(1 − jitter·U) per coordinate (U uniform): its logits lie in [−β, −(1 − jitter)β]. @defaultValue 0.01 */
  jitter?: number;
  /** Values of a row input exactly ±amp (the two-point extreme of E1) instead of ±amp·(1 − 0.1U). @defaultValue false */
  twoPoint?: boolean;
  /** Largest |entry| of Q and K: b is capped at it and the scale s raised so that s·d·b² is still β. @defaultValue no cap (s = 1/d) */
  maxEntry?: number;
}

/** Which structure an adversarial input has, and its logit bound. */
export interface AdversarialCase {
  /** The input. */
  input: AttentionInput;
  /** `row` (query +b, keys ≈ −b, alternating values) or `random`. */
  structure: 'row' | 'random';
  /** The β it was drawn with (s·d·B²). */
  beta: number;
}

/** One adversarial case from a uniform generator on [0, 1). */
export function adversarialInput(rand: () => number, settings: AdversarialSettings = {}): AdversarialCase {
  const { maxBeta = 36, maxL = 24, rowShare = 0.6, jitter = 0.01, twoPoint = false, maxEntry = Infinity } = settings;
  const beta = settings.beta ?? maxBeta * rand();
  // s·d·b² = β: b = √β with s = 1/d, or b = maxEntry with s·d = β/b² when √β is larger.
  const b = Math.min(Math.sqrt(beta), maxEntry);
  const scaleFor = (d: number): number | undefined => (b < Math.sqrt(beta) ? beta / (d * b * b) : undefined);
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  if (rand() < rowShare) {
    // d coordinates all equal: s⟨q, k⟩ = s·d·b·(−b)(1 − jitter·U) = −β(1 − jitter·U).
    const d = int(1, 3);
    const lk = int(1, maxL);
    const lq = int(1, 3);
    const dv = int(1, 2);
    const amp = rand() < 0.5 ? 1 : 0.1 + 4 * rand();
    const q = matrix(
      lq,
      d,
      Array.from({ length: lq * d }, (_, t) => b * (Math.floor(t / d) === 0 ? 1 : 1 - 0.02 * rand())),
    );
    const k = matrix(
      lk,
      d,
      Array.from({ length: lk * d }, () => -b * (1 - jitter * rand())),
    );
    const v = matrix(
      lk,
      dv,
      Array.from({ length: lk * dv }, (_, t) => (Math.floor(t / dv) % 2 === 0 ? amp : -amp) * (twoPoint ? 1 : 1 - 0.1 * rand())),
    );
    return { input: attentionInput(q, k, v, { scale: scaleFor(d) }), structure: 'row', beta };
  }
  const d = int(1, 4);
  const dv = int(1, 3);
  const masked = rand() < 0.3;
  const pyr = scalePyramid({ sides: [1, int(1, 2), int(2, 3)] });
  const lk = masked ? pyr.L : int(1, maxL);
  const lq = masked ? pyr.L : int(1, 8);
  const fill = (rows: number, cols: number, B: number) =>
    matrix(
      rows,
      cols,
      Array.from({ length: rows * cols }, () => (2 * rand() - 1) * B),
    );
  // s = 1/d, so s·d·B² = B² = β with B = b (or s raised where b was capped).
  return {
    input: attentionInput(fill(lq, d, b), fill(lk, d, b), fill(lk, dv, 1 + 3 * rand()), { scale: scaleFor(d), mask: masked ? blockCausalMask(pyr) : NO_MASK }),
    structure: 'random',
    beta,
  };
}

/** fast-check arbitrary over {@link adversarialInput} (shrinks by seed only). */
export function adversarialArb(settings: AdversarialSettings = {}): fc.Arbitrary<AdversarialCase> {
  return fc.integer({ min: 1, max: 2 ** 31 - 1 }).map((seed) => adversarialInput(mulberry32(seed), settings));
}

const f32 = Math.fround;

/**
 * The spec's low-rank formula (no mask) with the key sums, the dot products and the division
 * rounded to float32 (features computed in float64, rounded once): a float32 evaluation whose
 * error the float32 rounding profile must bound (the witness of docs/math.md §8).
 */
export function lowRankFloat32(x: AttentionInput, p: ExpPolynomial): Matrix {
  const { u1, u2 } = featurePair(x, p);
  const r = u1.cols;
  const dv = x.v.cols;
  const out = matrix(x.q.rows, dv);
  const S = new Float32Array(r * (dv + 1));
  for (let j = 0; j < x.k.rows; j++)
    for (let m = 0; m < r; m++) {
      const u = f32(u2.data[j * r + m]);
      for (let c = 0; c < dv; c++) S[m * (dv + 1) + c] = f32(S[m * (dv + 1) + c] + f32(u * f32(x.v.data[j * dv + c])));
      S[m * (dv + 1) + dv] = f32(S[m * (dv + 1) + dv] + u);
    }
  for (let i = 0; i < x.q.rows; i++) {
    const acc = new Float64Array(dv + 1);
    for (let m = 0; m < r; m++) for (let c = 0; c <= dv; c++) acc[c] = f32(acc[c] + f32(f32(u1.data[i * r + m]) * S[m * (dv + 1) + c]));
    for (let c = 0; c < dv; c++) out.data[i * dv + c] = f32(acc[c] / acc[dv]);
  }
  return out;
}
