/**
 * The unit of the property battery: a {@link Law} is one fact of docs/math.md, an arbitrary over
 * its inputs, and a check that returns the observed error next to the allowed bound. One
 * record runs in vitest (through `@fast-check/vitest`) and in `varcheck verify`.
 * @module
 */
import type * as fc from 'fast-check';

/** What one case of a law observed: the law holds when `error ≤ bound`. */
export interface Outcome {
  /** Observed error (0 or 1 for yes/no facts). */
  error: number;
  /** Allowed error (0 for facts that must hold exactly). */
  bound: number;
  /** Optional words for a failure report (where the worst error was, …). */
  detail?: string;
}

/** One fact of docs/math.md, checkable on any input the arbitrary draws. */
export interface Law<T> {
  /**
   * Stable id, e.g. `attention.matches-spec` (battery laws: `battery.<fact>`, run per kernel):
   * known gaps, the failure corpus and `--filter` use it. @defaultValue the name
   */
  id?: string;
  /** Short name, `area: family — fact`. */
  name: string;
  /** The docs/math.md section (or paper object) it checks. */
  cites: string;
  /** Inputs. */
  arbitrary: fc.Arbitrary<T>;
  /** Evaluate one case (kernels may be async); may also throw on a violation. */
  check(value: T): Outcome | Promise<Outcome>;
  /** Cases per run. @defaultValue 100 */
  numRuns?: number;
  /** The largest |entry| of Q, K, V this law's inputs may have (guided search stays inside). */
  maxEntry?: number;
  /**
   * Does an input lie inside the kernel's declared capabilities (`maxTokens`, `maxHeadSize`)? The
   * law's own arbitrary only draws such inputs; the guided search drops a move that leaves them.
   * Absent: every input does.
   */
  fits?(value: T): boolean;
  /** Set when the law does not apply (e.g. a kernel without block-causal masks): the reason. It is reported as skipped, never run. */
  skip?: string;
}

/** Identity helper that fixes `T` for a law literal. */
export function law<T>(l: Law<T>): Law<T> {
  return l;
}

/** A yes/no fact as an {@link Outcome}: error 0 when it holds, 1 when not; bound 0. */
export function holds(ok: boolean, detail?: string): Outcome {
  return { error: ok ? 0 : 1, bound: 0, detail: ok ? undefined : detail };
}

/** Does an outcome satisfy its bound (NaN never does)? */
export function within(o: Outcome): boolean {
  return o.error <= o.bound;
}

/** error/bound for ranking (0/0 = 0, x/0 = ∞). */
export function ratio(o: Outcome): number {
  if (o.error === 0) return 0;
  return o.bound === 0 ? Infinity : o.error / o.bound;
}

/** Machine epsilon 2⁻⁵², the unit of every rounding allowance in the battery. */
export const EPS = Number.EPSILON;

/**
 * Rounding allowance of `ops` float64 operations on values of size `magnitude`: each op errs
 * by ≤ EPS·|value| relative, or by ≤ 2⁻¹⁰⁷⁴ absolute when it underflows into subnormals.
 */
export function roundoff(ops: number, magnitude: number): number {
  return ops * (EPS * magnitude + Number.MIN_VALUE);
}

/**
 * Several yes/no facts at once, named: holds when all do, and a failure names each condition that
 * broke (instead of one `holds(a && b && c)` that cannot say which).
 */
export function holdsAll(conditions: Readonly<Record<string, boolean>>, detail?: string): Outcome {
  const broken = Object.entries(conditions)
    .filter(([, ok]) => !ok)
    .map(([name]) => name);
  return holds(broken.length === 0, `broken: ${broken.join('; ')}${detail ? ` (${detail})` : ''}`);
}
