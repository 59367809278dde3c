/**
 * Guided worst-error search. fast-check has no targeted search, so after the random phase we
 * hill-climb on error/bound from the worst inputs seen. Half the moves change values: scale Q and
 * K up (towards the threshold and exp overflow), push single entries to the extremes, perturb
 * values. The other half change the input's structure, where bugs that only show at some shapes
 * live: the key count (past gpu.js's 1,000-iteration loops; past 2,048 and 4,096 where the law's own
 * cases were that large), the query count
 * (Lq = Lk, Lq ≠ Lk), the head dimension d (odd, ≥ 16, ≥ 64), the value dimension d_v, more
 * pyramid scales (up to 14, square or rectangular), near-tied keys, and the scale s. Structural
 * children that are not worse-scoring still enter the pool half the time (a bug can sit behind a
 * shape that scores lower until it is reached). Winners go back to fast-check as examples.
 * @module
 */
import type { AttentionInput } from '../../spec/attention.js';
import { maxAbs, type FeatureMap, type Matrix } from '../../spec/matrix.js';
import { mulberry32 } from '../../spec/random.js';
import { ReferenceOverflowError } from '../../spec/errors.js';
import { ratio, type Law, type Outcome } from '../../properties/law.js';

/** A candidate and how bad it was. */
export interface Scored {
  /** The input. */
  value: unknown;
  /** Its outcome. */
  outcome: Outcome;
}

/** What the search found. */
export interface GuidedResult {
  /** The worst input (by error/bound) and its outcome. */
  worst?: Scored;
  /** An input that violates the law (ratio > 1) or makes the kernel throw. */
  failing?: { value: unknown; message: string; thrown?: unknown };
  /** Candidates evaluated. */
  evaluations: number;
}

function isAttention(v: unknown): v is AttentionInput {
  return typeof v === 'object' && v !== null && 'q' in v && 'k' in v && 'v' in v && 'mask' in v;
}
function isResize(v: unknown): v is [FeatureMap, number, number] {
  return Array.isArray(v) && v.length === 3 && typeof v[0] === 'object' && v[0] !== null && 'h' in v[0];
}

const mapData = (m: Matrix, f: (x: number, k: number) => number): Matrix => ({ ...m, data: Float64Array.from(m.data, f) });

/** Repeat rows of m (cyclically) to `rows` rows. */
function growRows(m: Matrix, rows: number): Matrix {
  const data = new Float64Array(rows * m.cols);
  for (let i = 0; i < rows; i++) data.set(m.data.subarray((i % m.rows) * m.cols, ((i % m.rows) + 1) * m.cols), i * m.cols);
  return { rows, cols: m.cols, data };
}

/** Clamp every entry of Q, K, V to ±maxEntry. */
function clampInput(x: AttentionInput, maxEntry: number): AttentionInput {
  const c = (m: Matrix): Matrix => mapData(m, (v) => Math.max(-maxEntry, Math.min(maxEntry, v)));
  return { ...x, q: c(x.q), k: c(x.k), v: c(x.v) };
}

/**
 * One random mutation of an attention input, entries kept within ±maxEntry and at most `maxKeys`
 * keys (a law may build a larger input from it: rows-stochastic makes V the L_k×L_k identity).
 */
export function mutateAttention(x: AttentionInput, rand: () => number, maxEntry = Infinity, maxKeys = GROW_KEYS): AttentionInput {
  return clampInput(rand() < 0.5 ? mutateAttentionFree(x, rand, maxEntry) : mutateStructure(x, rand, maxEntry, Math.min(maxKeys, MAX_KEYS)), maxEntry);
}

/** Is `y` a structural change of `x` (shape, mask or scale differ)? */
function isStructural(x: AttentionInput, y: AttentionInput): boolean {
  const blocks = (m: AttentionInput['mask']): string => (m.kind === 'block-causal' ? m.blocks.join(',') : 'none');
  return x.q.rows !== y.q.rows || x.k.rows !== y.k.rows || x.q.cols !== y.q.cols || x.v.cols !== y.v.cols || x.scale !== y.scale || blocks(x.mask) !== blocks(y.mask);
}

/** Most keys a structural move ever creates (the battery's default reach). */
const MAX_KEYS = 8192;
/**
 * Most keys the search grows an input to unless the law's own cases were larger: past gpu.js's
 * 1,000-iteration loops, and small enough that a law which squares L_k (rows-stochastic) stays
 * well inside the per-call deadline.
 */
const GROW_KEYS = 1200;
/** Most multiply–adds of a structurally grown input, so one evaluation stays short. */
const MAX_WORK = 4e7;

/**
 * Multiply–adds of one kernel call on an Lq×Lk input, counted as if d_v were at least L_k: a law may
 * build V from the keys (rows-stochastic runs the kernel with V = the L_k×L_k identity).
 */
const work = (lq: number, lk: number, d: number, dv: number): number => lq * lk * (d + Math.max(dv, lk));

