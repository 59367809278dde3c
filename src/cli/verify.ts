/**
 * `varcheck verify`: run the spec's laws and the battery on every built-in kernel × backend, one
 * row per property. The work is split into parts (the spec, the CPU kernels, each gpu.js backend,
 * each Chromium backend); with `jobs` > 1 the parts run in that many child processes, each part
 * in exactly one of them — so each gpu.js kernel compiles once per backend and Chromium starts
 * once per backend — and the parent merges the rows.
 * @module
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lowRankSpecLaws, specLaws } from '../../properties/index.js';
import { attentionBattery, type BatterySettings } from '../../properties/battery/attention.js';
import { interpolationBattery } from '../../properties/battery/interpolation.js';
import type { Law } from '../../properties/law.js';
import { checkLaw, type LawResult } from '../../properties/runner/check-law.js';
import { exitCode, fmt, resultDetail, statusWord, summaryLine, table } from '../../properties/runner/format.js';
import { VarcheckError } from '../../spec/errors.js';
import { CHROMIUM_PATH, chromiumInstalled, chromiumKernels, type BrowserKernels } from '../kernels/browser/chromium.js';
import { GPU_BACKENDS, type GpuBackend } from '../kernels/gpujs/backend.js';
import { builtinRegistry, KernelRegistry, registerGpujsKernels } from '../kernels/registry.js';

/** Chromium backends `verify` can run the gpu.js kernels in. */
export type BrowserBackend = 'webgl2' | 'webgpu';

/** One independent part of the run: the spec's laws, the built-in CPU kernels, a gpu.js backend, or a Chromium backend. */
export type VerifyPart = 'spec' | 'builtin' | GpuBackend | `chromium-${BrowserBackend}`;

/** A row of the result: a law's result and the suite (spec area or kernel) it belongs to. */
export type VerifyRow = LawResult & { suite: string };

/** Options of {@link verify}. */
export interface VerifyOptions {
  /** fast-check seed. */
  seed: number;
  /** Override the cases per property. */
  numRuns?: number;
  /** Write the results as JSON here. */
  json?: string;
  /** Only properties whose id or name contains this text. */
  filter?: string;
  /** gpu.js backends to instantiate kernels on (default: all; [] for none). */
  backends?: GpuBackend[];
  /** Chromium backends to run the gpu.js kernels in, when Chromium is installed (default: both). */
  browser?: BrowserBackend[];
  /** Generator reach: `deep` adds VAR-1024 and geometric(128) inputs. @defaultValue 'default' */
  deep?: boolean;
  /** Processes to spread the parts over. @defaultValue min(2, available cores) */
  jobs?: number;
  /** Run only these parts (a child process of a parallel run). */
  parts?: VerifyPart[];
  /** Where to print (default: stdout). */
  out?: (line: string) => void;
}

/** What {@link verify} returns. */
export interface VerifyResult {
  /** One row per property. */
  results: VerifyRow[];
  /** Lines about backends (unavailable, measured precision). */
  notes: string[];
  /** Seconds per suite. */
  timings: { suite: string; laws: number; seconds: number }[];
  /** 0 pass, 1 fail, 3 inconclusive (see `EXIT`). */
  exitCode: number;
}

/** The parts a run with these options covers, in a fixed order. */
export function verifyParts(options: Pick<VerifyOptions, 'backends' | 'browser'>): VerifyPart[] {
  const browser = chromiumInstalled() ? (options.browser ?? ['webgl2', 'webgpu']) : [];
  return ['spec', 'builtin', ...(options.backends ?? GPU_BACKENDS), ...browser.map((b) => `chromium-${b}` as const)];
}

