/**
 * `varcheck fuzz`: attack a user's kernels with the whole battery — corpus replay first, then
 * random cases, then a guided worst-error search — each kernel isolated in a child process
 * with a deadline (./isolate.ts). The kernel's cold start (process spawn, module load, first compile) is measured before
 * the budget starts; every law runs at least one case. Reports per law, saves failures to the
 * corpus (keyed by the law's stable id), and can write JSON.
 * @module
 */
import { writeFileSync } from 'node:fs';
import { attentionBattery, type BatterySettings } from '../../properties/battery/attention.js';
import { interpolationBattery } from '../../properties/battery/interpolation.js';
import { ratio, type Law, type Outcome } from '../../properties/law.js';
import { checkLaw, type LawResult } from '../../properties/runner/check-law.js';
import { EXIT, exitCode, fmt, resultDetail, statusWord, summaryLine, table } from '../../properties/runner/format.js';
import { attentionInput } from '../../spec/attention.js';
import { kernelCost, type AttentionKernel, type InterpolationKernel, type Kernel } from '../../spec/contract.js';
import { featureMap, matrix } from '../../spec/matrix.js';
import { IsolationError } from './isolate.js';
import { loadFailures, saveFailure, type CorpusEntry } from './corpus.js';
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
  /** Time budget per kernel in ms (random + guided), not counting its cold start. @defaultValue 60 000 */
  timeMs?: number;
  /** Corpus folder. @defaultValue .varcheck/corpus */
  corpus: string;
  /** Write the result as JSON here. */
  json?: string;
  /** Per-call deadline for the kernel in ms. @defaultValue 10 000 */
  deadlineMs?: number;
  /** Run kernels in this process instead of an isolation process (no hang or crash protection). */
  inProcess?: boolean;
  /** The deep run: VAR-1024 and geometric(128) pyramids, larger key counts. */
  deep?: boolean;
  /** Stop at the first failing property (meta-tests). */
  stopAtFirstFailure?: boolean;
  /** Where progress and results go. @defaultValue stdout */
  out?: (line: string) => void;
  /** Overwrite a progress line in place (TTY). */
  progress?: (line: string) => void;
}

/** What `fuzz` adds to a law's result. */
export interface FuzzExtras {
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
  /** Guided-search candidates not started near the end of the budget: predicted to outlast it. */
  guidedTooLong: number;
}

/** One law's fuzz result. */
export type FuzzLawResult = LawResult & FuzzExtras;

/** A kernel's cold start: the first call on a tiny input (process spawn, module load, compile), outside the budget. */
export interface ColdStart {
  /** Kernel name. */
  kernel: string;
  /** Milliseconds of the first call. */
  ms: number;
  /** What the first call threw, if it did (the laws will report it). */
  error?: string;
}

/** The result of {@link fuzz}. */
export interface FuzzResult {
  /** One row per kernel × law. */
  results: FuzzLawResult[];
  /** Cold start of each kernel. */
  coldStarts: ColdStart[];
  /** Interrupted by Ctrl-C. */
  interrupted: boolean;
  /** The CLI exit code: 0 pass, 1 fail, 3 no failure but some law gave no verdict (or interrupted). */
  exitCode: number;
}

/** Battery settings `fuzz` uses: large entries and the hard-regime generators; `deep` reaches VAR-1024. */
export function fuzzSettings(kernel: AttentionKernel, runs: number, deep = false): BatterySettings {
  return { numRuns: runs, reach: deep ? 'deep' : 'default', B: kernel.exact ? 30 : undefined };
}

/** The laws `fuzz` runs on a kernel: the battery for its op, with settings that stress it. */
export function fuzzLaws(kernel: Kernel, runs: number, deep = false): Law<unknown>[] {
  if (kernel.op === 'attention') return attentionBattery(kernel as AttentionKernel, fuzzSettings(kernel as AttentionKernel, runs, deep));
  return interpolationBattery(kernel as InterpolationKernel, { numRuns: runs });
}

/**
 * A law's share of the budget: `battery.matches-spec` — the law that compares against the spec on
 * every input family, and the one most bugs show in — gets three shares, every other law one.
 */
export function budgetWeight(law: Law<unknown>): number {
  return law.id === 'battery.matches-spec' ? 3 : 1;
}

