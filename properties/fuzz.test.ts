/**
 * `varcheck fuzz` on kernels a user might write: ten mutants are each caught within 60 s, a
 * hanging, a crashing and a throwing kernel are reported (not fatal), a headless-gl kernel runs
 * isolated, the corpus replays a saved failure
 * first, a correct kernel passes across 20 seeds, and contract errors exit with code 2.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fuzz, type FuzzLawResult } from '../src/fuzz/fuzz.js';
import type { Failure } from './runner/check-law.js';
import { CLASSIC_MUTANTS } from './fixtures/mutants/classic-names.js';

const seed = fc.readConfigureGlobal().seed ?? 1;
const MUTANTS = 'properties/fixtures/mutants/fuzz-mutants.ts';
const quiet = (): void => {};
const failureOf = (r: FuzzLawResult): Failure => {
  if (r.status !== 'failed') throw new Error(`expected a failure, got ${r.status}`);
  return r.failure;
};

async function fuzzOne(exportName: string, corpus = mkdtempSync(join(tmpdir(), 'varcheck-corpus-'))) {
  const t0 = Date.now();
  const r = await fuzz({ module: MUTANTS, exportName, seed, corpus, timeMs: 60_000, deadlineMs: 3000, stopAtFirstFailure: true, out: quiet });
  return { ...r, seconds: (Date.now() - t0) / 1000, corpus };
}

describe('varcheck fuzz catches mutants', () => {
  for (const name of CLASSIC_MUTANTS) {
    it(`catches ${name} within 60 s`, async () => {
      const r = await fuzzOne(name);
      const failure = r.results.find((x) => x.status === 'failed');
      if (failure?.status !== 'failed') throw new Error(`${name} was not caught`);
      expect(r.seconds).toBeLessThan(60);
      console.log(`[varcheck] ${name}: caught in ${r.seconds.toFixed(1)} s by ${failure.foundBy} — ${failure.failure.message.slice(0, 100)}`);
    });
  }
});

describe('varcheck fuzz robustness', () => {
  it('reports a hanging kernel as a failure and finishes', async () => {
    const r = await fuzzOne('hanging');
    expect(r.exitCode).toBe(1);
    expect(failureOf(r.results[0]).message).toMatch(/no answer within 3000 ms.*fresh process/);
  });
  it('does not call a correct kernel that stalls once past its deadline hanging (the call is retried in a fresh process)', async () => {
    const r = await fuzz({ module: MUTANTS, exportName: 'stallsOnce', seed, runs: 20, timeMs: 8000, deadlineMs: 3000, corpus: mkdtempSync(join(tmpdir(), 'varcheck-stall-')), out: quiet });
    expect(r.exitCode).toBe(0);
  });
  it('reports a kernel that kills its process as a failure and finishes', async () => {
    const r = await fuzzOne('crashing');
    expect(r.exitCode).toBe(1);
    expect(failureOf(r.results[0]).message).toMatch(/crashed its isolation process \(it was killed by SIGKILL\)/);
  });
  it.runIf(process.env.REQUIRE_HEADLESSGL === '1')('fuzzes a headless-gl kernel in its isolation process (the gl addon loads in both processes)', async () => {
    const r = await fuzz({ module: 'properties/fixtures/kernels/gpujs-headlessgl.ts', seed, timeMs: 2000, corpus: mkdtempSync(join(tmpdir(), 'varcheck-gl-')), out: quiet });
    expect(r.exitCode).toBe(0);
    expect(r.results.every((x) => x.status === 'passed' || x.status === 'skipped')).toBe(true);
  });
  it('reports a throwing kernel as a failure, and the corpus replays it first next time', async () => {
    const first = await fuzzOne('throwing');
    expect(first.exitCode).toBe(1);
    expect(failureOf(first.results[0]).message).toMatch(/kernel exploded/);
    expect(first.results[0].saved).toBeTruthy();
    const second = await fuzzOne('throwing', first.corpus);
    expect(second.results[0].foundBy).toBe('corpus');
    expect(failureOf(second.results[0]).path.split(':')[0]).toBe('0');
  });
  it('a correct kernel passes across 20 seeds', async () => {
    for (let s = 1; s <= 20; s++) {
      const r = await fuzz({ module: 'examples/kernels/my-kernel.ts', seed: seed + s, runs: 30, timeMs: 1500, corpus: mkdtempSync(join(tmpdir(), 'varcheck-ok-')), out: quiet });
      expect(r.exitCode, `seed ${seed + s}`).toBe(0);
    }
  });
  it('a kernel without block-causal masks finishes within its budget, the mask laws skipped with a reason', async () => {
    const t0 = Date.now();
    const r = await fuzz({ module: 'properties/fixtures/kernels/unmasked-only.ts', seed, runs: 30, timeMs: 4000, corpus: mkdtempSync(join(tmpdir(), 'varcheck-none-')), out: quiet });
    const seconds = (Date.now() - t0) / 1000;
    expect(r.exitCode).toBe(0);
    expect(r.results.filter((x) => x.status === 'skipped').map((x) => x.id)).toEqual(['battery.prefix-stability']);
    expect(seconds).toBeLessThan(4 + r.coldStarts[0].ms / 1000 + 20);
  });
  it('a kernel that declares maxHeadSize is never given a wider head (guided search, V = I in slices); the same kernel undeclared fails', async () => {
    const corpus = (): string => mkdtempSync(join(tmpdir(), 'varcheck-head-'));
    const ok = await fuzz({ module: 'properties/fixtures/kernels/narrow-head.ts', exportName: 'declared', seed, runs: 30, timeMs: 4000, corpus: corpus(), out: quiet });
    expect(ok.results.filter((x) => x.status !== 'passed').map((x) => `${x.id}: ${x.status === 'failed' ? x.failure.message : x.status}`)).toEqual([]);
    expect(ok.exitCode).toBe(0);
    const bad = await fuzz({ module: 'properties/fixtures/kernels/narrow-head.ts', exportName: 'undeclared', seed, runs: 30, timeMs: 4000, corpus: corpus(), out: quiet });
    expect(bad.exitCode).toBe(1);
    expect(bad.results.some((x) => x.status === 'failed' && /head size \d+ > 4 is not supported/.test(x.failure.message))).toBe(true);
  });
  it('a kernel whose calls cost more than exact attention is not called hanging when it declares its cost; the same kernel undeclared is', async () => {
    const corpus = (): string => mkdtempSync(join(tmpdir(), 'varcheck-cost-'));
    const module = 'properties/fixtures/kernels/costly.ts';
    const ok = await fuzz({ module, exportName: 'declared', seed, runs: 5, timeMs: 3000, deadlineMs: 100, corpus: corpus(), out: quiet });
    expect(ok.results.filter((x) => x.status !== 'passed').map((x) => `${x.id}: ${x.status === 'failed' ? x.failure.message : x.status}`)).toEqual([]);
    const bad = await fuzz({ module, exportName: 'undeclared', seed, runs: 5, timeMs: 3000, deadlineMs: 100, stopAtFirstFailure: true, corpus: corpus(), out: quiet });
    expect(bad.exitCode).toBe(1);
    expect(bad.results.some((x) => x.status === 'failed' && /no answer within 100 ms/.test(x.failure.message))).toBe(true);
  });
  it('a budget smaller than the cold start still runs every law once: no law fails for want of time', async () => {
    const r = await fuzz({ module: 'examples/kernels/my-kernel.ts', seed, runs: 30, timeMs: 1, corpus: mkdtempSync(join(tmpdir(), 'varcheck-tiny-')), out: quiet });
    expect(r.results.every((x) => x.status === 'passed' && x.cases >= 1)).toBe(true);
    expect(r.exitCode).toBe(0);
  });
  it('the CLI exits 2 on a contract error, naming the bad fields', () => {
    const p = spawnSync(process.execPath, ['bin/varcheck.js', 'fuzz', 'properties/fixtures/kernels/bad-contract.ts'], { encoding: 'utf8' });
    expect(p.status).toBe(2);
    expect(p.stderr).toMatch(/precision: expected 'float32' or 'float64'/);
    expect(p.stderr).toMatch(/run: expected a function/);
    expect(p.stderr).toMatch(/masks: expected a non-empty array/);
    expect(p.stderr).toMatch(/rescales: expected 'none' or \{ keysPerRescale/);
    expect(p.stderr).toMatch(/maxHeadSize: expected a positive integer, got 0/);
    expect(p.stderr).toMatch(/cost: expected a function cost\(input\)/);
  });
  it('the CLI exits 1 when a property fails and 0 when all pass', () => {
    const fail = spawnSync(
      process.execPath,
      ['bin/varcheck.js', 'fuzz', 'examples/kernels/favor-plus.ts', '--time', '5s', '--runs', '30', '--seed', String(seed), '--corpus', mkdtempSync(join(tmpdir(), 'vc-'))],
      { encoding: 'utf8' },
    );
    expect(fail.status).toBe(1);
    const ok = spawnSync(
      process.execPath,
      ['bin/varcheck.js', 'fuzz', 'examples/kernels/my-kernel.ts', '--time', '3s', '--runs', '20', '--seed', String(seed), '--corpus', mkdtempSync(join(tmpdir(), 'vc-'))],
      { encoding: 'utf8' },
    );
    expect(ok.status).toBe(0);
  });
});
