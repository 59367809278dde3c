/**
 * The `varcheck` command line.
 * @module
 */
import { parseArgs } from 'node:util';
import { resolveSeed } from '../../properties/runner/seed.js';
import { verify, type VerifyPart } from './verify.js';
import { fuzz } from '../fuzz/fuzz.js';
import { DEFAULT_CORPUS } from '../fuzz/corpus.js';
import { GPU_BACKENDS } from '../kernels/gpujs/backend.js';
import { EXIT } from '../../properties/runner/format.js';
import { VarcheckError } from '../../spec/errors.js';
import { criteriaTable } from './criteria.js';
import { writeReport } from '../report/report.js';
import { writeFileSync } from 'node:fs';

const HELP = `varcheck — executable spec and property-based conformance suite for VAR attention

Usage:
  varcheck verify [--seed S] [--runs N] [--filter TEXT] [--backends headlessgl,webasm,cpu,webgpu]
                  [--browser webgl2,webgpu] [--deep] [--jobs N] [--json FILE]
      Run the property battery on the spec and on every built-in kernel × backend;
      one row per property, per-suite timings. --deep adds VAR-1024 and L = 21,845 inputs;
      --jobs spreads the work over N processes (default: 2 where there are 2 cores).
  varcheck criteria [--d 4,8,16,64] [--B 0.25,0.5,1,2,4,8] [--delta 1e-3] [--json FILE]
      The regime table: β, certified degree and rank, exact vs low-rank cost, B/√ln L,
      for the VAR presets and geometric pyramids n = 16…128.
  varcheck fuzz <module> [--export NAME] [--seed S] [--runs N] [--time 60s] [--corpus DIR]
                [--deadline 10s] [--in-process] [--deep] [--json FILE]
      Fuzz your own kernel(s): the module's default (or named) export is a kernel or an array
      of kernels (the contract in docs/guide-kernels.md). Saved failures replay first; a guided
      search hunts the worst error/bound. The kernel's cold start is timed apart from --time.
  varcheck report [--out report.html] [--verify FILE] [--fuzz FILE] [--bench FILE] [--pipeline-cases 100]
      An HTML page with SVG plots (degree and rank against B with the √ln L threshold,
      measured error against declared bound, runtime against n), the distribution of the
      a-posteriori VAR pipeline bound over measured error (0 cases skips it) and the
      verify/fuzz tables.
  varcheck --help

Exit codes: 0 every law passed (or was skipped with a reason), 1 a law failed (a counterexample
exists), 2 usage or contract error, 3 no failure but some law ran no case (inconclusive).
Seeds: --seed, else $VARCHECK_SEED, else a random seed (always printed).
Docs: docs/ (guides) and \`npm run docs\` (API site in docs/api/).`;

/** A usage error: printed with the help text, exit code 2. */
export class UsageError extends VarcheckError {
  static override readonly code: string = 'USAGE';
}

/** A comma-separated list option: each item must be one of `known`. */
function oneOfList<T extends string>(name: string, text: string | undefined, known: readonly T[]): T[] | undefined {
  if (text === undefined) return undefined;
  const xs = text.split(',').filter((b) => b !== '');
  const bad = xs.find((b) => !known.includes(b as T));
  if (bad !== undefined) throw new UsageError(`--${name}`, `expected a comma-separated subset of ${known.join(', ')} (or an empty string for none), got ${JSON.stringify(bad)}`);
  return xs as T[];
}

