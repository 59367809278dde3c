/**
 * The same gpu.js kernels in a real browser: headless Chromium (Debian's `/usr/bin/chromium`,
 * driven by playwright-core) on a page served from 127.0.0.1, on WebGL2 (or WebGPU with
 * `--enable-unsafe-webgpu` when an adapter appears). Each browser kernel is a contract kernel
 * whose `run` crosses into the page, so the Node battery and tolerance policy judge it unchanged.
 * Matrices cross as base64 float64 bytes (./wire.ts), exactly and without per-entry serialization;
 * one longer than {@link MESSAGE_PIECE} characters goes ahead in pieces.
 * @module
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { AttentionInput } from '../../../spec/attention.js';
import { lowRankCost } from '../../../spec/certificate.js';
import { BackendUnavailableError, type GpuBackend } from '../gpujs/backend.js';
import { GPUJS_LOW_RANK_PROFILE, gpujsLowRankBound, lowRankFormulaReference } from '../gpujs/low-rank.js';
import { BROWSER_LOW_RANK_DELTA, chromiumName, type PageOptions } from './page-entry-config.js';
import { decodeFloat64, encodeFloat64, jsLiteral, toWire, type WireMatrix } from './wire.js';
import type { FeatureMap, Matrix } from '../../../spec/matrix.js';
import type { AttentionKernel, InterpolationKernel } from '../../../spec/contract.js';
import type { KernelTiming } from '../wgsl/exact.js';
import type { GpujsRunInfo } from '../gpujs/exact.js';
import { wgslLowRankBound, wgslLowRankProfile } from '../wgsl/low-rank.js';
import type { MeasuredPrecision, SoftmaxRescales } from '../../../spec/contract.js';

/** Where Debian installs Chromium. */
export const CHROMIUM_PATH = process.env.VARCHECK_CHROMIUM ?? '/usr/bin/chromium';

/** Flags that keep Chromium quiet on a machine without network (see the env notes). */
const FLAGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];

/**
 * The longest string (characters) sent inside one DevTools message; a longer one, such as the base64
 * of a matrix past 24 MB, is sent ahead in pieces of this length. Chrome accepts inbound messages of
 * up to 100 MB and closes the page past them (measured: a call carrying 89 MB of base64 ran, one of
 * 134 MB lost the page).
 */
export const MESSAGE_PIECE = 32 * 2 ** 20;

/** A browser session with its kernels. */
export interface BrowserKernels {
  /** The backend inside the page. */
  backend: GpuBackend;
  /** The page's navigator.userAgent. */
  userAgent: string;
  /** The backend's precision measured inside the page. */
  measured: MeasuredPrecision;
  /**
   * Attention kernels (`gpujs/exact@chromium-webgl2`, …; on WebGPU also `wgsl/exact@chromium-webgpu`).
   * `lastTiming` is the page's timing of the last run (kernel ms from timestamp queries where
   * the adapter has them; end-to-end ms inside the page, without the page crossing); `lastRun`
   * how gpujs/exact's last run reached the device (undefined for the other kernels).
   */
  attention: (AttentionKernel & { readonly lastTiming: KernelTiming | undefined; readonly lastRun: GpujsRunInfo | undefined })[];
  /** Interpolation kernels. */
  interpolation: InterpolationKernel[];
  /**
   * Call a method of the page API (`window.varcheck.<method>(...args)`) with arguments of numbers,
   * strings, booleans, arrays and plain objects: for page entries that extend the API ({@link ChromiumOptions.entry}).
   */
  call<T>(method: string, args: unknown[]): Promise<T>;
  /** Close the page, the browser and the server. */
  close(): Promise<void>;
}

/** Options of {@link chromiumKernels}. */
export interface ChromiumOptions extends PageOptions {
  /**
   * The page's entry module (an absolute path to a .ts or .js file; default: ./page-entry). It must
   * import ./page-entry, whose API it may extend with methods that {@link BrowserKernels.call} reaches.
   */
  entry?: string;
  /**
   * Open the page in this running Chromium (the `wsEndpoint` of {@link launchChromiumServer}) instead
   * of launching one: several sessions, in one process or several, then share one browser, and
   * {@link BrowserKernels.close} closes only this session's page.
   */
  server?: string;
}

/** A headless Chromium that sessions connect to ({@link ChromiumOptions.server}). */
export interface ChromiumServer {
  /** Where sessions connect (a `ws://127.0.0.1:…` address). */
  wsEndpoint: string;
  /** Seconds the launch took. */
  launchSeconds: number;
  /** Stop the browser (the sessions connected to it end). */
  close(): Promise<void>;
}