/** Keep the first rows of m and fill up to `rows` rows (and `cols` columns) with fresh entries in ±B. */
function resize(m: Matrix, rows: number, cols: number, rand: () => number, B: number): Matrix {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < cols; c++) out[i * cols + c] = i < m.rows && c < m.cols ? m.data[i * m.cols + c] : (2 * rand() - 1) * B;
  }
  return { rows, cols, data: out };
}

const pickOne = <T>(xs: readonly T[], rand: () => number): T => xs[Math.floor(rand() * xs.length)];

/** One structural mutation: key/query counts, d, d_v, pyramid scales, near ties, the scale s. */
function mutateStructure(x: AttentionInput, rand: () => number, maxEntry: number, maxKeys: number): AttentionInput {
  const B = Math.min(maxEntry, Math.max(maxAbs(x.q.data), maxAbs(x.k.data), 1));
  const Bv = Math.max(maxAbs(x.v.data), 1);
  const d = x.q.cols;
  const dv = x.v.cols;
  const masked = x.mask.kind === 'block-causal';
  const defaultScale = Math.abs(x.scale * d - 1) < 1e-12;
  switch (Math.floor(rand() * 7)) {
    case 0: {
      // keys (unmasked): past 2,048 / 4,096 / up to 8,192
      if (masked) return mutateStructure(x, rand, maxEntry, maxKeys);
      const lk = Math.min(maxKeys, pickOne([1025, 2049, 4097, 6000, 8192], rand) + Math.floor(rand() * 64));
      if (lk <= x.k.rows || work(x.q.rows, lk, d, dv) > MAX_WORK) return x;
      return { ...x, k: resize(x.k, lk, d, rand, B), v: resize(x.v, lk, dv, rand, Bv) };
    }
    case 1: {
      // queries (unmasked): Lq = Lk, or Lq ≠ Lk
      if (masked) return mutateStructure(x, rand, maxEntry, maxKeys);
      const lq = x.q.rows !== x.k.rows && rand() < 0.6 ? x.k.rows : Math.max(1, Math.min(x.k.rows + 3, Math.round(x.q.rows * (0.5 + rand())) + (rand() < 0.5 ? 1 : -1)));
      if (work(lq, x.k.rows, d, dv) > MAX_WORK) return x;
      return { ...x, q: resize(x.q, lq, d, rand, B) };
    }
    case 2: {
      // head dimension: odd, ≥ 16, ≥ 64
      const nd = pickOne([d + 1, d + 2, 2 * d + 1, 17, 18, 65, 66, 130], rand);
      if (nd === d || work(x.q.rows, x.k.rows, nd, dv) > MAX_WORK) return x;
      return { ...x, q: resize(x.q, x.q.rows, nd, rand, B), k: resize(x.k, x.k.rows, nd, rand, B), scale: defaultScale ? 1 / nd : x.scale };
    }
    case 3: {
      // value dimension
      const ndv = Math.min(6, dv + 1 + Math.floor(rand() * 2));
      if (ndv === dv) return x;
      return { ...x, v: resize(x.v, x.v.rows, ndv, rand, Bv) };
    }
    case 4: {
      // more pyramid scales (square or rectangular blocks), up to 14
      if (!masked || x.mask.kind !== 'block-causal') return mutateStructure(x, rand, maxEntry, maxKeys);
      const blocks = [...x.mask.blocks];
      const add = 1 + Math.floor(rand() * 8);
      let side = Math.max(1, Math.floor(Math.sqrt(blocks[blocks.length - 1])));
      for (let t = 0; t < add && blocks.length < 14; t++) {
        side += Math.floor(rand() * 3);
        const next = rand() < 0.5 ? side * side : side * (side + 1);
        const L = blocks.reduce((a, b) => a + b, 0) + next;
        if (L > maxKeys || work(L, L, d, dv) / 2 > MAX_WORK) break;
        blocks.push(next);
      }
      const L = blocks.reduce((a, b) => a + b, 0);
      if (L === x.q.rows) return x;
      return { q: resize(x.q, L, d, rand, B), k: resize(x.k, L, d, rand, B), v: resize(x.v, L, dv, rand, Bv), scale: x.scale, mask: { kind: 'block-causal', blocks } };
    }
    case 5: {
      // a near tie: key j+1 := key j·(1 + 1e-12·r), with its own value
      if (x.k.rows < 2) return x;
      const j = Math.floor(rand() * (x.k.rows - 1));
      const r = 1 + (rand() - 0.5) * 1e-12;
      return { ...x, k: mapData(x.k, (val, at) => (Math.floor(at / d) === j + 1 ? x.k.data[j * d + (at % d)] * r : val)) };
    }
    default: {
      // the scale s: a temperature other than 1/d
      return { ...x, scale: x.scale * pickOne([0.5, 2, Math.sqrt(d), 1 / Math.sqrt(d + 1)], rand) };
    }
  }
}

