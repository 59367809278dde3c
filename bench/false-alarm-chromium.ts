/**
 * The kernels of Chromium's page as `varcheck fuzz` exports (bench/false-alarms.bench.ts): each a
 * proxy whose calls cross into a headless Chromium (SwiftShader on machines without a GPU) launched
 * when the module that calls this is loaded — fuzz counts the launch in the kernel's cold start.
 * Used by ./false-alarm-kernels-chromium-webgl2.ts and ./false-alarm-kernels-chromium-webgpu.ts.
 * @module
 */
import type { Kernel } from '../spec/contract.js';
import { chromiumKernels } from '../src/kernels/browser/chromium.js';

/** A function that returns the page's kernel `name@chromium-<backend>` (throws, naming what the page has, when missing). */
export async function chromiumKernelPicker(backend: 'webgl2' | 'webgpu'): Promise<(name: string) => Kernel> {
  const session = await chromiumKernels(backend);
  const all: Kernel[] = [...session.attention, ...session.interpolation];
  return (name) => {
    const k = all.find((x) => x.name === `${name}@chromium-${backend}`);
    if (!k) throw new Error(`no ${name}@chromium-${backend} in the page (have: ${all.map((x) => x.name).join(', ')})`);
    return k;
  };
}
