/**
 * The gpu.js kernels in a real browser — headless Chromium, WebGL2 — judged by the same battery
 * and tolerance policy as in Node (the page's measured precision feeds the float32 rule).
 * Skipped when Chromium is not installed, unless REQUIRE_CHROMIUM=1 (CI), where that fails.
 * WebGPU in Chromium (`--enable-unsafe-webgpu`) is tried too: judged the same way when an adapter
 * appears (SwiftShader provides one here), reported unavailable otherwise.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { chromiumInstalled, chromiumKernels, type BrowserKernels } from '../src/kernels/browser/chromium.js';
import { attentionBattery } from './battery/attention.js';
import { interpolationBattery } from './battery/interpolation.js';
import { describeLaws } from './vitest.js';
import { KNOWN_GAPS } from './battery/known-gaps.js';

const required = process.env.REQUIRE_CHROMIUM === '1';
const sessions: BrowserKernels[] = [];
afterAll(async () => {
  for (const s of sessions) await s.close();
});

describe('chromium', () => {
  it.runIf(required)('REQUIRE_CHROMIUM=1: Chromium is installed', () => {
    expect(chromiumInstalled()).toBe(true);
  });
});

if (chromiumInstalled()) {
  const runs = Number(process.env.VARCHECK_BROWSER_RUNS ?? 100);
  for (const backend of ['webgl2', 'webgpu'] as const) {
    let session: BrowserKernels;
    try {
      session = await chromiumKernels(backend);
    } catch (e) {
      // WebGL2 must work in Chromium; WebGPU only where an adapter appears.
      if (backend === 'webgl2') throw e;
      console.log(`[varcheck] chromium-${backend}: unavailable — ${(e as Error).message}`);
      continue;
    }
    sessions.push(session);
    const m = session.measured;
    console.log(`[varcheck] ${session.userAgent}\n[varcheck] chromium-${backend}: measured exp relative error ${m.expRelativeError.toExponential(2)}, sum relative error ${m.sumRelativeError.toExponential(2)}, flushes subnormals: ${m.flushesSubnormals}`);
    for (const k of session.attention) {
      describeLaws(`chromium › ${k.name}`, attentionBattery(k, { measured: m, numRuns: runs }), { kernel: k.name, knownGaps: KNOWN_GAPS });
    }
    for (const k of session.interpolation) describeLaws(`chromium › ${k.name}`, interpolationBattery(k, { numRuns: runs }), { kernel: k.name, knownGaps: KNOWN_GAPS });
  }
}
