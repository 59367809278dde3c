/**
 * Runs every law of the spec battery (properties/index.ts) through @fast-check/vitest.
 */
import { describe } from 'vitest';
import { test } from '@fast-check/vitest';
import { specLaws, within } from './index.js';

describe('spec battery', () => {
  for (const l of specLaws) {
    test.prop([l.arbitrary], { numRuns: l.numRuns ?? 100 })(`${l.name} [${l.cites}]`, (value) => {
      const o = l.check(value);
      if (!within(o)) throw new Error(`${l.name}: error ${o.error} > bound ${o.bound}${o.detail ? ` (${o.detail})` : ''}`);
    });
  }
});
