/**
 * The attention battery: one suite written against the kernel contract (DESIGN.md), in the
 * style of fast-check's `assertProduceCorrectValues` — it takes a kernel and settings, and
 * returns laws that judge the kernel against the spec with the tolerance policy.
 * @module
 */
import * as fc from 'fast-check';
import { attention, checkAttentionInput, type AttentionInput } from '../../spec/attention.js';
import { RangeArgumentError, ShapeError } from '../../spec/errors.js';
import { keyLimits } from '../../spec/mask.js';
import { checkMatrix, matrix, maxAbs, type Matrix } from '../../spec/matrix.js';
import type { AttentionKernel } from '../../spec/contract.js';
import { attentionInputArb, type AttentionSettings } from '../arbitraries.js';
import { law, roundoff, type Law, type Outcome } from '../law.js';
import type { MeasuredPrecision } from '../../spec/contract.js';
import { float32Tolerance } from './float32.js';

/** Settings of {@link attentionBattery}. */
export interface BatterySettings extends AttentionSettings {
  /** Cases per law. @defaultValue 100 */
  numRuns?: number;
  /** Also draw one case in ten with more than this many tokens (loop-limit bugs). */
  largeL?: number;
  /** The backend's measured float behaviour (float32 kernels; see `probePrecision`). */
  measured?: MeasuredPrecision;
}

/**
 * Float64 rounding allowance of a softmax average over L keys (DESIGN.md tolerance policy):
 * 16·(L + d + β)·EPS·‖V‖∞, β the largest |logit| (exp amplifies a logit's rounding by it).
 */
export function float64Tolerance(input: AttentionInput): number {
  const beta = input.scale * input.q.cols * maxAbs(input.q.data) * maxAbs(input.k.data);
  return roundoff(16 * (input.k.rows + input.q.cols + beta + 1), maxAbs(input.v.data));
}

/**
 * The tolerance a kernel is judged by on `input` (DESIGN.md): its precision's float
 * tolerance — float64 rounding allowance, or the float32 FlashAttention rule against
 * `reference` — plus, for approximate kernels, their declared `errorBound(input)`.
 */