/** Suites of one part: the laws it runs, grouped by suite. */
async function partSuites(part: VerifyPart, settings: BatterySettings, notes: string[], cleanup: (() => unknown)[]): Promise<{ suite: string; laws: readonly Law<unknown>[] }[]> {
  if (part === 'spec')
    return [
      { suite: 'spec', laws: specLaws },
      { suite: 'spec/low-rank', laws: lowRankSpecLaws },
    ];
  let registry: KernelRegistry;
  if (part === 'builtin') registry = builtinRegistry();
  else if (part.startsWith('chromium-')) {
    registry = new KernelRegistry();
    const b = part.slice('chromium-'.length) as BrowserBackend;
    try {
      const s: BrowserKernels = await chromiumKernels(b);
      cleanup.push(() => s.close());
      for (const k of [...s.attention, ...s.interpolation]) registry.register(k, { measured: s.measured });
      notes.push(`backend ${part}: ${s.userAgent}`);
    } catch (e) {
      notes.push(`backend ${part}: unavailable — ${(e as Error).message}`);
    }
  } else registry = await registerGpujsKernels(new KernelRegistry(), [part as GpuBackend]);
  cleanup.push(() => registry.dispose());
  for (const u of registry.unavailable) notes.push(`backend ${u.backend}: unavailable — ${u.reason}`);
  const m = registry
    .list()
    .map((k) => registry.metaOf(k.name).measured)
    .find((x) => x !== undefined);
  if (m)
    notes.push(
      `backend ${m.backend}: measured exp relative error ${m.expRelativeError.toExponential(2)}, 4096-term sum relative error ${m.sumRelativeError.toExponential(2)}, flushes subnormals: ${m.flushesSubnormals}`,
    );
  return [
    ...registry.attention().map((k) => ({ suite: k.name, laws: attentionBattery(k, { ...settings, maxKeys: softwareGpu(part, settings), measured: registry.metaOf(k.name).measured }) })),
    ...registry.interpolation().map((k) => ({ suite: k.name, laws: interpolationBattery(k) })),
  ];
}

/**
 * The key cap of the large inputs for kernels on a simulated GPU: gpu.js and Chromium backends run in
 * software on a machine without one (Mesa llvmpipe, SwiftShader, WebAssembly), so `verify` judges them
 * up to 2,048 keys (the CPU kernels, `fuzz` and the tests: 8,192; `--deep`: 21,845 everywhere).
 */
function softwareGpu(part: VerifyPart, settings: BatterySettings): number | undefined {
  return part === 'spec' || part === 'builtin' || part === 'webgpu' || settings.reach === 'deep' ? undefined : VERIFY_SOFTWARE_GPU_KEYS;
}

/** The largest key count `verify` gives kernels on gpu.js and Chromium backends (see {@link softwareGpu}). */
export const VERIFY_SOFTWARE_GPU_KEYS = 2048;

/** Run the given parts in this process. */
async function runParts(parts: readonly VerifyPart[], options: VerifyOptions): Promise<Omit<VerifyResult, 'exitCode'>> {
  const results: VerifyRow[] = [];
  const notes: string[] = [];
  const timings: VerifyResult['timings'] = [];
  const cleanup: (() => unknown)[] = [];
  try {
    for (const part of parts) {
      for (const { suite, laws } of await partSuites(part, { reach: options.deep ? 'deep' : 'default' }, notes, cleanup)) {
        const t0 = Date.now();
        let n = 0;
        for (const law of laws) {
          if (options.filter && !(law.id ?? law.name).includes(options.filter) && !law.name.includes(options.filter)) continue;
          results.push({ suite, ...(await checkLaw(law, { seed: options.seed, numRuns: options.numRuns })) });
          n++;
        }
        if (n > 0) timings.push({ suite, laws: n, seconds: (Date.now() - t0) / 1000 });
      }
    }
  } finally {
    for (const c of cleanup.reverse()) await c();
  }
  return { results, notes, timings };
}

/** Parts in `jobs` groups, spreading the expensive ones (Chromium, headless-gl) apart. */
export function planShards(parts: readonly VerifyPart[], jobs: number): VerifyPart[][] {
  const cost = (p: VerifyPart): number => (p.startsWith('chromium') ? 3 : p === 'headlessgl' ? 3 : p === 'spec' ? 2 : p === 'webgpu' ? 1 : 2);
  const shards: { parts: VerifyPart[]; cost: number }[] = Array.from({ length: jobs }, () => ({ parts: [], cost: 0 }));
  for (const p of [...parts].sort((a, b) => cost(b) - cost(a))) {
    const s = shards.reduce((a, b) => (b.cost < a.cost ? b : a));
    s.parts.push(p);
    s.cost += cost(p);
  }
  return shards.filter((s) => s.parts.length > 0).map((s) => s.parts);
}

