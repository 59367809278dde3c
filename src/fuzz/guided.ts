/**
 * Guided worst-error search. fast-check has no targeted search, so after the random phase we
 * hill-climb on error/bound from the worst inputs seen: scale Q and K up (towards the threshold
 * and exp overflow), push single entries to the extremes, grow the key count past backend limits
 * (gpu.js's 1000-iteration loops), and perturb values. Winners go back to fast-check as examples.
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
  for (let i = 0; i < rows; i++) data.set(m.data.subarray((i % m.rows) * m.cols, (i % m.rows + 1) * m.cols), i * m.cols);
  return { rows, cols: m.cols, data };
}

/** Clamp every entry of Q, K, V to ±maxEntry. */
function clampInput(x: AttentionInput, maxEntry: number): AttentionInput {
  const c = (m: Matrix): Matrix => mapData(m, (v) => Math.max(-maxEntry, Math.min(maxEntry, v)));
  return { ...x, q: c(x.q), k: c(x.k), v: c(x.v) };
}

/** One random mutation of an attention input, entries kept within ±maxEntry. */
export function mutateAttention(x: AttentionInput, rand: () => number, maxEntry = Infinity): AttentionInput {
  return clampInput(mutateAttentionFree(x, rand, maxEntry), maxEntry);
}

function mutateAttentionFree(x: AttentionInput, rand: () => number, maxEntry: number): AttentionInput {
  const pick = Math.floor(rand() * 5);
  const B = Math.min(maxEntry / 2, Math.max(maxAbs(x.q.data), maxAbs(x.k.data), 1e-3));
  switch (pick) {
    case 0: { // scale Q and K towards larger logits
      const c = 1.25 + rand() * 2;
      return { ...x, q: mapData(x.q, (v) => v * c), k: mapData(x.k, (v) => v * c) };
    }
    case 1: { // push one entry of Q or K to ±(largest |entry|)·2
      const m = rand() < 0.5 ? 'q' : 'k';
      const src = x[m];
      const at = Math.floor(rand() * src.data.length);
      const val = (rand() < 0.5 ? -1 : 1) * 2 * B;
      return { ...x, [m]: mapData(src, (v, k) => (k === at ? val : v)) };
    }
    case 2: { // grow the key count past 1000 (unmasked), or add tokens to the last scale
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
    case 3: { // perturb V
      return { ...x, v: mapData(x.v, (v) => v + (rand() - 0.5) * 0.5 * (1 + Math.abs(v))) };
    }
    default: { // perturb Q and K a little
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
  while (pool.length > 0 && Date.now() - t0 < options.timeMs && evaluations < max) {
    const parent = pool[Math.floor(rand() * Math.min(pool.length, 4))];
    let child: unknown;
    if (isAttention(parent.value)) child = mutateAttention(parent.value, rand, law.maxEntry ?? Infinity);
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
    if (!(outcome.error <= outcome.bound)) return { worst: { value: child, outcome }, failing: { value: child, message: `error ${outcome.error} > bound ${outcome.bound}${outcome.detail ? ` (${outcome.detail})` : ''}` }, evaluations };
    if (ratio(outcome) >= ratio(pool[pool.length - 1].outcome) || pool.length < 8) {
      pool.push({ value: child, outcome });
      pool.sort((a, b) => ratio(b.outcome) - ratio(a.outcome));
      pool.length = Math.min(pool.length, 8);
    }
  }
  return { worst: pool[0], evaluations };
}
