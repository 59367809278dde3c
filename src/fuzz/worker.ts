/**
 * The isolation process (./isolate.ts): loads one kernel of a user module and runs it on request,
 * so a kernel that hangs can be killed with its process and one that throws or crashes cannot take
 * the fuzzer down. It leaves when its parent does (the IPC channel closes).
 * @module
 */
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

const send = (m: unknown): void => void process.send!(m);
process.on('disconnect', () => process.exit(0));
const { modulePath, exportName, index } = JSON.parse(process.env.VARCHECK_ISOLATE ?? '{}') as Data;
const kernel = (await loadKernels(modulePath, exportName))[index] as AttentionKernel | InterpolationKernel;

process.on('message', async ({ id, args }: Request) => {
  try {
    const out = await (kernel.run as (...a: unknown[]) => unknown)(...args);
    send({ id, ok: true, out });
  } catch (e) {
    send({ id, ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  }
});
send({ ready: true });
