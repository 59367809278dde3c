/**
 * The `varcheck` command line.
 * @module
 */
import { parseArgs } from 'node:util';
import { resolveSeed } from '../harness/seed.js';
import { verify } from './verify.js';
import type { GpuBackend } from '../kernels/gpujs/backend.js';
import { criteriaTable } from './criteria.js';
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
