/**
 * fast-check arbitraries for the spec's inputs: matrices with bounded entries, feature maps,
 * scale pyramids, attention inputs with and without block-causal masks.
 * @module
 */
import * as fc from 'fast-check';
import {
  attentionInput,
  blockCausalMask,
  featureMap,
  matrix,
  mulberry32,
  NO_MASK,
  scalePyramid,
  type AttentionInput,
  type FeatureMap,
  type Mask,
  type Matrix,
  type ScalePyramid,
} from '../spec/index.js';

/** Entries uniform-ish on [−B, B] (fast-check's doubles, biased to edge cases). */
export function entries(n: number, B: number): fc.Arbitrary<number[]> {
  return fc.array(fc.double({ min: -B, max: B, noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n });
}

/** A rows×cols float64 matrix with ‖M‖∞ ≤ B. */
export function matrixArb(rows: number, cols: number, B: number): fc.Arbitrary<Matrix> {
  return entries(rows * cols, B).map((e) => matrix(rows, cols, e));
}

/** An h×w×c feature map with entries in [−B, B]. */
export function featureMapArb(h: number, w: number, c: number, B = 4): fc.Arbitrary<FeatureMap> {
  return entries(h * w * c, B).map((e) => featureMap(h, w, c, e));
}

/** Feature maps of random small sizes (1..maxSide, 1..maxC channels). */
export function anyFeatureMap(maxSide = 6, maxC = 2, B = 4): fc.Arbitrary<FeatureMap> {
  return fc.record({ h: fc.integer({ min: 1, max: maxSide }), w: fc.integer({ min: 1, max: maxSide }), c: fc.integer({ min: 1, max: maxC }) }).chain(({ h, w, c }) => featureMapArb(h, w, c, B));
}

/** A target size 1..max for resizing. */
export const targetSide = (max = 9): fc.Arbitrary<number> => fc.integer({ min: 1, max });

/** Square scale pyramids: sides start at 1 and are nondecreasing, up to `maxScales` scales. */
export function pyramidArb(maxScales = 4, maxSide = 4): fc.Arbitrary<ScalePyramid> {
  return fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 0, maxLength: maxScales - 1 }).map((steps) => {
    const sides = [1];
    for (const s of steps) sides.push(Math.min(maxSide, sides[sides.length - 1] + s));
    return scalePyramid({ sides });
  });
}

/** Rectangular pyramids (nondecreasing heights and widths independently). */
export function rectPyramidArb(maxScales = 4, maxSide = 4): fc.Arbitrary<ScalePyramid> {
  const grow = fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })), { minLength: 0, maxLength: maxScales - 1 });
  return grow.map((steps) => {
    const hs = [1];
    const ws = [1];
    for (const [a, b] of steps) {
      hs.push(Math.min(maxSide, hs[hs.length - 1] + a));
      ws.push(Math.min(maxSide, ws[ws.length - 1] + b));
    }
    return scalePyramid({ heights: hs, widths: ws });
  });
}

/** Settings of a random attention input. */
export interface AttentionSettings {
  /** Entry bound B of Q, K, V. */
  B?: number;
  /** Largest head dimension d. */
  maxD?: number;
  /** Largest value dimension d_v. */
  maxDv?: number;
  /** Largest token count (unmasked case). */
  maxL?: number;
  /** Smallest key count (unmasked case). @defaultValue 1 */
  minL?: number;
  /** Which masks to draw. */
  masks?: readonly ('none' | 'block-causal')[];
}

/** Random attention inputs, self-attention over a pyramid when block-causal, scale 1/d. */
export function attentionInputArb(settings: AttentionSettings = {}): fc.Arbitrary<AttentionInput> {
  const { B = 2, maxD = 4, maxDv = 3, maxL = 12, minL = 1, masks = ['none', 'block-causal'] } = settings;
  return fc
    .record({
      mask: fc.constantFrom(...masks),
      lq: fc.integer({ min: 1, max: maxL }),
      lk: fc.integer({ min: Math.min(minL, maxL), max: maxL }),
      d: fc.integer({ min: 1, max: maxD }),
      dv: fc.integer({ min: 1, max: maxDv }),
      pyr: pyramidArb(4, 3),
    })
    .chain(({ mask, lq, lk, d, dv, pyr }) => {
      const [rq, rk] = mask === 'none' ? [lq, lk] : [pyr.L, pyr.L];
      return fc.tuple(matrixArb(rq, d, B), matrixArb(rk, d, B), matrixArb(rk, dv, B)).map(([q, k, v]) => attentionInput(q, k, v, { mask: mask === 'none' ? NO_MASK : blockCausalMask(pyr) }));
    });
}

