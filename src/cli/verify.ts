/**
 * `varcheck verify`: run the property battery and print one row per property.
 * @module
 */
import { writeFileSync } from 'node:fs';
import { lowRankSpecLaws, specLaws } from '../../properties/index.js';
import { attentionBattery } from '../../properties/battery/attention.js';
import { builtinRegistry, registerGpujsKernels, type KernelRegistry } from '../kernels/registry.js';
import { interpolationBattery } from '../../properties/battery/interpolation.js';
import type { GpuBackend } from '../kernels/gpujs/backend.js';
import { CHROMIUM_PATH, chromiumInstalled, chromiumKernels, type BrowserKernels } from '../kernels/browser/chromium.js';
import type { Law } from '../../properties/law.js';
import { checkLaw, type LawResult } from '../../properties/runner/check-law.js';
import { exitCode, fmt, resultDetail, statusWord, summaryLine, table } from '../../properties/runner/format.js';

/** Options of {@link verify}. */
export interface VerifyOptions {
  /** fast-check seed. */
  seed: number;
  /** Override the cases per property. */
  numRuns?: number;
  /** Write the results as JSON here. */
  json?: string;
  /** Only properties whose name contains this text. */
  filter?: string;
  /** gpu.js backends to instantiate kernels on (default: all; [] for none). */
  backends?: GpuBackend[];
  /** Chromium backends (`webgl2`, `webgpu`) to run the gpu.js kernels in, when Chromium is installed (default: both). */
  browser?: ('webgl2' | 'webgpu')[];
  /** Where to print (default: stdout). */
  out?: (line: string) => void;
}

/** Every suite `verify` runs: the spec's own laws, then the battery on every registered attention kernel. */
export function verifySuites(registry: KernelRegistry): { suite: string; laws: readonly Law<unknown>[] }[] {
  return [
    { suite: 'spec', laws: specLaws },
    { suite: 'spec/low-rank', laws: lowRankSpecLaws },
    ...registry.attention().map((k) => ({ suite: k.name, laws: attentionBattery(k, { measured: registry.metaOf(k.name).measured }) })),
    ...registry.interpolation().map((k) => ({ suite: k.name, laws: interpolationBattery(k) })),
  ];
}

/** Run the battery; returns the results (exit code 0 iff all passed). */
export async function verify(options: VerifyOptions): Promise<{ results: (LawResult & { suite: string })[]; exitCode: number }> {
  const out = options.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  out(`varcheck verify — fast-check seed ${options.seed} (replay: varcheck verify --seed ${options.seed})`);
  const results: (LawResult & { suite: string })[] = [];
  const registry = await registerGpujsKernels(builtinRegistry(), options.backends);
  const sessions: BrowserKernels[] = [];
  for (const b of options.browser ?? ['webgl2', 'webgpu']) {
    if (!chromiumInstalled()) {
      out(`backend chromium-${b}: unavailable — Chromium not installed (${CHROMIUM_PATH})`);
      continue;
    }
    try {
      const s = await chromiumKernels(b);
      sessions.push(s);
      for (const k of [...s.attention, ...s.interpolation]) registry.register(k, { measured: s.measured });
      out(`backend chromium-${b}: ${s.userAgent}`);
    } catch (e) {
      out(`backend chromium-${b}: unavailable — ${(e as Error).message}`);
    }
  }
  for (const u of registry.unavailable) out(`backend ${u.backend}: unavailable — ${u.reason}`);
  for (const k of registry.list()) {
    const m = registry.metaOf(k.name).measured;
    if (m && k.name.startsWith('gpujs/exact')) out(`backend ${m.backend}: measured exp relative error ${m.expRelativeError.toExponential(2)}, 4096-term sum relative error ${m.sumRelativeError.toExponential(2)}, flushes subnormals: ${m.flushesSubnormals}`);
  }
  for (const { suite, laws } of verifySuites(registry)) {
    for (const law of laws) {
      if (options.filter && !(law.id ?? law.name).includes(options.filter) && !law.name.includes(options.filter)) continue;
      results.push({ suite, ...(await checkLaw(law, { seed: options.seed, numRuns: options.numRuns })) });
    }
  }
  out(
    table(
      ['suite', 'property', 'cases', 'worst error / bound', 'status', 'seed'],
      results.map((r) => [r.suite, r.name, String(r.cases), `${fmt(r.worst.error)} / ${fmt(r.worst.bound)}`, statusWord(r.status), String(r.seed)]),
    ),
  );
  registry.dispose();
  for (const s of sessions) await s.close();
  for (const r of results.filter((x) => x.status === 'failed' || x.status === 'inconclusive')) {
    out(`\n${statusWord(r.status)} ${r.suite} › ${r.name} [${r.cites}]\n${resultDetail(r, '  ', Infinity).join('\n')}`);
  }
  out(`\n${summaryLine(results)}`);
  const code = exitCode(results);
  if (options.json) writeFileSync(options.json, `${JSON.stringify({ seed: options.seed, exitCode: code, results }, null, 2)}\n`);
  return { results, exitCode: code };
}
