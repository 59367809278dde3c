/**
 * vitest integration: run a list of {@link Law}s as `@fast-check/vitest` properties, one test
 * per law, with the run's seed (printed by properties/setup.ts) and `{ seed, path }` on failure.
 * @module
 */
import { describe } from 'vitest';
import { test } from '@fast-check/vitest';
import { within, type Law } from './law.js';

/** `describe(title)` with one property test per law. */
export function describeLaws(title: string, laws: readonly Law<unknown>[]): void {
  describe(title, () => {
    for (const l of laws) {
      test.prop([l.arbitrary], { numRuns: l.numRuns ?? 100 })(`${l.name} [${l.cites}]`, async (value) => {
        const o = await l.check(value);
        if (!within(o)) throw new Error(`${l.name}: error ${o.error} > bound ${o.bound}${o.detail ? ` (${o.detail})` : ''}`);
      });
    }
  });
}