export function kernelTolerance(kernel: AttentionKernel, input: AttentionInput, reference: Matrix, measured?: MeasuredPrecision): number {
  const float = kernel.precision === 'float32' ? float32Tolerance(input, reference, measured, kernel.formulaReference?.(input)) : float64Tolerance(input);
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
    if (e instanceof RangeArgumentError || (e instanceof Error && e.name === 'RangeArgumentError')) return true;
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
 * which softmax must ignore (MATH.md §3). A metamorphic input needing no reference.
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

function inputs(kernel: AttentionKernel, s: BatterySettings): fc.Arbitrary<AttentionInput> {
  const masks = (s.masks ?? ['none', 'block-causal']).filter((m) => kernel.masks.includes(m));
  const small = attentionInputArb({ ...s, masks });
  if (!s.largeL) return small;
  const L = s.largeL;
  const large = attentionInputArb({ ...s, masks: ['none'], minL: L + 1, maxL: L + 64 });
  return fc.oneof({ arbitrary: small, weight: 9 }, { arbitrary: large, weight: 1 });
}

/** Laws every attention kernel must satisfy. */
export function attentionBattery(kernel: AttentionKernel, settings: BatterySettings = {}): Law<unknown>[] {
  const numRuns = settings.numRuns ?? 100;
  const arb = inputs(kernel, settings).filter((x) => kernel.maxTokens === undefined || Math.max(x.q.rows, x.k.rows) <= kernel.maxTokens);
  const maxEntry = settings.B ?? 2;
  const laws: Law<unknown>[] = [
    law({
      maxEntry,
      name: `${kernel.name}: matches the spec within ${kernel.exact ? 'float tolerance' : 'its declared bound + float tolerance'}`,
      cites: kernel.exact ? 'DESIGN.md tolerance policy, MATH.md §3' : 'MATH.md §6 E1 + E5',
      arbitrary: arb,
      numRuns,
      check: async (x) => {
        checkAttentionInput(x);
        if (!kernel.exact && declines(kernel, x)) return { error: 0, bound: 0, detail: 'declined: the kernel cannot certify a bound on this input' };
        const got = await runKernel(kernel, x);
        const ref = attention(x);
        return mismatch(got, ref, kernelTolerance(kernel, x, ref, settings.measured));
      },
    }),
    law({
      maxEntry,
      name: `${kernel.name}: E4 range, every output within [min V, max V] per column`,
      cites: 'MATH.md §6 E4',
      arbitrary: arb,
      numRuns,
      check: async (x) => {
        if (!kernel.exact && declines(kernel, x)) return { error: 0, bound: 0, detail: 'declined' };
        const got = await runKernel(kernel, x);
        const dv = x.v.cols;
        let err = 0;
        for (let c = 0; c < dv; c++) {
          let lo = Infinity;
          let hi = -Infinity;
          for (let j = 0; j < x.v.rows; j++) [lo, hi] = [Math.min(lo, x.v.data[j * dv + c]), Math.max(hi, x.v.data[j * dv + c])];
          for (let i = 0; i < got.rows; i++) err = Math.max(err, got.data[i * dv + c] - hi, lo - got.data[i * dv + c]);
        }
        const tol = kernel.precision === 'float32' ? float32Tolerance(x, attention(x), settings.measured, kernel.formulaReference?.(x)) : float64Tolerance(x);
        return { error: Math.max(0, err), bound: tol };
      },
    }),
  ];
  if (kernel.exact) {
    laws.push(
      law({
        maxEntry,
        name: `${kernel.name}: invariant under a per-row logit shift`,
        cites: 'MATH.md §3 (softmax shift invariance)',
        arbitrary: fc.tuple(arb, fc.array(fc.double({ min: -8, max: 8, noNaN: true }), { minLength: 8, maxLength: 8 })),
        numRuns,
        check: async ([x, shifts]) => {
          const y = withRowShifts(x, shifts);
          const a = await runKernel(kernel, x);
          const b = await runKernel(kernel, y);
          const tol = kernel.precision === 'float32'
            ? float32Tolerance(x, attention(x), settings.measured) + float32Tolerance(y, attention(y), settings.measured)
            : float64Tolerance(x) + float64Tolerance(y);
          return { error: maxAbsDiffOf(a, b), bound: tol };
        },
      }),
      law({
        maxEntry,
        name: `${kernel.name}: masked prefix stability (the first L_k rows ignore later scales)`,
        cites: 'MATH.md §7 (Consistency)',
        arbitrary: arb.filter((x) => x.mask.kind === 'block-causal' && x.mask.blocks.length > 1),
        numRuns: Math.ceil(numRuns / 2),
        check: async (x) => {
          const blocks = x.mask.kind === 'block-causal' ? x.mask.blocks : [];
          const keep = blocks.slice(0, -1);
          const Lk = keep.reduce((a, b) => a + b, 0);
          const cut = (m: Matrix): Matrix => ({ rows: Lk, cols: m.cols, data: m.data.slice(0, Lk * m.cols) });
          const y: AttentionInput = { q: cut(x.q), k: cut(x.k), v: cut(x.v), scale: x.scale, mask: { kind: 'block-causal', blocks: keep } };
          const full = await runKernel(kernel, x);
          const prefix = await runKernel(kernel, y);
          const tol = kernel.precision === 'float32'
            ? float32Tolerance(x, attention(x), settings.measured) + float32Tolerance(y, attention(y), settings.measured)
            : float64Tolerance(x) + float64Tolerance(y);
          return { error: maxAbsDiffOf(prefix, { ...full, rows: Lk, data: full.data.subarray(0, Lk * full.cols) }), bound: tol };
        },
      }),
    );
    laws.push(
      law({
        maxEntry,
        name: `${kernel.name}: rows are stochastic (V = I)`,
        cites: 'MATH.md §3',
        arbitrary: attentionInputArb({ ...settings, masks: (settings.masks ?? ['none', 'block-causal']).filter((m) => kernel.masks.includes(m)), maxDv: 1 }),
        numRuns,
        check: async (x) => {
          const L = x.k.rows;
          const eye = matrix(L, L);
          for (let i = 0; i < L; i++) eye.data[i * L + i] = 1;
          const y = { ...x, v: eye };
          const p = await runKernel(kernel, y);
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
          const tol = kernel.precision === 'float32' ? float32Tolerance(y, attention(y), settings.measured) * L : float64Tolerance(y);
          return { error: err, bound: tol, detail: 'negative weight, weight on a masked key, or row sum ≠ 1' };
        },
      }),
    );
  }
  return laws;
}
