/**
 * The seed policy: a fixed seed when given (CI), a fresh random one otherwise — always printed.
 * @module
 */
import { RangeArgumentError } from '../../spec/errors.js';

/** Parse `VARCHECK_SEED`-style text into a 32-bit integer seed, or draw one when absent. */
export function resolveSeed(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return (Math.random() * 2 ** 31) | 0;
  const seed = Number(text);
  if (!Number.isInteger(seed) || Math.abs(seed) >= 2 ** 31) {
    throw new RangeArgumentError('VARCHECK_SEED', `expected a 32-bit integer, got ${JSON.stringify(text)}`);
  }
  return seed;
}
