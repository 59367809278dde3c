/**
 * Runs inside Chromium: builds the gpu.js kernels on a browser backend (WebGL2, WebGPU) and
 * exposes them to the Node driver as `window.varcheck`. Inputs and outputs cross the page
 * boundary as base64 float64 bytes (./wire.ts).
 * @module
 */
import type { AttentionKernel, InterpolationKernel } from '../../../spec/contract.js';
import type { GpuBackend } from '../gpujs/backend.js';
import { gpujsExact, type GpujsRunInfo } from '../gpujs/exact.js';
import { gpujsDownsampleArea, gpujsUpsampleBicubic } from '../gpujs/interpolation.js';
import { gpujsLowRank } from '../gpujs/low-rank.js';
import { probePrecision } from '../gpujs/probe.js';
import type { Mask } from '../../../spec/mask.js';
import { BROWSER_LOW_RANK_DELTA, type PageOptions } from './page-entry-config.js';
import { requestWgslDevice, type WebGpuEntry } from '../wgsl/webgpu.js';
import { wgslExact, type KernelTiming } from '../wgsl/exact.js';
import { wgslLowRank } from '../wgsl/low-rank.js';
import { decodeFloat64, encodeFloat64, type WireMatrix } from './wire.js';

const kernels = new Map<string, AttentionKernel | InterpolationKernel>();

/** What `init` built in this page: its backend, measured precision and kernels (in-page names, `…@webgl2`). */
export interface PageSession {
  backend: GpuBackend;
  measured: Awaited<ReturnType<typeof probePrecision>>;
  kernels: (AttentionKernel | InterpolationKernel)[];
}

let session: PageSession | undefined;

/** The page's session once `init` ran (for page entries that extend this one, e.g. verify's in-page laws). */
export function pageSession(): PageSession {
  if (!session) throw new Error('varcheck page: init(backend) has not run');
  return session;
}

/** Long strings the driver sends ahead in pieces, by id, until a call takes them (./chromium.ts). */
const pieces = new Map<string, string[]>();

const api = {
  /** Append a piece of the long string `id`. */
  put(id: string, piece: string): void {
    const got = pieces.get(id);
    if (got) got.push(piece);
    else pieces.set(id, [piece]);
  },
  /** The long string `id`, its pieces joined (and forgotten). */
  take(id: string): string {
    const got = pieces.get(id);
    if (!got) throw new Error(`varcheck page: no pieces of ${id}`);
    pieces.delete(id);
    return got.join('');
  },
  /** Build the kernels on `backend`, shaped as `options` say ({@link PageOptions}). */
  async init(backend: GpuBackend, options: PageOptions = {}) {
    const measured = await probePrecision(backend);
    const made: (AttentionKernel | InterpolationKernel)[] = [
      await gpujsExact({ backend, orchestration: options.gpujsOrchestration, tileCells: options.gpujsTileCells, qRegisters: options.gpujsQRegisters }),
      await gpujsLowRank({ backend, delta: BROWSER_LOW_RANK_DELTA }),
      await gpujsUpsampleBicubic({ backend }),
      await gpujsDownsampleArea({ backend }),
    ];
    if (backend === 'webgpu') {
      // The hand-written WGSL kernels, on a device of their own with raised limits.
      const gpu = (globalThis as unknown as { navigator: { gpu?: WebGpuEntry } }).navigator.gpu;
      const dev = gpu ? await requestWgslDevice(gpu) : undefined;
      if (dev)
        made.push(
          wgslExact(dev, { name: 'wgsl/exact@webgpu', keyTiles: options.wgslKeyTiles, specialize: options.wgslSpecialize, fullTiles: options.wgslFullTiles }),
          wgslLowRank(dev, {
            name: 'wgsl/low-rank@webgpu',
            delta: BROWSER_LOW_RANK_DELTA,
            features: options.wgslFeatures,
            keySums: options.wgslKeySums,
            specialize: options.wgslSpecialize,
            slices: options.wgslSlices,
          }),
        );
    }
    for (const k of made) kernels.set(k.name, k);
    session = { backend, measured, kernels: made };
    return {
      measured,
      kernels: made.map((k) => ({
        name: k.name,
        op: k.op,
        exact: 'exact' in k ? k.exact : true,
        rescales: 'rescales' in k ? k.rescales : undefined,
        // gpujs/low-rank declines inputs whose output textures exceed the backend's side (+∞ crosses as null).
        maxTextureSide: 'maxTextureSide' in k && Number.isFinite(k.maxTextureSide) ? k.maxTextureSide : undefined,
        maxTokens: 'maxTokens' in k ? k.maxTokens : undefined,
        maxHeadSize: 'maxHeadSize' in k ? k.maxHeadSize : undefined,
      })),
      userAgent: (globalThis as unknown as { navigator: { userAgent: string } }).navigator.userAgent,
    };
  },
  async attention(name: string, q: WireMatrix, k: WireMatrix, v: WireMatrix, scale: number, mask: Mask) {
    const kernel = kernels.get(name) as AttentionKernel;
    const m = (x: WireMatrix) => ({ rows: x.rows, cols: x.cols, data: decodeFloat64(x.data) });
    const t0 = performance.now();
    const out = await kernel.run({ q: m(q), k: m(k), v: m(v), scale, mask });
    const timing: KernelTiming = (kernel as { lastTiming?: KernelTiming }).lastTiming ?? { kernelMs: null, endToEndMs: performance.now() - t0 };
    return { rows: out.rows, cols: out.cols, data: encodeFloat64(out.data), timing, run: (kernel as { lastRun?: GpujsRunInfo }).lastRun };
  },
  async resize(name: string, x: { h: number; w: number; c: number; data: string }, h2: number, w2: number) {
    const kernel = kernels.get(name) as InterpolationKernel;
    const out = await kernel.run({ ...x, data: decodeFloat64(x.data) }, h2, w2);
    return { h: out.h, w: out.w, c: out.c, data: encodeFloat64(out.data) };
  },
};

/** The page API as seen from Node: `window.varcheck`. Page entries that extend it add methods here. */
export const pageApi: typeof api & Record<string, (...args: never[]) => unknown> = api;

(globalThis as unknown as { varcheck: typeof api }).varcheck = api;
(globalThis as unknown as { varcheckReady: boolean }).varcheckReady = true;
