/**
 * `varcheck verify`'s process pool: the task queue (parts run whole, spec and CPU-kernel laws one by
 * one, most expensive first) and the merge — a two-process run gives the rows of a one-process run,
 * in the same order. The pool spawns bin/varcheck.js, which runs the built dist/ (`npm test` builds it).
 */
import { describe, expect, it } from 'vitest';
import { lowRankSpecLaws, specLaws } from '../../properties/index.js';
import { planTasks, verify, VERIFY_SOFTWARE_GPU_KEYS, type VerifyRow } from './verify.js';
import { chromiumInstalled, chromiumKernels, launchChromiumServer } from '../kernels/browser/chromium.js';
import { kernelSuites, runSuites } from './suites.js';

const strip = (rows: readonly VerifyRow[]) => rows.map(({ ms: _ms, ...r }) => r);

describe('verify task queue', () => {
  it('runs gpu.js and Chromium parts whole, spec laws one by one, the most expensive first', async () => {
    const tasks = await planTasks(['spec', 'headlessgl', 'chromium-webgl2', 'chromium-webgpu'], {});
    expect(tasks.slice(0, 3).map((t) => [t.part, t.law])).toEqual([
      ['chromium-webgpu', undefined],
      ['chromium-webgl2', undefined],
      ['headlessgl', undefined],
    ]);
    const spec = tasks.filter((t) => t.part === 'spec');
    expect(spec).toHaveLength(specLaws.length + lowRankSpecLaws.length);
    expect(new Set(spec.map((t) => `${t.law!.suite}.${t.law!.index}`)).size).toBe(spec.length);
    for (let i = 1; i < tasks.length; i++) expect(tasks[i].cost).toBeLessThanOrEqual(tasks[i - 1].cost);
  });

  it('leaves filtered-out laws out of the queue', async () => {
    const tasks = await planTasks(['spec'], { filter: 'bicubic:' });
    const want = [...specLaws, ...lowRankSpecLaws].filter((l) => (l.id ?? l.name).includes('bicubic:') || l.name.includes('bicubic:'));
    expect(want.length).toBeGreaterThan(0);
    expect(tasks).toHaveLength(want.length);
  });
});

describe('verify in two processes', () => {
  it('gives the rows, notes and suite timings of a one-process run, in the same order', async () => {
    const options = { seed: 20250107, numRuns: 3, parts: ['builtin' as const], out: () => undefined };
    const one = await verify({ ...options, jobs: 1 });
    const two = await verify({ ...options, jobs: 2 });
    expect(one.results.length).toBeGreaterThan(10);
    expect(strip(two.results)).toEqual(strip(one.results));
    expect(two.notes).toEqual(one.notes);
    expect(two.timings.map((t) => [t.suite, t.laws])).toEqual(one.timings.map((t) => [t.suite, t.laws]));
    expect(two.processes).toHaveLength(2);
    expect(two.processes!.reduce((a, p) => a + p.laws, 0)).toBe(one.results.length);
    expect(two.exitCode).toBe(one.exitCode);
  }, 120_000);
});

describe('verify in Chromium', () => {
  it.runIf(chromiumInstalled())(
    'runs a Chromium part’s laws in the page with the rows the Node proxies give (same laws, cases, worst error/bound)',
    async () => {
      const seed = 20250107;
      const numRuns = 4;
      const inPage = await verify({ seed, numRuns, parts: ['chromium-webgl2'], jobs: 1, out: () => undefined });
      const s = await chromiumKernels('webgl2');
      try {
        const suites = kernelSuites(s.attention, s.interpolation, { maxKeys: VERIFY_SOFTWARE_GPU_KEYS, reach: 'default' }, () => s.measured);
        const proxied = (await runSuites(suites, { seed, numRuns })).map((r) => ({ suite: r.suite, ...r.result }));
        expect(proxied.length).toBeGreaterThan(10);
        expect(strip(inPage.results)).toEqual(strip(proxied));
      } finally {
        await s.close();
      }
    },
    120_000,
  );

  it.runIf(chromiumInstalled())(
    'starts Chromium once in a one-process run: both Chromium parts open their pages in one browser; side by side in two processes, each its own',
    async () => {
      const options = { seed: 20250107, numRuns: 2, filter: 'upsample-bicubic', parts: ['chromium-webgl2' as const, 'chromium-webgpu' as const], out: () => undefined };
      const shared = (r: { timings: { suite: string }[] }): number => r.timings.filter((t) => t.suite === 'chromium (launch, shared)').length;
      const one = await verify({ ...options, jobs: 1 });
      expect(one.exitCode).toBe(0);
      expect(shared(one)).toBe(1);
      for (const b of ['webgl2', 'webgpu']) expect(one.results.some((r) => r.suite.endsWith(`@chromium-${b}`) && r.status === 'passed')).toBe(true);
      const two = await verify({ ...options, jobs: 2 });
      expect(two.exitCode).toBe(0);
      expect(shared(two)).toBe(0);
      expect(strip(two.results)).toEqual(strip(one.results));
    },
    180_000,
  );

  it.runIf(chromiumInstalled())(
    'sessions in a shared Chromium are independent: closing one leaves the other running, and closing the server ends them',
    async () => {
      const server = await launchChromiumServer();
      try {
        const [a, b] = await Promise.all([chromiumKernels('webgl2', { server: server.wsEndpoint }), chromiumKernels('webgpu', { server: server.wsEndpoint })]);
        const up = b.interpolation.find((k) => k.op === 'upsample-bicubic')!;
        const x = { h: 2, w: 2, c: 1, data: Float64Array.from([1, 2, 3, 4]) };
        await a.close();
        expect((await up.run(x, 3, 3)).data).toHaveLength(9);
        await server.close();
        await expect(Promise.resolve().then(() => up.run(x, 3, 3))).rejects.toThrow();
        await b.close().catch(() => undefined);
      } finally {
        await server.close().catch(() => undefined);
      }
    },
    120_000,
  );
});
