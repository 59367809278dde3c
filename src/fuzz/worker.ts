/**
 * The isolation worker: loads one kernel of a user module and runs it on request, so a kernel
 * that hangs can be killed with its thread and a kernel that throws cannot take the fuzzer down.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { AttentionKernel, InterpolationKernel } from '../../spec/contract.js';
import { loadKernels } from './load.js';

interface Data {
  modulePath: string;
  exportName?: string;
  index: number;
}
interface Request {
  id: number;
  args: unknown[];
}

const { modulePath, exportName, index } = workerData as Data;
const kernel = (await loadKernels(modulePath, exportName))[index] as AttentionKernel | InterpolationKernel;

parentPort!.on('message', async ({ id, args }: Request) => {
  try {
    const out = await (kernel.run as (...a: unknown[]) => unknown)(...args);
    parentPort!.postMessage({ id, ok: true, out });
  } catch (e) {
    parentPort!.postMessage({ id, ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  }
});
parentPort!.postMessage({ ready: true });