async function playwrightChromium(): Promise<typeof import('playwright-core').chromium> {
  if (!chromiumInstalled()) throw new BackendUnavailableError('chromium', `${CHROMIUM_PATH} not found (apt-get install chromium)`);
  const { chromium } = await import('playwright-core').catch((e: unknown) => {
    // playwright-core is an optional peer dependency: only the browser kernels need it.
    if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND')
      throw new BackendUnavailableError('playwright-core', "not installed: the Chromium kernels need the optional peer dependency playwright-core (npm install playwright-core), or pass --browser ''");
    throw e;
  });
  return chromium;
}

/**
 * Launch one headless Chromium (the same flags as {@link chromiumKernels}) for several sessions to
 * share: `varcheck verify` starts it once for its WebGL2 and WebGPU parts, whichever processes run them.
 * Throws {@link BackendUnavailableError} when Chromium or playwright-core is missing.
 */
export async function launchChromiumServer(): Promise<ChromiumServer> {
  const chromium = await playwrightChromium();
  const t0 = performance.now();
  const server = await chromium.launchServer({ executablePath: CHROMIUM_PATH, headless: true, args: FLAGS, host: '127.0.0.1' });
  return { wsEndpoint: server.wsEndpoint(), launchSeconds: (performance.now() - t0) / 1000, close: () => server.close() };
}

async function bundle(entry?: string): Promise<string> {
  const esbuild = await import('esbuild');
  // page-entry.ts next to the sources, page-entry.js in the built package (dist/).
  entry ??= fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './page-entry.ts' : './page-entry.js', import.meta.url));
  const out = await esbuild.build({ entryPoints: [entry], bundle: true, write: false, format: 'iife', platform: 'browser', target: 'chrome120', logLevel: 'silent' });
  return out.outputFiles[0].text;
}

