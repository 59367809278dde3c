/** Runs the attention and interpolation batteries on every built-in CPU kernel of the registry. */
import { afterAll } from 'vitest';
import { builtinRegistry } from '../src/kernels/registry.js';
import { attentionBattery } from './battery/attention.js';
import { interpolationBattery } from './battery/interpolation.js';
import { describeLaws } from './vitest.js';
import { KNOWN_GAPS } from './battery/known-gaps.js';

const registry = builtinRegistry();
afterAll(() => registry.dispose());

for (const kernel of registry.attention()) {
  describeLaws(`battery › ${kernel.name}`, attentionBattery(kernel), { kernel: kernel.name, knownGaps: KNOWN_GAPS });
}

for (const kernel of registry.interpolation()) {
  describeLaws(`battery › ${kernel.name}`, interpolationBattery(kernel), { kernel: kernel.name, knownGaps: KNOWN_GAPS });
}
