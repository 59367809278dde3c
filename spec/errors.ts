/**
 * Typed errors raised at the boundary of every public function.
 *
 * Each error names the offending argument and what was expected, so that a kernel author
 * reading a failure knows which input to fix without opening the source.
 * @module
 */

/** Base class of every error varcheck throws on purpose. */
export class VarcheckError extends Error {
  /** The argument (or field path, e.g. `input.q`) that was rejected. */
  readonly argument: string;
  constructor(argument: string, message: string) {
    super(`${argument}: ${message}`);
    this.name = new.target.name;
    this.argument = argument;
  }
}

/** A matrix or feature map has the wrong shape, or a buffer the wrong length. */
export class ShapeError extends VarcheckError {}

/** An input (or an intermediate that would silently become NaN) is NaN or ±Infinity. */
export class NonFiniteError extends VarcheckError {}

/** A scalar argument is out of its documented range (empty sizes, negative degree, …). */
export class RangeArgumentError extends VarcheckError {}

/** A mask does not fit its input (blocks not summing to the rows, unsupported kind, …). */
export class MaskError extends VarcheckError {}

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
