/**
 * Known gaps: (kernel, property) pairs that are expected to fail, each with its reason. A known
 * gap is checked like any law, but inverted — it must still fail; when it starts passing the
 * suite fails and asks for the entry to be removed, so the list never goes stale.
 * @module
 */
import type { Law } from '../law.js';
import { checkLaw } from '../runner/check-law.js';

/** One expected failure. */
export interface KnownGap {
  /** Kernel name (exact). */
  kernel: string;
  /** The law's stable id (`Law.id`, e.g. `battery.matches-spec`). */
  law: string;
  /** Why it fails and what would fix it. */
  reason: string;
}

/**
 * The built-in kernels' known gaps. None: every built-in kernel passes its battery on every
 * backend available here (headlessgl, webasm, cpu, Chromium WebGL2 and WebGPU).
 */
export const KNOWN_GAPS: readonly KnownGap[] = [];

/** The gap covering `law` of `kernel`, if any. */
export function gapFor(gaps: readonly KnownGap[], kernel: string, law: Law<unknown>): KnownGap | undefined {
  return gaps.find((g) => g.kernel === kernel && (law.id ?? law.name) === g.law);
}

/** The verdict on a known gap. */
export interface GapVerdict {
  /** True while the law still fails as recorded. */
  ok: boolean;
  /** What happened. */
  message: string;
}

/** Run a known gap: ok while the law still fails; not ok (with a message) once it passes. */
export async function checkKnownGap(law: Law<unknown>, gap: KnownGap, seed: number): Promise<GapVerdict> {
  const r = await checkLaw(law, { seed });
  switch (r.status) {
    case 'failed':
      return { ok: true, message: `still failing as recorded (${gap.reason}): ${r.failure.message}` };
    case 'passed':
      return { ok: false, message: `known gap now passes — remove it from the list: ${gap.kernel} › ${gap.law} (${gap.reason})` };
    case 'inconclusive':
    case 'skipped':
      return { ok: false, message: `known gap gave no verdict (${r.reason}): ${gap.kernel} › ${gap.law}` };
  }
}