function mutateAttentionFree(x: AttentionInput, rand: () => number, maxEntry: number): AttentionInput {
  const pick = Math.floor(rand() * 5);
  const B = Math.min(maxEntry / 2, Math.max(maxAbs(x.q.data), maxAbs(x.k.data), 1e-3));
  switch (pick) {
    case 0: {
      // scale Q and K towards larger logits
      const c = 1.25 + rand() * 2;
      return { ...x, q: mapData(x.q, (v) => v * c), k: mapData(x.k, (v) => v * c) };
    }
    case 1: {
      // push one entry of Q or K to ±(largest |entry|)·2
      const m = rand() < 0.5 ? 'q' : 'k';
      const src = x[m];
      const at = Math.floor(rand() * src.data.length);
      const val = (rand() < 0.5 ? -1 : 1) * 2 * B;
      return { ...x, [m]: mapData(src, (v, k) => (k === at ? val : v)) };
    }
    case 2: {
      // grow the key count past 1000 (unmasked), or add tokens to the last scale
      if (x.mask.kind === 'none') {
        const rows = Math.max(x.k.rows + 1, 1000 + 1 + Math.floor(rand() * 200));
        return { ...x, k: growRows(x.k, rows), v: growRows(x.v, rows) };
      }
      const extra = 1 + Math.floor(rand() * 64);
      const blocks = [...x.mask.blocks];
      blocks[blocks.length - 1] += extra;
      const L = x.q.rows + extra;
      return { q: growRows(x.q, L), k: growRows(x.k, L), v: growRows(x.v, L), scale: x.scale, mask: { kind: 'block-causal', blocks } };
    }
    case 3: {
      // perturb V
      return { ...x, v: mapData(x.v, (v) => v + (rand() - 0.5) * 0.5 * (1 + Math.abs(v))) };
    }
    default: {
      // perturb Q and K a little
      return { ...x, q: mapData(x.q, (v) => v * (1 + (rand() - 0.5) * 0.2)), k: mapData(x.k, (v) => v * (1 + (rand() - 0.5) * 0.2)) };
    }
  }
}

/** One random mutation of a resize case [x, h2, w2]. */
export function mutateResize([x, h2, w2]: [FeatureMap, number, number], rand: () => number): [FeatureMap, number, number] {
  const pick = Math.floor(rand() * 3);
  if (pick === 0) return [x, Math.max(1, h2 + Math.floor(rand() * 7) - 3), Math.max(1, w2 + Math.floor(rand() * 7) - 3)];
  if (pick === 1) return [{ ...x, data: Float64Array.from(x.data, (v) => v * (1 + rand())) }, h2, w2];
  const at = Math.floor(rand() * x.data.length);
  return [{ ...x, data: Float64Array.from(x.data, (v, k) => (k === at ? v + (rand() - 0.5) * 16 : v)) }, h2, w2];
}

/**
 * Hill-climb on error/bound from `starts` for at most `timeMs` (and `maxEvaluations`). Stops at
 * the first input that violates the law or makes the kernel throw.
 */
export async function guidedSearch(law: Law<unknown>, starts: Scored[], options: { timeMs: number; seed: number; maxEvaluations?: number }): Promise<GuidedResult> {
  const rand = mulberry32(options.seed ^ 0x9e3779b9);
  const pool = [...starts].sort((a, b) => ratio(b.outcome) - ratio(a.outcome)).slice(0, 8);
  const t0 = Date.now();
  let evaluations = 0;
  const max = options.maxEvaluations ?? Infinity;
  // Grow key counts up to what the law's own cases reached (at least GROW_KEYS).
  const maxKeys = Math.max(GROW_KEYS, ...starts.map((s) => (isAttention(s.value) ? s.value.k.rows : 0)));
  while (pool.length > 0 && Date.now() - t0 < options.timeMs && evaluations < max) {
    const parent = pool[Math.floor(rand() * Math.min(pool.length, 4))];
    let child: unknown;
    if (isAttention(parent.value)) child = mutateAttention(parent.value, rand, law.maxEntry ?? Infinity, maxKeys);
    else if (isResize(parent.value)) child = mutateResize(parent.value, rand);
    else break;
    evaluations++;
    let outcome: Outcome;
    try {
      outcome = await law.check(child);
    } catch (e) {
      // Inputs the spec itself rejects (a logit that overflows float64) are not kernel failures.
      if (e instanceof ReferenceOverflowError) continue;
      return { worst: pool[0], failing: { value: child, message: e instanceof Error ? `${e.name}: ${e.message}` : String(e), thrown: e }, evaluations };
    }
    if (!(outcome.error <= outcome.bound))
      return { worst: { value: child, outcome }, failing: { value: child, message: `error ${outcome.error} > bound ${outcome.bound}${outcome.detail ? ` (${outcome.detail})` : ''}` }, evaluations };
    if (ratio(outcome) >= ratio(pool[pool.length - 1].outcome) || pool.length < 8) {
      pool.push({ value: child, outcome });
      pool.sort((a, b) => ratio(b.outcome) - ratio(a.outcome));
      pool.length = Math.min(pool.length, 8);
    } else if (isAttention(parent.value) && isAttention(child) && isStructural(parent.value, child) && rand() < 0.5) {
      // Keep new shapes around even when they score lower (among the parents, unsorted until the
      // next accepted child): the next move may reach the bug there.
      pool[Math.min(3, pool.length - 1)] = { value: child, outcome };
    }
  }
  return { worst: pool[0], evaluations };
}
