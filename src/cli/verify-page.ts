/**
 * The page `varcheck verify` loads in Chromium: the kernels' page (../kernels/browser/page-entry.ts)
 * plus `runLaws`, which runs a browser part's whole battery inside the page, next to its kernels.
 * The laws, seeds and tolerances are the ones Node would run on the proxy kernels (./suites.ts); only
 * the crossing per kernel call is gone — thousands per run, a few milliseconds each on the
 * DevTools protocol. Results return as {@link toJsonText} text (a worst error may be +∞).
 * @module
 */
import type { BatterySettings } from '../../properties/battery/attention.js';
import type { AttentionKernel, InterpolationKernel } from '../../spec/contract.js';
import { pageApi, pageSession } from '../kernels/browser/page-entry.js';
import { toJsonText } from '../kernels/browser/wire.js';
import { kernelSuites, portable, runSuites, type RunSuitesOptions, type SuiteRow } from './suites.js';
import { chromiumName } from '../kernels/browser/page-entry-config.js';

/** What `runLaws` takes: how to check, and the battery settings (the key cap of the large inputs, the reach). */
export interface PageLawsOptions extends RunSuitesOptions {
  settings: Pick<BatterySettings, 'maxKeys' | 'reach'>;
}

async function runLaws(options: PageLawsOptions): Promise<string> {
  const s = pageSession();
  // The names and measured precision the Node proxies carry (chromium.ts): `…@chromium-<backend>`.
  const tag = <K extends { name: string }>(k: K): K => Object.assign(Object.create(k) as K, { name: chromiumName(k.name, s.backend) });
  const attention = s.kernels.filter((k): k is AttentionKernel => k.op === 'attention').map(tag);
  const interpolation = s.kernels.filter((k): k is InterpolationKernel => k.op !== 'attention').map(tag);
  const measured = { ...s.measured, backend: chromiumName(s.backend, s.backend) };
  const rows = await runSuites(
    kernelSuites(attention, interpolation, options.settings, () => measured),
    options,
  );
  // A failure's value and thrown error stay in the page (the rendered counterexample and message cross).
  return toJsonText(rows.map((r): SuiteRow => ({ ...r, result: portable(r.result) })));
}

pageApi.runLaws = runLaws as never;
