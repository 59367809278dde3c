/**
 * `varcheck verify`: run the spec's laws and the battery on every built-in kernel × backend, one
 * row per property. The work is split into parts (the spec, the CPU kernels, each gpu.js backend,
 * each Chromium backend); with `jobs` > 1 a queue of tasks — each gpu.js or Chromium part whole,
 * and each single law of the spec and the CPU kernels, the most expensive first — feeds that many
 * child processes, each taking the next task as soon as it is free. A part run whole runs in exactly
 * one process — so each gpu.js kernel compiles once per backend — and the parent merges the rows into the order of a one-process run. Which process runs
 * a law never changes its cases: each law runs with the run's seed. A Chromium part runs its laws
 * inside the page, next to its kernels (./verify-page.ts, the same suites as on the Node proxies).
 * Chromium starts once per process that runs Chromium parts: in a one-process run both parts open
 * their pages in one browser, launched once; in a parallel run the two parts run side by side in
 * different processes, and each launches its own, because one browser has one GPU process, which
 * then serves both pages in turn (measured on 2 cores: gpujs/exact@chromium-webgpu's laws took
 * 19.2 s instead of 6.7 s, the whole verify 8 s longer).
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { lowRankSpecLaws, specLaws } from '../../properties/index.js';
import type { BatterySettings } from '../../properties/battery/attention.js';
import type { Law } from '../../properties/law.js';
import { checkLaw, type LawResult } from '../../properties/runner/check-law.js';
import { EXIT, exitCode, fmt, resultDetail, statusWord, summaryLine, table } from '../../properties/runner/format.js';
import { VarcheckError } from '../../spec/errors.js';
import { CHROMIUM_PATH, chromiumInstalled, chromiumKernels, launchChromiumServer, type BrowserKernels, type ChromiumServer } from '../kernels/browser/chromium.js';
import { GPU_BACKENDS, type GpuBackend } from '../kernels/gpujs/backend.js';
import { fromJsonText } from '../kernels/browser/wire.js';
import { kernelSuites, lawMatches, portable, type RunSuitesOptions, type Suite, type SuiteRow } from './suites.js';
import type { PageLawsOptions } from './verify-page.js';
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
  /** Run only these parts. */
  parts?: VerifyPart[];
  /** Internal: serve tasks from the parent process over IPC (a child process of a parallel run). */
  worker?: boolean;
  /** Where to print (default: stdout). */
  out?: (line: string) => void;
}

/** What {@link verify} returns. */
export interface VerifyResult {
  /** One row per property. */
  results: VerifyRow[];
  /** Lines about backends (unavailable, measured precision). */
  notes: string[];
  /** Seconds per suite (the sum of its laws' times), then the setup of each part run as a whole (`<part> (setup)`, 0 laws) and the launch of a shared Chromium (`chromium (launch, shared)`). */
  timings: { suite: string; laws: number; seconds: number }[];
  /** What each process of a parallel run did, and when it finished. */
  processes?: ProcessSummary[];
  /** 0 pass, 1 fail, 3 inconclusive (see `EXIT`). */
  exitCode: number;
}

/** The parts a run with these options covers, in a fixed order. */
export function verifyParts(options: Pick<VerifyOptions, 'backends' | 'browser'>): VerifyPart[] {
  const browser = chromiumInstalled() ? (options.browser ?? ['webgl2', 'webgpu']) : [];
  return ['spec', 'builtin', ...(options.backends ?? GPU_BACKENDS), ...browser.map((b) => `chromium-${b}` as const)];
}

/**
 * The laws of one part, grouped by suite; for a Chromium part, `inPage` runs them inside the page,
 * next to its kernels (./verify-page.ts: the same suites, seeds and tolerances as on the proxies).
 */
interface PartSuites {
  suites: Suite[];
  inPage?: (options: RunSuitesOptions) => Promise<SuiteRow[]>;
}

/** The page verify loads in Chromium: the kernels' page plus in-page laws. */
const VERIFY_PAGE = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './verify-page.ts' : './verify-page.js', import.meta.url));

