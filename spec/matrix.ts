/**
 * Dense row-major matrices and HWC feature maps (the the kernel contract (docs/guide-kernels.md)), their
 * constructors, validators and the entrywise max norm ‖M‖∞ of docs/math.md §1.
 * @module
 */
import { NonFiniteError, RangeArgumentError, ShapeError, requireInteger } from './errors.js';

/** Row-major dense matrix: entry (i, j) is `data[i * cols + j]`. */
export interface Matrix {
  /** Number of rows (≥ 1). */
  rows: number;
  /** Number of columns (≥ 1). */
  cols: number;
  /** `rows · cols` entries, row-major. */
  data: Float64Array | Float32Array;
}

/** An h×w×c feature map, row-major HWC: token (i, j) is row `i·w + j` of the flattened map. */
export interface FeatureMap {
  /** Height (≥ 1). */
  h: number;
  /** Width (≥ 1). */
  w: number;
  /** Channels (≥ 1). */
  c: number;
  /** `h · w · c` entries; channel `ch` of pixel (i, j) is `data[(i·w + j)·c + ch]`. */
  data: Float64Array | Float32Array;
}

/** A float64 matrix of zeros, or one wrapping `data` (validated). */
export function matrix(rows: number, cols: number, data?: ArrayLike<number>): Matrix {
  requireInteger('rows', rows, 1);
  requireInteger('cols', cols, 1);
  const buf = new Float64Array(rows * cols);
  if (data !== undefined) {
    if (data.length !== rows * cols) {
      throw new ShapeError('data', `expected ${rows}·${cols} = ${rows * cols} entries, got ${data.length}`);
    }
    buf.set(data);
  }
  return { rows, cols, data: buf };
}

/** A float64 feature map of zeros, or one wrapping `data` (validated). */
export function featureMap(h: number, w: number, c: number, data?: ArrayLike<number>): FeatureMap {
  requireInteger('h', h, 1);
  requireInteger('w', w, 1);
  requireInteger('c', c, 1);
  const buf = new Float64Array(h * w * c);
  if (data !== undefined) {
    if (data.length !== h * w * c) {
      throw new ShapeError('data', `expected ${h}·${w}·${c} = ${h * w * c} entries, got ${data.length}`);
    }
    buf.set(data);
  }
  return { h, w, c, data: buf };
}

/** View a feature map as its (h·w)×c token matrix (shares the buffer). */
export function tokens(x: FeatureMap): Matrix {
  return { rows: x.h * x.w, cols: x.c, data: x.data };
}

/** View an (h·w)×c token matrix as an h×w×c feature map (shares the buffer). */
export function unflatten(m: Matrix, h: number, w: number): FeatureMap {
  if (h * w !== m.rows) throw new ShapeError('m', `expected ${h}·${w} = ${h * w} rows, got ${m.rows}`);
  return { h, w, c: m.cols, data: m.data };
}

function requireFiniteData(argument: string, data: ArrayLike<number>, at: (k: number) => string): void {
  for (let k = 0; k < data.length; k++) {
    const x = data[k];
    if (!Number.isFinite(x)) throw new NonFiniteError(argument, `entry ${at(k)} is ${String(x)}; expected finite values`);
  }
}

/**
 * Validate a matrix argument: positive integer sizes, a Float64Array/Float32Array of
 * `rows·cols` finite entries, and optionally the expected rows/cols.
 * @throws {@link ShapeError} or {@link NonFiniteError} naming `argument`.
 */
export function checkMatrix(argument: string, m: unknown, expect: { rows?: number; cols?: number } = {}): Matrix {
  if (typeof m !== 'object' || m === null) throw new ShapeError(argument, 'expected a Matrix { rows, cols, data }');
  const { rows, cols, data } = m as Partial<Matrix>;
  if (!Number.isInteger(rows) || (rows as number) < 1 || !Number.isInteger(cols) || (cols as number) < 1) {
    throw new ShapeError(argument, `expected positive integer rows and cols, got ${String(rows)}×${String(cols)}`);
  }
  const r = rows as number;
  const c = cols as number;
  if (!(data instanceof Float64Array) && !(data instanceof Float32Array)) {
    throw new ShapeError(`${argument}.data`, 'expected a Float64Array or Float32Array');
  }
  if (data.length !== r * c) {
    throw new ShapeError(`${argument}.data`, `expected ${r}·${c} = ${r * c} entries, got ${data.length}`);
  }
  if (expect.rows !== undefined && r !== expect.rows) {
    throw new ShapeError(argument, `expected ${expect.rows} rows, got ${r}`);
  }
  if (expect.cols !== undefined && c !== expect.cols) {
    throw new ShapeError(argument, `expected ${expect.cols} columns, got ${c}`);
  }
  requireFiniteData(argument, data, (k) => `(${Math.floor(k / c)}, ${k % c})`);
  return m as Matrix;
}

