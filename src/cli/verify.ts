/**
 * `varcheck verify`: run the property battery and print one row per property.
 * @module
 */
import { writeFileSync } from 'node:fs';
import { specLaws } from '../../properties/index.js';
import type { Law } from '../../properties/law.js';
import { checkLaw, replayLine, type LawResult } from '../harness/check-law.js';
import { fmt, table } from './table.js';

/** Options of {@link verify}. */
export interface VerifyOptions {
  /** fast-check seed. */
  seed: number;
  /** Override the cases per property. */
  numRuns?: number;
  /** Write the results as JSON here. */
  json?: string;
  /** Only properties whose name contains this text. */
  filter?: string;
  /** Where to print (default: stdout). */
  out?: (line: string) => void;
}

/** Every suite `verify` runs: the spec battery (later: every kernel × backend). */
export function verifySuites(): { suite: string; laws: readonly Law<unknown>[] }[] {
  return [{ suite: 'spec', laws: specLaws }];
}

/** Run the battery; returns the results (exit code 0 iff all passed). */
export function verify(options: VerifyOptions): { results: (LawResult & { suite: string })[]; passed: boolean } {
  const out = options.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  out(`varcheck verify — fast-check seed ${options.seed} (replay: varcheck verify --seed ${options.seed})`);
  const results: (LawResult & { suite: string })[] = [];
  for (const { suite, laws } of verifySuites()) {
    for (const law of laws) {
      if (options.filter && !law.name.includes(options.filter)) continue;
      results.push({ suite, ...checkLaw(law, { seed: options.seed, numRuns: options.numRuns }) });
    }
  }
  out(
    table(
      ['suite', 'property', 'cases', 'worst error / bound', 'status', 'seed'],
      results.map((r) => [r.suite, r.name, String(r.cases), `${fmt(r.worst.error)} / ${fmt(r.worst.bound)}`, r.passed ? 'pass' : 'FAIL', String(r.seed)]),
    ),
  );
  const failed = results.filter((r) => !r.passed);
  for (const r of failed) {
    out(`\nFAIL ${r.suite} › ${r.name} [${r.cites}]\n  ${r.message}\n  counterexample: ${r.counterexample}\n  replay: ${replayLine(r)}`);
  }
  out(`\n${results.length - failed.length} passed, ${failed.length} failed`);
  if (options.json) writeFileSync(options.json, `${JSON.stringify({ seed: options.seed, results }, null, 2)}\n`);
  return { results, passed: failed.length === 0 };
}