/** A child process of a parallel run failed to report. */
export class VerifyWorkerError extends VarcheckError {
  static override readonly code: string = 'VERIFY_WORKER';
}

const BIN = fileURLToPath(new URL('../../bin/varcheck.js', import.meta.url).href.replace(/\/dist\/bin\//, '/bin/'));

/** Run each shard in a child `varcheck verify --parts …` and merge their JSON. */
async function runShards(shards: VerifyPart[][], options: VerifyOptions): Promise<Omit<VerifyResult, 'exitCode'>> {
  const dir = mkdtempSync(join(tmpdir(), 'varcheck-verify-'));
  try {
    const runs = shards.map((parts, i) => {
      const file = join(dir, `shard-${i}.json`);
      const args = [BIN, 'verify', '--seed', String(options.seed), '--parts', parts.join(','), '--jobs', '1', '--json', file];
      if (options.numRuns !== undefined) args.push('--runs', String(options.numRuns));
      if (options.filter !== undefined) args.push('--filter', options.filter);
      if (options.deep) args.push('--deep');
      return new Promise<Omit<VerifyResult, 'exitCode'>>((resolve, reject) => {
        const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
        child.on('close', (code) => {
          try {
            const r = JSON.parse(readFileSync(file, 'utf8')) as VerifyResult;
            resolve({ results: r.results, notes: r.notes, timings: r.timings });
          } catch {
            reject(new VerifyWorkerError(`parts ${parts.join(',')}`, `the child process exited with ${code} without a report: ${stderr.slice(-2000)}`));
          }
        });
      });
    });
    const all = await Promise.all(runs);
    return { results: all.flatMap((r) => r.results), notes: all.flatMap((r) => r.notes), timings: all.flatMap((r) => r.timings) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Run the battery; prints one row per property and returns the rows and the exit code. */
export async function verify(options: VerifyOptions): Promise<VerifyResult> {
  const out = options.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const t0 = Date.now();
  const parts = options.parts ?? verifyParts(options);
  const jobs = Math.max(1, Math.min(options.jobs ?? Math.min(2, availableParallelism()), parts.length));
  out(`varcheck verify — fast-check seed ${options.seed} (replay: varcheck verify --seed ${options.seed}), ${jobs} process(es)`);
  if (!options.parts && !chromiumInstalled() && options.browser?.length !== 0) out(`backend chromium: unavailable — Chromium not installed (${CHROMIUM_PATH})`);
  const run = jobs > 1 && !options.parts ? await runShards(planShards(parts, jobs), options) : await runParts(parts, options);
  const order = new Map(parts.map((p, i) => [p, i]));
  const rank = (suite: string): number => (suite.startsWith('spec') && !suite.includes('/') ? 0 : (order.get((suite.split('@')[1] ?? 'builtin') as VerifyPart) ?? 1));
  const results = [...run.results].sort((a, b) => rank(a.suite) - rank(b.suite));
  for (const n of run.notes) out(n);
  out(
    table(
      ['suite', 'property', 'cases', 'worst error / bound', 'status', 'seed'],
      results.map((r) => [r.suite, r.name, String(r.cases), `${fmt(r.worst.error)} / ${fmt(r.worst.bound)}`, statusWord(r.status), String(r.seed)]),
    ),
  );
  out(
    `\n${table(
      ['suite', 'laws', 'seconds'],
      run.timings.map((t) => [t.suite, String(t.laws), fmt(t.seconds)]),
    )}`,
  );
  for (const r of results.filter((x) => x.status === 'failed' || x.status === 'inconclusive')) {
    out(`\n${statusWord(r.status)} ${r.suite} › ${r.name} [${r.cites}]\n${resultDetail(r, '  ', Infinity).join('\n')}`);
  }
  out(`\n${summaryLine(results)} in ${fmt((Date.now() - t0) / 1000)} s`);
  const code = exitCode(results);
  if (options.json) {
    const rows = results.map((r) => (r.status === 'failed' ? { ...r, failure: { ...r.failure, value: undefined, thrown: undefined } } : r));
    writeFileSync(options.json, `${JSON.stringify({ seed: options.seed, exitCode: code, notes: run.notes, timings: run.timings, results: rows }, null, 2)}\n`);
  }
  return { results, notes: run.notes, timings: run.timings, exitCode: code };
}
