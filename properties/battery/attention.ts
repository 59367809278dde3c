/**
 * The attention battery: one suite written against the kernel contract (docs/guide-kernels.md), in the
 * style of fast-check's `assertProduceCorrectValues` — it takes a kernel and settings, and
 * returns laws that judge the kernel against the spec with the tolerance policy.
 * @module
 */
import * as fc from 'fast-check';
import { attention, attentionInput, attentionRows, checkAttentionInput, type AttentionInput } from '../../spec/attention.js';
import { RangeArgumentError, ShapeError } from '../../spec/errors.js';
import { attentionRoundingBound, FLOAT64 } from '../../spec/rounding.js';
import { blockCausalMask, keyLimits } from '../../spec/mask.js';
import { mulberry32, uniformMatrix } from '../../spec/random.js';
import { checkMatrix, matrix, maxAbs, type Matrix } from '../../spec/matrix.js';
import type { AttentionKernel } from '../../spec/contract.js';
import { attentionInputArb, hardAttentionArb, largeAttentionArb, MAX_KEYS, pyramidArb, type AttentionSettings, type Reach } from '../arbitraries.js';
import { law, roundoff, type Law, type Outcome } from '../law.js';
import type { MeasuredPrecision, SoftmaxRescales } from '../../spec/contract.js';
import { float32Tolerance } from './float32.js';

/** Settings of {@link attentionBattery}; anything left out comes from {@link batteryPreset}. */
export interface BatterySettings extends AttentionSettings {
  /** Cases per law. @defaultValue 100 */
  numRuns?: number;
  /** How far the generators reach (hard regime, key counts, pyramids). @defaultValue 'default' */
  reach?: Reach;
  /** Cap the key count of the large inputs below the reach's (a time budget for slow backends). */
  maxKeys?: number;
  /** The backend's measured float behaviour (float32 kernels; see `probePrecision`). */
  measured?: MeasuredPrecision;
}

/** The battery's defaults for one kernel ({@link batteryPreset}). */
export interface BatteryPreset {
  /** Entry bound of the small random inputs. */
  B: number;
  /** Most tokens of the small random inputs. */
  maxL: number;
  /** Largest logit bound β of the hard regime. */
  maxBeta: number;
  /** Most keys of the large inputs. */
  maxKeys: number;
  /** Largest head dimension of the hard and large inputs (approximate kernels), or none. */
  maxD?: number;
}

/**
 * The one place the battery's defaults live: small random inputs with entries ≤ 3 for exact
 * kernels and ≤ 1.5 for approximate ones (where a bound is certified), up to 24 tokens; the hard
 * regime up to β = 1,000 for exact kernels (past every float ceiling: the row-max shift must hold)
 * and β = 36 for approximate ones (they certify or decline); up to 8,192 keys (`deep`: 21,845);
 * head dimension ≤ 4 in the hard and large families of approximate kernels (rank C(d + g, g)).
 */
export function batteryPreset(kernel: AttentionKernel, reach: Reach = 'default'): BatteryPreset {
  // Low-rank kernels are for small head dimensions (d = O(log n)): their rank C(d + g, g) grows fast with d.
  return { B: kernel.exact ? 3 : 1.5, maxL: 24, maxBeta: kernel.exact ? 1000 : 36, maxKeys: MAX_KEYS[reach], maxD: kernel.exact ? undefined : 4 };
}

/** Query rows judged on a large input: all up to this many rows, else a sample. */
export const FULL_REFERENCE_ROWS = 256;

/**
 * The query rows a law compares on `x`: every row of a small input; on a large one 64 rows —
 * the first and last row of every scale (block-causal) and the rest drawn from a generator seeded
 * by the shape, so a case replays exactly. Reported in the failure detail.
 */
export function sampledRows(x: AttentionInput, count = 64): number[] | undefined {
  if (x.q.rows <= FULL_REFERENCE_ROWS) return undefined;
  const rows = new Set<number>([0, x.q.rows - 1]);
  if (x.mask.kind === 'block-causal') {
    let start = 0;
    for (const b of x.mask.blocks) {
      rows.add(start);
      rows.add(start + b - 1);
      start += b;
    }
  }
  const rand = mulberry32(x.q.rows * 131 + x.k.rows * 7 + x.q.cols);
  while (rows.size < Math.max(count, Math.min(rows.size, 2 * count))) rows.add(Math.floor(rand() * x.q.rows));
  return [...rows].sort((a, b) => a - b);
}

