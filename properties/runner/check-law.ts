/**
 * The law runner: run one {@link Law} with fast-check, keep the worst error/bound seen, and
 * return a {@link LawResult} — passed, failed (a counterexample exists, with its `{ seed, path }`
 * replay line), inconclusive (no case ran), or skipped (the law does not apply, with a reason).
 * Only a counterexample makes a failure.
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
  /**
   * Stop generating new cases after this many milliseconds (0: no limit). @defaultValue 0
   * A law that the limit interrupts before its first case runs that one case without the limit, so
   * a budget never starves a law; only a law that runs no case at all is inconclusive.
   */
  timeLimitMs?: number;
  /** Inputs tried first (a failure corpus, guided-search winners). */
  examples?: unknown[];
  /** Called with every case and its outcome (guided search keeps the worst). */
  onCase?(value: unknown, outcome: Outcome): void;
}

/** What every result of {@link checkLaw} carries. */
export interface LawRun {
  /** The law's stable id (known gaps, the corpus and `--filter` use it). */
  id: string;
  /** The law's name. */
  name: string;
  /** What it cites. */
  cites: string;
  /** The seed used. */
  seed: number;
  /** Cases run (shrinking steps not counted). */
  cases: number;
  /** Worst outcome by error/bound (the failing one when it failed). */
  worst: Outcome;
  /** Wall time of the run in milliseconds. */
  ms: number;
}

/** A counterexample: what failed, the shrunk input, and how to replay it. */
export interface Failure {
  /** The failure message (error/bound, or what the kernel threw). */
  message: string;
  /** The shrunk counterexample, rendered by fast-check. */
  counterexample: string;
  /** fast-check's replay path of the shrunk counterexample (`''` when found outside fast-check). */
  path: string;
  /** The shrunk counterexample itself (for a failure corpus). */
  value: unknown;
  /** What the check threw, when it threw (typed errors are recognised with `instanceof`). */
  thrown?: unknown;
}

/** Every case held. */
export interface PassedLaw extends LawRun {
  /** The verdict. */
  status: 'passed';
}

/** A counterexample exists. */
export interface FailedLaw extends LawRun {
  /** The verdict. */
  status: 'failed';
  /** The shrunk counterexample and how to replay it. */
  failure: Failure;
}

/** No case ran (no verdict): never a failure. */
export interface InconclusiveLaw extends LawRun {
  /** The verdict. */
  status: 'inconclusive';
  /** Why no case ran. */
  reason: string;
}

/** The law does not apply to this kernel; never run. */
export interface SkippedLaw extends LawRun {
  /** The verdict. */
  status: 'skipped';
  /** Why it does not apply. */
  reason: string;
}

/** The result of running one law: a discriminated union on `status`. */
export type LawResult = PassedLaw | FailedLaw | InconclusiveLaw | SkippedLaw;

/** The status of a {@link LawResult}. */
export type LawStatus = LawResult['status'];

/** Run `law` with fast-check and summarise it (never throws on a property failure). */
export async function checkLaw(law: Law<unknown>, options: CheckOptions): Promise<LawResult> {
  const t0 = Date.now();
  const base = { id: law.id ?? law.name, name: law.name, cites: law.cites, seed: options.seed };
  if (law.skip !== undefined) return { ...base, cases: 0, worst: { error: 0, bound: 0 }, ms: 0, status: 'skipped', reason: law.skip };
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
  const run = (numRuns: number, timeLimitMs: number | undefined): Promise<fc.RunDetails<[unknown]>> =>
    fc.check(property, {
      seed: options.seed,
      numRuns,
      interruptAfterTimeLimit: timeLimitMs,
      markInterruptAsFailure: false,
      examples: (options.examples ?? []).map((e) => [e]),
    });
  let details = await run(options.numRuns ?? law.numRuns ?? 100, options.timeLimitMs || undefined);
  // fast-check reports a run interrupted before its first case as failed with no counterexample:
  // that is no verdict. Run one case without the limit instead (a cold start is not a failure).
  if (details.numRuns === 0 && details.counterexample === null) details = await run(1, undefined);
  const ms = Date.now() - t0;
  if (details.failed && details.counterexample !== null) {
    const err = details.errorInstance;
    return {
      ...base,
      cases: details.numRuns,
      ms,
      worst: failing ?? { error: Infinity, bound: worst.bound },
      status: 'failed',
      failure: {
        message: err instanceof Error ? err.message : String(err),
        counterexample: fc.stringify(details.counterexample[0]),
        path: details.counterexamplePath ?? '',
        value: details.counterexample[0],
        thrown: failing?.error === Infinity ? err : undefined,
      },
    };
  }
  if (details.numRuns === 0) {
    const why = details.failed ? String(details.errorInstance ?? 'interrupted before the first case') : 'no case ran';
    return { ...base, cases: 0, ms, worst, status: 'inconclusive', reason: why };
  }
  return { ...base, cases: details.numRuns, ms, worst, status: 'passed' };
}
