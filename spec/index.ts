/**
 * The executable float64 specification of VAR attention and its pipeline (docs/math.md §2, §3, §7).
 * Pure, small, slow on purpose; imports nothing from `src/` or `properties/`.
 * @module spec
 */
export type { Matrix, FeatureMap } from './matrix.js';
export { matrix, featureMap, tokens, unflatten, checkMatrix, checkFeatureMap, maxAbs, maxAbsDiff, matmul, sliceRows, vstack } from './matrix.js';
export { VarcheckError, ShapeError, NonFiniteError, RangeArgumentError, DeclinedInputError, ReferenceOverflowError, MaskError, requireInteger, requireFinite } from './errors.js';
export type { ScalePyramid, PyramidPreset, PyramidSpec } from './pyramid.js';
export { scalePyramid, levelOf, levels, attentionPairCounts, PRESET_SIDES } from './pyramid.js';
export type { Mask } from './mask.js';
export { blockCausalMask, NO_MASK, checkMask, keyLimits, allowed } from './mask.js';
export type { AttentionInput, AAttCResult } from './attention.js';
export { attention, attentionRows, attentionWork, attentionInput, checkAttentionInput, attentionWeights, checkAAttC } from './attention.js';
export type { Stencil } from './interpolation.js';
export { bicubicWeight, bicubicLambda, bicubicStencil, upInterpolate, upInterpolateIntegerOffset, areaWindow, areaDownsample, nearestUpsample, PYTORCH_BICUBIC_A } from './interpolation.js';
export type { Conv3x3 } from './conv.js';
export { conv3x3, conv3x3Lipschitz, phiResidual } from './conv.js';
export type { AttentionFn, TransformerLayer, VarModel, VarModelOptions, VarRun, DecoderLite } from './pipeline.js';
export { layerNorm, rowwiseBlock, transformerLayer, transformer, KvCache, varModel, varGenerate, reconstruct, decoderLite, decode } from './pipeline.js';
export { mulberry32, uniformMatrix } from './random.js';
export type { ExpPolynomial } from './polynomial.js';
export {
  taylorRelativeError,
  taylorDegree,
  taylorPolynomial,
  chebyshevRelativeError,
  chebyshevDegree,
  chebyshevPolynomial,
  evaluatePolynomial,
  certifiedExpPolynomial,
  MAX_DEGREE,
} from './polynomial.js';
export type { MultiIndexSet, FeatureForm, FeaturePair } from './low-rank.js';
export { rank, rankAS23, multiIndices, featureWeights, featureRow, features, defaultForm, featurePair, lowRankAttention } from './low-rank.js';
export { e1Bound, e1BoundPerColumn, logitPerturbation, e2Bound, linearFactor, bicubicFactor, AREA_FACTOR, phiFactor } from './bounds.js';
export type { AttentionSite, DeclaredKernelBound, FastAttention, TracedCall, PipelineTrace, DecoderTrace } from './pipeline-bound.js';
export { tracePipelineBound, traceDecoderBound, EXACT_ATTENTION } from './pipeline-bound.js';
export type { CriteriaInput, Criteria, Regime } from './criteria.js';
export { criteria } from './criteria.js';
export type { HardInstanceOptions, HardInstance } from './hard-instances.js';
export { hardInstance, decodeHardInstance } from './hard-instances.js';
export type { AttentionKernel, InterpolationKernel, Kernel, FormulaReference, MeasuredPrecision, SoftmaxRescales } from './contract.js';
export { MAX_RANK, inputBeta, lowRankPolynomial, lowRankErrorBound, requireDelta, declaredLowRankBound, lowRankCost, certifiedLowRankAttention } from './certificate.js';
export { UNIT_ROUNDOFF_64, UNIT_ROUNDOFF_32, FLOAT64, FLOAT32, attentionRoundingBound, rescaleCount, resizeRoundingBound } from './rounding.js';
export type { FloatModel } from './rounding.js';
export type { RoundingProfile, LowRankCertificate, CertificateRow, RowBound } from './certificate.js';
export {
  gamma,
  rowBetas,
  FLOAT64_CPU,
  FLOAT32_GPUJS,
  chunkedFloat32Profile,
  roundingProfile,
  floatCeiling,
  rowBound,
  lowRankCertificate,
  featureMagnitudes,
  chooseCertifiedPolynomial,
  certifyLowRank,
  clampToValueRange,
} from './certificate.js';
export { l1RatioBound, e1L1Bound, e2L1Bound, columnRanges } from './bounds.js';
export { CHEBYSHEV_MAX_BETA } from './polynomial.js';
export type { Growth } from './criteria.js';
export { logGamma, realTaylorDegree, familyLogRank, familyRankSlope } from './criteria.js';
