/**
 * Hard instances at the threshold (docs/math.md §4): approximate Hamming nearest-neighbour
 * embedded into attention with entries ±B, B = c·√(ln L), plus a reference key whose logit
 * sits between the "close" and "far" levels, and V = the indicator of that key. A δ-accurate
 * attention output then decides, per query, whether a close key exists.
 *
 * Every logit is B²/d times an integer: m − 2·Ham for a bit key, and the number of reference
 * coordinates for the reference key. The close level is m − 2t, the far level m − 2f with
 * f = ⌈(1+ε)t⌉, and the reference key gets their integer midpoint m − t − f, so the gap on
 * each side is exactly B²(f − t)/d ≥ B²εt/d for every ε > 0, integer (2+ε)t or not.
 * @module
 */
import { attentionInput, type AttentionInput } from './attention.js';
import { RangeArgumentError, requireInteger } from './errors.js';
import { matrix, type Matrix } from './matrix.js';
import { mulberry32 } from './random.js';

/** Options of {@link hardInstance}. */
export interface HardInstanceOptions {
  /** Queries (and far keys) n. */
  n: number;
  /** Bits per vector m. @defaultValue 64 */
  m?: number;
  /** "Close" radius t: a planted key is within Hamming distance t. @defaultValue m/8 */
  t?: number;
  /** Gap factor ε > 0: every other key is at distance ≥ f = ⌈(1+ε)t⌉. @defaultValue 1 */
  epsGap?: number;
  /** B = c·√(ln L). @defaultValue the least c that makes the decision margin ≥ ln L + 1 */
  c?: number;
  /** Which queries get a planted close key (default: every other query). */
  planted?: readonly boolean[];
  /** PRNG seed. @defaultValue 1 */
  seed?: number;
}

/** A generated instance and the ground truth. */
export interface HardInstance {
  /** The attention input (scale 1/d, no mask); keys are the far keys, the planted keys, then the reference key. */
  input: AttentionInput;
  /** Does query i have a key within Hamming distance t? */
  truth: boolean[];
  /** B, the entry bound (= c·√(ln L)). */
  B: number;
  /** c in B = c·√(ln L). */
  c: number;
  /** Total keys L. */
  L: number;
  /** The far Hamming threshold f = ⌈(1+ε)t⌉: every key is within t or at least f from each query. */
  farMin: number;
  /** The logit gap between the reference level and the close and far levels, B²(f − t)/d (≥ B²εt/d). */
  gap: number;
  /** The additive error below which {@link decodeHardInstance} is guaranteed right. */
  delta: number;
}

function hamming(a: Uint8Array, b: Uint8Array): number {
  let h = 0;
  for (let i = 0; i < a.length; i++) h += a[i] ^ b[i];
  return h;
}

/**
 * Generate an instance: n random queries in {0,1}^m, pairwise ≥ f + t apart (f = ⌈(1+ε)t⌉); n random far keys
 * (redrawn until every query–key distance is ≥ f); for each planted query a key at distance
 * exactly t; one reference key. Vectors map to ±B; the m − t − f reference coordinates are B
 * on every query and on the reference key, 0 elsewhere, so its logit is B²(m − t − f)/d, the
 * integer midpoint of the close level B²(m − 2t)/d and the far level B²(m − 2f)/d.
 * @throws {@link RangeArgumentError} naming `t` unless ε > 0 and m − t − f ≥ 1; naming `n` or
 * `m` when the random draws cannot meet the distance constraints.
 * @see docs/math.md §4 ("Why √log n, concretely")
 */
