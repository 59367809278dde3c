/**
 * gpu.js backends: which exist here, how to create a `GPU` on one, and the honest answer when
 * one is missing (gpu.js silently falls back; varcheck does not).
 * @module
 */
import type gpujs from 'gpu.js';
import { DeclinedInputError, RangeArgumentError, VarcheckError } from '../../../spec/errors.js';

type GpuConstructor = (typeof gpujs)['GPU'];

/** A gpu.js `GPU` instance. */
export type GpuInstance = InstanceType<GpuConstructor>;

/**
 * gpu.js backends (docs/guide-gpu.md): in Node `headlessgl`, `webasm`, `cpu` and
 * `webgpu` (Dawn); in a browser `webgl2`, `webgl`, `webgpu`.
 */
export type GpuBackend = 'headlessgl' | 'webasm' | 'cpu' | 'webgpu' | 'webgl2' | 'webgl';

/** The Node backends, in the order reports list them. */
export const GPU_BACKENDS: readonly GpuBackend[] = ['headlessgl', 'webasm', 'cpu', 'webgpu'];

/** A requested backend cannot run here (no X display for headless-gl, no WebGPU adapter, …). */
export class BackendUnavailableError extends VarcheckError {
  static override readonly code: string = 'BACKEND_UNAVAILABLE';
}

let gpujsModule: Promise<GpuConstructor | string> | undefined;

/**
 * gpu.js is an optional peer dependency (it pulls in the `gl` addon, built from source where no
 * prebuilt binary downloads): load it on first use. Resolves to its `GPU` class, or to the reason
 * it cannot load (not installed: how to install it).
 */
function loadGpujs(): Promise<GpuConstructor | string> {
  gpujsModule ??= import('gpu.js').then(
    (m) => ((m as { default?: typeof gpujs }).default ?? (m as unknown as typeof gpujs)).GPU,
    (e: unknown) =>
      (e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND'
        ? 'not installed: the gpu.js backends need the optional peer dependency gpu.js (npm install gpu.js --ignore-scripts for webasm and cpu; npm install gpu.js gl, which builds the gl addon, for headless-gl; npm install webgpu for Dawn)'
        : `failed to load: ${(e as Error).message}`,
  );
  return gpujsModule;
}

/** Why the gpu.js backends cannot run at all here (gpu.js not installed, or failing to load); undefined when gpu.js loads. */
export async function gpujsUnavailable(): Promise<string | undefined> {
  const GPU = await loadGpujs();
  return typeof GPU === 'string' ? `gpu.js ${GPU}` : undefined;
}

let webgpuProbe: Promise<string | undefined> | undefined;

/**
 * Install Dawn's `navigator.gpu` (`webgpu@0.3.10`; gpu.js's own pinned 0.2.9 breaks its
 * webgpu mode) and ask for an adapter. Resolves to a description of the adapter, or
 * undefined when there is none (Debian 12 without a GPU: Dawn loads, finds no adapter).
 * Once a device exists Dawn keeps Node's event loop alive: CLIs must exit explicitly.
 */
export function probeWebGPU(): Promise<string | undefined> {
  webgpuProbe ??= (async () => {
    const existing = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<{ info?: object } | null> } } }).navigator?.gpu;
    if (existing) {
      // A browser (or an earlier install): use its navigator.gpu as it is.
      const adapter = await existing.requestAdapter().catch(() => null);
      return adapter ? JSON.stringify(adapter.info ?? {}) : undefined;
    }
    try {
      const dawnModule = 'webgpu';
      const dawn = (await import(/* @vite-ignore */ dawnModule)) as unknown as { globals: object; create(flags: string[]): { requestAdapter(): Promise<{ info?: object } | null> } };
      Object.assign(globalThis, dawn.globals);
      const gpu = dawn.create([]);
      Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
      const adapter = await gpu.requestAdapter();
      return adapter ? JSON.stringify(adapter.info ?? {}) : undefined;
    } catch {
      return undefined;
    }
  })();
  return webgpuProbe;
}

/** Is `backend` usable in this process? (headlessgl needs the gl addon and an X display.) */
export async function backendAvailable(backend: GpuBackend): Promise<boolean> {
  const GPU = await loadGpujs();
  if (typeof GPU === 'string') return false;
  if (backend === 'webgpu') return (await probeWebGPU()) !== undefined;
  try {
    const gpu = new GPU({ mode: backend });
    const ok = gpu.mode === backend;
    gpu.destroy();
    return ok;
  } catch {
    return false;
  }
}

/** The backends usable here. */
export async function availableBackends(): Promise<GpuBackend[]> {
  const out: GpuBackend[] = [];
  for (const b of GPU_BACKENDS) if (await backendAvailable(b)) out.push(b);
  return out;
}

/**
 * A `GPU` on exactly `backend`, or {@link BackendUnavailableError} — never a silent fallback.
 */
export async function createGpu(backend: GpuBackend): Promise<GpuInstance> {
  const GPU = await loadGpujs();
  if (typeof GPU === 'string') throw new BackendUnavailableError('gpu.js', GPU);
  if (backend === 'webgpu' && (await probeWebGPU()) === undefined) {
    throw new BackendUnavailableError('backend', 'webgpu: no WebGPU adapter here (webgpu@0.3.10 / Dawn found none)');
  }
  let gpu: GpuInstance;
  try {
    gpu = new GPU({ mode: backend });
  } catch (e) {
    throw new BackendUnavailableError('backend', `${backend}: ${(e as Error).message}${backend === 'headlessgl' ? ' (needs the gl addon and an X display: run under xvfb-run -a)' : ''}`);
  }
  if (gpu.mode !== backend) {
    gpu.destroy();
    throw new BackendUnavailableError('backend', `${backend}: gpu.js chose ${String(gpu.mode)} instead`);
  }
  return gpu;
}