/** Suites of one part: the laws it runs, grouped by suite. */
async function partSuites(part: VerifyPart, settings: BatterySettings, notes: string[], cleanup: (() => unknown)[], chromiumServer?: string): Promise<PartSuites> {
  if (part === 'spec')
    return {
      suites: [
        { suite: 'spec', laws: specLaws },
        { suite: 'spec/low-rank', laws: lowRankSpecLaws },
      ],
    };
  let registry: KernelRegistry;
  let page: BrowserKernels | undefined;
  if (part === 'builtin') registry = builtinRegistry();
  else if (part.startsWith('chromium-')) {
    registry = new KernelRegistry();
    const b = part.slice('chromium-'.length) as BrowserBackend;
    try {
      page = await chromiumKernels(b, { entry: VERIFY_PAGE, server: chromiumServer });
      cleanup.push(() => page!.close());
      for (const k of [...page.attention, ...page.interpolation]) registry.register(k, { measured: page.measured });
      notes.push(`backend ${part}: ${page.userAgent}`);
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
  const battery = { ...settings, maxKeys: softwareGpu(part, settings) };
  const suites = kernelSuites(registry.attention(), registry.interpolation(), battery, (k) => registry.metaOf(k.name).measured);
  if (!page) return { suites };
  const browser = page;
  return {
    suites,
    // The page's rows come back as toJsonText text (a worst error may be +∞).
    inPage: async (o) => fromJsonText(await browser.call<string>('runLaws', [{ ...o, settings: { maxKeys: battery.maxKeys, reach: battery.reach } } satisfies PageLawsOptions])) as SuiteRow[],
  };
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

/**
 * One unit of work: a whole part (set up once: gpu.js compiles, Chromium starts), or — for the parts
 * that cost nothing to set up (`spec`, `builtin`) — one law of it, so the pool can fill the gaps.
 */
export interface VerifyTask {
  /** The part. */
  part: VerifyPart;
  /** Only this law: index of its suite in the part and of the law in the suite (absent: the whole part). */
  law?: { suite: number; index: number };
  /** Expected seconds (orders the queue; see {@link PART_COST}). */
  cost: number;
}

/** A row of a task, with where it sorts in a one-process run (part, suite, law). */
interface TaskRow {
  row: VerifyRow;
  part: VerifyPart;
  /** Index of the suite in the part and of the law in the suite. */
  key: [number, number];
}

/** What a task reports. */
interface TaskResult {
  rows: TaskRow[];
  /** Notes of the parts this task set up, by part. */
  notes: { part: VerifyPart; lines: string[] }[];
  /** Seconds spent setting parts up (building kernels, starting Chromium), by part. */
  setup: { part: VerifyPart; seconds: number }[];
}

/**
 * Expected seconds of the parts set up as a whole, on the 2-core reference machine at the default
 * reach (`varcheck verify --jobs 1 --parts P`). They only order the queue — the most expensive
 * first — and never change what runs; the pool balances whatever the machine actually measures.
 */
export const PART_COST: Readonly<Partial<Record<VerifyPart, number>>> = {
  'chromium-webgpu': 30,
  'chromium-webgl2': 15,
  webasm: 12,
  headlessgl: 10,
  cpu: 4,
  webgpu: 2,
};

/** Expected seconds of the few laws of `spec` and `builtin` that take more than a second (by id; others ≈ {@link LAW_COST_DEFAULT}). */
export const LAW_COST: Readonly<Record<string, number>> = {
  'bounds.composition-all-attention-low-rank': 9,
  'pipeline.a-posteriori-trace-the-bound-is': 6.5,
  'low-rank.certificate-on-adversarial-rows-query-b': 3.3,
  'threshold.sweep-along-b-eq-c': 3.1,
  'bounds.composition-witness-a-kernel-erring-by': 2.6,
  'battery.matches-spec': 2.5,
  'threshold.criteria-its-float64-worst-case-covers': 1.9,
  'low-rank.polynomial-chebyshev-a-posteriori-certificate-is': 1.5,
};

const LAW_COST_DEFAULT = 0.2;

/** Parts whose laws may run in different processes (their setup costs nothing). */
const SPLIT_PARTS: ReadonlySet<VerifyPart> = new Set(['spec', 'builtin']);

/** Runs tasks in this process, setting each part up once (on first use) and closing everything at the end. */
class TaskRunner {
  private readonly parts = new Map<VerifyPart, Promise<PartSuites>>();
  private readonly cleanup: (() => unknown)[] = [];

  /** `chromiumServer`: the browser this process's Chromium parts open their pages in (absent: each part launches its own). */
  constructor(private readonly options: Pick<VerifyOptions, 'seed' | 'numRuns' | 'filter' | 'deep'> & { chromiumServer?: string }) {}

  /** The suites of a part, set up on first use (reports its notes and setup time into `into`). */
  async suites(part: VerifyPart, into?: TaskResult): Promise<PartSuites> {
    let p = this.parts.get(part);
    if (!p) {
      const notes: string[] = [];
      const t0 = Date.now();
      p = partSuites(part, { reach: this.options.deep ? 'deep' : 'default' }, notes, this.cleanup, this.options.chromiumServer);
      this.parts.set(part, p);
      await p;
      into?.notes.push({ part, lines: notes });
      into?.setup.push({ part, seconds: (Date.now() - t0) / 1000 });
    }
    return p;
  }

  async run(task: VerifyTask): Promise<TaskResult> {
    const out: TaskResult = { rows: [], notes: [], setup: [] };
    const { suites, inPage } = await this.suites(task.part, out);
    if (inPage && !task.law) {
      // A Chromium part runs its laws in the page (one crossing per part, not per kernel call).
      for (const r of await inPage({ seed: this.options.seed, numRuns: this.options.numRuns, filter: this.options.filter }))
        out.rows.push({ row: { suite: r.suite, ...r.result }, part: task.part, key: r.key });
      return out;
    }
    for (const [si, { suite, laws }] of suites.entries()) {
      if (task.law && task.law.suite !== si) continue;
      for (const [li, law] of laws.entries()) {
        if ((task.law && task.law.index !== li) || !lawMatches(law, this.options.filter)) continue;
        out.rows.push({ row: { suite, ...(await checkLaw(law, { seed: this.options.seed, numRuns: this.options.numRuns })) }, part: task.part, key: [si, li] });
      }
    }
    return out;
  }

  async close(): Promise<void> {
    for (const c of this.cleanup.reverse()) await c();
  }
}

/**
 * The tasks of a run, the most expensive first: each part as one task, except `spec` and `builtin`,
 * whose laws are tasks of their own (filtered here, so a filtered-out law costs nothing).
 */
export async function planTasks(parts: readonly VerifyPart[], options: Pick<VerifyOptions, 'filter' | 'deep'>): Promise<VerifyTask[]> {
  const tasks: VerifyTask[] = [];
  const runner = new TaskRunner({ seed: 0, ...options });
  try {
    for (const part of parts) {
      if (!SPLIT_PARTS.has(part)) {
        tasks.push({ part, cost: PART_COST[part] ?? 10 });
        continue;
      }
      for (const [si, { laws }] of (await runner.suites(part)).suites.entries())
        for (const [li, law] of laws.entries()) if (lawMatches(law, options.filter)) tasks.push({ part, law: { suite: si, index: li }, cost: LAW_COST[law.id ?? ''] ?? LAW_COST_DEFAULT });
    }
  } finally {
    await runner.close();
  }
  // Stable: equal costs keep the one-process order.
  return tasks.sort((a, b) => b.cost - a.cost);
}

/** What the processes of a run did (printed, so the balance of a run can be read off). */
export interface ProcessSummary {
  /** Parts set up in this process. */
  parts: VerifyPart[];
  /** Single-law tasks it ran. */
  laws: number;
  /** Seconds from its start to its last report. */
  seconds: number;
}

type ToWorker = { kind: 'task'; task: VerifyTask } | { kind: 'end' };
type FromWorker = { kind: 'ready' } | { kind: 'done'; result: TaskResult };

/** The loop of a worker process (`varcheck verify --worker`, spawned by {@link runPool}): run tasks as they come, until told to end. */
async function serveTasks(options: VerifyOptions): Promise<void> {
  if (!process.send) throw new VerifyWorkerError('--worker', 'is internal: a parallel `varcheck verify` starts its workers with an IPC channel');
  const send = (m: FromWorker): Promise<void> => new Promise((resolve, reject) => process.send!(m, undefined, undefined, (e) => (e ? reject(e) : resolve())));
  const runner = new TaskRunner(options);
  try {
    await new Promise<void>((resolve, reject) => {
      process.on('disconnect', resolve);
      process.on('message', (m: ToWorker) => {
        if (m.kind === 'end') return resolve();
        runner
          .run(m.task)
          .then((result) => send({ kind: 'done', result: { ...result, rows: result.rows.map((r) => ({ ...r, row: portable(r.row) })) } }))
          .catch(reject);
      });
      send({ kind: 'ready' }).catch(reject);
    });
  } finally {
    await runner.close();
  }
}

/** A child process of a parallel run failed to report. */
export class VerifyWorkerError extends VarcheckError {
  static override readonly code: string = 'VERIFY_WORKER';
}

/**
 * The environment of a worker process: the parent's; where the pool has a process per core, Mesa
 * llvmpipe (headless-gl) renders on the calling thread (`LP_NUM_THREADS=0`) unless the user set it —
 * every core is already busy, and llvmpipe's own threads only add synchronisation (headless-gl part:
 * 12.4 → 11.0 CPU-s). With spare cores its threads are left to use them.
 */
function workerEnv(jobs: number): NodeJS.ProcessEnv {
  if (process.env.LP_NUM_THREADS !== undefined || jobs < availableParallelism()) return process.env;
  return { ...process.env, LP_NUM_THREADS: '0' };
}

const BIN = fileURLToPath(new URL('../../bin/varcheck.js', import.meta.url).href.replace(/\/dist\/bin\//, '/bin/'));

/**
 * Run the tasks in `jobs` child processes (`varcheck verify --worker`): each takes the next task
 * from one queue, the most expensive first, as soon as it is free — so the processes finish close
 * together whatever the machine's actual speeds. A part set up as a whole runs in exactly one process.
 */
async function runPool(tasks: readonly VerifyTask[], jobs: number, options: VerifyOptions): Promise<{ results: TaskResult[]; processes: ProcessSummary[] }> {
  const queue = [...tasks];
  const results: TaskResult[] = [];
  const children: ChildProcess[] = [];
  const processes: ProcessSummary[] = [];
  const args = ['verify', '--worker', '--seed', String(options.seed)];
  if (options.numRuns !== undefined) args.push('--runs', String(options.numRuns));
  if (options.filter !== undefined) args.push('--filter', options.filter);
  if (options.deep) args.push('--deep');
  const t0 = Date.now();
  try {
    await Promise.all(
      Array.from(
        { length: jobs },
        (_, w) =>
          new Promise<void>((resolve, reject) => {
            const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced', env: workerEnv(jobs) });
            children.push(child);
            const summary: ProcessSummary = { parts: [], laws: 0, seconds: 0 };
            processes[w] = summary;
            let stderr = '';
            let current: VerifyTask | undefined;
            let ended = false;
            child.stderr!.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
            const next = (): void => {
              current = queue.shift();
              if (current) {
                if (current.law) summary.laws++;
                else summary.parts.push(current.part);
                child.send({ kind: 'task', task: current } satisfies ToWorker);
              } else {
                ended = true;
                child.send({ kind: 'end' } satisfies ToWorker);
              }
            };
            child.on('message', (m: FromWorker) => {
              if (m.kind === 'done') {
                results.push(m.result);
                summary.seconds = (Date.now() - t0) / 1000;
              }
              next();
            });
            child.on('error', reject);
            child.on('close', (code, signal) => {
              if (ended && code === 0) resolve();
              else {
                const what = current ? `${current.part}${current.law ? ` (law ${current.law.suite}.${current.law.index})` : ''}` : 'before its first task';
                reject(new VerifyWorkerError(`process ${w + 1}`, `exited with ${code ?? signal} at ${what} without a report: ${stderr.slice(-2000)}`));
              }
            });
          }),
      ),
    );
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill();
  }
  return { results, processes };
}

/** Merge task results: rows in one-process order, notes once per part, timings per suite, then each part's setup. */
function merge(results: readonly TaskResult[], parts: readonly VerifyPart[]): Omit<VerifyResult, 'exitCode' | 'processes'> {
  const cmp = (a: TaskRow, b: TaskRow): number => parts.indexOf(a.part) - parts.indexOf(b.part) || a.key[0] - b.key[0] || a.key[1] - b.key[1];
  const rows = results.flatMap((r) => r.rows).sort(cmp);
  // A part split over both processes is set up in each: its notes once.
  const notes = parts.flatMap((part) => results.flatMap((r) => r.notes).find((x) => x.part === part)?.lines ?? []);
  const timings: VerifyResult['timings'] = [];
  for (const { row } of rows) {
    const t = timings.find((x) => x.suite === row.suite) ?? timings[timings.push({ suite: row.suite, laws: 0, seconds: 0 }) - 1];
    t.laws++;
    t.seconds += row.ms / 1000;
  }
  for (const part of parts) {
    const s = results.flatMap((r) => r.setup.filter((x) => x.part === part));
    // Parts run whole are set up once; spec and builtin cost nothing to set up.
    if (s.length > 0 && !SPLIT_PARTS.has(part)) timings.push({ suite: `${part} (setup)`, laws: 0, seconds: s.reduce((a, x) => a + x.seconds, 0) });
  }
  return { results: rows.map((r) => r.row), notes, timings };
}

/**
 * The one Chromium the Chromium parts of a one-process run share (they run one after the other),
 * launched here when there are several; undefined otherwise — in a parallel
 * run they run side by side, where one shared GPU process would serialize them (see the module
 * comment) — or when it cannot start: then each part launches its own and reports why it is
 * unavailable, as without sharing.
 */
async function sharedChromium(parts: readonly VerifyPart[], jobs: number): Promise<ChromiumServer | undefined> {
  if (jobs > 1 || parts.filter((p) => p.startsWith('chromium-')).length < 2) return undefined;
  return launchChromiumServer().catch(() => undefined);
}

/** Run the battery; prints one row per property and returns the rows and the exit code. */
export async function verify(options: VerifyOptions): Promise<VerifyResult> {
  if (options.worker) {
    await serveTasks(options);
    return { results: [], notes: [], timings: [], exitCode: EXIT.passed };
  }
  const out = options.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const t0 = Date.now();
  const parts = options.parts ?? verifyParts(options);
  const wanted = Math.max(1, options.jobs ?? Math.min(2, availableParallelism()));
  const tasks = wanted > 1 ? await planTasks(parts, options) : [];
  const jobs = Math.min(wanted, Math.max(1, tasks.length));
  out(`varcheck verify — fast-check seed ${options.seed} (replay: varcheck verify --seed ${options.seed}), ${jobs} process(es)`);
  if (!options.parts && !chromiumInstalled() && options.browser?.length !== 0) out(`backend chromium: unavailable — Chromium not installed (${CHROMIUM_PATH})`);
  let run: Omit<VerifyResult, 'exitCode'>;
  const shared = await sharedChromium(parts, jobs);
  try {
    if (jobs > 1) {
      const pool = await runPool(tasks, jobs, options);
      run = { ...merge(pool.results, parts), processes: pool.processes };
    } else {
      const runner = new TaskRunner({ ...options, chromiumServer: shared?.wsEndpoint });
      const done: TaskResult[] = [];
      try {
        for (const part of parts) done.push(await runner.run({ part, cost: 0 }));
      } finally {
        await runner.close();
      }
      run = merge(done, parts);
    }
  } finally {
    await shared?.close();
  }
  if (shared) run.timings.push({ suite: 'chromium (launch, shared)', laws: 0, seconds: shared.launchSeconds });
  const { results } = run;
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
  for (const [i, p] of (run.processes ?? []).entries()) {
    out(`process ${i + 1}: ${[...p.parts, ...(p.laws > 0 ? [`${p.laws} single laws of spec/builtin`] : [])].join(', ')}; done at ${fmt(p.seconds)} s`);
  }
  for (const r of results.filter((x) => x.status === 'failed' || x.status === 'inconclusive')) {
    out(`\n${statusWord(r.status)} ${r.suite} › ${r.name} [${r.cites}]\n${resultDetail(r, '  ', Infinity).join('\n')}`);
  }
  out(`\n${summaryLine(results)} in ${fmt((Date.now() - t0) / 1000)} s`);
  const code = exitCode(results);
  if (options.json) {
    writeFileSync(
      options.json,
      `${JSON.stringify({ seed: options.seed, exitCode: code, notes: run.notes, timings: run.timings, processes: run.processes, results: results.map(portable) }, null, 2)}\n`,
    );
  }
  return { ...run, exitCode: code };
}