/** The float64 reference on the judged rows (all rows, or {@link sampledRows}). */
export function referenceRows(x: AttentionInput, rows: readonly number[] | undefined): Matrix {
  return rows ? attentionRows(x, rows) : attention(x);
}

/** The judged rows of a kernel's output. */
export function pickRows(m: Matrix, rows: readonly number[] | undefined): Matrix {
  if (!rows) return m;
  const out = matrix(rows.length, m.cols);
  rows.forEach((i, t) => out.data.set(m.data.subarray(i * m.cols, (i + 1) * m.cols), t * m.cols));
  return out;
}

/**
 * The float64 tolerance of an exact kernel: the rigorous forward-error bound of softmax attention
 * computed in float64 by any reasonable implementation ({@link attentionRoundingBound}, docs/math.md §8).
 */
export function float64Tolerance(input: AttentionInput, rescales?: SoftmaxRescales): number {
  return attentionRoundingBound(input, { ...FLOAT64, rescales });
}

/**
 * The float tolerance of a kernel on `input` ({@link float64Tolerance}, or the float32 rule with its
 * rigorous floor against `reference` on the judged `rows`).
 */
export function floatTolerance(kernel: AttentionKernel, input: AttentionInput, reference: Matrix, measured?: MeasuredPrecision, rows?: readonly number[]): number {
  if (kernel.precision === 'float64') return float64Tolerance(input, kernel.rescales);
  return kernel.exact
    ? float32Tolerance(input, reference, measured, undefined, rows, undefined, kernel.rescales)
    : float32Tolerance(input, reference, measured, kernel.formulaReference?.(input), rows);
}

/**
 * The tolerance a kernel is judged by on `input` (docs/guide-kernels.md, tolerance policy): its
 * precision's float tolerance plus, for approximate kernels, their declared `errorBound(input)`.
 */
export function kernelTolerance(kernel: AttentionKernel, input: AttentionInput, reference: Matrix, measured?: MeasuredPrecision, rows?: readonly number[]): number {
  const float = floatTolerance(kernel, input, reference, measured, rows);
  if (kernel.exact) return float;
  if (!kernel.errorBound) throw new ShapeError(`${kernel.name}.errorBound`, 'an approximate kernel (exact: false) must declare errorBound(input)');
  return kernel.errorBound(input) + float;
}

/**
 * Does an approximate kernel decline `input` — its `errorBound` throws a varcheck
 * `RangeArgumentError` (e.g. no certified degree this far above the threshold)? Declined
 * inputs are outside the kernel's promise and are not judged; any other throw is a failure.
 */
export function declines(kernel: AttentionKernel, input: AttentionInput): boolean {
  try {
    kernel.errorBound?.(input);
    return false;
  } catch (e) {
    // By name: a user module loaded through tsx has its own copy of varcheck's error classes.
    if (e instanceof RangeArgumentError) return true; // branded: also a copy of varcheck loaded with a user's module
    throw e;
  }
}

/** Run a kernel and check its output's shape and finiteness (a wrong shape is a failure, not a crash). */
export async function runKernel(kernel: AttentionKernel, input: AttentionInput): Promise<Matrix> {
  const out = await kernel.run(input);
  return checkMatrix(`${kernel.name} output`, out, { rows: input.q.rows, cols: input.v.cols });
}

/**
 * Q' = [Q | c_i/s], K' = [K | 1]: adds c_i (cycling through `shifts`) to every logit of row i,
 * which softmax must ignore (docs/math.md §3). A metamorphic input needing no reference.
 */
export function withRowShifts(x: AttentionInput, shifts: readonly number[]): AttentionInput {
  const d = x.q.cols;
  const q2 = matrix(x.q.rows, d + 1);
  const k2 = matrix(x.k.rows, d + 1);
  for (let i = 0; i < x.q.rows; i++) {
    q2.data.set(x.q.data.subarray(i * d, (i + 1) * d), i * (d + 1));
    q2.data[i * (d + 1) + d] = shifts[i % shifts.length] / x.scale;
  }
  for (let j = 0; j < x.k.rows; j++) {
    k2.data.set(x.k.data.subarray(j * d, (j + 1) * d), j * (d + 1));
    k2.data[j * (d + 1) + d] = 1;
  }
  return { ...x, q: q2, k: k2 };
}

function maxAbsDiffOf(a: Matrix, b: Matrix): number {
  let m = 0;
  for (let k = 0; k < a.data.length; k++) {
    const e = Math.abs(a.data[k] - b.data[k]);
    if (e > m || Number.isNaN(e)) m = e;
  }
  return m;
}

