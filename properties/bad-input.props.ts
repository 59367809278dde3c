/**
 * Bad input gets a clear, typed error — never a silent NaN: wrong shapes, NaN/±Infinity,
 * empty sizes, masks whose blocks do not sum to the rows (docs/guide-kernels.md "Validate at the boundary").
 * @module
 */
import * as fc from 'fast-check';
import {
  areaDownsample,
  attention,
  bicubicWeight,
  conv3x3,
  criteria,
  e1Bound,
  evaluatePolynomial,
  featureMap,
  hardInstance,
  layerNorm,
  linearFactor,
  MaskError,
  matmul,
  matrix,
  NonFiniteError,
  RangeArgumentError,
  rank,
  reconstruct,
  scalePyramid,
  ShapeError,
  taylorDegree,
  transformer,
  upInterpolate,
  varModel,
  VarcheckError,
  type AttentionInput,
  type Matrix,
} from '../spec/index.js';
import { attentionInputArb } from './arbitraries.js';
import { holds, law, type Law } from './law.js';

/** A malformed call: what to run, which error class it must throw, and which argument it must name. */
interface Malformed {
  what: string;
  call: () => unknown;
  error: new (...args: never[]) => VarcheckError;
  argument: string;
}

const nonFinite = fc.constantFrom(Number.NaN, Infinity, -Infinity);

function poke(m: Matrix, k: number, v: number): Matrix {
  const data = Float64Array.from(m.data);
  data[k % data.length] = v;
  return { ...m, data };
}

const malformedAttention: fc.Arbitrary<Malformed> = fc
  .tuple(attentionInputArb({ maxL: 6 }), fc.nat(), nonFinite, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 8 }))
  .map(([x, k, bad, delta, which]): Malformed => {
    const att = (y: Partial<AttentionInput>) => () => attention({ ...x, ...y } as AttentionInput);
    const cases: Malformed[] = [
      { what: 'non-finite q entry', call: att({ q: poke(x.q, k, bad) }), error: NonFiniteError, argument: 'input.q' },
      { what: 'non-finite k entry', call: att({ k: poke(x.k, k, bad) }), error: NonFiniteError, argument: 'input.k' },
      { what: 'non-finite v entry', call: att({ v: poke(x.v, k, bad) }), error: NonFiniteError, argument: 'input.v' },
      { what: 'k with another head dim', call: att({ k: matrix(x.k.rows, x.k.cols + delta) }), error: ShapeError, argument: 'input.k' },
      { what: 'v with other rows than k', call: att({ v: matrix(x.v.rows + delta, x.v.cols) }), error: ShapeError, argument: 'input.v' },
      { what: 'data shorter than rows·cols', call: att({ q: { ...x.q, data: x.q.data.subarray(0, x.q.data.length - 1) } }), error: ShapeError, argument: 'input.q.data' },
      { what: 'empty q (0 rows)', call: att({ q: { rows: 0, cols: x.q.cols, data: new Float64Array(0) } }), error: ShapeError, argument: 'input.q' },
      { what: 'non-finite or non-positive scale', call: att({ scale: [bad, 0, -delta][k % 3] }), error: k % 3 === 0 ? NonFiniteError : RangeArgumentError, argument: 'input.scale' },
      {
        what: 'blocks not summing to the rows',
        call: att({ q: matrix(x.k.rows, x.q.cols), mask: { kind: 'block-causal', blocks: [x.k.rows + delta] } }),
        error: MaskError,
        argument: 'input.mask.blocks',
      },
    ];
    return cases[which];
  });

const malformedResize: fc.Arbitrary<Malformed> = fc
  .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.nat(), nonFinite, fc.integer({ min: 0, max: 4 }), fc.boolean())
  .map(([h, w, k, bad, which, area]): Malformed => {
    const resize = area ? areaDownsample : upInterpolate;
    const x = featureMap(h, w, 2);
    const xBad = { ...x, data: Float64Array.from(x.data, (v, i) => (i === k % x.data.length ? bad : v)) };
    const cases: Malformed[] = [
      { what: 'non-finite pixel', call: () => resize(xBad, 3, 3), error: NonFiniteError, argument: 'x' },
      { what: 'empty target height', call: () => resize(x, 0, 3), error: RangeArgumentError, argument: 'h2' },
      { what: 'fractional target width', call: () => resize(x, 3, 2.5), error: RangeArgumentError, argument: 'w2' },
      { what: 'wrong data length', call: () => resize({ ...x, data: new Float64Array(h * w * 2 + 1) }, 3, 3), error: ShapeError, argument: 'x.data' },
      { what: 'zero channels', call: () => resize({ ...x, c: 0, data: new Float64Array(0) }, 3, 3), error: ShapeError, argument: 'x.c' },
    ];
    return cases[which];
  });