function serve(js: string): Promise<{ server: Server; url: string }> {
  const html = '<!doctype html><meta charset="utf-8"><title>varcheck</title><script src="/bundle.js"></script>';
  const server = createServer((req, res) => {
    if (req.url === '/bundle.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end(html);
    }
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      resolve({ server, url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/` });
    }),
  );
}

/** Is Debian's Chromium installed here? */
export function chromiumInstalled(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/**
 * Launch Chromium (or connect to {@link ChromiumOptions.server}), build the gpu.js kernels on `backend` inside the page, and return them as
 * contract kernels. Throws {@link BackendUnavailableError} when Chromium or the backend is missing.
 */
export async function chromiumKernels(backend: 'webgl2' | 'webgl' | 'webgpu' = 'webgl2', options: ChromiumOptions = {}): Promise<BrowserKernels> {
  const chromium = await playwrightChromium();
  const { server, url } = await serve(await bundle(options.entry));
  // Connected to a shared browser, close() only disconnects: this session's page and context go, the browser stays.
  const browser = options.server ? await chromium.connect(options.server) : await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: FLAGS });
  const close = async (): Promise<void> => {
    await browser.close();
    await new Promise((r) => server.close(r));
  };
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(url);
    await page.waitForFunction(() => (globalThis as unknown as { varcheckReady?: boolean }).varcheckReady === true, undefined, { timeout: 30_000 });
    type Init = {
      measured: MeasuredPrecision;
      kernels: { name: string; op: string; exact: boolean; rescales?: SoftmaxRescales; maxTextureSide?: number; maxTokens?: number; maxHeadSize?: number }[];
      userAgent: string;
    };
    // What the page's init takes: everything but where the page comes from (`entry`) and which browser opens it (`server`).
    const { entry: _entry, server: _server, ...pageOptions } = options;
    let init: Init;
    try {
      init = (await page.evaluate(([b, o]) => (globalThis as unknown as { varcheck: { init(b: string, o: object): Promise<unknown> } }).varcheck.init(b, o), [backend, pageOptions] as const)) as Init;
    } catch (e) {
      throw new BackendUnavailableError('backend', `chromium-${backend}: ${(e as Error).message.split('\n')[0]}${errors.length ? ` (${errors[0]})` : ''}`);
    }
    const tag = (name: string): string => chromiumName(name, backend);
    // Kernel calls go straight over the DevTools protocol as one expression (arguments as a
    // jsLiteral): a third of page.evaluate's cost per call, which the battery makes thousands of.
    const cdp = await page.context().newCDPSession(page);
    const evaluate = async <T>(expression: string): Promise<T> => {
      const r = (await cdp.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true })) as {
        result: { value?: unknown };
        exceptionDetails?: { text: string; exception?: { description?: string } };
      };
      if (r.exceptionDetails) throw new Error(`in Chromium: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
      return r.result.value as T;
    };
    let sent = 0;
    const call = async <T>(method: string, args: unknown[]): Promise<T> => {
      // A string longer than MESSAGE_PIECE (a large matrix's base64) goes ahead in pieces, and the
      // call fetches it joined: Chrome closes the page on a DevTools message past 100 MB.
      const ahead: [string, string][] = [];
      const expression = `globalThis.varcheck.${method}(...${jsLiteral(args, (s) => {
        if (s.length <= MESSAGE_PIECE) return JSON.stringify(s);
        const id = `piece${sent++}`;
        ahead.push([id, s]);
        return `globalThis.varcheck.take(${JSON.stringify(id)})`;
      })})`;
      for (const [id, s] of ahead) for (let i = 0; i < s.length; i += MESSAGE_PIECE) await evaluate(`globalThis.varcheck.put(${JSON.stringify(id)},${JSON.stringify(s.slice(i, i + MESSAGE_PIECE))})`);
      return evaluate<T>(expression);
    };
    const attention = init.kernels
      .filter((k) => k.op === 'attention')
      .map((k) => {
        let lastTiming: KernelTiming | undefined;
        let lastRun: GpujsRunInfo | undefined;
        const remote = async (x: AttentionInput): Promise<Matrix> => {
          const out = await call<WireMatrix & { timing: KernelTiming; run?: GpujsRunInfo }>('attention', [k.name, toWire(x.q), toWire(x.k), toWire(x.v), x.scale, x.mask]);
          lastTiming = out.timing;
          lastRun = out.run;
          return { rows: out.rows, cols: out.cols, data: decodeFloat64(out.data) };
        };
        const base = {
          name: tag(k.name),
          op: 'attention' as const,
          exact: k.exact,
          masks: ['none', 'block-causal'] as const,
          precision: 'float32' as const,
          // The in-page kernel's online-softmax structure, for the float tolerance floor (docs/math.md §8).
          ...(k.rescales !== undefined ? { rescales: k.rescales } : {}),
          // Its capability gate (gpu.js on WebGL: the texture side).
          ...(k.maxTokens !== undefined ? { maxTokens: k.maxTokens } : {}),
          // wgsl/exact: the head sizes its shaders are compiled for.
          ...(k.maxHeadSize !== undefined ? { maxHeadSize: k.maxHeadSize } : {}),
          run: remote,
          get lastTiming() {
            return lastTiming;
          },
          get lastRun() {
            return lastRun;
          },
        };
        if (k.exact) return base;
        // The low-rank kernels' declared bounds and formula references are computed in Node, each for its own arithmetic:
        // wgsl/low-rank's chunked key sums with a scan, gpujs/low-rank's with a sequential prefix.
        if (k.name.startsWith('wgsl/'))
          return Object.assign(base, {
            errorBound: wgslLowRankBound(BROWSER_LOW_RANK_DELTA),
            cost: lowRankCost(BROWSER_LOW_RANK_DELTA, wgslLowRankProfile),
            formulaReference: lowRankFormulaReference(BROWSER_LOW_RANK_DELTA, wgslLowRankProfile),
          });
        return Object.assign(base, {
          errorBound: gpujsLowRankBound(BROWSER_LOW_RANK_DELTA, k.maxTextureSide ?? Infinity),
          cost: lowRankCost(BROWSER_LOW_RANK_DELTA, GPUJS_LOW_RANK_PROFILE),
          formulaReference: lowRankFormulaReference(BROWSER_LOW_RANK_DELTA, () => GPUJS_LOW_RANK_PROFILE),
        });
      });
    const interpolation: InterpolationKernel[] = init.kernels
      .filter((k) => k.op !== 'attention')
      .map((k) => ({
        name: tag(k.name),
        op: k.op as InterpolationKernel['op'],
        precision: 'float32',
        run: async (x: FeatureMap, h2: number, w2: number): Promise<FeatureMap> => {
          const out = await call<{ h: number; w: number; c: number; data: string }>('resize', [k.name, { h: x.h, w: x.w, c: x.c, data: encodeFloat64(x.data) }, h2, w2]);
          return { ...out, data: decodeFloat64(out.data) };
        },
      }));
    return { backend, userAgent: init.userAgent, measured: { ...init.measured, backend: chromiumName(backend, backend) }, attention, interpolation, call, close };
  } catch (e) {
    await close();
    throw e;
  }
}