/** PyTorch-style mismatch summary: count over tolerance, worst absolute and relative error with index. */
export function mismatch(got: Matrix, want: Matrix, tol: number): Outcome {
  let worst = 0;
  let at = 0;
  let count = 0;
  let worstRel = 0;
  for (let k = 0; k < want.data.length; k++) {
    const e = Math.abs(got.data[k] - want.data[k]);
    if (!(e <= tol)) count++;
    if (e > worst || Number.isNaN(e)) [worst, at] = [e, k];
    worstRel = Math.max(worstRel, e / Math.max(Math.abs(want.data[k]), Number.MIN_VALUE));
  }
  const i = Math.floor(at / want.cols);
  const j = at % want.cols;
  return {
    error: worst,
    bound: tol,
    detail: `mismatched ${count}/${want.data.length}; greatest absolute difference ${worst} at (${i}, ${j}) (got ${got.data[at]}, spec ${want.data[at]}); greatest relative difference ${worstRel}; tolerance ${tol}`,
  };
}

/**
 * Does the kernel take `x` — at most `maxTokens` tokens and, unless only V is to be widened by the
 * law itself (`dv: false`), a head size d, d_v of at most `maxHeadSize` (spec/contract.ts)?
 */
export function kernelAccepts(kernel: AttentionKernel, x: AttentionInput, { dv = true }: { dv?: boolean } = {}): boolean {
  const tokens = kernel.maxTokens ?? Infinity;
  const head = kernel.maxHeadSize ?? Infinity;
  return Math.max(x.q.rows, x.k.rows) <= tokens && x.q.cols <= head && (!dv || x.v.cols <= head);
}

/** The three families a law draws from: small random, the hard regime, and (main law only) large sizes. */
function families(kernel: AttentionKernel, s: BatterySettings) {
  const reach = s.reach ?? 'default';
  const preset = batteryPreset(kernel, reach);
  const masks = (s.masks ?? ['none', 'block-causal']).filter((m) => kernel.masks.includes(m));
  const cap = kernel.maxTokens ?? Infinity;
  const head = kernel.maxHeadSize ?? Infinity;
  const fits = (x: AttentionInput): boolean => kernelAccepts(kernel, x);
  const B = s.B ?? preset.B;
  // Each family's own head-size default (4, 8, 128), capped by the preset and the kernel's maxHeadSize.
  const maxD = (d: number): number => Math.min(d, head);
  const small = attentionInputArb({ ...s, B, maxL: Math.min(s.maxL ?? preset.maxL, cap), masks, maxD: maxD(s.maxD ?? 4), maxDv: maxD(s.maxDv ?? 3) });
  if (reach === 'small') return { small, withHard: small, withLarge: small };
  const maxKeys = Math.min(s.maxKeys ?? preset.maxKeys, preset.maxKeys, cap);
  const hard = hardAttentionArb({ maxBeta: preset.maxBeta, masks, maxKeys: Math.min(64, maxKeys), maxD: maxD(preset.maxD ?? 8) }).filter(fits);
  const withHard = fc.oneof({ arbitrary: small, weight: 2 }, { arbitrary: hard, weight: 1 });
  if (maxKeys <= 1000) return { small, withHard, withLarge: withHard };
  const large = largeAttentionArb({ maxKeys, B, masks, maxD: maxD(preset.maxD ?? 128) }).filter(fits);
  return { small, withHard, withLarge: fc.oneof({ arbitrary: small, weight: 6 }, { arbitrary: hard, weight: 3 }, { arbitrary: large, weight: 1 }) };
}

/** Where a law judged: all rows, or which sampled rows (docs/guide-kernels.md, large inputs). */
function rowsNote(x: AttentionInput, rows: readonly number[] | undefined): string {
  return rows ? `; judged ${rows.length} sampled rows of ${x.q.rows} (${rows.slice(0, 8).join(', ')}${rows.length > 8 ? ', …' : ''})` : '';
}

/** The largest per-column excursion of `got` outside [min V, max V] over each row's allowed keys. */
function rangeExcursion(x: AttentionInput, got: Matrix, rows: readonly number[] | undefined): number {
  const dv = x.v.cols;
  const limits = keyLimits(x.mask, x.q.rows, x.k.rows);
  const lo = new Float64Array(dv).fill(Infinity);
  const hi = new Float64Array(dv).fill(-Infinity);
  for (let j = 0; j < x.v.rows; j++) {
    for (let c = 0; c < dv; c++) [lo[c], hi[c]] = [Math.min(lo[c], x.v.data[j * dv + c]), Math.max(hi[c], x.v.data[j * dv + c])];
  }
  let err = 0;
  for (let t = 0; t < got.rows; t++) {
    if (limits[rows ? rows[t] : t] === 0) continue;
    for (let c = 0; c < dv; c++) err = Math.max(err, got.data[t * dv + c] - hi[c], lo[c] - got.data[t * dv + c]);
  }
  return Math.max(0, err);
}

