/**
 * The suites `varcheck verify` runs on a set of kernels — the attention battery on each attention
 * kernel, the interpolation battery on each resize kernel — and the loop that checks them. Shared by
 * the Node process and verify's Chromium page (./verify-page.ts), which runs a whole browser part's
 * laws next to its kernels; so both build the same laws in the same order, with the same seed.
 * @module
 */
import { attentionBattery, type BatterySettings } from '../../properties/battery/attention.js';
import { interpolationBattery } from '../../properties/battery/interpolation.js';
import type { Law } from '../../properties/law.js';
import { checkLaw, type LawResult } from '../../properties/runner/check-law.js';
import type { AttentionKernel, InterpolationKernel, MeasuredPrecision } from '../../spec/contract.js';

/** A suite: a spec area or a kernel, and its laws. */
export interface Suite {
  suite: string;
  laws: readonly Law<unknown>[];
}

/** The suites of a set of kernels: the attention battery per attention kernel, then the interpolation battery per resize kernel. */
export function kernelSuites(
  attention: readonly AttentionKernel[],
  interpolation: readonly InterpolationKernel[],
  settings: BatterySettings,
  measuredOf: (kernel: AttentionKernel) => MeasuredPrecision | undefined,
): Suite[] {
  return [
    ...attention.map((k) => ({ suite: k.name, laws: attentionBattery(k, { ...settings, measured: measuredOf(k) }) })),
    ...interpolation.map((k) => ({ suite: k.name, laws: interpolationBattery(k) })),
  ];
}

/** Does `law` match verify's `--filter` text (its id or name contains it)? */
export function lawMatches(law: Law<unknown>, filter: string | undefined): boolean {
  return !filter || (law.id ?? law.name).includes(filter) || law.name.includes(filter);
}

/** How {@link runSuites} checks laws. */
export interface RunSuitesOptions {
  /** fast-check seed. */
  seed: number;
  /** Override the cases per law. */
  numRuns?: number;
  /** Only laws matching this text ({@link lawMatches}). */
  filter?: string;
}

/** A law's result with where it sits: the index of its suite and of the law in the suite. */
export interface SuiteRow {
  key: [number, number];
  suite: string;
  result: LawResult;
}

/** A result as it crosses a process or page boundary: a failure's value and thrown error stay behind (they may not be cloneable). */
export function portable<R extends LawResult>(r: R): R {
  return r.status === 'failed' ? { ...r, failure: { ...r.failure, value: undefined, thrown: undefined } } : r;
}

/** Check every matching law of `suites`, in order. */
export async function runSuites(suites: readonly Suite[], options: RunSuitesOptions): Promise<SuiteRow[]> {
  const rows: SuiteRow[] = [];
  for (const [si, { suite, laws }] of suites.entries())
    for (const [li, law] of laws.entries()) {
      if (!lawMatches(law, options.filter)) continue;
      rows.push({ key: [si, li], suite, result: await checkLaw(law, { seed: options.seed, numRuns: options.numRuns }) });
    }
  return rows;
}
