/**
 * vitest integration: run a list of {@link Law}s as `@fast-check/vitest` properties, one test
 * per law, with the run's seed (printed by properties/setup.ts) and `{ seed, path }` on failure.
 * @module
 */
import fc from 'fast-check';
import { checkKnownGap, gapFor, type KnownGap } from './battery/known-gaps.js';
import { VarcheckError } from '../spec/errors.js';
import { within, type Law } from './law.js';
import { attentionBattery, type BatterySettings } from './battery/attention.js';
import { interpolationBattery } from './battery/interpolation.js';
import type { AttentionKernel, InterpolationKernel, Kernel } from '../spec/contract.js';

/** An optional peer dependency that this entry point needs is not installed (`argument` names the package). */
export class MissingPeerError extends VarcheckError {
  static override readonly code: string = 'MISSING_PEER';
}

// vitest and @fast-check/vitest are optional peer dependencies of varcheck: only this entry point
// ('varcheck/vitest') needs them, so a CLI-only install does not pull in a test runner.
const load = async <T>(name: string, get: () => Promise<T>): Promise<T> => {
  try {
    return await get();
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') throw new MissingPeerError(name, `'varcheck/vitest' needs the peer dependency ${name}: npm install -D vitest @fast-check/vitest`);
    throw e;
  }
};
const { describe, it } = await load('vitest', () => import('vitest'));
const { test } = await load('@fast-check/vitest', () => import('@fast-check/vitest'));

/** `describe(title)` with one property test per law; laws matched by `knownGaps` must keep failing. */
export function describeLaws(title: string, laws: readonly Law<unknown>[], options: { kernel?: string; knownGaps?: readonly KnownGap[] } = {}): void {
  describe(title, () => {
    for (const l of laws) {
      if (l.skip !== undefined) {
        // Not applicable to this kernel (e.g. no block-causal masks): reported as skipped with the reason, never run.
        it(`${l.name} [not applicable: ${l.skip}]`, (ctx) => ctx.skip(l.skip));
        continue;
      }
      const gap = options.kernel ? gapFor(options.knownGaps ?? [], options.kernel, l) : undefined;
      if (gap) {
        it(`${l.name} [known gap: ${gap.reason}]`, async () => {
          const r = await checkKnownGap(l, gap, fc.readConfigureGlobal().seed ?? 0);
          if (!r.ok) throw new Error(r.message);
        });
        continue;
      }
      test.prop([l.arbitrary], { numRuns: l.numRuns ?? 100 })(`${l.name} [${l.cites}]`, async (value) => {
        const o = await l.check(value);
        if (!within(o)) throw new Error(`${l.name}: error ${o.error} > bound ${o.bound}${o.detail ? ` (${o.detail})` : ''}`);
      });
    }
  });
}

/**
 * Run the whole battery for a kernel's op in your own vitest suite:
 *
 * ```ts
 * import { describeKernel } from 'varcheck/vitest';
 * import myKernel from './my-kernel.js';
 * describeKernel(myKernel);
 * ```
 */
export function describeKernel(kernel: Kernel, settings: BatterySettings = {}): void {
  const laws = kernel.op === 'attention' ? attentionBattery(kernel as AttentionKernel, settings) : interpolationBattery(kernel as InterpolationKernel, { numRuns: settings.numRuns });
  describeLaws(`varcheck battery › ${kernel.name}`, laws);
}