/**
 * Where the generators reach: `small` (the classic small random inputs), `default` (plus the hard
 * regime and up to 8,192 keys — what `verify`, the tests and `fuzz` run), `deep` (plus VAR-1024 and
 * geometric(128), L = 21,845: `fuzz --deep`, `verify --deep`).
 */
export type Reach = 'small' | 'default' | 'deep';

/** The most keys a generated input has at each reach. */
export const MAX_KEYS: Readonly<Record<Reach, number>> = { small: 1200, default: 8192, deep: 21_845 };

/**
 * Entries from a seed: a structured input is a pure function of small parameters (sizes, β, a
 * seed), so fast-check shrinks the parameters — not 100,000 doubles — and a case replays exactly.
 */
function filled(rows: number, cols: number, seed: number, f: (rand: () => number, i: number, c: number) => number): Matrix {
  const rand = mulberry32(seed);
  const m = matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let c = 0; c < cols; c++) m.data[i * cols + c] = f(rand, i, c);
  return m;
}

/**
 * Pyramids with 8–13 scales and at most `maxKeys` tokens: the VAR presets and geometric pyramids
 * that fit (VAR-1024's 14 scales and geometric(128) at `deep`), and random nondecreasing ones —
 * square or rectangular, sides growing by `minStep`..`minStep + 3` per scale, the last steps cut
 * back until the pyramid fits (no filter: a rejection loop could hang).
 */
export function manyScalePyramidArb(maxKeys: number, minStep = 0): fc.Arbitrary<ScalePyramid> {
  const fixed = [...(['var-256', 'var-512', 'var-1024'] as const).map((p) => scalePyramid(p)), ...[16, 32, 64, 128].map((n) => scalePyramid({ geometric: n }))].filter(
    (p) => p.L <= maxKeys && (minStep === 0 || p.L > 500),
  );
  const random = fc
    .record({ scales: fc.integer({ min: 8, max: 13 }), steps: fc.array(fc.integer({ min: minStep, max: minStep + 3 }), { minLength: 12, maxLength: 12 }), rect: fc.boolean() })
    .map(({ scales, steps, rect }) => {
      const st = steps.slice(0, scales - 1);
      const wst = rect ? st.map((x, k) => steps[(k + 5) % 12]) : st;
      const build = (): ScalePyramid => {
        const hs = [1];
        const ws = [1];
        for (let k = 1; k < scales; k++) {
          hs.push(hs[k - 1] + st[k - 1]);
          ws.push(ws[k - 1] + wst[k - 1]);
        }
        return scalePyramid({ heights: hs, widths: ws });
      };
      let p = build();
      for (let k = scales - 2; p.L > maxKeys && k >= 0; p = build()) {
        if (st[k] > 0 || wst[k] > 0) [st[k], wst[k]] = [Math.max(0, st[k] - 1), Math.max(0, wst[k] - 1)];
        else k--;
      }
      return p;
    });
  return fixed.length > 0 ? fc.oneof(fc.constantFrom(...fixed), random) : random;
}

/** Settings of {@link hardAttentionArb}. */
export interface HardSettings {
  /** Largest logit bound β = s·‖q‖·‖k‖ drawn (past the float ceiling for exact kernels). */
  maxBeta: number;
  /** Masks to draw. */
  masks: readonly ('none' | 'block-causal')[];
  /** Most keys. @defaultValue 64 */
  maxKeys?: number;
  /** Largest head dimension. @defaultValue 8 */
  maxD?: number;
}

/**
 * The hard regime of attention inputs (docs/math.md §3, §8), each a pure function of a few
 * parameters: every query ±b·u along one direction u; keys a few aligned with it (+b·u), the rest
 * anti-aligned (−b·u) or nearly tied (logits equal up to a relative 1e-12), so one row's logits span
 * [−β, β] with β = b²·(scale·d); V with a large dynamic range (column magnitudes from 1e-6 to 1e6,
 * alternating signs). β runs from 0 to `maxBeta`; Lq ≠ Lk without a mask, pyramids with 1–13 scales
 * with one.
 */
