/**
 * `varcheck fuzz`: attack a user's kernels with the whole battery — corpus replay first, then
 * random cases, then a guided worst-error search — each kernel isolated in a worker with a
 * deadline. Reports per law, saves failures to the corpus, and can write JSON.
 * @module
 */
import { writeFileSync } from 'node:fs';
import { attentionBattery } from '../../properties/battery/attention.js';
import { interpolationBattery } from '../../properties/battery/interpolation.js';
import { ratio, type Law, type Outcome } from '../../properties/law.js';
import { checkLaw, replayLine, type LawResult } from '../../properties/runner/check-law.js';
import type { AttentionKernel, InterpolationKernel, Kernel } from '../../spec/contract.js';
import { fmt, table } from '../cli/table.js';
import { loadFailures, saveFailure } from './corpus.js';
import { guidedSearch, type Scored } from './guided.js';
import { isolate } from './isolate.js';
import { loadKernels } from './load.js';

/** fast-check runs the examples first, so one run replays exactly the guided-search winner. */
const REPLAY_WINNER_ONLY = 1;

/** Options of {@link fuzz}. */
export interface FuzzOptions {
  /** Path of the user's module. */
  module: string;
  /** Named export instead of the default one. */
  exportName?: string;
  /** fast-check seed. */
  seed: number;
  /** Random cases per law. @defaultValue 100 */
  runs?: number;
  /** Time budget per kernel in ms (random + guided). @defaultValue 60 000 */
  timeMs?: number;
  /** Corpus folder. @defaultValue .varcheck/corpus */
  corpus: string;
  /** Write the result as JSON here. */
  json?: string;
  /** Per-call deadline for the kernel in ms. @defaultValue 10 000 */
  deadlineMs?: number;
  /** Run kernels in this process instead of a worker (no hang protection). */
  inProcess?: boolean;
  /** Stop at the first failing property (meta-tests). */
  stopAtFirstFailure?: boolean;
  /** Where progress and results go. @defaultValue stdout */
  out?: (line: string) => void;
  /** Overwrite a progress line in place (TTY). */
  progress?: (line: string) => void;
}

/** One law's fuzz result. */
export interface FuzzLawResult extends LawResult {
  /** Kernel name. */
  kernel: string;
  /** Which phase found the failure (or 'none'). */
  foundBy: 'corpus' | 'random' | 'guided' | 'none';
  /** Worst error/bound seen anywhere (random + guided). */
  worstRatio: number;
  /** Corpus file written for a failure. */
  saved?: string;
  /** Guided-search evaluations. */
  guidedEvaluations: number;
}

/** The laws `fuzz` runs on a kernel: the battery for its op, with settings that stress it. */
export function fuzzLaws(kernel: Kernel, runs: number): Law<unknown>[] {
  if (kernel.op === 'attention') {
    const k = kernel as AttentionKernel;
    // Exact kernels get large entries too (exp overflow without the max shift); approximate
    // kernels stay where their bound can be certified.
    return attentionBattery(k, { B: k.exact ? 30 : 1.5, maxL: 24, largeL: 1000, numRuns: runs });
  }
  return interpolationBattery(kernel as InterpolationKernel, { numRuns: runs });
}

