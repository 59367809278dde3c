/**
 * Typed errors raised at the boundary of every public function.
 *
 * Each error names the offending argument and what was expected, so that a kernel author
 * reading a failure knows which input to fix without opening the source.
 * @module
 */

/** The brand every varcheck error carries: the codes of its class chain, shared across copies of the library. */
const BRAND = Symbol.for('varcheck.error.codes');

/**
 * Base class of every error varcheck throws on purpose. Each class has a stable `code`;
 * `instanceof` checks that code (through a `Symbol.for` brand), so it also recognises errors thrown
 * by another copy of varcheck — a user's kernel module loaded through tsx, a worker — and nothing
 * ever matches on message text.
 */
export class VarcheckError extends Error {
  /** The stable code of this class (subclasses override it). */
  static readonly code: string = 'VARCHECK';
  /** The stable code of this error's class, e.g. `SHAPE`. */
  readonly code: string;
  /** The argument (or field path, e.g. `input.q`) that was rejected. */
  readonly argument: string;
  /** The codes of this error's class chain (the brand `instanceof` checks). */
  readonly [BRAND]: readonly string[];
  constructor(argument: string, message: string) {
    super(`${argument}: ${message}`);
    this.name = new.target.name;
    this.argument = argument;
    this.code = (new.target as typeof VarcheckError).code;
    const codes: string[] = [];
    for (let c: unknown = new.target; typeof c === 'function' && 'code' in c; c = Object.getPrototypeOf(c)) codes.push((c as typeof VarcheckError).code);
    this[BRAND] = codes;
  }

  /** `e instanceof SomeVarcheckError` holds when e's class chain carries that class's code, whichever copy threw it. */
  static override [Symbol.hasInstance](x: unknown): boolean {
    if (typeof x !== 'object' || x === null) return false;
    const codes = (x as { [BRAND]?: unknown })[BRAND];
    return Array.isArray(codes) && codes.includes(this.code);
  }
}

/** A matrix or feature map has the wrong shape, or a buffer the wrong length. */
export class ShapeError extends VarcheckError {
  static override readonly code: string = 'SHAPE';
}

/** An input (or an intermediate that would silently become NaN) is NaN or ±Infinity. */
export class NonFiniteError extends VarcheckError {
  static override readonly code: string = 'NON_FINITE';
}

/** A scalar argument is out of its documented range (empty sizes, negative degree, …). */
export class RangeArgumentError extends VarcheckError {
  static override readonly code: string = 'RANGE';
}

/**
 * An input on which a kernel cannot certify its promise (an approximate kernel's `errorBound`
 * declines it: no certified degree, or the float ceiling is exceeded). Not a failure: the input is
 * outside the kernel's promise and is not judged.
 */
export class DeclinedInputError extends RangeArgumentError {
  static override readonly code: string = 'DECLINED';
}

/** A spec reference cannot be computed for this input (a logit overflows float64): the input is not judged. */
export class ReferenceOverflowError extends NonFiniteError {
  static override readonly code: string = 'REFERENCE_OVERFLOW';
}

/** A mask does not fit its input (blocks not summing to the rows, unsupported kind, …). */
export class MaskError extends VarcheckError {
  static override readonly code: string = 'MASK';
}

/** Throw {@link RangeArgumentError} unless `value` is an integer ≥ `min`. */
export function requireInteger(argument: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeArgumentError(argument, `expected an integer ≥ ${min}, got ${String(value)}`);
  }
}

/** Throw {@link NonFiniteError} unless `value` is a finite number. */
export function requireFinite(argument: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new NonFiniteError(argument, `expected a finite number, got ${String(value)}`);
  }
}