export function hardAttentionArb(s: HardSettings): fc.Arbitrary<AttentionInput> {
  const maxKeys = s.maxKeys ?? 64;
  const maxD = s.maxD ?? 8;
  const structure = fc.record({
    beta: fc.oneof(fc.double({ min: 0, max: Math.min(4, s.maxBeta), noNaN: true }), fc.double({ min: 0, max: s.maxBeta, noNaN: true })),
    d: fc.integer({ min: 1, max: maxD }),
    dv: fc.integer({ min: 1, max: 3 }),
    aligned: fc.integer({ min: 0, max: 3 }),
    kind: fc.constantFrom('anti-aligned', 'near-ties', 'mixed'),
    vRange: fc.constantFrom(0, 3, 6),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  });
  const sizes = fc.oneof(
    ...s.masks.map((m) =>
      m === 'none'
        ? fc.record({ lq: fc.integer({ min: 1, max: Math.min(16, maxKeys) }), lk: fc.integer({ min: 1, max: maxKeys }) }).map(({ lq, lk }) => ({ lq, lk, mask: NO_MASK as Mask }))
        : fc.oneof(pyramidArb(4, 3), manyScalePyramidArb(maxKeys)).map((p) => ({ lq: p.L, lk: p.L, mask: blockCausalMask(p) })),
    ),
  );
  return fc.tuple(structure, sizes).map(([t, z]) => {
    const scale = 1 / t.d;
    const b = Math.sqrt(t.beta / (scale * t.d)); // q, k = ±b·(1, …, 1): s·⟨q, k⟩ = ±s·d·b² = ±β
    const sign = (rand: () => number): number => (rand() < 0.5 ? -1 : 1);
    const q = filled(z.lq, t.d, t.seed, (rand, i) => (i % 7 === 3 ? -b : b) * (1 + (rand() - 0.5) * 1e-3));
    const k = filled(z.lk, t.d, t.seed + 1, (rand, j) => {
      if (j % 11 < t.aligned) return b;
      if (t.kind === 'near-ties') return -b * (1 + (rand() - 0.5) * 1e-12);
      if (t.kind === 'mixed') return b * (2 * rand() - 1);
      return -b * (1 + (rand() - 0.5) * 1e-6);
    });
    const v = filled(z.lk, t.dv, t.seed + 2, (rand, j, c) => sign(rand) * (j % 2 === 0 ? 1 : -1) * 10 ** (t.vRange * (c / Math.max(1, t.dv - 1) - 0.5)) * (0.5 + rand()));
    return attentionInput(q, k, v, { scale, mask: z.mask });
  });
}

/** Settings of {@link largeAttentionArb}. */
export interface LargeSettings {
  /** Most keys. */
  maxKeys: number;
  /** Entry bound of Q, K, V. */
  B: number;
  /** Masks to draw. */
  masks: readonly ('none' | 'block-causal')[];
  /** Largest head dimension unmasked (block-causal: at most 8). @defaultValue 128 */
  maxD?: number;
}

/**
 * Large inputs (past gpu.js's 1,000-iteration loops, up to `maxKeys`), uniform entries on [−B, B]
 * from a seed: unmasked with few queries and many keys (Lq ≠ Lk, d up to 128), or block-causal over
 * many-scale pyramids (VAR presets, geometric, random 8–13 scales; d ≤ 8 to keep the kernel's own
 * O(L²d) cost bounded). Judged against the row-sampled reference.
 */
export function largeAttentionArb(s: LargeSettings): fc.Arbitrary<AttentionInput> {
  const families = s.masks.map((m) =>
    m === 'none'
      ? fc
          .record({
            lq: fc.integer({ min: 1, max: 32 }),
            lk: fc.integer({ min: 1001, max: Math.max(1001, s.maxKeys) }),
            d: fc.integer({ min: 1, max: s.maxD ?? 128 }),
            dv: fc.integer({ min: 1, max: 4 }),
            seed: fc.nat(),
          })
          .map((p) => ({ ...p, mask: NO_MASK as Mask }))
      : fc
          .record({ p: manyScalePyramidArb(s.maxKeys, 1), d: fc.integer({ min: 1, max: Math.min(8, s.maxD ?? 8) }), dv: fc.integer({ min: 1, max: 4 }), seed: fc.nat() })
          .map(({ p, d, dv, seed }) => ({ lq: p.L, lk: p.L, d, dv, seed, mask: blockCausalMask(p) })),
  );
  return fc.oneof(...families).map(({ lq, lk, d, dv, seed, mask }) => {
    const u = (rand: () => number): number => (2 * rand() - 1) * s.B;
    return attentionInput(filled(lq, d, seed, u), filled(lk, d, seed + 1, u), filled(lk, dv, seed + 2, u), { mask });
  });
}