const NO_BLOCK_CAUSAL = 'the kernel does not declare block-causal masks';

/**
 * Att(Q, K, V) computed as the kernel's outputs on column slices of V at most `width` wide, side by
 * side (attention acts on each column of V alone, so this is the same matrix for any slicing).
 */
async function runInColumnSlices(kernel: AttentionKernel, x: AttentionInput, width: number): Promise<Matrix> {
  const dv = x.v.cols;
  if (dv <= width) return runKernel(kernel, x);
  const out = matrix(x.q.rows, dv);
  for (let c0 = 0; c0 < dv; c0 += width) {
    const w = Math.min(width, dv - c0);
    const v = matrix(x.v.rows, w);
    for (let j = 0; j < x.v.rows; j++) v.data.set(x.v.data.subarray(j * dv + c0, j * dv + c0 + w), j * w);
    const part = await runKernel(kernel, { ...x, v });
    for (let i = 0; i < x.q.rows; i++) out.data.set(part.data.subarray(i * w, (i + 1) * w), i * dv + c0);
  }
  return out;
}

/** Laws every attention kernel must satisfy (ids `battery.*`, the same for every kernel). */
export function attentionBattery(kernel: AttentionKernel, settings: BatterySettings = {}): Law<unknown>[] {
  const numRuns = settings.numRuns ?? 100;
  const { small, withHard, withLarge } = families(kernel, settings);
  const maxEntry = Math.max(settings.B ?? batteryPreset(kernel).B, 2);
  const declined = (x: AttentionInput): Outcome | undefined =>
    !kernel.exact && declines(kernel, x) ? { error: 0, bound: 0, detail: 'declined: the kernel cannot certify a bound on this input' } : undefined;
  const blockCausal = kernel.masks.includes('block-causal');
  const laws: Law<unknown>[] = [
    law({
      id: 'battery.matches-spec',
      maxEntry,
      name: `${kernel.name}: matches the spec within ${kernel.exact ? 'float tolerance' : 'its declared bound + float tolerance'}`,
      cites: kernel.exact ? 'docs/guide-kernels.md tolerance policy, docs/math.md §3, §8' : 'docs/math.md §6 E1 + E5, §8',
      arbitrary: withLarge,
      numRuns,
      check: async (x) => {
        checkAttentionInput(x);
        const no = declined(x);
        if (no) return no;
        const got = await runKernel(kernel, x);
        const rows = sampledRows(x);
        const ref = referenceRows(x, rows);
        const o = mismatch(pickRows(got, rows), ref, kernelTolerance(kernel, x, ref, settings.measured, rows));
        return { ...o, detail: `${o.detail}${rowsNote(x, rows)}` };
      },
    }),
    law({
      id: 'battery.e4-range',
      maxEntry,
      name: `${kernel.name}: E4 range, every output within [min V, max V] per column`,
      cites: 'docs/math.md §6 E4',
      arbitrary: withHard,
      numRuns,
      check: async (x) => {
        const no = declined(x);
        if (no) return no;
        const got = await runKernel(kernel, x);
        const rows = sampledRows(x);
        const tol = floatTolerance(kernel, x, referenceRows(x, rows), settings.measured, rows);
        return { error: rangeExcursion(x, pickRows(got, rows), rows), bound: tol };
      },
    }),
  ];
  if (kernel.exact) {
    const pair = async (x: AttentionInput, y: AttentionInput, cut: (m: Matrix) => Matrix): Promise<Outcome> => {
      const a = cut(await runKernel(kernel, x));
      const b = await runKernel(kernel, y);
      const tol = floatTolerance(kernel, x, attention(x), settings.measured) + floatTolerance(kernel, y, attention(y), settings.measured);
      return { error: maxAbsDiffOf(a, b), bound: tol };
    };
    laws.push(
      law({
        id: 'battery.shift-invariance',
        maxEntry,
        name: `${kernel.name}: invariant under a per-row logit shift`,
        cites: 'docs/math.md §3 (softmax shift invariance)',
        // withRowShifts adds a column to Q and K: drawn one narrower than the kernel's maxHeadSize.
        skip: (kernel.maxHeadSize ?? Infinity) < 2 ? 'the shifted input needs a head size of 2, over the kernel’s maxHeadSize' : undefined,
        arbitrary: fc.tuple(
          small.filter((x) => x.q.cols < (kernel.maxHeadSize ?? Infinity)),
          fc.array(fc.double({ min: -8, max: 8, noNaN: true }), { minLength: 8, maxLength: 8 }),
        ),
        numRuns,
        check: ([x, shifts]) => pair(x, withRowShifts(x, shifts), (m) => m),
      }),
      law({
        id: 'battery.prefix-stability',
        maxEntry,
        name: `${kernel.name}: masked prefix stability (the first L_k rows ignore later scales)`,
        cites: 'docs/math.md §7 (KV-cache consistency)',
        skip: blockCausal ? undefined : NO_BLOCK_CAUSAL,
        // Drawn block-causal with ≥ 2 scales by construction (a filter that rejects everything would hang).
        arbitrary: fc
          .tuple(
            pyramidArb(6, 4).filter((p) => p.blocks.length > 1),
            fc.integer({ min: 1, max: Math.min(4, kernel.maxHeadSize ?? Infinity) }),
            fc.integer({ min: 1, max: Math.min(3, kernel.maxHeadSize ?? Infinity) }),
            fc.nat(),
          )
          .map(([p, d, dv, seed]) => {
            const rand = mulberry32(seed);
            const B = settings.B ?? batteryPreset(kernel).B;
            return attentionInput(uniformMatrix(rand, p.L, d, B), uniformMatrix(rand, p.L, d, B), uniformMatrix(rand, p.L, dv, B), { mask: blockCausalMask(p) });
          }),
        numRuns: Math.ceil(numRuns / 2),
        check: (x) => {
          const blocks = x.mask.kind === 'block-causal' ? x.mask.blocks : [];
          const keep = blocks.slice(0, -1);
          const Lk = keep.reduce((a, b) => a + b, 0);
          const head = (m: Matrix): Matrix => ({ rows: Lk, cols: m.cols, data: m.data.slice(0, Lk * m.cols) });
          const y: AttentionInput = { q: head(x.q), k: head(x.k), v: head(x.v), scale: x.scale, mask: { kind: 'block-causal', blocks: keep } };
          return pair(x, y, head);
        },
      }),
      law({
        id: 'battery.rows-stochastic',
        maxEntry,
        name: `${kernel.name}: rows are stochastic (V = I)`,
        cites: 'docs/math.md §3',
        arbitrary: attentionInputArb({
          ...settings,
          B: settings.B ?? batteryPreset(kernel).B,
          masks: (settings.masks ?? ['none', 'block-causal']).filter((m) => kernel.masks.includes(m)),
          maxL: Math.min(settings.maxL ?? 12, kernel.maxTokens ?? Infinity),
          maxD: Math.min(settings.maxD ?? 4, kernel.maxHeadSize ?? Infinity),
          maxDv: 1,
        }),
        numRuns,
        // V = I is L_k wide: a kernel with a maxHeadSize gets it in column slices (below), so only tokens and d are gated.
        fits: (v) => kernelAccepts(kernel, v as AttentionInput, { dv: false }),
        check: async (x) => {
          const L = x.k.rows;
          const eye = matrix(L, L);
          for (let i = 0; i < L; i++) eye.data[i * L + i] = 1;
          const y = { ...x, v: eye };
          const p = await runInColumnSlices(kernel, y, kernel.maxHeadSize ?? Infinity);
          const limits = keyLimits(x.mask, x.q.rows, L);
          let err = 0;
          for (let i = 0; i < p.rows; i++) {
            let s = 0;
            for (let j = 0; j < L; j++) {
              const w = p.data[i * L + j];
              err = Math.max(err, -w, j >= limits[i] ? Math.abs(w) : 0);
              s += w;
            }
            err = Math.max(err, Math.abs(s - 1));
          }
          const tol = floatTolerance(kernel, y, attention(y), settings.measured) * L;
          return { error: err, bound: tol, detail: 'negative weight, weight on a masked key, or row sum ≠ 1' };
        },
      }),
    );
  }
  // The guided search stays inside what the kernel takes (rows-stochastic widens V itself, in slices).
  const fits = (v: unknown): boolean => {
    const x = (Array.isArray(v) ? v[0] : v) as AttentionInput;
    return kernelAccepts(kernel, x);
  };
  return laws.map((l) => (l.fits ? l : { ...l, fits }));
}
