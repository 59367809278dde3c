/**
 * The `varcheck` command line.
 * @module
 */
import { parseArgs } from 'node:util';
import { resolveSeed } from '../../properties/runner/seed.js';
import { verify } from './verify.js';
import { fuzz } from '../fuzz/fuzz.js';
import { DEFAULT_CORPUS } from '../fuzz/corpus.js';
import type { GpuBackend } from '../kernels/gpujs/backend.js';
import { criteriaTable } from './criteria.js';
import { writeReport } from '../report/report.js';
import { writeFileSync } from 'node:fs';

const HELP = `varcheck — executable spec and property-based conformance suite for VAR attention

Usage:
  varcheck verify [--seed S] [--runs N] [--filter TEXT] [--backends headlessgl,webasm,cpu,webgpu]
                  [--browser webgl2,webgpu] [--json FILE]
      Run the property battery on the spec and on every built-in kernel × backend;
      one row per property. Exit 0 only when all pass.
  varcheck criteria [--d 4,8,16,64] [--B 0.25,0.5,1,2,4,8] [--delta 1e-3] [--json FILE]
      The regime table: β, certified degree and rank, exact vs low-rank cost, B/√ln L,
      for the VAR presets and geometric pyramids n = 16…128.
  varcheck fuzz <module> [--export NAME] [--seed S] [--runs N] [--time 60s] [--corpus DIR]
                [--deadline 10s] [--in-process] [--json FILE]
      Fuzz your own kernel(s): the module's default (or named) export is a kernel or an array
      of kernels (DESIGN.md contract). Saved failures replay first; a guided search hunts the
      worst error/bound. Exit 0 pass, 1 property failure, 2 usage or contract error.
  varcheck report [--out report.html] [--verify FILE] [--fuzz FILE] [--bench FILE] [--pipeline-cases 100]
      An HTML page with SVG plots (degree and rank against B with the √ln L threshold,
      measured error against declared bound, runtime against n), the distribution of the
      a-posteriori VAR pipeline bound over measured error (0 cases skips it) and the
      verify/fuzz tables.
  varcheck --help

Seeds: --seed, else $VARCHECK_SEED, else a random seed (always printed).
Docs: docs/ (guides) and \`npm run docs\` (API site in docs/api/).`;

