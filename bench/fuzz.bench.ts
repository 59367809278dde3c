/**
 * The mutation score of `varcheck fuzz` (docs/guide-fuzz.md, "Mutation score").
 *
 *   npx tsx bench/fuzz.bench.ts [--seeds 10] [--time 60s] [--only name,name] [--seed 20250107] [--classic]
 *
 * For every subtle mutant (properties/fixtures/mutants/subtle.ts; `--classic` adds the ten of
 * fuzz-mutants.ts) and each of `--seeds` seeds (seed, seed + 1, …): one `fuzz()` run in process
 * (`inProcess: true`), stopping at the first failing law, with a fresh corpus (no replay). It
 * prints whether the mutant was caught, the time to catch and which phase caught it (random cases
 * or the guided search), then the score (caught runs / runs, mutants caught on every seed / mutants)
 * and the median and max time to catch. The unmutated `correct` kernel runs too, as a control: it
 * must never be caught. Writes bench/results/fuzz.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { fuzz } from '../src/fuzz/fuzz.js';
import * as subtle from '../properties/fixtures/mutants/subtle.js';
import { CLASSIC_MUTANTS } from '../properties/fixtures/mutants/classic-names.js';

const CLASSIC: readonly string[] = CLASSIC_MUTANTS;
const SUBTLE_MODULE = 'properties/fixtures/mutants/subtle.ts';
const CLASSIC_MODULE = 'properties/fixtures/mutants/fuzz-mutants.ts';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '10' },
    seed: { type: 'string', default: process.env.VARCHECK_SEED ?? '20250107' },
    time: { type: 'string', default: '60s' },
    only: { type: 'string' },
    classic: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results/fuzz.json' },
  },
});

function seconds(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(s);
  if (!m) throw new Error(`--time: expected e.g. 60s, 500ms or 2m, got ${s}`);
  return Number(m[1]) * (m[2] === 'ms' ? 0.001 : m[2] === 'm' ? 60 : 1);
}
const timeMs = seconds(String(values.time)) * 1000;
const seedCount = Number(values.seeds);
const baseSeed = Number(values.seed);
const subtleNames = Object.keys(subtle).filter((k) => typeof (subtle as Record<string, unknown>)[k] === 'object' && k !== 'correct');
const all = [...subtleNames.map((n) => ({ module: SUBTLE_MODULE, name: n })), ...(values.classic ? CLASSIC.map((n) => ({ module: CLASSIC_MODULE, name: n })) : [])];
const only = values.only ? new Set(String(values.only).split(',')) : undefined;
const targets = only ? all.filter((t) => only.has(t.name)) : all;
const control = { module: SUBTLE_MODULE, name: 'correct' };

interface Run {
  mutant: string;
  seed: number;
  caught: boolean;
  seconds: number;
  foundBy: string;
  law?: string;
  message?: string;
}

async function once(t: { module: string; name: string }, seed: number): Promise<Run> {
  const corpus = mkdtempSync(join(tmpdir(), 'varcheck-mutants-'));
  const t0 = performance.now();
  try {
    const r = await fuzz({ module: t.module, exportName: t.name, seed, corpus, timeMs, inProcess: true, stopAtFirstFailure: true, out: () => {} });
    const s = (performance.now() - t0) / 1000;
    const f = r.results.find((x) => x.status === 'failed');
    if (f?.status === 'failed') return { mutant: t.name, seed, caught: true, seconds: s, foundBy: f.foundBy, law: f.id ?? f.name, message: f.failure.message.slice(0, 160) };
    return { mutant: t.name, seed, caught: false, seconds: s, foundBy: 'none' };
  } finally {
    rmSync(corpus, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '—');

const seeds = Array.from({ length: seedCount }, (_, i) => baseSeed + i);
console.log(
  `varcheck fuzz mutation score: ${targets.length} mutants × ${seeds.length} seeds (${seeds[0]}..${seeds[seeds.length - 1]}), --time ${values.time}, in process, stop at first failure; ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load ${os.loadavg()[0].toFixed(1)}`,
);
const runs: Run[] = [];
const rows: string[][] = [];
for (const t of targets) {
  const mine: Run[] = [];
  for (const seed of seeds) {
    const r = await once(t, seed);
    mine.push(r);
    runs.push(r);
    console.log(`  ${t.name} seed ${seed}: ${r.caught ? `caught in ${f1(r.seconds)} s by ${r.foundBy} (${r.law})` : `NOT caught (${f1(r.seconds)} s)`}`);
  }
  const times = mine.filter((r) => r.caught).map((r) => r.seconds);
  const by = (p: string): number => mine.filter((r) => r.foundBy === p).length;
  rows.push([
    t.name,
    `${times.length}/${mine.length}`,
    `${by('random')}/${by('guided')}`,
    f1(median(times)),
    f1(times.length ? Math.max(...times) : NaN),
    [...new Set(mine.filter((r) => r.law).map((r) => r.law))].join(' '),
  ]);
}
const controlRuns: Run[] = [];
for (const seed of seeds.slice(0, Math.min(3, seeds.length))) controlRuns.push(await once(control, seed));

const head = ['mutant', 'caught', 'random/guided', 'median s', 'max s', 'caught by law'];
const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
const line = (r: string[]): string => r.map((x, c) => x.padEnd(widths[c])).join('  ');
console.log(`\n${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}`);

const caughtTimes = runs.filter((r) => r.caught).map((r) => r.seconds);
const mutantsAlways = targets.filter((t) => runs.filter((r) => r.mutant === t.name).every((r) => r.caught)).length;
const within60 = runs.filter((r) => r.caught && r.seconds <= 60).length;
const summary = {
  runs: runs.length,
  caughtRuns: runs.filter((r) => r.caught).length,
  caughtWithin60s: within60,
  mutants: targets.length,
  mutantsCaughtOnEverySeed: mutantsAlways,
  medianSeconds: median(caughtTimes),
  maxSeconds: caughtTimes.length ? Math.max(...caughtTimes) : NaN,
  foundByRandom: runs.filter((r) => r.foundBy === 'random').length,
  foundByGuided: runs.filter((r) => r.foundBy === 'guided').length,
  controlFalseAlarms: controlRuns.filter((r) => r.caught).length,
};
console.log(
  `\nscore: ${summary.caughtRuns}/${summary.runs} runs caught (${((100 * summary.caughtRuns) / Math.max(1, summary.runs)).toFixed(1)}%), ${summary.caughtWithin60s} within 60 s; ${mutantsAlways}/${targets.length} mutants caught on every seed`,
);
console.log(`time to catch: median ${f1(summary.medianSeconds)} s, max ${f1(summary.maxSeconds)} s; found by random ${summary.foundByRandom}, guided ${summary.foundByGuided}`);
console.log(
  `control (unmutated kernel, ${controlRuns.length} seeds): ${
    summary.controlFalseAlarms === 0
      ? 'never caught'
      : `FALSE ALARM on ${summary.controlFalseAlarms} seed(s): ${controlRuns
          .filter((r) => r.caught)
          .map((r) => `${r.seed} ${r.law} ${r.message}`)
          .join('; ')}`
  }`,
);
mkdirSync('bench/results', { recursive: true });
writeFileSync(
  String(values.out),
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, args: { seeds, time: values.time, only: values.only ?? null, classic: values.classic }, summary, runs, control: controlRuns }, null, 2)}\n`,
);
console.log(`wrote ${values.out}`);
if (summary.controlFalseAlarms > 0) process.exitCode = 1;
