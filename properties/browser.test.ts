/**
 * The gpu.js kernels in a real browser — headless Chromium, WebGL2 — judged by the same battery
 * and tolerance policy as in Node (the page's measured precision feeds the float32 rule).
 * Skipped when Chromium is not installed, unless REQUIRE_CHROMIUM=1 (CI), where that fails.
 * WebGPU in Chromium (`--enable-unsafe-webgpu`) is tried too: judged the same way when an adapter
 * appears (SwiftShader provides one here), reported unavailable otherwise. The WebGPU session also
 * carries the hand-written WGSL kernels (`wgsl/exact@chromium-webgpu`): the same battery, plus one
 * larger block-causal pyramid judged row by row against the float64 spec. With
 * REQUIRE_CHROMIUM_WEBGPU=1 (CI) a missing WebGPU adapter or WGSL kernel fails the suite.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attention, attentionInput } from '../spec/attention.js';
import { maxAbsDiff } from '../spec/matrix.js';
import { blockCausalMask } from '../spec/mask.js';
import { scalePyramid } from '../spec/pyramid.js';
import { mulberry32, uniformMatrix } from '../spec/random.js';
import { kernelTolerance } from './battery/attention.js';
import { chromiumInstalled, chromiumKernels, MESSAGE_PIECE, type BrowserKernels } from '../src/kernels/browser/chromium.js';
import { encodeFloat64 } from '../src/kernels/browser/wire.js';
import { featureMap } from '../spec/matrix.js';
import { WGSL_EXACT_RESCALES } from '../src/kernels/wgsl/exact.js';
import { attentionBattery } from './battery/attention.js';
import { interpolationBattery } from './battery/interpolation.js';
import { describeLaws } from './vitest.js';
import { KNOWN_GAPS } from './battery/known-gaps.js';

const required = process.env.REQUIRE_CHROMIUM === '1';
const requireWebgpu = process.env.REQUIRE_CHROMIUM_WEBGPU === '1';
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
      // `varcheck verify` runs the WGSL kernels in the adapter's default shapes (on SwiftShader:
      // compact key tiles, sequential key sums); the tests run the hardware GPUs' shapes (wide
      // tiles, sliced key sums), so CI checks both.
      session = await chromiumKernels(backend, { wgslKeyTiles: 'wide', wgslKeySums: 'sliced' });
    } catch (e) {
      // WebGL2 must work in Chromium; WebGPU only where an adapter appears.
      if (backend === 'webgl2' || requireWebgpu) throw e;
      console.log(`[varcheck] chromium-${backend}: unavailable — ${(e as Error).message}`);
      continue;
    }
    sessions.push(session);
    const m = session.measured;
    console.log(
      `[varcheck] ${session.userAgent}\n[varcheck] chromium-${backend}: measured exp relative error ${m.expRelativeError.toExponential(2)}, sum relative error ${m.sumRelativeError.toExponential(2)}, flushes subnormals: ${m.flushesSubnormals}`,
    );
    for (const k of session.attention) {
      describeLaws(`chromium › ${k.name}`, attentionBattery(k, { measured: m, numRuns: runs }), { kernel: k.name, knownGaps: KNOWN_GAPS });
    }
    if (backend === 'webgl2')
      it(`chromium-${backend}: a matrix past one DevTools message (Chrome closes the page past 100 MB) crosses in pieces of MESSAGE_PIECE characters, both ways: a 4,096 × 4,096 bicubic resize to its own size returns the input rounded to float32`, async () => {
        const r = mulberry32(20251128);
        const x = featureMap(
          4096,
          4096,
          1,
          Float64Array.from({ length: 4096 * 4096 }, () => 2 * r() - 1),
        );
        // 134 MB of float64: 179 M characters of base64, six pieces.
        expect(encodeFloat64(x.data).length).toBeGreaterThan(5 * MESSAGE_PIECE);
        const bicubic = session.interpolation.find((k) => k.op === 'upsample-bicubic')!;
        const out = await bicubic.run(x, 4096, 4096);
        // Same size, half-pixel centres: the taps' weights are 0, 1, 0, 0 exactly.
        expect(out.data.every((y, i) => y === Math.fround(x.data[i]))).toBe(true);
      }, 120_000);
    it(`chromium-${backend}: the proxies carry the in-page exact kernels' declared rescales (the float floor counts them)`, () => {
      for (const k of session.attention.filter((a) => a.exact)) {
        expect(k.rescales, k.name).toEqual(k.name.startsWith('wgsl/') ? WGSL_EXACT_RESCALES : 'none');
      }
    });
    if (backend === 'webgpu') {
      const wgsl = session.attention.filter((k) => k.name.startsWith('wgsl/'));
      describe(`chromium › WGSL kernels on ${session.backend}`, () => {
        it.runIf(requireWebgpu)('REQUIRE_CHROMIUM_WEBGPU=1: wgsl/exact runs in the page', () => {
          expect(wgsl.map((k) => k.name)).toContain('wgsl/exact@chromium-webgpu');
        });
        for (const k of wgsl) {
          // exact: d = 16, B = 2; low-rank: d = 4, B = 0.25 — inside the float32 certificate's ceiling at
          // L = 1365 (its prefix sums over L keys cost γ_L·e^{2β}: at B = 1 it rightly declines δ = 1e-3).
          const [d, B] = k.exact ? [16, 2] : [4, 0.25];
          it(`${k.name}: block-causal geometric(32), L = 1365, d = ${d}, every row within its tolerance`, async () => {
            const p = scalePyramid({ geometric: 32 });
            const r = mulberry32(20250107);
            const x = attentionInput(uniformMatrix(r, p.L, d, B), uniformMatrix(r, p.L, d, B), uniformMatrix(r, p.L, d, B), { mask: blockCausalMask(p) });
            const got = await k.run(x);
            const ref = attention(x);
            const tol = kernelTolerance(k, x, ref, m);
            const err = maxAbsDiff(got.data, ref.data);
            console.log(
              `[varcheck] ${k.name} L = ${p.L}: error ${err.toExponential(2)} ≤ ${tol.toExponential(2)}; kernel ${k.lastTiming?.kernelMs?.toFixed(2) ?? '—'} ms (timestamp-query), end-to-end in page ${k.lastTiming?.endToEndMs.toFixed(1)} ms`,
            );
            expect(err).toBeLessThanOrEqual(tol);
            expect(k.lastTiming?.endToEndMs).toBeGreaterThan(0);
          }, 120_000);
        }
        it("gpujs/exact on WebGPU plans an input of several tiles (orchestration 'auto': gpu.js's createPipeline, every pass in one command encoder) and returns the per-pass outputs bit for bit; an input of one tile runs per pass", async () => {
          // 4,096 cells: tiles of 8 rows at L = 341 (43 tiles, 129 passes in one submission).
          const auto = await chromiumKernels('webgpu', { gpujsTileCells: 4096 });
          const perPass = await chromiumKernels('webgpu', { gpujsTileCells: 4096, gpujsOrchestration: 'per-pass' });
          sessions.push(auto, perPass);
          const [a, b] = [auto, perPass].map((s) => s.attention.find((k) => k.name === 'gpujs/exact@chromium-webgpu')!);
          const r = mulberry32(20250111);
          const p = scalePyramid({ geometric: 16 });
          const several = attentionInput(uniformMatrix(r, p.L, 6, 1), uniformMatrix(r, p.L, 6, 1), uniformMatrix(r, p.L, 5, 2), { mask: blockCausalMask(p) });
          const want = await b.run(several);
          expect(b.lastRun).toEqual({ orchestration: 'per-pass' });
          for (let call = 0; call < 2; call++) {
            const got = await a.run(several);
            expect(a.lastRun).toEqual({ orchestration: 'plan', executor: 'fused-encoder', fallbackReason: null });
            expect(maxAbsDiff(got.data, want.data), `call ${call + 1}`).toBe(0);
          }
          expect(maxAbsDiff(want.data, attention(several).data)).toBeGreaterThan(0);
          expect(maxAbsDiff(want.data, attention(several).data)).toBeLessThanOrEqual(kernelTolerance(b, several, attention(several), m));
          const one = attentionInput(uniformMatrix(r, 20, 3, 1), uniformMatrix(r, 37, 3, 1), uniformMatrix(r, 37, 2, 1));
          await a.run(one);
          expect(a.lastRun).toEqual({ orchestration: 'per-pass' });
        }, 120_000);
        it('wgsl/low-rank with 2 or 32 slices per item (slices; default 8): block-causal geometric(32) and unmasked L_q ≠ L_k, every row within its tolerance, and not bit-identical to 8 slices (another summation order ran)', async () => {
          const base = wgsl.find((k) => !k.exact);
          expect(base, 'wgsl/low-rank in the page').toBeDefined();
          const r = mulberry32(20250113);
          const p = scalePyramid({ geometric: 32 });
          const inputs = [
            attentionInput(uniformMatrix(r, p.L, 4, 0.25), uniformMatrix(r, p.L, 4, 0.25), uniformMatrix(r, p.L, 4, 1), { mask: blockCausalMask(p) }),
            attentionInput(uniformMatrix(r, 37, 4, 0.5), uniformMatrix(r, 300, 4, 0.5), uniformMatrix(r, 300, 5, 1)),
          ];
          for (const slices of [2, 32]) {
            const other = await chromiumKernels('webgpu', { wgslKeySums: 'sliced', wgslSlices: slices });
            sessions.push(other);
            const k = other.attention.find((a) => a.name === base!.name)!;
            let differs = false;
            for (const x of inputs) {
              const got = await k.run(x);
              const ref = attention(x);
              expect(maxAbsDiff(got.data, ref.data), `slices ${slices}, L_q = ${x.q.rows}`).toBeLessThanOrEqual(kernelTolerance(k, x, ref, m));
              if (maxAbsDiff(got.data, (await base!.run(x)).data) > 0) differs = true;
            }
            expect(differs, `slices ${slices} gave the same bits as 8 on both inputs`).toBe(true);
          }
        }, 120_000);
        it('gpujs/exact on WebGPU with q_i in registers up to d = 0 or 64 (qRegisters) returns the default kernel’s outputs (registers up to d = 8) bit for bit', async () => {
          const base = session.attention.find((k) => k.name === 'gpujs/exact@chromium-webgpu')!;
          const others = await Promise.all([0, 64].map((q) => chromiumKernels('webgpu', { gpujsQRegisters: q })));
          sessions.push(...others);
          const r = mulberry32(20250112);
          const p = scalePyramid({ geometric: 8 });
          for (const d of [4, 9, 64]) {
            const x = attentionInput(uniformMatrix(r, p.L, d, 1), uniformMatrix(r, p.L, d, 1), uniformMatrix(r, p.L, 3, 1), { mask: blockCausalMask(p) });
            const want = await base.run(x);
            for (const [n, o] of others.entries()) {
              const got = await o.attention.find((k) => k.name === base.name)!.run(x);
              expect(maxAbsDiff(got.data, want.data), `d = ${d}, qRegisters ${[0, 64][n]}`).toBe(0);
            }
          }
        }, 120_000);
        it("wgsl/low-rank with keySums: 'sequential' (verify's default on SwiftShader): block-causal geometric(32) and unmasked L_q ≠ L_k, every row within its tolerance, and not bit-identical to the sliced sums (another summation order ran)", async () => {
          const sliced = wgsl.find((k) => !k.exact);
          expect(sliced, 'wgsl/low-rank in the page').toBeDefined();
          const other = await chromiumKernels('webgpu', { wgslKeySums: 'sequential' });
          sessions.push(other);
          const k = other.attention.find((a) => a.name === sliced!.name)!;
          const r = mulberry32(20250110);
          const p = scalePyramid({ geometric: 32 });
          let differs = false;
          for (const x of [
            attentionInput(uniformMatrix(r, p.L, 4, 0.25), uniformMatrix(r, p.L, 4, 0.25), uniformMatrix(r, p.L, 3, 1), { mask: blockCausalMask(p) }),
            attentionInput(uniformMatrix(r, 37, 4, 0.5), uniformMatrix(r, 300, 4, 0.5), uniformMatrix(r, 300, 5, 1)),
          ]) {
            const got = await k.run(x);
            const ref = attention(x);
            expect(maxAbsDiff(got.data, ref.data)).toBeLessThanOrEqual(kernelTolerance(k, x, ref, m));
            if (maxAbsDiff(got.data, (await sliced!.run(x)).data) > 0) differs = true;
          }
          expect(differs, 'sequential and sliced sums gave identical bits on both inputs').toBe(true);
        }, 120_000);
        it('wgsl/exact compiled with constant d, d_v (specialize) or not, over whole tiles or not, returns the same outputs, bit for bit (same operations in the same order)', async () => {
          const base = wgsl.find((k) => k.exact);
          expect(base, 'wgsl/exact in the page').toBeDefined();
          const r = mulberry32(20250109);
          const p = scalePyramid({ geometric: 16 });
          const inputs = [
            [attentionInput(uniformMatrix(r, p.L, 16, 1), uniformMatrix(r, p.L, 16, 1), uniformMatrix(r, p.L, 16, 4), { mask: blockCausalMask(p) }), 'block-causal, d = d_v = 16'],
            [attentionInput(uniformMatrix(r, 37, 5, 1), uniformMatrix(r, 300, 5, 1), uniformMatrix(r, 300, 7, 2)), 'unmasked, L_q ≠ L_k, d = 5, d_v = 7'],
          ] as const;
          const want = await Promise.all(inputs.map(([x]) => base!.run(x)));
          for (const [specialize, fullTiles] of [
            [true, true],
            [true, false],
            [false, true],
          ] as const) {
            const other = await chromiumKernels('webgpu', { wgslKeyTiles: 'wide', wgslSpecialize: specialize, wgslFullTiles: fullTiles });
            sessions.push(other);
            const k = other.attention.find((a) => a.name === base!.name)!;
            for (const [n, [x, what]] of inputs.entries()) {
              const got = await k.run(x);
              const label = `${what}, specialize ${specialize}, fullTiles ${fullTiles}`;
              expect(got.rows * got.cols, label).toBe(want[n].rows * want[n].cols);
              expect(maxAbsDiff(got.data, want[n].data), label).toBe(0);
              expect(maxAbsDiff(got.data, attention(x).data), label).toBeGreaterThan(0);
            }
          }
        }, 180_000);
        it("wgsl/low-rank with features: 'fused' and constant sizes (specialize) returns the same outputs, bit for bit, as with stored features and uniform sizes (same products in the same order)", async () => {
          const stored = wgsl.find((k) => !k.exact);
          expect(stored, 'wgsl/low-rank in the page').toBeDefined();
          const fusedSession = await chromiumKernels('webgpu', { wgslFeatures: 'fused', wgslKeySums: 'sliced', wgslSpecialize: true });
          sessions.push(fusedSession);
          const fused = fusedSession.attention.find((k) => k.name === stored!.name)!;
          const r = mulberry32(20250108);
          const p = scalePyramid({ geometric: 16 });
          for (const [x, what] of [
            [attentionInput(uniformMatrix(r, p.L, 3, 0.5), uniformMatrix(r, p.L, 3, 0.5), uniformMatrix(r, p.L, 2, 4), { mask: blockCausalMask(p) }), 'block-causal'],
            [attentionInput(uniformMatrix(r, 37, 4, 0.5), uniformMatrix(r, 300, 4, 0.5), uniformMatrix(r, 300, 5, 1)), 'unmasked, L_q ≠ L_k'],
          ] as const) {
            const a = await stored!.run(x);
            const b = await fused.run(x);
            expect(b.rows * b.cols, what).toBe(a.rows * a.cols);
            expect(maxAbsDiff(a.data, b.data), what).toBe(0);
            expect(maxAbsDiff(a.data, attention(x).data), what).toBeGreaterThan(0);
          }
        }, 120_000);
      });
    }
    for (const k of session.interpolation) describeLaws(`chromium › ${k.name}`, interpolationBattery(k, { numRuns: runs }), { kernel: k.name, knownGaps: KNOWN_GAPS });
  }
}