/**
 * Validate a feature-map argument (positive sizes, `h·w·c` finite entries).
 * @throws {@link ShapeError} or {@link NonFiniteError} naming `argument`.
 */
export function checkFeatureMap(argument: string, x: unknown, expect: { c?: number } = {}): FeatureMap {
  if (typeof x !== 'object' || x === null) throw new ShapeError(argument, 'expected a FeatureMap { h, w, c, data }');
  const { h, w, c, data } = x as Partial<FeatureMap>;
  for (const [k, v] of [
    ['h', h],
    ['w', w],
    ['c', c],
  ] as const) {
    if (!Number.isInteger(v) || (v as number) < 1) {
      throw new ShapeError(`${argument}.${k}`, `expected a positive integer, got ${String(v)}`);
    }
  }
  const [hh, ww, cc] = [h as number, w as number, c as number];
  if (!(data instanceof Float64Array) && !(data instanceof Float32Array)) {
    throw new ShapeError(`${argument}.data`, 'expected a Float64Array or Float32Array');
  }
  if (data.length !== hh * ww * cc) {
    throw new ShapeError(`${argument}.data`, `expected ${hh}·${ww}·${cc} = ${hh * ww * cc} entries, got ${data.length}`);
  }
  if (expect.c !== undefined && cc !== expect.c) throw new ShapeError(`${argument}.c`, `expected ${expect.c} channels, got ${cc}`);
  requireFiniteData(argument, data, (k) => {
    const p = Math.floor(k / cc);
    return `(${Math.floor(p / ww)}, ${p % ww}, ${k % cc})`;
  });
  return x as FeatureMap;
}

/** ‖M‖∞ := max_ij |M_ij| (entrywise, docs/math.md §1). */
export function maxAbs(data: ArrayLike<number>): number {
  let m = 0;
  for (let k = 0; k < data.length; k++) {
    const a = Math.abs(data[k]);
    if (a > m || Number.isNaN(a)) m = a;
  }
  return m;
}

/** ‖A − B‖∞ over two equally long buffers (NaN if any difference is NaN). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new ShapeError('b', `expected ${a.length} entries, got ${b.length}`);
  let m = 0;
  for (let k = 0; k < a.length; k++) {
    const e = Math.abs(a[k] - b[k]);
    if (e > m || Number.isNaN(e)) m = e;
  }
  return m;
}

/** C = A·B in float64 (A: m×k, B: k×n). */
export function matmul(a: Matrix, b: Matrix): Matrix {
  checkMatrix('a', a);
  checkMatrix('b', b);
  if (a.cols !== b.rows) throw new ShapeError('b', `expected ${a.cols} rows to match a.cols, got ${b.rows}`);
  const c = matrix(a.rows, b.cols);
  const n = b.cols;
  for (let i = 0; i < a.rows; i++) {
    for (let p = 0; p < a.cols; p++) {
      const aip = a.data[i * a.cols + p];
      if (aip === 0) continue;
      const bo = p * n;
      const co = i * n;
      for (let j = 0; j < n; j++) c.data[co + j] += aip * b.data[bo + j];
    }
  }
  return c;
}

/** Rows `from..to-1` of `m` as a new float64 matrix. */
export function sliceRows(m: Matrix, from: number, to: number): Matrix {
  checkMatrix('m', m);
  if (!(0 <= from && from < to && to <= m.rows)) throw new RangeArgumentError('rows', `expected 0 ≤ from < to ≤ ${m.rows}, got ${from}..${to}`);
  return { rows: to - from, cols: m.cols, data: Float64Array.from(m.data.subarray(from * m.cols, to * m.cols)) };
}

/** Stack matrices with equal column counts vertically. */
export function vstack(parts: readonly Matrix[]): Matrix {
  if (parts.length === 0) throw new RangeArgumentError('parts', 'expected at least one matrix');
  const cols = parts[0].cols;
  const rows = parts.reduce((s, p, i) => {
    if (p.cols !== cols) throw new ShapeError(`parts[${i}]`, `expected ${cols} columns, got ${p.cols}`);
    return s + p.rows;
  }, 0);
  const out = matrix(rows, cols);
  let off = 0;
  for (const p of parts) {
    out.data.set(p.data, off);
    off += p.data.length;
  }
  return out;
}
