/**
 * Validate a user's kernel object against the the kernel contract (docs/guide-kernels.md) before fuzzing it, naming
 * every missing or wrong field.
 * @module
 */
import { VarcheckError } from '../../spec/errors.js';
import type { Kernel } from '../../spec/contract.js';

/** A module's export is not a valid kernel (exit code 2 in the CLI). */
export class ContractError extends VarcheckError {
  static override readonly code: string = 'CONTRACT';
}

const OPS = ['attention', 'upsample-bicubic', 'downsample-area'];

/** The problems with `value` as a kernel (empty when it is one). */
export function contractProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return [`expected a kernel object, got ${value === null ? 'null' : typeof value}`];
  const k = value as Record<string, unknown>;
  const p: string[] = [];
  if (typeof k.name !== 'string' || k.name === '') p.push(`name: expected a non-empty string, got ${JSON.stringify(k.name)}`);
  if (!OPS.includes(k.op as string)) p.push(`op: expected one of ${OPS.map((o) => `'${o}'`).join(', ')}, got ${JSON.stringify(k.op)}`);
  if (k.precision !== 'float32' && k.precision !== 'float64') p.push(`precision: expected 'float32' or 'float64', got ${JSON.stringify(k.precision)}`);
  if (typeof k.run !== 'function') p.push('run: expected a function run(input) (or run(x, h2, w2) for resizes)');
  if (k.dispose !== undefined && typeof k.dispose !== 'function') p.push('dispose: expected a function when present');
  if (k.op === 'attention') {
    if (typeof k.exact !== 'boolean') p.push(`exact: expected true or false, got ${JSON.stringify(k.exact)}`);
    if (!Array.isArray(k.masks) || k.masks.length === 0 || !k.masks.every((m) => m === 'none' || m === 'block-causal')) {
      p.push(`masks: expected a non-empty array of 'none' | 'block-causal', got ${JSON.stringify(k.masks)}`);
    }
    if (k.exact === false && typeof k.errorBound !== 'function') p.push('errorBound: an approximate kernel (exact: false) must declare errorBound(input)');
    if (k.cost !== undefined && typeof k.cost !== 'function') p.push('cost: expected a function cost(input) returning multiply–adds when present');
    const r = k.rescales as { keysPerRescale?: unknown; extra?: unknown } | string | undefined;
    const rescalesOk =
      r === undefined ||
      r === 'none' ||
      (typeof r === 'object' && r !== null && Number.isInteger(r.keysPerRescale) && (r.keysPerRescale as number) >= 1 && Number.isInteger(r.extra) && (r.extra as number) >= 0);
    if (!rescalesOk) p.push(`rescales: expected 'none' or { keysPerRescale: integer ≥ 1, extra: integer ≥ 0 } when present, got ${JSON.stringify(k.rescales)}`);
    if (k.maxTokens !== undefined && !(Number.isInteger(k.maxTokens) && (k.maxTokens as number) > 0)) p.push(`maxTokens: expected a positive integer, got ${JSON.stringify(k.maxTokens)}`);
    if (k.maxHeadSize !== undefined && !(Number.isInteger(k.maxHeadSize) && (k.maxHeadSize as number) > 0)) p.push(`maxHeadSize: expected a positive integer, got ${JSON.stringify(k.maxHeadSize)}`);
  }
  return p;
}

/** Throw {@link ContractError} unless `value` is a kernel; `where` names the export. */
export function validateKernel(value: unknown, where: string): Kernel {
  const problems = contractProblems(value);
  if (problems.length > 0) throw new ContractError(where, `not a valid kernel:\n  - ${problems.join('\n  - ')}`);
  return value as Kernel;
}
