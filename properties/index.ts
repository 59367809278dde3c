/**
 * The property battery, grouped by the docs/math.md object it checks. `specLaws` is what
 * `varcheck verify` and `properties/spec.test.ts` run.
 * @module properties
 */
import { attentionLaws } from './attention.props.js';
import { badInputLaws } from './bad-input.props.js';
import { areaLaws, bicubicLaws, upInterpolationLaws } from './interpolation.props.js';
import type { Law } from './law.js';
import { pipelineLaws } from './pipeline.props.js';
import { pyramidLaws } from './pyramid.props.js';

export type { Law, Outcome } from './law.js';
export { law, holds, within, ratio, EPS } from './law.js';
export * from './arbitraries.js';
export { attentionLaws, badInputLaws, areaLaws, bicubicLaws, upInterpolationLaws, pipelineLaws, pyramidLaws };

/** Every law about the float64 specification itself. */
export const specLaws: readonly Law<unknown>[] = [...bicubicLaws, ...upInterpolationLaws, ...areaLaws, ...attentionLaws, ...pyramidLaws, ...pipelineLaws, ...badInputLaws];

import { lowRankLaws } from './low-rank.props.js';
import { boundLaws, compositionWitnessLaws } from './bounds.props.js';
import { thresholdLaws } from './threshold.props.js';
import { hardInstanceLaws } from './hard-instances.props.js';
export { lowRankLaws, boundLaws, compositionWitnessLaws, thresholdLaws, hardInstanceLaws };
export { adversarialInput, adversarialArb, lowRankFloat32 } from './adversarial.js';
export type { AdversarialSettings, AdversarialCase } from './adversarial.js';

/** Laws of the low-rank constructions, error bounds, threshold criteria and hard instances (docs/math.md §4–6). */
export const lowRankSpecLaws: readonly Law<unknown>[] = [...lowRankLaws, ...boundLaws, ...compositionWitnessLaws, ...thresholdLaws, ...hardInstanceLaws];

export {
  attentionBattery,
  batteryPreset,
  sampledRows,
  referenceRows,
  pickRows,
  floatTolerance,
  FULL_REFERENCE_ROWS,
  float64Tolerance,
  kernelTolerance,
  runKernel,
  mismatch,
  declines,
  withRowShifts,
} from './battery/attention.js';
export type { BatterySettings, BatteryPreset } from './battery/attention.js';
export { interpolationBattery, naiveFloat32Bicubic, naiveFloat32Area, specResize, resizeTolerance } from './battery/interpolation.js';
export { naiveFloat32Attention, float32Tolerance, U32 } from './battery/float32.js';

export { KNOWN_GAPS, gapFor, checkKnownGap } from './battery/known-gaps.js';
export type { KnownGap, GapVerdict } from './battery/known-gaps.js';