/**
 * The smallest loop limit {@link loopLimit} returns: 2¹⁵. Above every size `verify`, `fuzz --deep`
 * and the GPU bench use (21,845 keys at most), so each kernel compiles once per backend.
 */
export const LOOP_LIMIT_FLOOR = 1 << 15;

/**
 * gpu.js's `loopMaxIterations` for loops of up to `n` iterations: {@link LOOP_LIMIT_FLOOR}, or the
 * next power of two above n past it. gpu.js compiles the limit into the shader (its default, 1000,
 * silently truncates longer loops), and every loop exits early at its actual bound, so a generous
 * limit costs nothing at run time — but each new limit costs a compile (hundreds of ms in
 * SwiftShader and llvmpipe), which a limit per power of two above 1,024 paid up to three times per
 * kernel and backend in one `verify`.
 */
export function loopLimit(n: number): number {
  let b = LOOP_LIMIT_FLOOR;
  while (b <= n) b *= 2;
  return b;
}

/**
 * The most cells a buffer of a gpu.js kernel may have: gpu.js computes thread numbers and flat
 * buffer indices in float32 (on webgpu, the GL backends and webasm alike), which counts every
 * integer only up to 2²⁴. Past it odd indices round to even ones and a kernel reads its
 * neighbour's cell, with nothing to show for it (docs/guide-gpu.md (Size limits)).
 */
export const MAX_INDEXED_CELLS = 2 ** 24;

/**
 * Refuse an input on which a gpu.js kernel would index a buffer of more than
 * {@link MAX_INDEXED_CELLS} cells: `buffers` lists each buffer of the call as [name, cells].
 * Throws a {@link DeclinedInputError} (`declined`: the kernel's errorBound declines the input, so
 * the battery does not judge it) or else a {@link RangeArgumentError}, both naming `input`; `limit`
 * lowers the bound (meta-tests reach it on small inputs). The
 * same on every backend (gpu.js's `cpu` backend, which indexes in float64, included): one promise.
 */
export function requireIndexedCells(kernel: string, buffers: readonly (readonly [string, number])[], declined = false, limit = MAX_INDEXED_CELLS): void {
  const over = buffers.filter(([, n]) => n > limit);
  if (over.length === 0) return;
  const what = over.map(([name, n]) => `${name} of ${n.toLocaleString('en-US')} cells`).join(', ');
  const why = limit === MAX_INDEXED_CELLS ? 'gpu.js computes buffer indices in float32, exact up to 2²⁴ = 16,777,216 cells' : `this kernel takes at most ${limit.toLocaleString('en-US')} (indexedCells)`;
  const message = `${kernel} ${declined ? 'declines' : 'cannot take this input'}: it would index ${what}; ${why}`;
  throw declined ? new DeclinedInputError('input', message) : new RangeArgumentError('input', message);
}

/**
 * The size a gpu.js kernel allocates for `n` cells: 64 up to 64, the next power of two up to 1,024,
 * then the next multiple of a quarter of n's octave (1,280, 1,536, 1,792, 2,048, 2,560, …: at most
 * 25 % more). A kernel sized exactly to each input pays for every new size — gpu.js's webasm
 * backend builds a WebAssembly module per size signature and keeps the last 8, llvmpipe a shader
 * variant per texture layout — and the battery draws a new size almost every case. Cells past n are
 * computed (cheaply: they exit at once) and ignored.
 */
export function sizeBucket(n: number): number {
  if (n <= 64) return 64;
  if (n <= 1024) return 2 ** Math.ceil(Math.log2(n));
  const q = 2 ** (Math.floor(Math.log2(n)) - 2);
  return Math.ceil(n / q) * q;
}

/**
 * The largest texture side of a gpu.js instance's backend (WebGL's MAX_TEXTURE_SIZE: 16,384 on
 * llvmpipe), or +∞ where results are not textures (webasm, cpu). A 2-D kernel output is a texture
 * of exactly its output's width × height, so a kernel must decline inputs that would exceed it.
 */
export function maxTextureSide(gpu: GpuInstance): number {
  const side = (gpu as unknown as { Kernel?: { features?: { maxTextureSize?: number } } }).Kernel?.features?.maxTextureSize;
  return typeof side === 'number' && side > 0 ? side : Infinity;
}

/** `a` zero-padded to {@link sizeBucket}(a.length) entries, as a Float32Array. */
export function padded(a: ArrayLike<number>): Float32Array {
  const out = new Float32Array(sizeBucket(a.length));
  out.set(a);
  return out;
}

/** A gpu.js result as one flat Float32Array (2-D outputs come back as arrays of rows). */
export async function flatOutput(x: unknown): Promise<Float32Array> {
  const v = await x;
  if (v instanceof Float32Array) return v;
  const rows = v as Float32Array[];
  const w = rows[0]?.length ?? 0;
  const out = new Float32Array(rows.length * w);
  rows.forEach((r, i) => out.set(r, i * w));
  return out;
}
