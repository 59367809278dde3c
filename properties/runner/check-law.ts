/**
 * The harness: run one {@link Law} with fast-check, keep the worst error/bound seen, and
 * return a row for reports — with the `{ seed, path }` replay line when it fails.
 * @module
 */
import * as fc from 'fast-check';
import type { Law, Outcome } from '../law.js';
import { ratio, within } from '../law.js';

/** Options of {@link checkLaw}. */
export interface CheckOptions {
  /** fast-check seed (printed in every row). */
  seed: number;
  /** Cases to run; the law's own `numRuns` (or 100) when absent. */
  numRuns?: number;
  /** Stop generating new cases after this many milliseconds (0: no limit). @defaultValue 0 */
  timeLimitMs?: number;
  /** Inputs tried first (a failure corpus, guided-search winners). */
  examples?: unknown[];
  /** Called with every case and its outcome (guided search keeps the worst). */
  onCase?(value: unknown, outcome: Outcome): void;
}

/** The result of running one law. */
export interface LawResult {
  /** The law's name. */
  name: string;
  /** What it cites. */
  cites: string;
  /** Cases run (shrinking steps not counted). */
  cases: number;
  /** Worst outcome by error/bound (the failing one when it failed). */
  worst: Outcome;
  /** Did every case hold? */
  passed: boolean;
  /** The seed used. */
  seed: number;
  /** fast-check's replay path of the shrunk counterexample. */
  path?: string;
  /** The shrunk counterexample, rendered by fast-check. */
  counterexample?: string;
  /** The failure message (error/bound, or what the kernel threw). */
  message?: string;
  /** The shrunk counterexample itself (for a failure corpus). */
  value?: unknown;
}

/** Run `law` with fast-check and summarise it (never throws on a property failure). */
export async function checkLaw(law: Law<unknown>, options: CheckOptions): Promise<LawResult> {
  let worst: Outcome = { error: 0, bound: 0 };
  let failing: Outcome | undefined;
  const property = fc.asyncProperty(law.arbitrary, async (value) => {
    let o: Outcome;
    try {
      o = await law.check(value);
    } catch (e) {
      failing = { error: Infinity, bound: worst.bound, detail: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
      throw e;
    }
    options.onCase?.(value, o);
    if (ratio(o) > ratio(worst) || (ratio(o) === ratio(worst) && o.error > worst.error)) worst = o;
    if (!within(o)) {
      failing = o;
      throw new Error(`error ${o.error} > bound ${o.bound}${o.detail ? ` (${o.detail})` : ''}`);
    }
  });
  const details = await fc.check(property, {
    seed: options.seed,
    numRuns: options.numRuns ?? law.numRuns ?? 100,
    interruptAfterTimeLimit: options.timeLimitMs || undefined,
    markInterruptAsFailure: false,
    examples: (options.examples ?? []).map((e) => [e]),
  });
  const base = { name: law.name, cites: law.cites, cases: details.numRuns, seed: options.seed };
  if (!details.failed) return { ...base, worst, passed: true };
  const err = details.errorInstance;
  return {
    ...base,
    worst: failing ?? { error: Infinity, bound: worst.bound },
    passed: false,
    path: details.counterexamplePath ?? undefined,
    counterexample: details.counterexample ? fc.stringify(details.counterexample[0]) : undefined,
    value: details.counterexample ? details.counterexample[0] : undefined,
    message: err instanceof Error ? err.message : String(err),
  };
}

/** The replay line printed with every failure. */
export function replayLine(r: LawResult): string {
  return `{ seed: ${r.seed}, path: ${JSON.stringify(r.path ?? '')} }`;
}
