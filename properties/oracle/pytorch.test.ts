/**
 * The oracle client's typed errors (properties/oracle/pytorch.ts): each failure mode yields an
 * {@link OracleError} with its stable code. Paths that need a working torch are skipped, with
 * the reason printed, when none is installed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { featureMap, VarcheckError } from '../../spec/index.js';
import { OracleError, startOracle, type PyTorchOracle } from './pytorch.js';

const SERVER = fileURLToPath(new URL('../../tools/oracle/torch_oracle.py', import.meta.url));

let oracle: PyTorchOracle | undefined;
let why = '';
beforeAll(async () => {
  try {
    oracle = await startOracle({ deadlineMs: 60_000 });
  } catch (e) {
    if (!(e instanceof OracleError && e.unavailable)) throw e;
    why = e.message;
  }
});
afterAll(() => oracle?.close());

function need(ctx: TestContext): PyTorchOracle {
  if (!oracle) {
    console.log(`[pytorch oracle] inconclusive, not run: ${why}`);
    ctx.skip(`inconclusive: ${why}`);
  }
  return oracle as PyTorchOracle;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(OracleError);
    expect(e).toBeInstanceOf(VarcheckError);
    return (e as OracleError).reason;
  }
  return 'resolved';
}

describe('PyTorch oracle client errors', () => {
  it('PYTHON_MISSING when no Python executable starts', async () => {
    expect(await codeOf(startOracle({ python: ['/nonexistent/python3'] }))).toBe('PYTHON_MISSING');
  });

  it('TORCH_MISSING when Python cannot import torch (the server reports it in its hello)', async (ctx) => {
    const p = need(ctx);
    const dir = mkdtempSync(join(tmpdir(), 'varcheck-oracle-'));
    const script = join(dir, 'no_torch.py');
    // sys.modules['torch'] = None makes `import torch` raise ImportError inside the real server.
    writeFileSync(script, `import runpy, sys\nsys.modules['torch'] = None\nrunpy.run_path(${JSON.stringify(SERVER)}, run_name='__main__')\n`);
    expect(await codeOf(startOracle({ python: [p.info.python], script }))).toBe('TORCH_MISSING');
  });

  it('answers a request, then ORACLE_REJECTED for an unknown op and the process keeps answering', async (ctx) => {
    const p = need(ctx);
    const x = featureMap(1, 2, 1, [1, 3]);
    expect(Array.from((await p.area(x, 1, 1)).data)).toEqual([2]);
    expect(await codeOf(p.call('no-such-op', {}, {}))).toBe('ORACLE_REJECTED');
    expect(Array.from((await p.nearest(x, 2)).data)).toEqual([1, 1, 3, 3, 1, 1, 3, 3]);
  });

  it('ORACLE_DEADLINE when an answer is late (the process is killed), ORACLE_DIED when it dies', async (ctx) => {
    const base = need(ctx);
    const late = await startOracle({ python: [base.info.python], deadlineMs: 60_000 });
    const x = featureMap(1, 1, 1, [1]);
    // `sleep` is the server's test hook: it waits that many seconds before answering.
    expect(await codeOf(late.call('area', { h: 1, w: 1, c: 1, h2: 1, w2: 1, sleep: 5 }, { x: x.data }, 200))).toBe('ORACLE_DEADLINE');
    expect(late.alive).toBe(false);
    expect(await codeOf(late.area(x, 1, 1))).toBe('ORACLE_DEADLINE');

    const dying = await startOracle({ python: [base.info.python] });
    process.kill(dying.pid as number, 'SIGKILL');
    expect(await codeOf(dying.area(x, 1, 1))).toBe('ORACLE_DIED');
    expect(dying.alive).toBe(false);
  });

  it('ORACLE_CLOSED after close()', async (ctx) => {
    const base = need(ctx);
    const o = await startOracle({ python: [base.info.python] });
    o.close();
    expect(await codeOf(o.area(featureMap(1, 1, 1, [1]), 1, 1))).toBe('ORACLE_CLOSED');
  });
});