/** Parse argv and run; returns the process exit code (0 ok, 1 property failure, 2 usage). */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(HELP);
    return command === undefined ? 2 : 0;
  }
  try {
    if (command === 'verify') {
      const { values } = parseArgs({
        args: rest,
        options: { seed: { type: 'string' }, runs: { type: 'string' }, filter: { type: 'string' }, json: { type: 'string' }, backends: { type: 'string' }, browser: { type: 'string' } },
        strict: true,
      });
      const seed = resolveSeed(values.seed ?? process.env.VARCHECK_SEED);
      const numRuns = values.runs === undefined ? undefined : Number(values.runs);
      if (numRuns !== undefined && (!Number.isInteger(numRuns) || numRuns < 1)) {
        console.error(`varcheck: --runs expects a positive integer, got ${JSON.stringify(values.runs)}`);
        return 2;
      }
      const backends = values.backends === undefined ? undefined : values.backends.split(',').filter((b) => b !== '');
      const known = ['headlessgl', 'webasm', 'cpu', 'webgpu'];
      const bad = backends?.find((b) => !known.includes(b));
      if (bad !== undefined) {
        console.error(`varcheck: --backends expects a comma-separated subset of ${known.join(', ')}, got ${JSON.stringify(bad)}`);
        return 2;
      }
      const browser = values.browser === undefined ? undefined : values.browser.split(',').filter((b) => b !== '');
      const badBrowser = browser?.find((b) => b !== 'webgl2' && b !== 'webgpu');
      if (badBrowser !== undefined) {
        console.error(`varcheck: --browser expects a comma-separated subset of webgl2, webgpu (or an empty string for none), got ${JSON.stringify(badBrowser)}`);
        return 2;
      }
      const result = await verify({ seed, numRuns, filter: values.filter, json: values.json, backends: backends as GpuBackend[] | undefined, browser: browser as ('webgl2' | 'webgpu')[] | undefined });
      return result.passed ? 0 : 1;
    }
    if (command === 'fuzz') {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          export: { type: 'string' }, seed: { type: 'string' }, runs: { type: 'string' }, time: { type: 'string' }, corpus: { type: 'string' },
          deadline: { type: 'string' }, 'in-process': { type: 'boolean' }, json: { type: 'string' },
        },
        strict: true,
      });
      if (positionals.length !== 1) {
        console.error(`varcheck fuzz: expected exactly one module path, got ${positionals.length}\n\n${HELP}`);
        return 2;
      }
      const seed = resolveSeed(values.seed ?? process.env.VARCHECK_SEED);
      const runs = values.runs === undefined ? 100 : Number(values.runs);
      if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs expects a positive integer, got ${JSON.stringify(values.runs)}`);
      const tty = process.stdout.isTTY === true;
      const result = await fuzz({
        module: positionals[0], exportName: values.export, seed, runs, timeMs: duration('time', values.time ?? '60s'), deadlineMs: duration('deadline', values.deadline ?? '10s'),
        corpus: values.corpus ?? DEFAULT_CORPUS, json: values.json, inProcess: values['in-process'] === true,
        progress: tty ? (line) => process.stdout.write(`\r\x1b[2K${line.slice(0, (process.stdout.columns ?? 100) - 1)}`) : undefined,
      });
      return result.passed ? 0 : 1;
    }
    if (command === 'report') {
      const { values } = parseArgs({ args: rest, options: { out: { type: 'string' }, verify: { type: 'string' }, fuzz: { type: 'string' }, bench: { type: 'string' }, 'pipeline-cases': { type: 'string' } }, strict: true });
      const out = values.out ?? 'varcheck-report.html';
      const pipelineCases = values['pipeline-cases'] === undefined ? undefined : Number(values['pipeline-cases']);
      if (pipelineCases !== undefined && (!Number.isInteger(pipelineCases) || pipelineCases < 0)) throw new Error(`--pipeline-cases expects an integer ≥ 0, got ${JSON.stringify(values['pipeline-cases'])}`);
      writeReport({ out, verifyJson: values.verify, fuzzJson: values.fuzz, benchJson: values.bench, pipelineCases });
      console.log(`wrote ${out}`);
      return 0;
    }
    if (command === 'criteria') {
      const { values } = parseArgs({
        args: rest,
        options: { d: { type: 'string' }, B: { type: 'string' }, delta: { type: 'string' }, json: { type: 'string' } },
        strict: true,
      });
      const list = (name: string, text: string | undefined): number[] | undefined => {
        if (text === undefined) return undefined;
        const xs = text.split(',').map(Number);
        if (xs.some((x) => !(x > 0) || !Number.isFinite(x))) throw new Error(`--${name} expects positive numbers separated by commas, got ${JSON.stringify(text)}`);
        return xs;
      };
      const delta = values.delta === undefined ? undefined : Number(values.delta);
      const { text, rows } = criteriaTable({ ds: list('d', values.d), Bs: list('B', values.B), delta });
      console.log(text);
      if (values.json) writeFileSync(values.json, `${JSON.stringify(rows, null, 2)}\n`);
      return 0;
    }
    console.error(`varcheck: unknown command ${JSON.stringify(command)}\n\n${HELP}`);
    return 2;
  } catch (e) {
    console.error(`varcheck: ${(e as Error).message}`);
    return 2;
  }
}

/** Parse '60s', '2m', '500ms' or a plain number of seconds into milliseconds. */
export function duration(name: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new Error(`--${name} expects a duration like 60s, 2m or 500ms, got ${JSON.stringify(text)}`);
  const v = Number(m[1]);
  return m[2] === 'ms' ? v : m[2] === 'm' ? v * 60_000 : v * 1000;
}
