/**
 * The one place results are put into words: numbers, tables, status words, failure reports and
 * replay lines — for `verify`, `fuzz`, the vitest helper and the benchmarks alike.
 * @module
 */
import type { LawResult, LawStatus } from './check-law.js';

/** Render rows as a left-aligned text table with a header rule. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r
      .map((cell, c) => cell.padEnd(widths[c]))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** A number in 3 significant digits (exponent form when small or large). */
export function fmt(x: number): string {
  if (x === 0) return '0';
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e6 ? String(Number(x.toPrecision(3))) : x.toExponential(2);
}

/** The word a table prints for a status. */
export function statusWord(status: LawStatus): string {
  return { passed: 'pass', failed: 'FAIL', inconclusive: 'INCONCLUSIVE', skipped: 'skipped' }[status];
}

/** The replay line printed with every failure: `{ seed, path }` for fast-check's `fc.assert`. */
export function replayLine(r: LawResult): string {
  return `{ seed: ${r.seed}, path: ${JSON.stringify(r.status === 'failed' ? r.failure.path : '')} }`;
}

/** Cut long text for a terminal, marking the cut. */
export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * The lines under a row that did not pass: the failure message, the shrunk counterexample and the
 * replay line; or why the law gave no verdict / was skipped.
 */
export function resultDetail(r: LawResult, indent = '      ', maxCounterexample = 400): string[] {
  switch (r.status) {
    case 'failed':
      return [`${indent}${r.failure.message}`, `${indent}counterexample: ${clip(r.failure.counterexample, maxCounterexample)}`, `${indent}replay: ${clip(replayLine(r), 200)}`];
    case 'inconclusive':
      return [`${indent}no verdict: ${r.reason}`];
    case 'skipped':
      return [`${indent}skipped: ${r.reason}`];
    case 'passed':
      return [];
  }
}

/** Counts by status and the closing line `N passed, N failed` (+ inconclusive, skipped when present). */
export function summaryLine(results: readonly LawResult[]): string {
  const n = (s: LawStatus): number => results.filter((r) => r.status === s).length;
  const extra = [n('inconclusive') ? `, ${n('inconclusive')} inconclusive` : '', n('skipped') ? `, ${n('skipped')} skipped` : ''].join('');
  return `${n('passed')} passed, ${n('failed')} failed${extra}`;
}

/** Exit codes of the CLI: 0 all passed, 1 a law failed, 2 usage or contract error, 3 no failure but some law gave no verdict. */
export const EXIT: {
  /** 0: every law passed (or was skipped with a reason). */
  readonly passed: 0;
  /** 1: a law failed — a counterexample exists. */
  readonly failed: 1;
  /** 2: usage or contract error. */
  readonly usage: 2;
  /** 3: no failure, but some law ran no case. */
  readonly inconclusive: 3;
} = { passed: 0, failed: 1, usage: 2, inconclusive: 3 };

/** The exit code for a set of results ({@link EXIT}). */
export function exitCode(results: readonly LawResult[]): number {
  if (results.some((r) => r.status === 'failed')) return EXIT.failed;
  if (results.some((r) => r.status === 'inconclusive')) return EXIT.inconclusive;
  return EXIT.passed;
}