/** A positive integer option. */
function positiveInteger(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name}`, `expected a positive integer, got ${JSON.stringify(text)}`);
  return n;
}

/** A list of positive numbers. */
function positiveNumbers(name: string, text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const xs = text.split(',').map(Number);
  if (xs.some((x) => !(x > 0) || !Number.isFinite(x))) throw new UsageError(`--${name}`, `expected positive numbers separated by commas, got ${JSON.stringify(text)}`);
  return xs;
}

const PARTS: readonly VerifyPart[] = ['spec', 'builtin', ...GPU_BACKENDS, 'chromium-webgl2', 'chromium-webgpu'];

async function verifyCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      seed: { type: 'string' },
      runs: { type: 'string' },
      filter: { type: 'string' },
      json: { type: 'string' },
      backends: { type: 'string' },
      browser: { type: 'string' },
      deep: { type: 'boolean' },
      jobs: { type: 'string' },
      parts: { type: 'string' },
      // Internal: a child process of a parallel run (takes its tasks over IPC).
      worker: { type: 'boolean' },
    },
    strict: true,
  });
  const result = await verify({
    seed: resolveSeed(values.seed ?? process.env.VARCHECK_SEED),
    numRuns: positiveInteger('runs', values.runs),
    filter: values.filter,
    json: values.json,
    backends: oneOfList('backends', values.backends, GPU_BACKENDS),
    browser: oneOfList('browser', values.browser, ['webgl2', 'webgpu'] as const),
    deep: values.deep === true,
    jobs: positiveInteger('jobs', values.jobs),
    parts: oneOfList('parts', values.parts, PARTS),
    worker: values.worker === true,
  });
  return result.exitCode;
}

async function fuzzCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      export: { type: 'string' },
      seed: { type: 'string' },
      runs: { type: 'string' },
      time: { type: 'string' },
      corpus: { type: 'string' },
      deadline: { type: 'string' },
      'in-process': { type: 'boolean' },
      json: { type: 'string' },
      deep: { type: 'boolean' },
    },
    strict: true,
  });
  if (positionals.length !== 1) throw new UsageError('fuzz', `expected exactly one module path, got ${positionals.length}`);
  const tty = process.stdout.isTTY === true;
  const result = await fuzz({
    module: positionals[0],
    exportName: values.export,
    seed: resolveSeed(values.seed ?? process.env.VARCHECK_SEED),
    runs: positiveInteger('runs', values.runs) ?? 100,
    timeMs: duration('time', values.time ?? '60s'),
    deadlineMs: duration('deadline', values.deadline ?? '10s'),
    corpus: values.corpus ?? DEFAULT_CORPUS,
    json: values.json,
    inProcess: values['in-process'] === true,
    deep: values.deep === true,
    progress: tty ? (line) => process.stdout.write(`\r\x1b[2K${line.slice(0, (process.stdout.columns ?? 100) - 1)}`) : undefined,
  });
  return result.exitCode;
}

function reportCommand(args: string[]): number {
  const { values } = parseArgs({
    args,
    options: { out: { type: 'string' }, verify: { type: 'string' }, fuzz: { type: 'string' }, bench: { type: 'string' }, 'pipeline-cases': { type: 'string' } },
    strict: true,
  });
  const out = values.out ?? 'varcheck-report.html';
  const pipelineCases =
    values['pipeline-cases'] === undefined || values['pipeline-cases'] === '0' ? (values['pipeline-cases'] === '0' ? 0 : undefined) : positiveInteger('pipeline-cases', values['pipeline-cases']);
  writeReport({ out, verifyJson: values.verify, fuzzJson: values.fuzz, benchJson: values.bench, pipelineCases });
  console.log(`wrote ${out}`);
  return EXIT.passed;
}

function criteriaCommand(args: string[]): number {
  const { values } = parseArgs({ args, options: { d: { type: 'string' }, B: { type: 'string' }, delta: { type: 'string' }, json: { type: 'string' } }, strict: true });
  const delta = values.delta === undefined ? undefined : positiveNumbers('delta', values.delta)![0];
  const { text, rows } = criteriaTable({ ds: positiveNumbers('d', values.d), Bs: positiveNumbers('B', values.B), delta });
  console.log(text);
  if (values.json) writeFileSync(values.json, `${JSON.stringify(rows, null, 2)}\n`);
  return EXIT.passed;
}

/** The commands, by name. */
const COMMANDS: Readonly<Record<string, (args: string[]) => number | Promise<number>>> = {
  verify: verifyCommand,
  fuzz: fuzzCommand,
  report: reportCommand,
  criteria: criteriaCommand,
};

/** Parse argv and run; returns the process exit code (0 pass, 1 property failure, 2 usage, 3 inconclusive). */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(HELP);
    return command === undefined ? EXIT.usage : EXIT.passed;
  }
  const run = COMMANDS[command];
  if (!run) {
    console.error(`varcheck: unknown command ${JSON.stringify(command)}\n\n${HELP}`);
    return EXIT.usage;
  }
  try {
    return await run(rest);
  } catch (e) {
    // Usage errors, contract errors of a user's module and parse errors: say what, exit 2.
    console.error(`varcheck: ${(e as Error).message}`);
    return EXIT.usage;
  }
}

/** Parse '60s', '2m', '500ms' or a plain number of seconds into milliseconds. */
export function duration(name: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new Error(`--${name} expects a duration like 60s, 2m or 500ms, got ${JSON.stringify(text)}`);
  const v = Number(m[1]);
  return m[2] === 'ms' ? v : m[2] === 'm' ? v * 60_000 : v * 1000;
}
