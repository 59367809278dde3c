/**
 * Settings shared by the page and the Node driver of the Chromium kernels.
 * @module
 */

/** The δ of `gpujs/low-rank` in the page; the driver declares the same bound in Node. */
export const BROWSER_LOW_RANK_DELTA = 1e-3;

/** The name a kernel (or a measured precision's backend) carries outside the page: `…@webgl2` → `…@chromium-webgl2`. */
export function chromiumName(name: string, backend: string): string {
  return name.endsWith(`@${backend}`) ? `${name.slice(0, -backend.length - 1)}@chromium-${backend}` : name === backend ? `chromium-${backend}` : name;
}
