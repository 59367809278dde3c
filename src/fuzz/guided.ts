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
 * shape that scores lower until it is reached). For a kernel that declares an error bound
 * (`exact: false`), 40% of the moves climb towards the inputs where a low-rank certificate is
 * nearly attained instead ({@link mutateTowardsBound}): adversarial rows with logits just above −β,
 * two-point values, small moves of single keys, values and β. Winners go back to fast-check as examples.
 * Near the end of its budget the search does not start a candidate it predicts will outlast it
 * ({@link Throughput}): a low-rank kernel's high-rank calls take seconds each.
 * @module
 */
import type { AttentionInput } from '../../spec/attention.js';
import { maxAbs, type FeatureMap, type Matrix } from '../../spec/matrix.js';
import { mulberry32 } from '../../spec/random.js';
import { ReferenceOverflowError } from '../../spec/errors.js';
import { ratio, type Law, type Outcome } from '../../properties/law.js';
import { adversarialInput } from '../../properties/adversarial.js';

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
  /** Candidates proposed (those outside the law's `fits` are counted but not run). */
  evaluations: number;
  /** Candidates not run because they were predicted to outlast the time left. */
  tooLong: number;
}

/** The search ends after this many candidates in a row were predicted to outlast the time left. */
const GIVE_UP_AFTER_SKIPS = 64;
/** Evaluations kept per octave of work (the most recent). */
const PER_OCTAVE = 5;
/** An evaluation predicts a candidate's time only if it did at least this fraction of the candidate's work. */
const COMPARABLE_WORK = 1 / 4;

/**
 * Predicted evaluation times from measured ones. A candidate of w multiply–adds is predicted to take
 * w × the median ms per multiply–add of the evaluations (the last {@link PER_OCTAVE} of each octave
 * of work) that did at least w/4 of its work — never from much smaller ones, whose time is mostly
 * fixed costs (a round trip, a shader compile) and would overpredict — and is not predicted at all
 * before one comparable evaluation ran. Larger evaluations amortize fixed costs better, so the
 * prediction errs low: a candidate is skipped only when evaluations as large as it took that long.
 */