export function hardInstance(options: HardInstanceOptions): HardInstance {
  const { n } = options;
  requireInteger('n', n, 1);
  const m = options.m ?? 64;
  requireInteger('m', m, 4);
  const t = options.t ?? Math.max(1, Math.floor(m / 8));
  requireInteger('t', t, 1);
  const epsGap = options.epsGap ?? 1;
  if (!(epsGap > 0) || !Number.isFinite(epsGap)) throw new RangeArgumentError('epsGap', `expected a finite ε > 0, got ${epsGap}`);
  const farMin = Math.ceil((1 + epsGap) * t);
  const cRef = m - t - farMin;
  if (cRef < 1) {
    throw new RangeArgumentError('t', `expected t + ⌈(1+ε)t⌉ < m, got m = ${m}, t = ${t}, ε = ${epsGap} (⌈(1+ε)t⌉ = ${farMin})`);
  }
  const planted = options.planted ?? Array.from({ length: n }, (_, i) => i % 2 === 0);
  if (planted.length !== n) throw new RangeArgumentError('planted', `expected ${n} flags, got ${planted.length}`);
  const rand = mulberry32(options.seed ?? 1);
  const bits = (): Uint8Array => Uint8Array.from({ length: m }, () => (rand() < 0.5 ? 1 : 0));
  // Queries pairwise ≥ farMin + t apart: a key planted at distance t from one query is then
  // ≥ farMin from every other (triangle inequality), so no logit falls between the levels.
  const queries: Uint8Array[] = [];
  for (let tries = 0; queries.length < n; tries++) {
    if (tries > 1000 * n) throw new RangeArgumentError('n', `could not draw ${n} queries pairwise ≥ ${farMin + t} apart in {0,1}^${m}; increase m or decrease n`);
    const q = bits();
    if (queries.every((qq) => hamming(qq, q) >= farMin + t)) queries.push(q);
  }
  const far: Uint8Array[] = [];
  for (let tries = 0; far.length < n; tries++) {
    if (tries > 1000 * n) throw new RangeArgumentError('m', `could not draw keys at distance ≥ ${farMin} from every query; increase m`);
    const k = bits();
    if (queries.every((q) => hamming(q, k) >= farMin)) far.push(k);
  }
  // A planted key sits at distance exactly t from its query and must be close (≤ t) or far
  // (≥ (1+ε)t) from every other query, so that no logit falls between the levels.
  const close: Uint8Array[] = [];
  queries.forEach((q, i) => {
    if (!planted[i]) return;
    for (let tries = 0; ; tries++) {
      if (tries > 1000) throw new RangeArgumentError('m', `could not plant a key for query ${i} that is unambiguous for every query; increase m`);
      const k = Uint8Array.from(q);
      const idx = Array.from({ length: m }, (_, j) => j);
      for (let j = 0; j < t; j++) {
        const s = j + Math.floor(rand() * (m - j));
        [idx[j], idx[s]] = [idx[s], idx[j]];
        k[idx[j]] ^= 1;
      }
      if (
        queries.every((qq) => {
          const h = hamming(qq, k);
          return h <= t || h >= farMin;
        })
      ) {
        close.push(k);
        return;
      }
    }
  });
  const d = m + cRef;
  const L = far.length + close.length + 1;
  const gapUnit = (farMin - t) / d; // logit gap per unit B² (integer levels)
  const cMin = Math.sqrt((Math.log(L) + 1) / (gapUnit * Math.log(L)));
  const c = options.c ?? cMin;
  const B = c * Math.sqrt(Math.log(L));
  const embed = (rows: Uint8Array[], ref: boolean, out: Matrix, off: number): void => {
    rows.forEach((r, i) => {
      for (let j = 0; j < m; j++) out.data[(off + i) * d + j] = (2 * r[j] - 1) * B;
      if (ref) for (let j = m; j < d; j++) out.data[(off + i) * d + j] = B;
    });
  };
  const q = matrix(n, d);
  embed(queries, true, q, 0);
  const k = matrix(L, d);
  embed(far, false, k, 0);
  embed(close, false, k, far.length);
  for (let j = m; j < d; j++) k.data[(L - 1) * d + j] = B;
  const v = matrix(L, 1);
  v.data[L - 1] = 1;
  const truth = queries.map((qq) => [...far, ...close].some((kk) => hamming(qq, kk) <= t));
  const gap = B * B * gapUnit;
  // Close present: ref weight ≤ 1/(1 + e^{gap}); absent: ≥ 1/(1 + (L−1)e^{−gap}).
  const lo = 1 / (1 + Math.exp(gap));
  const hi = 1 / (1 + (L - 1) * Math.exp(-gap));
  return { input: attentionInput(q, k, v), truth, B, c, L, farMin, gap, delta: Math.max(0, Math.min(0.5 - lo, hi - 0.5)) };
}

/**
 * The decoder: query i has a close key iff its attention weight on the reference key
 * (output column 0) is below ½.
 */
export function decodeHardInstance(output: Matrix): boolean[] {
  return Array.from({ length: output.rows }, (_, i) => output.data[i * output.cols] < 0.5);
}
