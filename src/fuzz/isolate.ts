/**
 * Run a user's kernel in a worker thread with a deadline per call: a hang becomes a reported
 * failure ("no answer within N ms") and the worker is replaced; a throw becomes a failure with
 * the kernel's message. The wrapper is itself a contract kernel, so the battery is unchanged.
 * @module
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { VarcheckError } from '../../spec/errors.js';
import type { Kernel } from '../../spec/contract.js';

/** A user kernel did not answer within its deadline. */
export class KernelTimeoutError extends VarcheckError {
  static override readonly code: string = 'KERNEL_TIMEOUT';
}
/** A user kernel threw (the message is the kernel's). */
export class KernelThrewError extends VarcheckError {
  static override readonly code: string = 'KERNEL_THREW';
}
/** The isolation worker itself could not start (not the kernel's fault). */
export class IsolationError extends VarcheckError {
  static override readonly code: string = 'ISOLATION';
}

// The worker boots from a two-line script that loads worker.js (dist: the published package and
// `npx varcheck`, no tsx needed for varcheck itself) or, from the sources (vitest, tsx), registers
// tsx in the worker (execArgv --import is not honoured by workers on every Node 20) and loads
// worker.ts. Either way the user's kernel module is loaded by load.ts (through tsx).
const tsxApi = ((): string => {
  try {
    return import.meta.resolve('tsx/esm/api');
  } catch {
    const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
    return pathToFileURL(resolve(pkg, '..', 'dist/esm/api/index.mjs')).href;
  }
})();
const fromSources = import.meta.url.endsWith('.ts') && existsSync(new URL('./worker.ts', import.meta.url));
const workerModule = new URL(fromSources ? './worker.ts' : './worker.js', import.meta.url).href;
const bootstrap = fromSources ? `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(workerModule)}); });` : `import(${JSON.stringify(workerModule)});`;

/** Multiply-adds a call may take within the base deadline; larger inputs get proportionally longer. */
export const DEADLINE_WORK = 1e8;

/**
 * The deadline of one call: the base deadline, scaled up for attention inputs with more than
 * {@link DEADLINE_WORK} multiply-adds (L_q·L_k·(d + d_v)) — a correct kernel is never reported as
 * hanging because the battery drew an input thousands of keys long; a hang still is.
 */
export function callDeadline(baseMs: number, args: readonly unknown[]): number {
  const x = args[0] as { q?: { rows: number; cols: number }; k?: { rows: number }; v?: { cols: number } } | undefined;
  if (!x?.q || !x.k || !x.v) return baseMs;
  const work = x.q.rows * x.k.rows * (x.q.cols + x.v.cols);
  return Math.round(baseMs * Math.max(1, work / DEADLINE_WORK));
}

/**
 * Wrap kernel `index` of `modulePath` so each call runs in a worker with `deadlineMs`.
 * The returned kernel copies the contract fields (and `errorBound`, `formulaReference`, which
 * run in this process on the module's own object).
 */
export function isolate(kernel: Kernel, modulePath: string, index: number, options: { exportName?: string; deadlineMs: number }): Kernel {
  let worker: Worker | undefined;
  let ready: Promise<void> | undefined;
  let nextId = 0;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const start = (): Promise<void> => {
    worker = new Worker(bootstrap, { eval: true, workerData: { modulePath: resolve(modulePath), exportName: options.exportName, index } });
    worker.unref();
    ready = new Promise((res, rej) => {
      worker!.once('error', (e) => rej(new IsolationError('worker', `the isolation worker failed to start or crashed: ${e.message}`)));
      worker!.on('message', (m: { ready?: boolean; id?: number; ok?: boolean; out?: unknown; error?: string }) => {
        if (m.ready) return res();
        const p = pending.get(m.id!);
        if (!p) return;
        pending.delete(m.id!);
        if (m.ok) p.resolve(m.out);
        else p.reject(new KernelThrewError(kernel.name, `the kernel threw ${m.error}`));
      });
    });
    return ready;
  };
  // One call at a time: a call abandoned by its caller (a law cut off by its time limit) keeps the
  // worker busy until it answers or its own deadline replaces the worker; the next call waits for
  // that, and its deadline starts only when the worker takes it — so it is never blamed for the wait.
  let inFlight: Promise<unknown> = Promise.resolve();
  const call = (args: unknown[]): Promise<unknown> => {
    const next = inFlight.catch(() => undefined).then(() => send(args));
    inFlight = next;
    return next;
  };
  const send = async (args: unknown[]): Promise<unknown> => {
    const deadline = callDeadline(options.deadlineMs, args);
    if (!worker) await start();
    await ready;
    const id = nextId++;
    return new Promise((res, rej) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        void worker?.terminate();
        worker = undefined;
        rej(new KernelTimeoutError(kernel.name, `no answer within ${deadline} ms (the kernel hangs or is too slow for this input); the worker was replaced`));
      }, deadline);
      pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          res(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          rej(e);
        },
      });
      worker!.postMessage({ id, args });
    });
  };
  const wrapped = {
    ...kernel,
    run: (...args: unknown[]) => call(args),
    dispose: () => {
      void worker?.terminate();
      worker = undefined;
      kernel.dispose?.();
    },
  };
  return wrapped as unknown as Kernel;
}
