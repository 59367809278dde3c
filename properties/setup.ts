/**
 * vitest setup: one fast-check seed for the whole run. CI sets VARCHECK_SEED (and prints it);
 * locally a random seed is drawn and printed, so every run can be replayed.
 */
import fc from 'fast-check';
import { resolveSeed } from './runner/seed.js';

const seed = resolveSeed(process.env.VARCHECK_SEED);
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
if (!(globalThis as { __varcheckSeedPrinted?: boolean }).__varcheckSeedPrinted) {
  (globalThis as { __varcheckSeedPrinted?: boolean }).__varcheckSeedPrinted = true;
  console.log(`[varcheck] fast-check seed ${seed} (replay: VARCHECK_SEED=${seed} npm test)`);
}
