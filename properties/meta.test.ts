/**
 * Meta-tests: the battery must catch broken kernels — each mutant fails the "matches the spec"
 * law within one CI run, with a shrunk counterexample and a { seed, path } replay line.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkLaw } from './runner/check-law.js';
import { replayLine } from './runner/format.js';
import type { AttentionKernel } from '../spec/contract.js';
import { cpuExact } from '../src/kernels/cpu/exact.js';
import { attentionBattery } from './battery/attention.js';
import { checkKnownGap } from './battery/known-gaps.js';
import { hidesOwnScaleKernel, truncatedLoopKernel, wrongScaleKernel } from './fixtures/mutants/attention.js';

const seed = fc.readConfigureGlobal().seed ?? 42;

async function caught(kernel: AttentionKernel) {
  const [matches] = attentionBattery(kernel);
  const r = await checkLaw(matches, { seed, numRuns: 100 });
  kernel.dispose?.();
  return r;
}

describe('meta: the battery catches broken kernels', () => {
  it('a correct kernel (cpu/exact) passes', async () => {
    expect((await caught(cpuExact)).status).toBe('passed');
  });
  for (const [label, make] of [
    ['scale 1/√d instead of 1/d', async () => wrongScaleKernel],
    ['mask that hides a token’s own scale', async () => hidesOwnScaleKernel],
    ['gpu.js loop truncated at 1000 keys', truncatedLoopKernel],
  ] as const) {
    it(`catches: ${label}`, async () => {
      const r = await caught(await make());
      if (r.status !== 'failed') throw new Error(`not caught: ${r.status}`);
      expect(r.failure.counterexample).toBeTruthy();
      expect(r.failure.path).toBeTruthy();
      console.log(`[varcheck] caught ${r.name}: ${r.failure.message.slice(0, 160)}… (replay line: ${replayLine(r).length} chars)`);
    });
  }
});

describe('meta: known gaps keep failing, or the suite says to remove them', () => {
  it('a recorded gap that still fails is accepted', async () => {
    const [matches] = attentionBattery(wrongScaleKernel, { reach: 'small' });
    const r = await checkKnownGap(matches, { kernel: wrongScaleKernel.name, law: 'battery.matches-spec', reason: 'demo: uses 1/√d' }, seed);
    expect(r.ok).toBe(true);
  });
  it('a recorded gap that now passes fails the suite', async () => {
    const [matches] = attentionBattery(cpuExact, { reach: 'small' });
    const r = await checkKnownGap(matches, { kernel: 'cpu/exact', law: 'battery.matches-spec', reason: 'demo' }, seed);
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/known gap now passes/);
  });
});