export class Throughput {
  private readonly octaves = new Map<number, number[]>();
  /** Record one evaluation of `work` multiply–adds that took `ms`. */
  observe(work: number, ms: number): void {
    if (!(work > 0 && ms >= 0 && Number.isFinite(work))) return;
    const o = Math.floor(Math.log2(work));
    const rates = this.octaves.get(o) ?? [];
    rates.push(ms / work);
    if (rates.length > PER_OCTAVE) rates.shift();
    this.octaves.set(o, rates);
  }
  /** Predicted milliseconds of `work` multiply–adds, or undefined when no comparable evaluation was timed. */
  predictMs(work: number): number | undefined {
    const from = Math.floor(Math.log2(work * COMPARABLE_WORK));
    const rates = [...this.octaves]
      .filter(([o]) => o >= from)
      .flatMap(([, r]) => r)
      .sort((x, y) => x - y);
    return rates.length === 0 ? undefined : work * rates[Math.floor(rates.length / 2)];
  }
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
 * Share of the moves that climb towards an approximate kernel's declared bound
 * ({@link mutateTowardsBound}); only for kernels that declare one (`exact: false`).
 */
const BOUND_SHARE = 0.4;

/**
 * One random mutation of an attention input, entries kept within ±maxEntry and at most `maxKeys`
 * keys (a law may build a larger input from it: rows-stochastic makes V the L_k×L_k identity).
 * With `approximate` (the kernel declares an error bound), a share of the moves climbs towards
 * the inputs where a polynomial certificate is nearly attained ({@link mutateTowardsBound}).
 */
export function mutateAttention(x: AttentionInput, rand: () => number, maxEntry = Infinity, maxKeys = GROW_KEYS, approximate = false): AttentionInput {
  if (approximate && rand() < BOUND_SHARE) return mutateTowardsBound(x, rand, maxEntry);
  return clampInput(rand() < 0.5 ? mutateAttentionFree(x, rand, maxEntry) : mutateStructure(x, rand, maxEntry, Math.min(maxKeys, MAX_KEYS)), maxEntry);
}

/** β = s·d·‖Q‖∞‖K‖∞ (docs/math.md §3). */
const betaOf = (x: AttentionInput): number => x.scale * x.q.cols * maxAbs(x.q.data) * maxAbs(x.k.data);

/** Replace row `j` of m by f(row j). */
function mapRow(m: Matrix, j: number, f: (v: number) => number): Matrix {
  return mapData(m, (v, at) => (Math.floor(at / m.cols) === j ? f(v) : v));
}

/**
 * Moves towards the inputs where a low-rank kernel's error nearly attains its certificate
 * (docs/math.md §6 "Sharp forms", §8): the polynomial's relative error e(x) on [−β, β] is largest
 * near x = −β and changes sign between nearby points there, and E1 is attained by a row whose
 * keys sit at two such points with masses near ½ and whose values are the column's min and max.
 * A fresh adversarial row (properties/adversarial.ts: query +b, keys spread below −b by a random
 * `jitter`, two-point values; β near the parent's or anywhere up to 40), then the climb: one value
 * flipped to its column's other extreme, one key moved slightly along the query (its logit moves
 * by a relative 10⁻⁴…10⁻¹), β nudged (1/32 octave or a relative 10⁻³…10⁻¹: the certificate's
 * degree changes at thresholds of β), a key duplicated or dropped (the masses of the two points).
 */
export function mutateTowardsBound(x: AttentionInput, rand: () => number, maxEntry = Infinity): AttentionInput {
  return clampInput(towardsBound(x, rand, maxEntry), maxEntry);
}

function towardsBound(x: AttentionInput, rand: () => number, maxEntry: number): AttentionInput {
  const unmasked = x.mask.kind === 'none';
  switch (Math.floor(rand() * 6)) {
    case 0:
    case 1: {
      // a fresh adversarial row: β near the parent's (half the time) or log-uniform on [0.5, 40], keys spread by 10⁻³…0.5
      const b0 = betaOf(x);
      const beta = b0 > 0 && rand() < 0.5 ? b0 * 2 ** (rand() - 0.5) : 2 ** (-1 + rand() * 6.3);
      const jitter = 10 ** (-3 + 2.7 * rand());
      // Few keys half the time: two or three points are the extreme; more keys are its mixtures.
      const maxL = rand() < 0.5 ? 3 : 24;
      return adversarialInput(rand, { beta, jitter, maxL, twoPoint: true, rowShare: 1, maxEntry: Number.isFinite(maxEntry) ? maxEntry : undefined }).input;
    }
    case 2: {
      // one value to the other end of its column's range
      const dv = x.v.cols;
      const at = Math.floor(rand() * x.v.data.length);
      let lo = Infinity;
      let hi = -Infinity;
      for (let j = 0; j < x.v.rows; j++) [lo, hi] = [Math.min(lo, x.v.data[j * dv + (at % dv)]), Math.max(hi, x.v.data[j * dv + (at % dv)])];
      const v = x.v.data[at];
      return { ...x, v: mapData(x.v, (w, t) => (t === at ? (v - lo < hi - v ? hi : lo) : w)) };
    }
    case 3: {
      // one key moved along itself: its logits move by a small relative amount
      const j = Math.floor(rand() * x.k.rows);
      const f = 1 + (rand() < 0.5 ? -1 : 1) * 10 ** (-4 + 3 * rand());
      return { ...x, k: mapRow(x.k, j, (v) => v * f) };
    }
    case 4: {
      // β nudged: one grid step of 1/32 octave, or a small relative step
      const f = rand() < 0.5 ? 2 ** (1 / 32) : 1 + 10 ** (-3 + 2 * rand());
      return { ...x, scale: rand() < 0.5 ? x.scale * f : x.scale / f };
    }
    default: {
      // a key (with its value) duplicated or dropped: the masses of the two points
      if (!unmasked) return x;
      const j = Math.floor(rand() * x.k.rows);
      if (rand() < 0.5 || x.k.rows < 3) return { ...x, k: appendRow(x.k, j), v: appendRow(x.v, j) };
      return { ...x, k: dropRow(x.k, j), v: dropRow(x.v, j) };
    }
  }
}

/** m with a copy of row j appended. */
function appendRow(m: Matrix, j: number): Matrix {
  const data = new Float64Array((m.rows + 1) * m.cols);
  data.set(m.data);
  data.set(m.data.subarray(j * m.cols, (j + 1) * m.cols), m.rows * m.cols);
  return { rows: m.rows + 1, cols: m.cols, data };
}

/** m without row j. */
function dropRow(m: Matrix, j: number): Matrix {
  const data = new Float64Array((m.rows - 1) * m.cols);
  data.set(m.data.subarray(0, j * m.cols));
  data.set(m.data.subarray((j + 1) * m.cols), j * m.cols);
  return { rows: m.rows - 1, cols: m.cols, data };
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
export async function guidedSearch(
  law: Law<unknown>,
  starts: Scored[],
  options: {
    /** Time budget. */
    timeMs: number;
    /** Seed of the moves. */
    seed: number;
    /** Most candidates. */
    maxEvaluations?: number;
    /** The kernel declares an error bound (`exact: false`): also climb towards it ({@link mutateTowardsBound}). */
    approximate?: boolean;
    /** Multiply–adds of one evaluation of an attention input (the kernel's `kernelCost`), for {@link Throughput}. */
    cost?: (x: AttentionInput) => number;
  },
): Promise<GuidedResult> {
  const rand = mulberry32(options.seed ^ 0x9e3779b9);
  const pool = [...starts].sort((a, b) => ratio(b.outcome) - ratio(a.outcome)).slice(0, 8);
  const t0 = Date.now();
  let evaluations = 0;
  let tooLong = 0;
  let skippedInARow = 0;
  const throughput = new Throughput();
  const max = options.maxEvaluations ?? Infinity;
  // Grow key counts up to what the law's own cases reached (at least GROW_KEYS).
  const maxKeys = Math.max(GROW_KEYS, ...starts.map((s) => (isAttention(s.value) ? s.value.k.rows : 0)));
  while (pool.length > 0 && Date.now() - t0 < options.timeMs && evaluations < max) {
    const parent = pool[Math.floor(rand() * Math.min(pool.length, 4))];
    let child: unknown;
    if (isAttention(parent.value)) child = mutateAttention(parent.value, rand, law.maxEntry ?? Infinity, maxKeys, options.approximate);
    else if (isResize(parent.value)) child = mutateResize(parent.value, rand);
    else break;
    evaluations++;
    // A move out of the kernel's declared capabilities (more tokens or a wider head than it takes) is not run.
    if (law.fits && !law.fits(child)) continue;
    // Near the end of the budget, a candidate predicted to outlast it is not started (another move may fit).
    const work = options.cost && isAttention(child) ? options.cost(child) : undefined;
    const predicted = work === undefined ? undefined : throughput.predictMs(work);
    if (predicted !== undefined && predicted > options.timeMs - (Date.now() - t0)) {
      tooLong++;
      // Nothing the moves propose fits in the time left: end the search early.
      if (++skippedInARow >= GIVE_UP_AFTER_SKIPS) break;
      await new Promise(setImmediate);
      continue;
    }
    skippedInARow = 0;
    let outcome: Outcome;
    const started = Date.now();
    try {
      outcome = await law.check(child);
    } catch (e) {
      // Inputs the spec itself rejects (a logit that overflows float64) are not kernel failures.
      if (e instanceof ReferenceOverflowError) continue;
      return { worst: pool[0], failing: { value: child, message: e instanceof Error ? `${e.name}: ${e.message}` : String(e), thrown: e }, evaluations, tooLong };
    }
    if (work !== undefined) throughput.observe(work, Date.now() - started);
    if (!(outcome.error <= outcome.bound))
      return {
        worst: { value: child, outcome },
        failing: { value: child, message: `error ${outcome.error} > bound ${outcome.bound}${outcome.detail ? ` (${outcome.detail})` : ''}` },
        evaluations,
        tooLong,
      };
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
  return { worst: pool[0], evaluations, tooLong };
}
