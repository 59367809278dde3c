/**
 * Run a user's kernel in a child process with a deadline per call: a call that outlasts it is
 * retried once in a fresh process with twice the time, and a hang confirmed that way becomes a
 * reported failure ("no answer within N ms") with the process killed and replaced; a throw becomes a
 * failure with the kernel's message; a crash (a native addon aborting, a segfault) becomes a
 * failure with the exit signal, not the fuzzer's death. A process, not a worker thread: native
 * addons that are not context-aware (headless-gl's `gl`, onnxruntime-node) cannot load in a worker
 * once this process has loaded them, native code stuck in a loop cannot be stopped by terminating a
 * thread, and an addon that aborts takes its whole process down. The wrapper is itself a contract
 * kernel, so the battery is unchanged.
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { VarcheckError } from '../../spec/errors.js';
import { attentionWork, type AttentionInput } from '../../spec/attention.js';
import { kernelCost, type Kernel } from '../../spec/contract.js';

/** A user kernel did not answer within its deadline. */
export class KernelTimeoutError extends VarcheckError {
  static override readonly code: string = 'KERNEL_TIMEOUT';
}
/** A user kernel threw (the message is the kernel's). */
export class KernelThrewError extends VarcheckError {
  static override readonly code: string = 'KERNEL_THREW';
}
/** The isolation process itself could not start (not the kernel's fault). */
export class IsolationError extends VarcheckError {
  static override readonly code: string = 'ISOLATION';
}

// The child runs worker.js (dist: the published package and `npx varcheck`, no tsx needed for
// varcheck itself) or, from the sources (vitest, tsx), worker.ts with tsx's loader. Either way the
// user's kernel module is loaded by load.ts (through tsx).
const fromSources = import.meta.url.endsWith('.ts') && existsSync(new URL('./worker.ts', import.meta.url));
const workerFile = fileURLToPath(new URL(fromSources ? './worker.ts' : './worker.js', import.meta.url));
const tsxLoader = (): string => {
  try {
    return import.meta.resolve('tsx');
  } catch {
    const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
    return pathToFileURL(resolve(pkg, '..', 'dist/loader.mjs')).href;
  }
};
/** The last bytes of a child's stderr kept for an error message. */
const STDERR_TAIL = 2000;

/** Multiply-adds a call may take within the base deadline; larger inputs get proportionally longer. */
export const DEADLINE_WORK = 1e8;

/**
 * The deadline of one call: the base deadline, scaled up for attention inputs that cost more than
 * {@link DEADLINE_WORK} multiply-adds — the kernel's declared `cost`, else exact attention's
 * L_q·L_k·(d + d_v) ({@link kernelCost}) — so a correct kernel is never reported as hanging because
 * the battery drew an input thousands of keys long, or a low-rank kernel a high-rank input; a hang
 * still is.
 */
export function callDeadline(baseMs: number, args: readonly unknown[], kernel?: Kernel): number {
  const x = args[0] as Partial<AttentionInput> | undefined;
  if (!x?.q || !x.k || !x.v) return baseMs;
  const work = kernel?.op === 'attention' ? kernelCost(kernel, x as AttentionInput) : attentionWork(x as AttentionInput);
  return Math.round(baseMs * Math.max(1, work / DEADLINE_WORK));
}

/**
 * Wrap kernel `index` of `modulePath` so each call runs in a child process with `deadlineMs`.
 * The returned kernel copies the contract fields (and `errorBound`, `formulaReference`, which
 * run in this process on the module's own object).
 */