const malformedPyramid: fc.Arbitrary<Malformed> = fc.tuple(fc.integer({ min: 2, max: 9 }), fc.integer({ min: 0, max: 2 })).map(
  ([s, which]): Malformed =>
    [
      { what: 'first scale not 1×1', call: () => scalePyramid({ sides: [s, s + 1] }), error: RangeArgumentError, argument: 'sides[0]' },
      { what: 'decreasing sides', call: () => scalePyramid({ sides: [1, s, s - 1] }), error: RangeArgumentError, argument: 'sides[2]' },
      { what: 'no scales', call: () => scalePyramid({ sides: [] }), error: RangeArgumentError, argument: 'sides' },
    ][which],
);

const malformedOther: fc.Arbitrary<Malformed> = fc.tuple(nonFinite, fc.integer({ min: 0, max: 14 }), fc.integer({ min: 1, max: 4 })).map(([bad, which, n]): Malformed => {
  const m = matrix(n, n);
  const mBad = { ...m, data: Float64Array.from(m.data, (v, i) => (i === 0 ? bad : v)) };
  const model = varModel(scalePyramid({ sides: [1, 2] }), { D: 4, layers: 1 });
  const cases: Malformed[] = [
    { what: 'bicubicWeight(NaN)', call: () => bicubicWeight(bad), error: NonFiniteError, argument: 'x' },
    { what: 'matmul with a non-finite entry', call: () => matmul(mBad, m), error: NonFiniteError, argument: 'a' },
    { what: 'matmul with mismatched sizes', call: () => matmul(m, matrix(n + 1, 2)), error: ShapeError, argument: 'b' },
    { what: 'layerNorm with ε = 0', call: () => layerNorm(m, 0), error: RangeArgumentError, argument: 'eps' },
    { what: 'transformer on rows of the wrong width', call: () => transformer(matrix(3, 5), model.layers, { kind: 'none' }), error: ShapeError, argument: 'x' },
    { what: 'evaluatePolynomial at NaN', call: () => evaluatePolynomial([1, 1], bad), error: NonFiniteError, argument: 'x' },
    { what: 'e1Bound with non-finite ‖V‖∞', call: () => e1Bound(0.1, bad), error: RangeArgumentError, argument: 'vInf' },
    { what: 'linearFactor of a non-finite matrix', call: () => linearFactor(mBad), error: NonFiniteError, argument: 'w' },
    { what: 'criteria with non-finite B', call: () => criteria({ L: 10, d: 2, B: bad, delta: 1e-3 }), error: NonFiniteError, argument: 'B' },
    { what: 'criteria with δ = 0', call: () => criteria({ L: 10, d: 2, B: 1, delta: 0 }), error: RangeArgumentError, argument: 'delta' },
    { what: 'taylorDegree with ε = 0', call: () => taylorDegree(1, 0), error: RangeArgumentError, argument: 'eps' },
    { what: 'rank with d = 0', call: () => rank(0, 2), error: RangeArgumentError, argument: 'd' },
    { what: 'hardInstance with n = 0', call: () => hardInstance({ n: 0 }), error: RangeArgumentError, argument: 'n' },
    { what: 'conv3x3 with too few weights', call: () => conv3x3(featureMap(2, 2, 1), { cIn: 1, cOut: 1, weight: new Float64Array(8) }), error: ShapeError, argument: 'conv.weight' },
    { what: 'reconstruct with no token maps', call: () => reconstruct([], 4, model.phi), error: ShapeError, argument: 'tokenMaps' },
  ];
  return cases[which];
});

function rejects(m: Malformed) {
  try {
    const out = m.call();
    return holds(false, `${m.what}: returned ${String(out)} instead of throwing ${m.error.name}`);
  } catch (e) {
    const ok = e instanceof m.error && (e as VarcheckError).argument.startsWith(m.argument);
    return holds(ok, `${m.what}: threw ${(e as Error).name}(${(e as Error).message}), expected ${m.error.name} naming ${m.argument}`);
  }
}

/** Laws of input validation. */
export const badInputLaws: Law<unknown>[] = [
  law({ name: 'bad input: attention rejects malformed input with a typed error', cites: 'docs/guide-kernels.md (validate at the boundary)', arbitrary: malformedAttention, check: rejects }),
  law({ name: 'bad input: resizing rejects malformed maps and sizes', cites: 'docs/guide-kernels.md (validate at the boundary)', arbitrary: malformedResize, check: rejects }),
  law({ name: 'bad input: scalePyramid rejects malformed sides', cites: 'docs/math.md §2', arbitrary: malformedPyramid, check: rejects }),
  law({
    id: 'bad-input.pipeline-polynomial-bound-and',
    name: 'bad input: pipeline, polynomial, bound and criteria functions reject malformed arguments',
    cites: 'docs/guide-kernels.md (validate at the boundary)',
    arbitrary: malformedOther,
    check: rejects,
  }),
];
