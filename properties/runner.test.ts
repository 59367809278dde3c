/**
 * The law runner's verdicts: only a counterexample is a failure. A run that a time limit
 * interrupts before its first case still runs one case (a cold start is not a failure); a law that
 * can run no case at all is inconclusive; an inapplicable law is skipped with its reason.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkLaw } from './runner/check-law.js';
import { exitCode, EXIT, summaryLine } from './runner/format.js';
import { holds, law } from './law.js';

const seed = fc.readConfigureGlobal().seed ?? 1;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('law runner verdicts', () => {
  it('a law whose first case outlasts the time limit still runs a case and passes (cold start ≠ failure)', async () => {
    let calls = 0;
    const slow = law({
      id: 'test.slow',
      name: 'slow first case',
      cites: 'runner',
      arbitrary: fc.integer(),
      check: async () => {
        if (calls++ === 0) await sleep(150);
        return holds(true);
      },
    });
    const r = await checkLaw(slow, { seed, numRuns: 50, timeLimitMs: 1 });
    expect(r.status).toBe('passed');
    expect(r.cases).toBeGreaterThanOrEqual(1);
  });
  it('a law that can run no case is inconclusive, with the reason, not failed', async () => {
    const never = law({
      id: 'test.never',
      name: 'every case rejected',
      cites: 'runner',
      arbitrary: fc.integer(),
      check: () => {
        fc.pre(false);
        return holds(true);
      },
    });
    const r = await checkLaw(never, { seed, numRuns: 10 });
    expect(r.status).toBe('inconclusive');
    if (r.status === 'inconclusive') expect(r.reason.length).toBeGreaterThan(0);
    expect(exitCode([r])).toBe(EXIT.inconclusive);
  });
  it('a counterexample is a failure with a replay path, and wins over inconclusive in the exit code', async () => {
    const wrong = law({ id: 'test.wrong', name: 'x < 100', cites: 'runner', arbitrary: fc.integer(), check: (x: number) => holds(x < 100, `x = ${x}`) });
    const r = await checkLaw(wrong, { seed, numRuns: 200 });
    if (r.status !== 'failed') throw new Error(`expected failed, got ${r.status}`);
    expect(r.failure.counterexample).toBe('100');
    expect(r.failure.path.length).toBeGreaterThan(0);
    expect(exitCode([r, { ...r, status: 'inconclusive', reason: 'x' }])).toBe(EXIT.failed);
  });
  it('an inapplicable law is skipped with its reason and never run', async () => {
    const r = await checkLaw(
      law({
        id: 'test.skip',
        name: 'n/a',
        cites: 'runner',
        arbitrary: fc.integer(),
        skip: 'no block-causal masks',
        check: () => {
          throw new Error('ran');
        },
      }),
      { seed },
    );
    expect(r).toMatchObject({ status: 'skipped', reason: 'no block-causal masks', cases: 0 });
    expect(summaryLine([r])).toBe('0 passed, 0 failed, 1 skipped');
    expect(exitCode([r])).toBe(EXIT.passed);
  });
});