/** Time the kernel's first call on the smallest valid input. */
export async function coldStart(kernel: Kernel): Promise<ColdStart> {
  const t0 = Date.now();
  try {
    if (kernel.op === 'attention') {
      const one = matrix(1, 1, [0.5]);
      await (kernel as AttentionKernel).run(attentionInput(one, one, one));
    } else {
      await (kernel as InterpolationKernel).run(featureMap(1, 1, 1, [1]), 2, 2);
    }
    return { kernel: kernel.name, ms: Date.now() - t0 };
  } catch (e) {
    if (e instanceof IsolationError) throw e;
    return { kernel: kernel.name, ms: Date.now() - t0, error: e instanceof Error ? e.message : String(e) };
  }
}

interface LawContext {
  kernel: Kernel;
  seed: number;
  budgetMs: number;
  corpus: CorpusEntry[];
  corpusDir: string;
  progress?: (line: string) => void;
  interrupted(): boolean;
}

/** Random phase (corpus examples first), then guided search while the law's budget lasts. */
async function fuzzLaw(law: Law<unknown>, ctx: LawContext): Promise<FuzzLawResult> {
  const t0 = Date.now();
  const id = law.id ?? law.name;
  const worst: Scored[] = [];
  let cases = 0;
  const onCase = (value: unknown, outcome: Outcome): void => {
    worst.push({ value, outcome });
    if (worst.length > 32) {
      worst.sort((a, b) => ratio(b.outcome) - ratio(a.outcome));
      worst.length = 8;
    }
    cases++;
    ctx.progress?.(`${law.name}: ${cases} cases, worst error/bound ${fmt(Math.max(...worst.map((w) => ratio(w.outcome))))}, ${fmt((Date.now() - t0) / 1000)} s`);
  };
  const examples = ctx.corpus.filter((e) => e.law === id).map((e) => e.value);
  let r: LawResult = await checkLaw(law, { seed: ctx.seed, examples, onCase, timeLimitMs: ctx.budgetMs });
  // fast-check runs the examples first: a failing path that starts inside them came from the corpus.
  let foundBy: FuzzExtras['foundBy'] = 'none';
  if (r.status === 'failed') foundBy = examples.length > 0 && Number(r.failure.path.split(':')[0]) < examples.length ? 'corpus' : 'random';
  let guidedEvaluations = 0;
  let guidedTooLong = 0;
  let worstRatio = Math.max(0, ...worst.map((w) => ratio(w.outcome)));
  if (r.status === 'passed' && !ctx.interrupted()) {
    const attention = ctx.kernel.op === 'attention' ? (ctx.kernel as AttentionKernel) : undefined;
    const g = await guidedSearch(law, worst, {
      timeMs: Math.max(0, ctx.budgetMs - (Date.now() - t0)),
      seed: ctx.seed,
      approximate: attention ? !attention.exact : false,
      cost: attention ? (x) => kernelCost(attention, x) : undefined,
    });
    guidedEvaluations = g.evaluations;
    guidedTooLong = g.tooLong;
    if (g.worst) worstRatio = Math.max(worstRatio, ratio(g.worst.outcome));
    if (g.failing) {
      // Hand the winner back to fast-check as an example, so the report has its format.
      const again = await checkLaw(law, { seed: ctx.seed, examples: [g.failing.value], numRuns: REPLAY_WINNER_ONLY });
      r =
        again.status === 'failed'
          ? again
          : {
              ...r,
              status: 'failed',
              worst: { error: Infinity, bound: 0 },
              failure: { message: g.failing.message, counterexample: '(guided-search input; not reproduced by a replay)', path: '', value: g.failing.value, thrown: g.failing.thrown },
            };
      foundBy = 'guided';
    }
  }
  if (r.status === 'failed') {
    if (r.failure.thrown instanceof IsolationError) throw r.failure.thrown;
    worstRatio = Math.max(worstRatio, ratio(r.worst));
  }
  const res: FuzzLawResult = { ...r, ms: Date.now() - t0, cases: r.cases, kernel: ctx.kernel.name, foundBy, worstRatio, guidedEvaluations, guidedTooLong };
  if (r.status === 'failed' && r.failure.value !== undefined) {
    res.saved = saveFailure(ctx.corpusDir, { kernel: ctx.kernel.name, law: id, seed: ctx.seed, path: r.failure.path, message: r.failure.message, value: r.failure.value });
  }
  return res;
}

