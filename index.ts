/**
 * varcheck — executable specification and property-based conformance suite for the
 * attention of Visual AutoRegressive (VAR) models.
 *
 * Import from the package root:
 * - the float64 specification as named exports (`attention`, `upInterpolate`, `scalePyramid`, …)
 *   or as the `spec` namespace (`import { spec } from 'varcheck'`);
 * - the property battery as the `properties` namespace (laws, arbitraries);
 * - the harness that runs a law (`checkLaw`) and the seed policy (`resolveSeed`);
 * - the kernels under test (`cpuExact`, `cpuLowRank`, `gpujsExact`, …) and the registry, also as `kernels`.
 * @module varcheck
 */
export * from './spec/index.js';
export * as spec from './spec/index.js';
export * as properties from './properties/index.js';
export { checkLaw } from './properties/runner/check-law.js';
export type { CheckOptions, LawResult, LawRun, LawStatus, Failure, PassedLaw, FailedLaw, InconclusiveLaw, SkippedLaw } from './properties/runner/check-law.js';
export { replayLine, resultDetail, summaryLine, statusWord, exitCode, EXIT, fmt, table } from './properties/runner/format.js';
export { resolveSeed } from './properties/runner/seed.js';
export * from './src/kernels/index.js';
export * as kernels from './src/kernels/index.js';