export function isolate(kernel: Kernel, modulePath: string, index: number, options: { exportName?: string; deadlineMs: number }): Kernel {
  let child: ChildProcess | undefined;
  let ready: Promise<void> | undefined;
  let nextId = 0;
  // Calls out, each with the process it was sent to: a process that exits fails only its own calls.
  // (A process killed at a deadline may report its exit after the retry or the next call went to
  // its replacement; that call must not be failed as a crash.)
  const pending = new Map<number, { proc: ChildProcess; resolve(v: unknown): void; reject(e: Error): void }>();
  const start = (): Promise<void> => {
    const proc = fork(workerFile, [], {
      execArgv: fromSources ? ['--import', tsxLoader()] : [],
      env: { ...process.env, VARCHECK_ISOLATE: JSON.stringify({ modulePath: resolve(modulePath), exportName: options.exportName, index }) },
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    child = proc;
    let stderr = '';
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (text: string) => {
      process.stderr.write(text);
      stderr = (stderr + text).slice(-STDERR_TAIL);
    });
    (proc.stderr as unknown as { unref?(): void }).unref?.();
    ready = new Promise((res, rej) => {
      proc.once('error', (e) => rej(new IsolationError('worker', `the isolation process failed to start: ${e.message}`)));
      proc.once('exit', (code, signal) => {
        if (child === proc) child = undefined;
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        const tail = stderr.trim().split('\n').slice(-3).join(' | ');
        // Before 'ready': the module did not load (not the kernel's verdict). After: the kernel crashed its process mid-call.
        rej(new IsolationError('worker', `the isolation process ${how} before it was ready${tail ? `: ${tail}` : ''}`));
        for (const [id, p] of pending) {
          if (p.proc !== proc) continue;
          pending.delete(id);
          p.reject(new KernelThrewError(kernel.name, `the kernel crashed its isolation process (it ${how})${tail ? `: ${tail}` : ''}`));
        }
      });
      proc.on('message', (m: { ready?: boolean; id?: number; ok?: boolean; out?: unknown; error?: string }) => {
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
  // The child keeps this process alive only while it is starting or a call is out: an idle one
  // must not hold the fuzzer open at its end.
  const hold = (): void => {
    child?.ref();
    child?.channel?.ref();
  };
  const release = (): void => {
    if (pending.size > 0 || !child) return;
    child.unref();
    child.channel?.unref();
  };
  const stop = (): void => {
    child?.kill('SIGKILL');
    child = undefined;
  };
  // One call at a time: a call abandoned by its caller (a law cut off by its time limit) keeps the
  // process busy until it answers or its own deadline replaces the process; the next call waits for
  // that, and its deadline starts only when the process takes it — so it is never blamed for the wait.
  let inFlight: Promise<unknown> = Promise.resolve();
  const call = (args: unknown[]): Promise<unknown> => {
    const next = inFlight.catch(() => undefined).then(() => send(args));
    inFlight = next;
    return next;
  };
  // A call that outlasts its deadline is retried once, in a fresh process with twice the
  // deadline, before it is reported: a correct kernel on a machine that was busy for a moment is
  // not called hanging. Once a hang is confirmed, later timeouts of this kernel (the shrinker
  // replaying smaller inputs) are reported at the first deadline.
  let hangConfirmed = false;
  const send = async (args: unknown[]): Promise<unknown> => {
    const deadline = callDeadline(options.deadlineMs, args, kernel);
    try {
      return await attempt(args, deadline);
    } catch (e) {
      if (!(e instanceof KernelTimeoutError)) throw e;
      if (hangConfirmed)
        throw new KernelTimeoutError(
          kernel.name,
          `no answer within ${deadline} ms (the kernel hangs or is too slow for this input: an earlier call outlasted its deadline twice, the second time in a fresh process with twice the time); its process was killed and replaced`,
        );
    }
    try {
      return await attempt(args, 2 * deadline);
    } catch (e) {
      if (!(e instanceof KernelTimeoutError)) throw e;
      hangConfirmed = true;
      throw new KernelTimeoutError(
        kernel.name,
        `no answer within ${deadline} ms, nor within ${2 * deadline} ms in a fresh process (the kernel hangs or is too slow for this input); its process was killed and replaced`,
      );
    }
  };
  const attempt = async (args: unknown[], deadline: number): Promise<unknown> => {
    if (!child) void start();
    hold();
    try {
      await ready;
    } finally {
      release();
    }
    const proc = child;
    if (!proc) throw new IsolationError('worker', 'the isolation process exited between calls (a crash after its last answer); the next call starts a new one');
    hold();
    const id = nextId++;
    return new Promise((res, rej) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        stop();
        rej(new KernelTimeoutError(kernel.name, `no answer within ${deadline} ms (the kernel hangs or is too slow for this input); its process was killed and replaced`));
      }, deadline);
      pending.set(id, {
        proc,
        resolve: (v) => {
          clearTimeout(timer);
          res(v);
          release();
        },
        reject: (e) => {
          clearTimeout(timer);
          rej(e);
          release();
        },
      });
      try {
        proc.send({ id, args });
      } catch (e) {
        pending.get(id)?.reject(new IsolationError('worker', `could not send the call to the isolation process: ${(e as Error).message}`));
        pending.delete(id);
      }
    });
  };
  const wrapped = {
    ...kernel,
    run: (...args: unknown[]) => call(args),
    dispose: () => {
      stop();
      kernel.dispose?.();
    },
  };
  return wrapped as unknown as Kernel;
}