/** Fuzz every kernel the module exports; resolves when done (or interrupted). */
export async function fuzz(options: FuzzOptions): Promise<{ results: FuzzLawResult[]; passed: boolean }> {
  const out = options.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const runs = options.runs ?? 100;
  const budget = options.timeMs ?? 60_000;
  const kernels = await loadKernels(options.module, options.exportName);
  const results: FuzzLawResult[] = [];
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
    out('\ninterrupted: finishing the current case, then reporting what was found so far');
  };
  process.once('SIGINT', onSigint);
  out(`varcheck fuzz ${options.module} — ${kernels.length} kernel(s), seed ${options.seed}, ${runs} cases per law, ${fmt(budget / 1000)} s per kernel, corpus ${options.corpus}`);
  try {
    for (const [index, raw] of kernels.entries()) {
      const kernel = options.inProcess ? raw : isolate(raw, options.module, index, { exportName: options.exportName, deadlineMs: options.deadlineMs ?? 10_000 });
      const laws = fuzzLaws(kernel, runs);
      const perLaw = budget / laws.length;
      const corpus = loadFailures(options.corpus, kernel.name);
      if (corpus.length) out(`${kernel.name}: replaying ${corpus.length} saved failure(s) first`);
      try {
        for (const law of laws) {
          if (interrupted || (options.stopAtFirstFailure && results.some((x) => !x.passed))) break;
          const t0 = Date.now();
          const worst: Scored[] = [];
          let cases = 0;
          const onCase = (value: unknown, outcome: Outcome): void => {
            worst.push({ value, outcome });
            if (worst.length > 32) {
              worst.sort((a, b) => ratio(b.outcome) - ratio(a.outcome));
              worst.length = 8;
            }
            cases++;
            options.progress?.(`${law.name}: ${cases} cases, worst error/bound ${fmt(Math.max(...worst.map((w) => ratio(w.outcome))))}, ${fmt((Date.now() - t0) / 1000)} s`);
          };
          const examples = corpus.filter((e) => e.law === law.name).map((e) => e.value);
          let r = await checkLaw(law, { seed: options.seed, examples, onCase, timeLimitMs: perLaw });
          // fast-check runs the examples first: a failing path that starts inside them came from the corpus.
          const firstRun = Number((r.path ?? '').split(':')[0]);
          let foundBy: FuzzLawResult['foundBy'] = r.passed ? 'none' : examples.length > 0 && firstRun < examples.length ? 'corpus' : 'random';
          let guidedEvaluations = 0;
          let worstRatio = Math.max(0, ...worst.map((w) => ratio(w.outcome)));
          if (r.passed && !interrupted) {
            const left = perLaw - (Date.now() - t0);
            const g = await guidedSearch(law, worst, { timeMs: Math.max(0, left), seed: options.seed });
            guidedEvaluations = g.evaluations;
            if (g.worst) worstRatio = Math.max(worstRatio, ratio(g.worst.outcome));
            if (g.failing) {
              // Hand the winner back to fast-check as an example, so the report has its format.
              const again = await checkLaw(law, { seed: options.seed, examples: [g.failing.value], numRuns: REPLAY_WINNER_ONLY });
              r = again.passed ? { ...r, passed: false, message: g.failing.message, value: g.failing.value, worst: { error: Infinity, bound: 0 } } : again;
              foundBy = 'guided';
            }
          }
          if (!r.passed && /IsolationError/.test(r.message ?? '')) throw new Error(`${kernel.name}: ${r.message}`);
          if (!r.passed) worstRatio = Math.max(worstRatio, ratio(r.worst));
          const res: FuzzLawResult = { ...r, kernel: kernel.name, foundBy, worstRatio, guidedEvaluations };
          if (!r.passed && r.value !== undefined) {
            res.saved = saveFailure(options.corpus, { kernel: kernel.name, law: law.name, seed: options.seed, path: r.path, message: r.message, value: r.value });
          }
          results.push(res);
          options.progress?.('');
          out(`${r.passed ? 'pass' : 'FAIL'}  ${law.name}  (${r.cases} cases${guidedEvaluations ? ` + ${guidedEvaluations} guided` : ''}, worst error/bound ${fmt(worstRatio)}, ${fmt((Date.now() - t0) / 1000)} s${r.passed ? '' : `, found by ${foundBy}`})`);
          if (!r.passed) {
            out(`      ${r.message}`);
            out(`      counterexample: ${(r.counterexample ?? '').slice(0, 400)}${(r.counterexample ?? '').length > 400 ? '…' : ''}`);
            out(`      replay: ${replayLine(r).slice(0, 200)}${replayLine(r).length > 200 ? '…' : ''}${res.saved ? `\n      saved: ${res.saved}` : ''}`);
          }
        }
      } finally {
        kernel.dispose?.();
      }
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  const failed = results.filter((r) => !r.passed);
  out(`\n${table(['kernel', 'property', 'cases', 'worst error/bound', 'status'], results.map((r) => [r.kernel, r.name, String(r.cases), fmt(r.worstRatio), r.passed ? 'pass' : 'FAIL']))}`);
  out(`\n${results.length - failed.length} passed, ${failed.length} failed${interrupted ? ' (interrupted)' : ''}`);
  if (options.json) writeFileSync(options.json, `${JSON.stringify({ seed: options.seed, module: options.module, results: results.map(({ value: _v, ...rest }) => rest) }, null, 2)}\n`);
  return { results, passed: failed.length === 0 && !interrupted };
}