/** Fuzz every kernel the module exports; resolves when done (or interrupted). */
export async function fuzz(options: FuzzOptions): Promise<FuzzResult> {
  const out = options.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const runs = options.runs ?? 100;
  const budget = options.timeMs ?? 60_000;
  const kernels = await loadKernels(options.module, options.exportName);
  const results: FuzzLawResult[] = [];
  const coldStarts: ColdStart[] = [];
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
    out('\ninterrupted: finishing the current case, then reporting what was found so far');
  };
  process.once('SIGINT', onSigint);
  out(
    `varcheck fuzz ${options.module} — ${kernels.length} kernel(s), seed ${options.seed}, ${runs} cases per law, ${fmt(budget / 1000)} s per kernel${options.deep ? ' (deep)' : ''}, corpus ${options.corpus}`,
  );
  try {
    for (const [index, raw] of kernels.entries()) {
      const kernel = options.inProcess ? raw : isolate(raw, options.module, index, { exportName: options.exportName, deadlineMs: options.deadlineMs ?? 10_000 });
      try {
        const cold = await coldStart(kernel);
        coldStarts.push(cold);
        out(`${kernel.name}: cold start ${fmt(cold.ms)} ms (not counted in the budget)${cold.error ? ` — first call threw: ${cold.error}` : ''}`);
        const laws = fuzzLaws(kernel, runs, options.deep);
        const weights = laws.map(budgetWeight);
        const total = weights.reduce((a, b) => a + b, 0);
        if ((budget * Math.min(...weights)) / total < cold.ms)
          out(
            `${kernel.name}: the budget gives ${fmt((budget * Math.min(...weights)) / total)} ms to some law, less than one call; every law still runs one case, so this run takes longer than --time`,
          );
        const corpus = loadFailures(options.corpus, kernel.name);
        if (corpus.length) out(`${kernel.name}: replaying ${corpus.length} saved failure(s) first`);
        const ctx: LawContext = { kernel, seed: options.seed, budgetMs: 0, corpus, corpusDir: options.corpus, progress: options.progress, interrupted: () => interrupted };
        for (const [l, law] of laws.entries()) {
          ctx.budgetMs = (budget * weights[l]) / total;
          if (interrupted || (options.stopAtFirstFailure && results.some((x) => x.status === 'failed'))) break;
          const res = await fuzzLaw(law, ctx);
          results.push(res);
          options.progress?.('');
          const how = res.status === 'failed' ? `, found by ${res.foundBy}` : '';
          out(
            `${statusWord(res.status)}  ${law.name}  (${res.cases} cases${res.guidedEvaluations ? ` + ${res.guidedEvaluations} guided` : ''}${res.guidedTooLong ? ` (${res.guidedTooLong} not started: predicted past the budget)` : ''}, worst error/bound ${fmt(res.worstRatio)}, ${fmt(res.ms / 1000)} s${how})`,
          );
          for (const line of resultDetail(res)) out(line);
          if (res.saved) out(`      saved: ${res.saved}`);
        }
      } finally {
        kernel.dispose?.();
      }
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  out(
    `\n${table(
      ['kernel', 'property', 'cases', 'worst error/bound', 'status'],
      results.map((r) => [r.kernel, r.name, String(r.cases), fmt(r.worstRatio), statusWord(r.status)]),
    )}`,
  );
  out(`\n${summaryLine(results)}${interrupted ? ' (interrupted)' : ''}`);
  const code = exitCode(results) === EXIT.failed ? EXIT.failed : interrupted ? EXIT.inconclusive : exitCode(results);
  if (options.json) {
    const rows = results.map((r) => (r.status === 'failed' ? { ...r, failure: { ...r.failure, value: undefined, thrown: undefined } } : r));
    writeFileSync(options.json, `${JSON.stringify({ seed: options.seed, module: options.module, exitCode: code, coldStarts, results: rows }, null, 2)}\n`);
  }
  return { results, coldStarts, interrupted, exitCode: code };
}
