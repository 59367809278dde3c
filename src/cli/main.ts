/**
 * The `varcheck` command line.
 * @module
 */
import { parseArgs } from 'node:util';
import { resolveSeed } from '../harness/seed.js';
import { verify } from './verify.js';

const HELP = `varcheck — executable spec and property-based conformance suite for VAR attention

Usage:
  varcheck verify [--seed S] [--runs N] [--filter TEXT] [--json FILE]
      Run the property battery; one row per property. Exit 0 only when all pass.
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
        options: { seed: { type: 'string' }, runs: { type: 'string' }, filter: { type: 'string' }, json: { type: 'string' } },
        strict: true,
      });
      const seed = resolveSeed(values.seed ?? process.env.VARCHECK_SEED);
      const numRuns = values.runs === undefined ? undefined : Number(values.runs);
      if (numRuns !== undefined && (!Number.isInteger(numRuns) || numRuns < 1)) {
        console.error(`varcheck: --runs expects a positive integer, got ${JSON.stringify(values.runs)}`);
        return 2;
      }
      return verify({ seed, numRuns, filter: values.filter, json: values.json }).passed ? 0 : 1;
    }
    console.error(`varcheck: unknown command ${JSON.stringify(command)}\n\n${HELP}`);
    return 2;
  } catch (e) {
    console.error(`varcheck: ${(e as Error).message}`);
    return 2;
  }
}
